"""Telemetry over HTTP (one message and batches), history reads and the journal."""

from __future__ import annotations

import httpx
import pytest

from twinkit import Platform
from twinkit.testing import FrozenClock

PUMP = "dtmi:acme:Pump;1"


@pytest.fixture
async def pumps(client: httpx.AsyncClient) -> httpx.AsyncClient:
    for name in ("p1", "p2"):
        await client.put(f"/api/v1/twins/{name}", json={"model": PUMP})
    return client


async def test_one_message_with_source_time(pumps: httpx.AsyncClient, tk: Platform) -> None:
    body = {"at": "2026-01-01T00:00:05Z", "values": {"temperature": 21.5}}
    answer = await pumps.post("/api/v1/twins/p1/telemetry", json=body)
    assert answer.status_code == 200
    assert answer.json() == {"id": "p1", "revision": 2, "etag": '"2"'}
    assert answer.headers["etag"] == '"2"'
    state = await tk.twins.get("p1")
    assert state.telemetry == {"temperature": 21.5}
    assert state.metadata["telemetry"]["temperature"]["at"] == "2026-01-01T00:00:05Z"


async def test_one_message_refusals(pumps: httpx.AsyncClient) -> None:
    url = "/api/v1/twins/p1/telemetry"
    bad_value = await pumps.post(url, json={"values": {"temperature": "hot"}})
    assert bad_value.status_code == 400
    assert bad_value.json()["error"]["path"] == "/values/temperature"
    unknown = await pumps.post(url, json={"values": {"pressure": 1}})
    assert unknown.json()["error"]["path"] == "/values/pressure"
    no_values = await pumps.post(url, json={"at": "2026-01-01T00:00:00Z"})
    assert no_values.json()["error"]["path"] == "/values"
    bad_time = await pumps.post(url, json={"at": "noon", "values": {"temperature": 1.0}})
    assert bad_time.json()["error"]["path"] == "/at"
    extra = await pumps.post(url, json={"values": {"temperature": 1.0}, "tmp": 1})
    assert extra.json()["error"]["path"] == "/tmp"
    not_object = await pumps.post(url, json=[1])
    assert not_object.status_code == 400 and not_object.json()["error"]["path"] == ""
    missing = await pumps.post("/api/v1/twins/ghost/telemetry", json={"values": {"a": 1}})
    assert missing.status_code == 404


async def test_batch_all_applied_is_200(pumps: httpx.AsyncClient, tk: Platform) -> None:
    batch = [
        {"twin": "p1", "values": {"temperature": 1.0}},
        {"twin": "p2", "values": {"temperature": 2.0, "vibration": 0.1}},
        {"twin": "p1", "at": "2026-01-01T00:00:01Z", "values": {"temperature": 3.0}},
    ]
    answer = await pumps.post("/api/v1/telemetry", json=batch)
    assert answer.status_code == 200
    assert answer.json() == {
        "accepted": 3,
        "rejected": 0,
        "errors": [],
        "revisions": {"p1": 3, "p2": 2},
    }
    assert (await tk.twins.get("p1")).telemetry == {"temperature": 3.0}


async def test_batch_applies_valid_items_and_lists_the_rest(
    pumps: httpx.AsyncClient, tk: Platform
) -> None:
    batch = [
        {"twin": "p1", "values": {"temperature": 1.0}},
        {"twin": "ghost", "values": {"temperature": 1.0}},
        {"twin": "p2", "values": {"temperature": 2.0}},
        {"twin": "p2", "values": {"temp": 2.0}},
        "nonsense",
        {"values": {"temperature": 1.0}},
        {"twin": "p1", "at": 5, "values": {"temperature": 1.0}},
    ]
    answer = await pumps.post("/api/v1/telemetry", json=batch)
    assert answer.status_code == 207
    body = answer.json()
    assert body["accepted"] == 2 and body["rejected"] == 5
    assert [(e["index"], e["path"]) for e in body["errors"]] == [
        (1, "/1/twin"),
        (3, "/3/values/temp"),
        (4, "/4"),
        (5, "/5/twin"),
        (6, "/6/at"),
    ]
    assert (await tk.twins.get("p2")).telemetry == {"temperature": 2.0}


async def test_batch_nothing_applied_is_400(pumps: httpx.AsyncClient) -> None:
    answer = await pumps.post("/api/v1/telemetry", json=[{"twin": "p1", "values": {}}])
    assert answer.status_code == 400
    assert answer.json()["error"]["path"] == "/0/values"
    assert answer.json()["rejected"] == 1
    not_array = await pumps.post("/api/v1/telemetry", json={"twin": "p1"})
    assert not_array.status_code == 400 and not_array.json()["error"]["path"] == ""
    empty = await pumps.post("/api/v1/telemetry", json=[])
    assert empty.status_code == 200 and empty.json()["accepted"] == 0


async def test_history_points_and_downsampling(
    pumps: httpx.AsyncClient, clock: FrozenClock
) -> None:
    for second, value in enumerate([1.0, 3.0, 5.0, 7.0]):
        at = f"2026-01-01T00:00:{second * 5:02d}Z"
        await pumps.post(
            "/api/v1/twins/p1/telemetry", json={"at": at, "values": {"temperature": value}}
        )
    raw = await pumps.get("/api/v1/twins/p1/history/temperature")
    assert raw.status_code == 200
    assert raw.json()["points"] == [
        ["2026-01-01T00:00:00Z", 1.0],
        ["2026-01-01T00:00:05Z", 3.0],
        ["2026-01-01T00:00:10Z", 5.0],
        ["2026-01-01T00:00:15Z", 7.0],
    ]
    ranged = await pumps.get(
        "/api/v1/twins/p1/history/telemetry/temperature",
        params={"start": "2026-01-01T00:00:05Z", "end": "2026-01-01T00:00:10Z"},
    )
    assert [v for _, v in ranged.json()["points"]] == [3.0, 5.0]
    buckets = await pumps.get(
        "/api/v1/twins/p1/history/temperature",
        params={"start": "2026-01-01T00:00:00Z", "every": "10s", "agg": "max"},
    )
    assert buckets.json()["points"] == [
        ["2026-01-01T00:00:00Z", 3.0],
        ["2026-01-01T00:00:10Z", 7.0],
    ]
    paths = await pumps.get("/api/v1/twins/p1/history")
    assert "telemetry/temperature" in paths.json()["paths"]


async def test_history_refusals(pumps: httpx.AsyncClient) -> None:
    url = "/api/v1/twins/p1/history/temperature"
    await pumps.post("/api/v1/twins/p1/telemetry", json={"values": {"temperature": 1.0}})
    assert (await pumps.get(url, params={"every": "often"})).json()["error"]["path"] == "/every"
    assert (await pumps.get(url, params={"agg": "median"})).json()["error"]["path"] == "/agg"
    assert (await pumps.get(url, params={"start": "soon"})).json()["error"]["path"] == "/start"
    reversed_range = await pumps.get(
        url, params={"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    )
    assert reversed_range.status_code == 400
    unknown = await pumps.get("/api/v1/twins/p1/history/pressure")
    assert unknown.status_code == 404


async def test_journal_after_revision(pumps: httpx.AsyncClient) -> None:
    await pumps.patch("/api/v1/twins/p1/reported", json={"rpm": 5.0})
    await pumps.post("/api/v1/twins/p1/telemetry", json={"values": {"temperature": 1.0}})
    everything = (await pumps.get("/api/v1/twins/p1/events")).json()
    kinds = [e["kind"] for e in everything["items"]]
    assert kinds == ["TwinCreated", "ReportedChanged", "TelemetryReceived"]
    assert everything["next_revision"] is None
    later = await pumps.get("/api/v1/twins/p1/events", params={"after_revision": 1, "limit": 1})
    assert [e["revision"] for e in later.json()["items"]] == [2]
    assert later.json()["next_revision"] == 2
    assert later.json()["items"][0]["context"]["actor"] == "http"
    assert (await pumps.get("/api/v1/twins/ghost/events")).status_code == 404
    negative = await pumps.get("/api/v1/twins/p1/events", params={"after_revision": -1})
    assert negative.status_code == 422
    assert negative.json()["error"]["path"] == "/after_revision"


async def test_correlation_id_is_carried_into_the_journal(pumps: httpx.AsyncClient) -> None:
    await pumps.patch(
        "/api/v1/twins/p1/desired", json={"rpm": 9.0}, headers={"X-Correlation-ID": "job-42"}
    )
    events = (await pumps.get("/api/v1/twins/p1/events", params={"after_revision": 1})).json()
    assert events["items"][0]["context"]["correlation_id"] == "job-42"
