"""Fixtures for the rules tests: a started rule engine, a real local webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from twinkit import Platform
from twinkit.rules import RuleEngine
from twinkit.testing import FrozenClock

PUMP_MODEL = "dtmi:acme:Pump;1"
TANK_MODEL = "dtmi:acme:Tank;1"
BIG_TANK_MODEL = "dtmi:acme:BigTank;1"


def _interface(dtmi: str, contents: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "@context": "dtmi:dtdl:context;3",
        "@id": dtmi,
        "@type": "Interface",
        "contents": contents,
        **extra,
    }


PUMP = _interface(
    PUMP_MODEL,
    [
        {"@type": "Property", "name": "rpm", "schema": "double", "writable": True},
        {"@type": "Property", "name": "mode", "schema": "string", "writable": True},
        {"@type": "Telemetry", "name": "temperature", "schema": "double"},
        {"@type": "Telemetry", "name": "vibration", "schema": "double"},
        {"@type": "Telemetry", "name": "current", "schema": "double"},
        {"@type": "Telemetry", "name": "pressure", "schema": "double"},
        {"@type": "Command", "name": "reboot"},
        {"@type": "Relationship", "name": "feeds", "target": TANK_MODEL},
    ],
)
TANK = _interface(
    TANK_MODEL,
    [
        {"@type": "Property", "name": "level", "schema": "double"},
        {"@type": "Property", "name": "name", "schema": "string"},
    ],
)
BIG_TANK = _interface(
    BIG_TANK_MODEL,
    [{"@type": "Property", "name": "volume", "schema": "double"}],
    extends=TANK_MODEL,
)
MODELS = [PUMP, TANK, BIG_TANK]


@pytest.fixture(params=["memory", "sqlite"])
async def tk(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Platform]:
    """Every rules test runs on memory and on a real SQLite file."""
    path = None if request.param == "memory" else tmp_path / "twins.db"
    async with Platform.open(path, clock=clock) as tk:
        await tk.models.add(MODELS)
        yield tk


@pytest.fixture
async def engine(tk: Platform) -> AsyncIterator[RuleEngine]:
    engine = RuleEngine(tk, tick=0.01)
    await engine.start()
    yield engine
    await engine.close()


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every POST body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("content-length", "0"))
                receiver.bodies.append(json.loads(self.rfile.read(size)))
                receiver.headers.append(dict(self.headers.items()))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


class FakeCommands:
    """Records the commands a rule sends (the dispatch package's Commands has the same send)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any, float, float | None]] = []

    async def send(
        self,
        twin: str,
        name: str,
        payload: Any = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the device deadline, as in Commands
        ttl: float | None = None,
        context: Any = None,
    ) -> Any:
        self.sent.append((twin, name, payload, timeout, ttl))
        return {"state": "answered"}
