"""Bad input never becomes a 500; errors keep one shape; health, metrics and OpenAPI."""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from twinkit import Platform
from twinkit.api.errors import RejectionLog
from twinkit.api.query import QueryUnavailable, load_runner

PUMP = "dtmi:acme:Pump;1"


def assert_error_shape(answer: httpx.Response, status: int, code: str, path: str = "") -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["path"] == path
    assert isinstance(error["message"], str) and error["message"]


async def test_malformed_json_is_400_everywhere(client: httpx.AsyncClient, tk: Platform) -> None:
    await tk.twins.put("p1", model=PUMP)
    garbage = {"content": b'{"values": ', "headers": {"content-type": "application/json"}}
    for method, url in [
        ("POST", "/api/v1/models"),
        ("PUT", "/api/v1/twins/p1"),
        ("PATCH", "/api/v1/twins/p1/reported"),
        ("POST", "/api/v1/twins/p1/telemetry"),
        ("POST", "/api/v1/telemetry"),
        ("PUT", "/api/v1/twins/p1/relationships/r"),
        ("POST", "/api/v1/twins/p1/commands/reboot"),
        ("POST", "/api/v1/query"),
    ]:
        answer = await client.request(method, url, **garbage)  # type: ignore[arg-type]
        assert_error_shape(answer, 400, "malformed_json")


async def test_missing_body_is_refused_with_the_shape(client: httpx.AsyncClient) -> None:
    answer = await client.put("/api/v1/twins/p1")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"
    empty = await client.post("/api/v1/telemetry", content=b"")
    assert_error_shape(empty, 400, "malformed_json")


async def test_oversized_bodies_are_413(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(max_body=1000)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://twinkit") as http:
        big = [{"twin": "p1", "values": {"temperature": 1.0}}] * 100
        declared = await http.post("/api/v1/telemetry", json=big)
        assert_error_shape(declared, 413, "payload_too_large")

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(20):
                yield b" " * 100

        streamed = await http.put("/api/v1/twins/p1", content=chunks())
        assert_error_shape(streamed, 413, "payload_too_large")
        chunked_patch = await http.post("/api/v1/models", content=chunks())
        assert_error_shape(chunked_patch, 413, "payload_too_large")
        small = await http.put("/api/v1/twins/p1", json={})
        assert small.status_code == 201


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    assert_error_shape(await client.get("/api/v1/nothing"), 404, "not_found")
    assert_error_shape(await client.post("/api/v1/twins"), 405, "method_not_allowed")


async def test_bad_ids_are_400_with_pointer(client: httpx.AsyncClient) -> None:
    answer = await client.put("/api/v1/twins/a+b", json={})
    assert_error_shape(answer, 400, "validation_failed", "/id")


@pytest.mark.parametrize(
    "body",
    [None, 1, "x", [], [None], {"model": 5}, {"reported": "x"}, {"desired": [1]}, {"": {}}],
)
async def test_odd_bodies_never_500(client: httpx.AsyncClient, tk: Platform, body: object) -> None:
    await tk.twins.put("p1", model=PUMP)
    for method, url in [
        ("PUT", "/api/v1/twins/p2"),
        ("PATCH", "/api/v1/twins/p1/reported"),
        ("PATCH", "/api/v1/twins/p1/desired"),
        ("POST", "/api/v1/twins/p1/telemetry"),
        ("POST", "/api/v1/telemetry"),
        ("POST", "/api/v1/models"),
        ("PUT", "/api/v1/twins/p1/relationships/r"),
        ("POST", "/api/v1/query"),
    ]:
        answer = await client.request(method, url, json=body)
        assert answer.status_code < 500, (method, url, body, answer.text)
        if answer.status_code >= 400:
            assert set(answer.json()["error"]) >= {"code", "message", "path"}


async def test_healthz(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


async def test_metrics_count_requests_rejections_ingest_and_twins(
    client: httpx.AsyncClient, tk: Platform
) -> None:
    await client.put("/api/v1/twins/p1", json={"model": PUMP})
    await client.post("/api/v1/twins/p1/telemetry", json={"values": {"temperature": 1.0}})
    await client.post(
        "/api/v1/telemetry",
        json=[
            {"twin": "p1", "values": {"temperature": 2.0, "vibration": 1.0}},
            {"twin": "ghost", "values": {"temperature": 2.0}},
        ],
    )
    await client.patch("/api/v1/twins/p1/reported", json={"rpm": "fast"})
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert (
        'twinkit_http_requests_total{method="PUT",route="/api/v1/twins/{twin_id}",status="201"} 1.0'
        in text
    )
    assert 'twinkit_rejected_inputs_total{reason="validation_failed",surface="http"} 1.0' in text
    assert 'twinkit_rejected_inputs_total{reason="not_found",surface="http"} 1.0' in text
    assert 'twinkit_ingest_values_total{surface="http"} 3.0' in text
    assert 'twinkit_ingest_messages_total{surface="http"} 2.0' in text
    assert "twinkit_twins 1.0" in text
    assert "twinkit_http_request_seconds_bucket" in text


async def test_each_app_has_its_own_registry(app_factory: Callable[..., FastAPI]) -> None:
    first, second = app_factory(), app_factory()
    assert first.state.metrics.registry is not second.state.metrics.registry


async def test_openapi_lists_routes_with_the_error_shape(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/api/v1/twins/{twin_id}" in schema["paths"]
    assert "Error" in schema["components"]["schemas"]
    put = schema["paths"]["/api/v1/twins/{twin_id}"]["put"]
    assert put["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    patch = schema["paths"]["/api/v1/twins/{twin_id}/reported"]["patch"]
    assert "application/json-patch+json" in patch["requestBody"]["content"]
    twin = patch["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"revision", "etag", "delta"} <= set(twin["required"])


def test_query_engine_is_loaded_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "twinkit.query", types.ModuleType("twinkit.query"))
    with pytest.raises(QueryUnavailable):
        load_runner()
    engine = types.ModuleType("twinkit.query")

    def run_query(platform: Platform, text: str, continuation: str | None = None) -> None:
        return None

    engine.run_query = run_query  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "twinkit.query", engine)
    assert load_runner() is run_query


async def test_refusals_are_logged_once_per_twin_and_reason(
    client: httpx.AsyncClient, tk: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    await tk.twins.put("p1", model=PUMP)
    caplog.set_level(logging.INFO, logger="twinkit.api.errors")
    for _ in range(5):
        await client.post("/api/v1/twins/p1/telemetry", json={"values": {"temperature": "x"}})
    await client.post("/api/v1/telemetry", json=[{"twin": "p1", "values": {"pressure": 1.0}}])
    lines = [r.getMessage() for r in caplog.records if "refused HTTP input" in r.getMessage()]
    assert len(lines) == 1
    assert "'p1'" in lines[0] and "/values/temperature" in lines[0]


def test_rejection_log_counts_what_it_did_not_log(caplog: pytest.LogCaptureFixture) -> None:
    log = RejectionLog(quiet=0.0)
    quiet = RejectionLog(quiet=3600.0)
    caplog.set_level(logging.INFO, logger="twinkit.api.errors")
    for _ in range(3):
        quiet.note("t", "bad", "nope")
    log.note("t", "bad", "nope")
    log.note("t", "bad", "nope")
    assert len(caplog.records) == 3


async def test_405_allow_lists_every_method_served_at_the_path(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.request("OPTIONS", "/api/v1/twins/p1")
    assert_error_shape(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == "DELETE, GET, PUT"
    answer = await client.request("PUT", "/api/v1/models")
    assert answer.headers["allow"] == "GET, POST"


async def test_openapi_documents_json_objects_not_strings(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for item in schema["paths"].values():
        for operation in item.values():
            for code, response in operation["responses"].items():
                media = response.get("content", {}).get("application/json")
                if code.startswith("2") and media:
                    assert media["schema"] != {"type": "string"}
