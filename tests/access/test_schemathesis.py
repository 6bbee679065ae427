"""schemathesis against ``/openapi.json`` with an admin's token: no 5xx, every answer documented.

The app is the one ``twinkit serve --auth`` builds (``create_app`` + ``install_access``)
over an in-memory platform seeded with a model, a few twins and a relationship. The
platform has to live on the event loop schemathesis runs the app on, so a thin ASGI
wrapper opens it on the app's lifespan startup. The SSE feed never ends, so it is left
out (its tests live in tests/api/test_feeds.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.access.conftest import ADMIN_POLICY, realm
from twinkit import Platform
from twinkit.access.audit import AuditLog
from twinkit.access.install import install_access
from twinkit.api import create_app
from twinkit.api.wire import query_time

PUMP = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:acme:Pump;1",
    "@type": "Interface",
    "contents": [
        {"@type": "Property", "name": "temp", "schema": "double"},
        {"@type": "Property", "name": "sp", "schema": "double", "writable": True},
        {"@type": "Telemetry", "name": "rpm", "schema": "double"},
        {"@type": "Command", "name": "reboot"},
        {"@type": "Relationship", "name": "feeds"},
    ],
}
ADMIN = realm([ADMIN_POLICY], {"root": {}})


class SeededApp:
    """An ASGI app that opens, seeds and closes its platform with the lifespan."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None
        self._stack = AsyncExitStack()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        assert self.app is not None, "the lifespan starts before any request"
        await self.app(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                platform = await self._stack.enter_async_context(Platform.open(None))
                app = create_app(platform, feed_keepalive=0.1)
                install_access(app, platform, ADMIN.config, audit=AuditLog(None))
                await seed(app)
                self.app = app
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stack.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def seed(app: FastAPI) -> None:
    root = ADMIN.headers("root")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=root) as http:
        assert (await http.post("/api/v1/models", json=PUMP)).status_code == 201
        for twin in ("acme~p1", "acme~p2", "plain"):
            model = None if twin == "plain" else "dtmi:acme:Pump;1"
            body = {"model": model, "reported": {"temp": 20.5}, "desired": {"sp": 3.0}}
            answer = await http.put(f"/api/v1/twins/{twin}", json=body)
            assert answer.status_code == 201, answer.text
        await http.put(
            "/api/v1/twins/acme~p1/relationships/r1", json={"name": "feeds", "target": "acme~p2"}
        )
        await http.post("/api/v1/twins/acme~p1/telemetry", json={"values": {"rpm": 5}})


# "Schema-valid data is accepted" (positive_data_acceptance) runs on every operation. Its
# default accepted answers are 2xx, 3xx, 401, 403, 404, 409, 429 (and 5xx, which another
# check fails). These operations may also refuse schema-valid data, for reasons a static
# JSON Schema cannot state; schemathesis lets a config name them per operation
# ([[operations]] include-name + checks.positive_data_acceptance.expected-statuses).
SEMANTIC_REFUSALS: dict[str, tuple[list[str], str]] = {
    "POST /api/v1/models": (["400"], "the DTDL validator rejects an invalid model"),
    "POST /api/v1/query": (["400"], "the query language's grammar and planner"),
    "PUT /api/v1/policies/{policy_id}": (
        ["400"],
        "the body's id must equal the path's; resource paths and permissions are parsed",
    ),
    "PUT /api/v1/twins/{twin_id}": (
        ["400", "412"],
        "values must fit the twin's DTDL model; If-Match must be the current ETag",
    ),
    "PATCH /api/v1/twins/{twin_id}/reported": (
        ["400", "412"],
        "values must fit the model; JSON Patch paths must exist, `test` ops may fail;"
        " ?condition is the query grammar; If-Match must be the current ETag",
    ),
    "PATCH /api/v1/twins/{twin_id}/desired": (
        ["400", "412"],
        "as PATCH …/reported",
    ),
    "DELETE /api/v1/twins/{twin_id}": (["412"], "If-Match must be the current ETag"),
    "POST /api/v1/twins/{twin_id}/telemetry": (
        ["400"],
        "values must be telemetry of the twin's model; a source time must lie in years"
        " 1-9999 in UTC",
    ),
    "POST /api/v1/telemetry": (
        ["400"],
        "each item's twin must exist and its values fit that twin's model, its time lie in"
        " years 1-9999 in UTC; a batch of which no item applied answers 400",
    ),
    "PUT /api/v1/twins/{twin_id}/relationships/{rel_id}": (
        ["400"],
        "the relationship must be one the source's model declares",
    ),
    "GET /api/v1/twins/{twin_id}": (
        ["400"],
        "?revision and ?at together: OpenAPI cannot say that two parameters exclude each other",
    ),
    "GET /api/v1/twins/{twin_id}/history/{path}": (["400"], "?start after ?end"),
}


def _both(query: dict[str, Any], *names: str) -> bool:
    return all(query.get(name) is not None for name in names)


def revision_and_time(query: dict[str, Any], body: dict[str, Any]) -> bool:
    return _both(query, "revision", "at")


def start_after_end(query: dict[str, Any], body: dict[str, Any]) -> bool:
    if body["error"]["path"] != "/start" or not _both(query, "start", "end"):
        return False
    return query_time(query["start"], "/start") > query_time(query["end"], "/end")


def _semantic_item_error(error: dict[str, Any], item: str) -> bool:
    """Values that do not fit the model, an unknown twin, or a source time within hours of
    year 1 or 9999 whose UTC instant Python's datetime cannot hold."""
    path, code = error["path"], error["code"]
    return bool(
        re.fullmatch(rf"{item}/values(/.*)?", path)
        or (path == f"{item}/twin" and code == "not_found")
        or (path == f"{item}/at" and code == "time_out_of_range")
    )


def values_refused(query: dict[str, Any], body: dict[str, Any]) -> bool:
    return _semantic_item_error(body["error"], "")


def items_refused(query: dict[str, Any], body: dict[str, Any]) -> bool:
    return all(_semantic_item_error(e, f"/{e['index']}") for e in body["errors"])


# A 400 to schema-valid data is semantic only for the reason SEMANTIC_REFUSALS names; a 400
# for a parameter's format, pattern or enum, or a body field's, is a gap in the document.
SEMANTIC_400: dict[str, Callable[[dict[str, Any], dict[str, Any]], bool]] = {
    "GET /api/v1/twins/{twin_id}": revision_and_time,
    "GET /api/v1/twins/{twin_id}/history/{path}": start_after_end,
    "POST /api/v1/twins/{twin_id}/telemetry": values_refused,
    "POST /api/v1/telemetry": items_refused,
}
DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def operation_config(name: str) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    if name in SEMANTIC_REFUSALS:
        extra = SEMANTIC_REFUSALS[name][0]
        checks["positive_data_acceptance"] = {"expected-statuses": [*DEFAULT_ACCEPTED, *extra]}
    return {"include-name": name, "checks": checks}


CONFIG = SchemathesisConfig.from_dict(
    {"operations": [operation_config(name) for name in SEMANTIC_REFUSALS]}
)

schema = schemathesis.openapi.from_asgi(
    "/openapi.json", SeededApp(), headers=ADMIN.headers("root"), config=CONFIG
).exclude(path="/api/v1/events")


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case: schemathesis.Case[Any]) -> None:
    """Every check, "schema-valid data is accepted" included: only the operations in
    SEMANTIC_REFUSALS may refuse schema-valid data, with the statuses listed there, and
    those in SEMANTIC_400 only for the reason given there."""
    response = case.call_and_validate(headers=ADMIN.headers("root"))
    semantic = SEMANTIC_400.get(case.operation.label)
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if semantic is not None and positive and response.status_code == 400:
        body = response.json()
        assert semantic(dict(case.query or {}), body), (
            f"{case.operation.label} refused schema-valid data: {body}"
        )
