"""run_query: document shapes, paging tokens, read-your-writes, errors and indexes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from twinkit import Platform, ValidationFailed
from twinkit.query import QuerySyntaxError, run_query
from twinkit.query.indexes import index_name
from twinkit.storage.sqlite import SQLiteStore
from twinkit.testing import FrozenClock


@pytest.fixture(params=["memory", "sqlite"])
async def tk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Platform]:
    path = tmp_path / "q.db" if request.param == "sqlite" else None
    async with Platform.open(path, clock=FrozenClock()) as platform:
        yield platform


async def test_select_star_returns_the_twin_document_with_adt_keys(tk: Platform) -> None:
    state, _ = await tk.twins.put("p1", reported={"rpm": 5}, desired={"rpm": 7})
    [row] = (await run_query(tk, "SELECT * FROM DIGITALTWINS")).items
    assert row == {
        **state.document(),
        "$dtId": "p1",
        "$etag": '"1"',
        "$metadata": {"$model": None},
    }
    assert row["delta"] == {"rpm": 7}


async def test_a_query_sees_every_write_acknowledged_before_it(tk: Platform) -> None:
    for number in range(20):
        await tk.twins.put(f"t{number}", reported={"n": number})
        await tk.twins.patch(f"t{number}", "reported", {"n": number + 100})
        found = await run_query(tk, f"SELECT T.n FROM DIGITALTWINS T WHERE T.$dtId = 't{number}'")
        assert found.items == [{"n": number + 100}]


async def test_continuation_pages_through_everything(tk: Platform) -> None:
    for number in range(7):
        await tk.twins.put(f"t{number}", reported={"n": number})
    text = "SELECT T.$dtId FROM DIGITALTWINS T"
    first = await run_query(tk, text, max_items=3)
    assert [r["$dtId"] for r in first.items] == ["t0", "t1", "t2"]
    assert first.continuation is not None
    second = await run_query(tk, text, first.continuation, max_items=3)
    third = await run_query(tk, text, second.continuation, max_items=3)
    assert [r["$dtId"] for r in third.items] == ["t6"]
    assert third.continuation is None


async def test_top_limits_across_pages(tk: Platform) -> None:
    for number in range(7):
        await tk.twins.put(f"t{number}", reported={"n": number})
    text = "SELECT TOP(5) T.$dtId FROM DIGITALTWINS T"
    first = await run_query(tk, text, max_items=3)
    second = await run_query(tk, text, first.continuation, max_items=3)
    assert len(second.items) == 2
    assert second.continuation is None


async def test_a_foreign_or_broken_continuation_is_refused(tk: Platform) -> None:
    for number in range(3):
        await tk.twins.put(f"t{number}")
    page = await run_query(tk, "SELECT * FROM DIGITALTWINS", max_items=1)
    with pytest.raises(ValidationFailed, match="another query"):
        await run_query(tk, "SELECT T FROM DIGITALTWINS T", page.continuation)
    with pytest.raises(ValidationFailed, match="not valid"):
        await run_query(tk, "SELECT * FROM DIGITALTWINS", "%%%")
    with pytest.raises(ValidationFailed, match="max_items"):
        await run_query(tk, "SELECT * FROM DIGITALTWINS", max_items=0)


async def test_syntax_errors_name_line_column_and_expected_tokens(tk: Platform) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        await run_query(tk, "SELECT *\nFROM DIGITALTWINS T\nWHERE T.x >")
    error = caught.value
    assert (error.line, error.column) == (3, 12)
    assert "expected" in error.message and "a number" in error.message
    assert error.status == 400
    assert error.to_json()["error"]["code"] == "query_syntax"


async def test_unknown_models_are_400s_naming_the_model(tk: Platform) -> None:
    with pytest.raises(ValidationFailed, match="dtmi:acme:Nope;1") as caught:
        await run_query(tk, "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:acme:Nope;1')")
    assert caught.value.status == 400


async def test_filters_create_and_use_an_expression_index(tmp_path: Path) -> None:
    async with Platform.open(tmp_path / "i.db") as tk:
        for number in range(50):
            await tk.twins.put(f"t{number}", reported={"temp": number})
        text = "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.temp > 47"
        assert (await run_query(tk, text)).items == [{"$dtId": "t48"}, {"$dtId": "t49"}]
        store = tk.store
        assert isinstance(store, SQLiteStore)
        name = index_name('$."reported"."temp"')
        names = await store.read(
            lambda c: [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='index'")]
        )
        assert name in names
        plan = await store.read(
            lambda c: c.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM twins AS s0"
                ' WHERE json_extract(s0.doc, \'$."reported"."temp"\') > 47'
            ).fetchall()
        )
        assert any(name in str(row) for row in plan)


async def test_a_model_and_property_filter_gets_a_model_led_index(tmp_path: Path) -> None:
    model = {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:t:Sensor;1",
        "@type": "Interface",
        "contents": [{"@type": "Property", "name": "temp", "schema": "double"}],
    }
    async with Platform.open(tmp_path / "m.db") as tk:
        await tk.models.add(model)
        await tk.twins.put("s1", model="dtmi:t:Sensor;1", reported={"temp": 31.0})
        await tk.twins.put("s2", model="dtmi:t:Sensor;1", reported={"temp": 12.0})
        text = "SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:t:Sensor;1')"
        found = await run_query(tk, text + " AND T.temp > 30")
        assert found.items == [{"$dtId": "s1"}]
        store = tk.store
        assert isinstance(store, SQLiteStore)
        sql = await store.read(
            lambda c: c.execute(
                "SELECT sql FROM sqlite_master WHERE name = ?",
                (index_name('$."reported"."temp"', with_model=True),),
            ).fetchone()
        )
        assert sql is not None and "model, json_extract" in sql[0]
