"""A server that wants a bearer token: the dashboard asks for one, then sends it everywhere."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from playwright.sync_api import expect
from tests.dashboard.conftest import free_port, screenshot

from twinkit.dashboard import mount
from twinkit.platform import Platform

TOKEN = "s3cret-token"


def guarded_app(platform: Platform, seen: list[str]) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def require_token(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith("/api/"):
            given = request.headers.get("authorization", "")
            query = request.query_params.get("access_token")
            if given != f"Bearer {TOKEN}" and query != TOKEN:
                return JSONResponse(
                    {"error": {"code": "unauthorized", "message": "sign in", "path": ""}}, 401
                )
            seen.append(request.url.path)
        return await call_next(request)

    @app.get("/api/v1/events")
    async def events() -> Response:
        async def quiet() -> AsyncIterator[bytes]:
            for _ in range(300):  # an open, idle feed
                yield b": quiet\n\n"
                await asyncio.sleep(0.1)

        return StreamingResponse(quiet(), media_type="text/event-stream")

    mount(app, platform)
    return app


@pytest.fixture(scope="module")
def guarded_server() -> Iterator[tuple[str, list[str]]]:
    port = free_port()
    seen: list[str] = []
    ready = threading.Event()
    stop: dict[str, Any] = {}

    async def run() -> None:
        async with Platform.open(None) as platform:
            await platform.twins.put("boiler-7", reported={"pressure": 2.5})
            server = uvicorn.Server(
                uvicorn.Config(guarded_app(platform, seen), port=port, log_level="warning")
            )
            stop["server"] = server
            ready.set()
            await server.serve()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    ready.wait(10)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url, seen
    stop["server"].should_exit = True
    thread.join(10)


def test_a_refused_request_asks_for_a_token_then_everything_carries_it(
    guarded_server: tuple[str, list[str]], page: Any
) -> None:
    url, seen = guarded_server
    page.goto(url + "/")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("This server asks who you are")
    screenshot(page, "signin", full_page=False)
    dialog.get_by_label("Access token").fill(TOKEN)
    dialog.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("fleet-table")).to_contain_text("boiler-7")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert "/api/v1/dashboard/fleet" in seen
    expect(page.get_by_test_id("live-status")).to_have_text("Live")
    assert "/api/v1/events" in seen
    page.get_by_role("link", name="Sign out").click()
    expect(page.get_by_role("dialog")).to_be_visible()
