"""What /openapi.json says a query parameter or a telemetry body admits is what the route
admits: ``?at``/``?start``/``?end`` (date-time), ``?every`` (its pattern), ``?agg`` and
``?cascade`` (their enums), a batch item's ``twin`` (not empty), no unknown body fields.

Refusals are 400s in the DESIGN.md error shape, with a pointer to the parameter or field.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinkit import Platform
from twinkit.api.history import EVERY_PATTERN, bucket_size
from twinkit.model.errors import ValidationFailed
from twinkit.testing import FrozenClock

PUMP = "dtmi:acme:Pump;1"
HISTORY = "/api/v1/twins/p1/history/temperature"


def refused(answer: httpx.Response, path: str, code: str = "validation_failed") -> None:
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "path"}
    assert error["code"] == code and error["path"] == path and error["message"]


def parameter(document: dict[str, Any], route: str, method: str, name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        p for p in document["paths"][route][method]["parameters"] if p["name"] == name
    ]
    assert len(found) == 1
    return found[0]


@pytest.fixture
async def pump(client: httpx.AsyncClient, clock: FrozenClock) -> httpx.AsyncClient:
    """p1, created at 2026-01-01T00:00:00Z (revision 1); one temperature ten seconds later."""
    await client.put("/api/v1/twins/p1", json={"model": PUMP})
    clock.advance(10)
    await client.post("/api/v1/twins/p1/telemetry", json={"values": {"temperature": 20.0}})
    return client


async def test_openapi_declares_the_formats_patterns_and_enums(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    twin, history = "/api/v1/twins/{twin_id}", "/api/v1/twins/{twin_id}/history/{path}"
    assert parameter(document, twin, "get", "at")["schema"]["format"] == "date-time"
    for name in ("start", "end"):
        assert parameter(document, history, "get", name)["schema"]["format"] == "date-time"
    assert parameter(document, history, "get", "every")["schema"]["pattern"] == EVERY_PATTERN
    assert parameter(document, history, "get", "agg")["schema"]["enum"] == [
        "mean", "min", "max", "first", "last", "count", "sum"
    ]  # fmt: skip
    cascade = parameter(document, twin, "delete", "cascade")["schema"]["enum"]
    assert {"true", "false", "True", "False", ""} <= set(cascade)
    batch = document["paths"]["/api/v1/telemetry"]["post"]["requestBody"]
    item = batch["content"]["application/json"]["schema"]["items"]
    assert item["properties"]["twin"]["minLength"] == 1
    assert item["additionalProperties"] is False


@pytest.mark.parametrize(
    "moment",
    [
        "2026-01-01T00:00:00Z",
        "2026-01-01t00:00:00.123456789z",  # RFC 3339: lower case, any fraction length
        "2026-01-01T01:00:00+01:00",
        "2025-12-31T23:59:60Z",  # a leap second: read as the next second
        "2026-01-01T00:00+00:00",  # not RFC 3339, but ISO 8601 with a zone: still read
        "2026-01-01T00:00:09.999999Z",
    ],
)
async def test_as_of_reads_every_date_time(pump: httpx.AsyncClient, moment: str) -> None:
    answer = await pump.get("/api/v1/twins/p1", params={"at": moment})
    assert answer.status_code == 200, answer.text
    assert answer.json()["revision"] == 1


async def test_as_of_before_year_one_in_utc_is_before_the_twin(pump: httpx.AsyncClient) -> None:
    # valid RFC 3339 whose UTC instant Python cannot hold: was a 500, now "did not exist"
    answer = await pump.get("/api/v1/twins/p1", params={"at": "0001-01-01T00:00:00+05:00"})
    assert answer.status_code == 404 and answer.json()["error"]["path"] == "/at"


@pytest.mark.parametrize(
    "moment", ["yesterday", "2024-01-01T12:99:00Z", "2026-01-01T00:00:00", "", "1767225600"]
)
async def test_as_of_refuses_what_is_not_a_time(pump: httpx.AsyncClient, moment: str) -> None:
    refused(await pump.get("/api/v1/twins/p1", params={"at": moment}), "/at")


async def test_history_range_at_the_ends_of_time(pump: httpx.AsyncClient) -> None:
    everything = {"start": "0001-01-01T00:00:00+05:00", "end": "9999-12-31T23:59:59-05:00"}
    answer = await pump.get(HISTORY, params=everything)
    assert answer.status_code == 200, answer.text
    assert [v for _, v in answer.json()["points"]] == [20.0]


@pytest.mark.parametrize("name", ["start", "end"])
async def test_history_refuses_a_bound_that_is_not_a_time(
    pump: httpx.AsyncClient, name: str
) -> None:
    refused(await pump.get(HISTORY, params={name: "2026-13-01T00:00:00Z"}), f"/{name}")


@pytest.mark.parametrize(
    "every", ["500ms", "10s", "1.5m", "1h", "1d", "1w", "7", "0.5", ".25s", "0.001ms", "99999999w"]
)
async def test_history_reads_every_bucket_size_the_pattern_admits(
    pump: httpx.AsyncClient, every: str
) -> None:
    answer = await pump.get(HISTORY, params={"every": every, "agg": "count"})
    assert answer.status_code == 200, answer.text
    assert [v for _, v in answer.json()["points"]] == [1]


@pytest.mark.parametrize(
    "every", ["0", "0s", "0.000", "often", "1e3", "-5s", "nan", "inf", "1.0001s", "999999999w"]
)
async def test_history_refuses_other_bucket_sizes(pump: httpx.AsyncClient, every: str) -> None:
    # "nan", "inf" and "999999999w" were 500s; "1e3" and "1.0001s" are no longer read
    refused(await pump.get(HISTORY, params={"every": every}), "/every")


@given(st.from_regex(EVERY_PATTERN))
def test_every_string_the_pattern_admits_is_a_positive_bucket(raw: str) -> None:
    assert bucket_size(raw) >= timedelta(microseconds=1)


@given(st.text(alphabet="0123456789.msdhw", max_size=12))
def test_a_bucket_size_is_read_exactly_when_the_pattern_admits_it(raw: str) -> None:
    if re.search(EVERY_PATTERN, raw) is not None:
        bucket_size(raw)
    else:
        with pytest.raises(ValidationFailed) as refusal:
            bucket_size(raw)
        assert refusal.value.path == "/every"


async def test_history_refuses_an_unknown_aggregate(pump: httpx.AsyncClient) -> None:
    refused(await pump.get(HISTORY, params={"every": "1h", "agg": "median"}), "/agg")


async def cascade_pair(client: httpx.AsyncClient) -> None:
    await client.put("/api/v1/twins/p1", json={"model": PUMP})
    await client.put("/api/v1/twins/t1", json={"model": "dtmi:acme:Tank;1"})
    answer = await client.put(
        "/api/v1/twins/p1/relationships/r1", json={"name": "feeds", "target": "t1"}
    )
    assert answer.status_code in (200, 201), answer.text


async def test_delete_reads_every_cascade_value_of_the_enum(
    client: httpx.AsyncClient, tk: Platform
) -> None:
    document = (await client.get("/openapi.json")).json()
    flags = parameter(document, "/api/v1/twins/{twin_id}", "delete", "cascade")["schema"]["enum"]
    for flag in flags:
        await cascade_pair(client)
        answer = await client.delete("/api/v1/twins/t1", params={"cascade": flag})
        wanted = flag.lower() in ("true", "yes", "1", "")
        assert answer.status_code == (200 if wanted else 409), (flag, answer.text)
        if wanted:
            await client.delete("/api/v1/twins/p1")


@pytest.mark.parametrize("flag", ["maybe", "tRuE", " true", "2", "on"])
async def test_delete_refuses_a_cascade_outside_the_enum(
    client: httpx.AsyncClient, flag: str
) -> None:
    await cascade_pair(client)
    refused(await client.delete("/api/v1/twins/t1", params={"cascade": flag}), "/cascade")


async def test_batch_item_with_an_empty_twin_is_refused_alone(pump: httpx.AsyncClient) -> None:
    batch = [
        {"twin": "p1", "values": {"temperature": 1.0}},
        {"twin": "", "values": {"temperature": 2.0}},
        {"twin": "p1", "values": {"temperature": 3.0}, "unit": "C"},
    ]
    answer = await pump.post("/api/v1/telemetry", json=batch)
    assert answer.status_code == 207
    assert [(e["index"], e["path"]) for e in answer.json()["errors"]] == [
        (1, "/1/twin"),
        (2, "/2/unit"),
    ]
    only_empty = await pump.post("/api/v1/telemetry", json=[batch[1]])
    refused(only_empty, "/0/twin")


async def test_telemetry_source_times_at_the_edges_of_date_time(
    pump: httpx.AsyncClient, tk: Platform
) -> None:
    url = "/api/v1/twins/p1/telemetry"
    leap = await pump.post(url, json={"at": "2025-12-31T23:59:60Z", "values": {"vibration": 1}})
    assert leap.status_code == 200, leap.text
    at = (await tk.twins.get("p1")).metadata["telemetry"]["vibration"]["at"]
    assert at == "2026-01-01T00:00:00Z"
    now = await pump.post(url, json={"at": None, "values": {"vibration": 2}})
    assert now.status_code == 200, now.text
    # a time beyond year 9999 in UTC cannot be stored: refused, no longer a 500
    beyond = {"at": "9999-12-31T23:59:59-05:00", "values": {"vibration": 3}}
    refused(await pump.post(url, json=beyond), "/at", "time_out_of_range")
    batch = [{"twin": "p1", **beyond}]
    refused(await pump.post("/api/v1/telemetry", json=batch), "/0/at", "time_out_of_range")
