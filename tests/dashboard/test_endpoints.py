"""The dashboard's server side, in process: the SPA mount and the /api/v1/dashboard views."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from twinkit.dashboard import STATIC, mount
from twinkit.model.events import EventKind
from twinkit.platform import Platform
from twinkit.testing import FrozenClock

PUMP = {
    "@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"],
    "@id": "dtmi:test:Pump;1",
    "@type": "Interface",
    "extends": "dtmi:test:Asset;1",
    "contents": [
        {"@type": ["Telemetry", "Pressure"], "name": "pressure", "schema": "double",
         "unit": "bar"},
        {"@type": "Property", "name": "speed", "schema": "double", "writable": True},
        {"@type": "Command", "name": "flush",
         "request": {"name": "seconds", "schema": "integer"}},
        {"@type": "Relationship", "name": "feeds"},
    ],
}  # fmt: skip
ASSET = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:test:Asset;1",
    "@type": "Interface",
    "contents": [{"@type": "Property", "name": "serial", "schema": "string"}],
}


@pytest.fixture(params=["memory", "sqlite"])
async def platform(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Platform]:
    path = None if request.param == "memory" else tmp_path / "dash.db"
    async with Platform.open(path, clock=FrozenClock()) as tk:
        await tk.models.add([ASSET, PUMP])
        for i in range(1, 6):
            await tk.twins.put(f"pump-{i}", model="dtmi:test:Pump;1", reported={"serial": f"S{i}"})
        await tk.twins.put("asset-9", model="dtmi:test:Asset;1")
        await tk.twins.put("loose", reported={"note": "no model"})
        await tk.twins.telemetry("pump-1", {"pressure": 3.25})
        await tk.twins.patch("pump-1", "desired", {"speed": 1500})
        rel = {"name": "feeds", "target": "pump-2", "properties": {}}
        await tk.twins.put_relationship("pump-1", "feeds-2", rel)
        await tk.flush()
        yield tk


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.platform = platform
    mount(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dash") as http:
        yield http


async def test_index_is_served_without_caching_and_client_routes_fall_back_to_it(
    client: httpx.AsyncClient,
) -> None:
    index = await client.get("/")
    assert index.status_code == 200
    assert "no-cache" in index.headers["cache-control"]
    assert '<div id="app">' in index.text
    deep = await client.get("/twins/pump-1")
    assert deep.status_code == 200
    assert deep.text == index.text
    asset = next((STATIC / "assets").glob("*.js")).name
    script = await client.get(f"/assets/{asset}")
    assert script.status_code == 200
    assert "immutable" in script.headers["cache-control"]
    assert (await client.get("/api/v1/not-a-route")).status_code == 404


async def test_bundle_needs_no_network() -> None:
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    for script in (STATIC / "assets").glob("*.js"):
        text = script.read_text()
        assert "cdn.jsdelivr" not in text
        assert "unpkg.com" not in text


async def test_fleet_rows_carry_status_values_with_units_and_alerts(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await platform.twins.record(
        "pump-2", EventKind.ALERT_RAISED, {"alert": {"id": "hot", "severity": "critical"}}
    )
    await platform.flush()
    page = (await client.get("/api/v1/dashboard/fleet")).json()
    ids = [row["id"] for row in page["items"]]
    assert ids == sorted(ids)
    assert page["total"] == 7
    rows = {row["id"]: row for row in page["items"]}
    pump = rows["pump-1"]
    assert pump["model"] == "dtmi:test:Pump;1"
    assert pump["online"] is True  # it spoke just now (frozen clock)
    assert pump["values"][0] == {
        "name": "pressure", "display_name": None, "value": 3.25, "unit": "bar",
        "source": "telemetry", "at": pump["values"][0]["at"],
    }  # fmt: skip
    assert pump["delta"] == ["speed"]
    assert rows["pump-2"]["alerts"] == 1
    assert rows["loose"]["model"] is None


async def test_fleet_pages_filters_by_model_with_descendants_and_searches_ids(
    client: httpx.AsyncClient,
) -> None:
    first = (await client.get("/api/v1/dashboard/fleet", params={"limit": 3})).json()
    assert [r["id"] for r in first["items"]] == ["asset-9", "loose", "pump-1"]
    assert first["next"] == "pump-1"
    second = (
        await client.get("/api/v1/dashboard/fleet", params={"limit": 3, "after": first["next"]})
    ).json()
    assert [r["id"] for r in second["items"]] == ["pump-2", "pump-3", "pump-4"]
    assets = (
        await client.get("/api/v1/dashboard/fleet", params={"model": "dtmi:test:Asset;1"})
    ).json()
    assert len(assets["items"]) == 6  # the Asset and the five Pumps that extend it
    found = (await client.get("/api/v1/dashboard/fleet", params={"q": "UMP-3"})).json()
    assert [r["id"] for r in found["items"]] == ["pump-3"]
    none = (await client.get("/api/v1/dashboard/fleet", params={"q": "%"})).json()
    assert none["items"] == []


async def test_models_are_cards_with_units_and_twin_counts(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/dashboard/models")).json()
    cards = {card["id"]: card for card in body["items"]}
    pump = cards["dtmi:test:Pump;1"]
    assert pump["extends"] == ["dtmi:test:Asset;1"]
    assert pump["twins"] == 5
    contents = {c["name"]: c for c in pump["contents"]}
    assert contents["pressure"]["unit"] == "bar"
    assert contents["speed"]["writable"] is True
    assert contents["flush"]["request"]["schema"] == {"type": "integer"}
    assert body["unmodelled_twins"] == 1


async def test_twin_model_is_resolved_with_inherited_contents(client: httpx.AsyncClient) -> None:
    model = (await client.get("/api/v1/dashboard/twins/pump-1/model")).json()
    assert {p["name"] for p in model["properties"]} == {"serial", "speed"}
    assert model["commands"][0]["name"] == "flush"
    missing = await client.get("/api/v1/dashboard/twins/nope/model")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"]


async def test_graph_walks_both_directions_within_depth(client: httpx.AsyncClient) -> None:
    graph = (await client.get("/api/v1/dashboard/graph", params={"twin": "pump-2"})).json()
    assert {n["id"] for n in graph["nodes"]} == {"pump-1", "pump-2"}
    assert graph["edges"] == [
        {"id": "feeds-2", "source": "pump-1", "target": "pump-2", "name": "feeds"}
    ]
    posted = await client.post("/api/v1/dashboard/graph", json={"twins": ["pump-1", "pump-3"]})
    assert {n["id"] for n in posted.json()["nodes"]} == {"pump-1", "pump-3"}
    everything = (await client.get("/api/v1/dashboard/graph")).json()
    assert len(everything["nodes"]) == 7


async def test_alert_lifecycle_is_folded_per_twin_and_key(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await platform.twins.record(
        "pump-3", EventKind.ALERT_RAISED, {"alert": {"id": "a", "severity": "warning"}}
    )
    await platform.flush()
    raised = (await client.get("/api/v1/dashboard/alerts", params={"state": "open"})).json()
    assert [(a["twin"], a["key"], a["state"]) for a in raised["items"]] == [
        ("pump-3", "a", "raised")
    ]
    await platform.twins.record("pump-3", EventKind.ALERT_CLEARED, {"id": "a"})
    await platform.flush()
    still_open = (await client.get("/api/v1/dashboard/alerts", params={"state": "open"})).json()
    assert still_open["items"] == []
    cleared = (await client.get("/api/v1/dashboard/alerts", params={"state": "cleared"})).json()
    assert cleared["items"][0]["severity"] == "warning"
    summary = (await client.get("/api/v1/dashboard/twins/pump-3/summary")).json()
    assert summary["alerts"] == 0


def test_mount_twice_keeps_one_catch_all() -> None:
    app = FastAPI()
    mount(app)
    mount(app)
    names = [getattr(r, "name", "") for r in app.router.routes]
    assert names.count("dashboard") == 1
    assert names[-1] == "dashboard"


async def test_a_missing_bundle_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    app.state.platform = None
    mount(app)
    app.router.routes[-1].app.index = tmp_path / "index.html"  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dash") as http:
        response = await http.get("/fleet")
    assert response.status_code == 503
    assert "npm run build" in response.text
