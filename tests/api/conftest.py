"""Fixtures for the HTTP API: an app over the shared ``tk`` platform (memory and SQLite),
an in-process client, and a real uvicorn server for the streaming feeds."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from twinkit import Platform
from twinkit.api import create_app

# (method, route template) of every request any API test made: see test_zz_openapi_coverage.
EXERCISED: set[tuple[str, str]] = set()


def record_exercised(app: FastAPI) -> None:
    for metric in app.state.metrics.requests.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                EXERCISED.add((sample.labels["method"], sample.labels["route"]))


@pytest.fixture
def app_factory(tk: Platform) -> Iterator[Callable[..., FastAPI]]:
    made: list[FastAPI] = []

    def make(**options: Any) -> FastAPI:
        options.setdefault("feed_keepalive", 0.2)
        made.append(create_app(tk, **options))
        return made[-1]

    yield make
    for app in made:
        record_exercised(app)


@pytest.fixture
def app(app_factory: Callable[..., FastAPI]) -> FastAPI:
    return app_factory()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://twinkit") as http:
        yield http


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Run ``app`` on a real socket on 127.0.0.1 in this event loop; yields its base URL."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are
    # TCP, and without it every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.fixture
def serve(app_factory: Callable[..., FastAPI]) -> Callable[..., Any]:
    """``async with serve(**create_app_options) as base_url`` runs a real server."""

    def start(**options: Any) -> Any:
        return serving(app_factory(**options))

    return start
