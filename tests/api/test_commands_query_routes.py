"""Commands and queries over HTTP, with stand-ins for the dispatcher and the query engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from twinkit import Context, Platform

PUMP = "dtmi:acme:Pump;1"


@dataclass
class Outcome:
    state: str
    request_id: str
    status: int | None = None
    payload: Any = None


class FakeDispatcher:
    """Answers like a device would, and remembers what it was asked."""

    def __init__(self, state: str = "answered") -> None:
        self.state = state
        self.sent: list[dict[str, Any]] = []

    async def send(
        self,
        twin: str,
        name: str,
        payload: Any,
        *,
        timeout: float,  # noqa: ASYNC109
        ttl: float | None,
        context: Context,
    ) -> Outcome:
        self.sent.append(
            {"twin": twin, "name": name, "payload": payload, "timeout": timeout, "ttl": ttl}
        )
        return Outcome(self.state, "req-1", 200, {"rebooting_in": payload})


async def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://twinkit")


@pytest.mark.parametrize(
    ("state", "status"), [("answered", 200), ("queued", 202), ("timed_out", 504)]
)
async def test_command_outcomes_map_to_statuses(
    tk: Platform, app_factory: Callable[..., FastAPI], state: str, status: int
) -> None:
    await tk.twins.put("p1", model=PUMP)
    dispatcher = FakeDispatcher(state)
    async with await client_for(app_factory(commands=dispatcher)) as http:
        answer = await http.post(
            "/api/v1/twins/p1/commands/reboot", json={"payload": 5, "timeout": 2, "ttl": 60}
        )
    assert answer.status_code == status
    body = answer.json()
    assert body["request_id"] == "req-1"
    if state == "answered":
        assert body == {"request_id": "req-1", "status": 200, "payload": {"rebooting_in": 5}}
    elif state == "timed_out":
        assert body["error"]["code"] == "command_timed_out"
    assert dispatcher.sent == [
        {"twin": "p1", "name": "reboot", "payload": 5, "timeout": 2.0, "ttl": 60.0}
    ]


async def test_commands_are_checked_against_the_model(
    tk: Platform, app_factory: Callable[..., FastAPI]
) -> None:
    await tk.twins.put("p1", model=PUMP)
    dispatcher = FakeDispatcher()
    async with await client_for(app_factory(commands=dispatcher)) as http:
        wrong = await http.post("/api/v1/twins/p1/commands/reboot", json={"payload": "soon"})
        assert wrong.status_code == 400 and wrong.json()["error"]["path"] == "/payload"
        missing = await http.post("/api/v1/twins/p1/commands/reboot", json={})
        assert missing.status_code == 400 and missing.json()["error"]["path"] == "/payload"
        unknown = await http.post("/api/v1/twins/p1/commands/explode", json={})
        assert unknown.status_code == 400 and unknown.json()["error"]["path"] == "/name"
        bad_timeout = await http.post(
            "/api/v1/twins/p1/commands/reboot", json={"payload": 1, "timeout": -1}
        )
        assert bad_timeout.status_code == 422
        assert bad_timeout.json()["error"]["path"] == "/timeout"
        ghost = await http.post("/api/v1/twins/ghost/commands/reboot", json={"payload": 1})
        assert ghost.status_code == 404
    assert dispatcher.sent == []


async def test_twin_without_model_takes_any_command(
    tk: Platform, app_factory: Callable[..., FastAPI]
) -> None:
    await tk.twins.put("free")
    dispatcher = FakeDispatcher()
    async with await client_for(app_factory(commands=dispatcher)) as http:
        answer = await http.post("/api/v1/twins/free/commands/anything", json={"payload": [1]})
    assert answer.status_code == 200


async def test_without_a_dispatcher_commands_are_503(
    tk: Platform, client: httpx.AsyncClient
) -> None:
    await tk.twins.put("p1", model=PUMP)
    answer = await client.post("/api/v1/twins/p1/commands/reboot", json={"payload": 1})
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "commands_unavailable"


@dataclass
class Page:
    items: list[Any]
    continuation: str | None


async def test_query_runs_the_given_engine(
    tk: Platform, app_factory: Callable[..., FastAPI]
) -> None:
    asked: list[tuple[str, str | None]] = []

    async def run(platform: Platform, text: str, continuation: str | None) -> Page:
        assert platform is tk
        asked.append((text, continuation))
        return Page([{"$dtId": "p1"}], "next-page")

    async with await client_for(app_factory(query=run)) as http:
        answer = await http.post(
            "/api/v1/query", json={"query": "SELECT * FROM DIGITALTWINS", "continuation": "c1"}
        )
        assert answer.status_code == 200
        assert answer.json() == {"items": [{"$dtId": "p1"}], "continuation": "next-page"}
        empty = await http.post("/api/v1/query", json={"query": ""})
        assert empty.status_code == 422 and empty.json()["error"]["path"] == "/query"
    assert asked == [("SELECT * FROM DIGITALTWINS", "c1")]


async def test_query_errors_keep_the_error_shape(
    tk: Platform, app_factory: Callable[..., FastAPI]
) -> None:
    from twinkit import ValidationFailed

    def run(platform: Platform, text: str, continuation: str | None) -> Page:
        raise ValidationFailed("expected FROM at line 1, column 10", "/query")

    async with await client_for(app_factory(query=run)) as http:
        answer = await http.post("/api/v1/query", json={"query": "SELECT *"})
    assert answer.status_code == 400
    assert answer.json()["error"]["path"] == "/query"


async def test_query_without_an_engine_is_501_or_runs(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import twinkit.api.query as query_routes

    def missing() -> Any:
        raise query_routes.QueryUnavailable("the query language is not available", "")

    monkeypatch.setattr(query_routes, "load_runner", missing)
    answer = await client.post("/api/v1/query", json={"query": "SELECT * FROM DIGITALTWINS"})
    assert answer.status_code == 501
    assert answer.json()["error"]["code"] == "not_implemented"
