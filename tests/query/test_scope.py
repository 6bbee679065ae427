"""``run_query(..., visible=scope)``: the query package's side of restricted queries.

The view here is a plain stand-in (no access control): twins ``a~*`` are visible with
``reported.secret`` unreadable and relationship ``hidden`` unreadable; the rest are
invisible. Both executors must answer as if those parts did not exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from twinkit import Platform
from twinkit.query import ScopeUnsupported, run_query
from twinkit.query.scope import FULL, MISSING, OPAQUE, Branch, IdPrefix, Reading, TwinScope
from twinkit.storage.sqlite import SQLiteStore


class HideSecret:
    def reading(self, path: tuple[str, ...]) -> Reading:
        if path == ("reported",):
            return Reading("pruned", (("secret",),))
        if path[:2] == ("reported", "secret"):
            return MISSING
        if path[:1] == ("desired",):
            return OPAQUE  # pretend: something SQL cannot say
        return FULL

    def redact(self, document: dict[str, Any]) -> dict[str, Any] | None:
        reported = {k: v for k, v in document["reported"].items() if k != "secret"}
        return {**document, "reported": reported}

    def relationships(self) -> tuple[bool, frozenset[str]]:
        return True, frozenset({"hidden"})


SCOPE = TwinScope((Branch(IdPrefix("a~"), HideSecret()),))


@pytest.fixture(params=["memory", "sqlite"])
async def platform(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Platform]:
    async with Platform.open(tmp_path / "s.db" if request.param == "sqlite" else None) as tk:
        for twin, secret in (("a~1", 5), ("a~2", 50), ("b~3", 500)):
            await tk.twins.put(twin, reported={"temp": 1, "secret": secret})
        await tk.twins.put_relationship("a~1", "seen", {"name": "r", "target": "a~2"})
        await tk.twins.put_relationship("a~1", "hidden", {"name": "r", "target": "a~2"})
        await tk.twins.put_relationship("a~2", "out", {"name": "r", "target": "b~3"})
        await tk.flush()
        yield tk


async def rows(tk: Platform, text: str) -> list[dict[str, Any]]:
    return (await run_query(tk, text, visible=SCOPE)).items


async def test_invisible_twins_and_unreadable_fields_are_absent(platform: Platform) -> None:
    assert await rows(platform, "SELECT COUNT() FROM DIGITALTWINS") == [{"COUNT": 2}]
    assert await rows(platform, "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.secret > 0") == []
    assert await rows(
        platform, "SELECT T.$dtId FROM DIGITALTWINS T WHERE NOT IS_DEFINED(T.secret)"
    ) == [{"$dtId": "a~1"}, {"$dtId": "a~2"}]
    grouped = "SELECT T.secret AS s, COUNT() AS n FROM DIGITALTWINS T GROUP BY T.secret"
    assert await rows(platform, grouped) == [{"n": 2}]
    whole = await rows(platform, "SELECT T FROM DIGITALTWINS T")
    assert [r["T"]["reported"] for r in whole] == [{"temp": 1}, {"temp": 1}]
    assert await rows(platform, "SELECT T.reported AS r FROM DIGITALTWINS T") == [
        {"r": {"temp": 1}},
        {"r": {"temp": 1}},
    ]


async def test_relationships_need_both_ends_visible_and_a_readable_id(
    platform: Platform,
) -> None:
    text = "SELECT R.$relationshipId AS id FROM RELATIONSHIPS R"
    assert await rows(platform, text) == [{"id": "seen"}]
    join = "SELECT T.$dtId AS t, C.$dtId AS c FROM DIGITALTWINS T JOIN C RELATED T.r"
    assert await rows(platform, join) == [{"t": "a~1", "c": "a~2"}]
    walk = "SELECT U.$dtId AS u FROM DIGITALTWINS MATCH (T)-[:r*1..3]->(U) WHERE T.$dtId = 'a~1'"
    assert await rows(platform, walk) == [{"u": "a~2"}]


async def test_sql_declines_what_it_cannot_say(platform: Platform) -> None:
    text = "SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_DEFINED(T.desired)"
    if isinstance(platform.store, SQLiteStore):
        with pytest.raises(ScopeUnsupported):
            await rows(platform, text)
    else:  # the evaluator runs on redacted documents, it never declines
        assert len(await rows(platform, text)) == 2
