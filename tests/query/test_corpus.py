"""Every corpus query against every storage adapter: the same rows, by hand-checked expectation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.query.corpus import CORPUS, Error, Ids, Raw
from twinkit import Platform, ValidationFailed
from twinkit.query import Query, run_query

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _normal(value: Any) -> Any:
    """Twin and relationship documents become their ids; floats are rounded for AVG."""
    if isinstance(value, dict):
        if "$dtId" in value and "etag" in value:
            return value["$dtId"]
        if {"$relationshipId", "$sourceId", "$targetId"} <= value.keys():
            return value["$relationshipId"]
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    return value


@pytest.mark.parametrize(("text", "expected"), CORPUS, ids=[str(i) for i in range(len(CORPUS))])
async def test_corpus(graph: Platform, text: str, expected: Any) -> None:
    if isinstance(expected, Error):
        with pytest.raises(ValidationFailed) as caught:
            await Query(graph).all(text)
        assert expected.text in caught.value.message
        assert caught.value.status == 400
        return
    rows = await Query(graph).all(text)
    if isinstance(expected, Raw):
        assert rows == list(expected.rows)
    elif isinstance(expected, Ids):
        assert [_normal(r) for r in rows] == list(expected.ids)
    else:
        assert _normal(rows) == _normal(expected)


async def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 150


@pytest.mark.parametrize("size", [1, 2, 7])
async def test_pages_join_up_to_the_whole_result(graph: Platform, size: int) -> None:
    text = "SELECT T.$dtId FROM DIGITALTWINS T ORDER BY T.name DESC"
    whole = (await run_query(graph, text, max_items=1000)).items
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        page = await run_query(graph, text, token, max_items=size)
        assert len(page.items) <= size
        pages.extend(page.items)
        token = page.continuation
        if token is None:
            break
    assert pages == whole
    assert len(whole) == 25
