"""Fixtures for the HTTP API: an app over the shared ``tk`` platform (memory and SQLite),
an in-process client, and a real uvicorn server for the streaming feeds."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from twinkit import Platform
from twinkit.api import create_app


@pytest.fixture
def app(tk: Platform) -> FastAPI:
    return create_app(tk, feed_keepalive=0.2)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://twinkit") as http:
        yield http


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Run ``app`` on a real socket on 127.0.0.1 in this event loop; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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


Serve = Callable[..., Any]


@pytest.fixture
def serve(tk: Platform) -> Serve:
    """``async with serve(**create_app_options) as base_url`` runs a real server."""

    def start(**options: Any) -> Any:
        options.setdefault("feed_keepalive", 0.2)
        return serving(create_app(tk, **options))

    return start
