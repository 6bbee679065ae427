"""A real twinkit server with the demo fleet, and a real headless Chromium, for the dashboard.

The server is ``twinkit.server.serve`` (what ``twinkit demo`` runs) on free ports in a
background thread; the only seam is a wrapper around ``build_app`` that keeps a handle on the
platform, so tests can record journal-only events (alerts) that have no HTTP route.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from twinkit.dashboard.headless import CHROMIUM, CHROMIUM_ARGS

T = TypeVar("T")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    broker_port: int
    loop: asyncio.AbstractEventLoop
    platform: Any = None
    stop: asyncio.Event | None = None
    thread: threading.Thread | None = None
    error: list[BaseException] = field(default_factory=list)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run a coroutine on the server's loop (e.g. a platform write) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=15)


def start_server(db: Path, demo: bool = True) -> RunningServer:
    """Start ``serve`` in a thread; returns once ``/healthz`` answers."""
    server_module = pytest.importorskip("twinkit.server")
    pytest.importorskip("twinkit.api")
    port, broker_port = free_port(), free_port()
    loop = asyncio.new_event_loop()
    running = RunningServer(f"http://127.0.0.1:{port}", broker_port, loop)
    original = server_module.build_app

    def keep_platform(platform: Any, *args: Any, **kwargs: Any) -> Any:
        running.platform = platform
        return original(platform, *args, **kwargs)

    options = server_module.ServeOptions(
        db=str(db), host="127.0.0.1", port=port, broker_port=broker_port, demo=demo
    )

    def run() -> None:
        asyncio.set_event_loop(loop)
        running.stop = asyncio.Event()
        try:
            loop.run_until_complete(server_module.serve(options, running.stop))
        except BaseException as error:  # reported by the fixture
            running.error.append(error)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    server_module.build_app = keep_platform
    try:
        running.thread = threading.Thread(target=run, name="twinkit-server", daemon=True)
        running.thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if running.error:
                raise running.error[0]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(running.url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise TimeoutError("the server did not answer /healthz within 30 s")
    finally:
        server_module.build_app = original
    return running


def stop_server(running: RunningServer) -> None:
    if running.stop is not None and not running.loop.is_closed():
        with contextlib.suppress(RuntimeError):
            running.loop.call_soon_threadsafe(running.stop.set)
    if running.thread is not None:
        running.thread.join(20)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("dashboard") / "demo.db")
    # the simulated devices report within a few seconds; wait until telemetry flows
    with running.api() as api:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            doc = api.get("/api/v1/twins/north-pump-1").json()
            if doc.get("telemetry", {}).get("pressure") is not None:
                break
            time.sleep(0.2)
    yield running
    stop_server(running)


# module scope: Playwright's sync API holds an event loop on the main thread while it runs,
# which async tests in later modules cannot share
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/system-packages.sh (make test does)")
    import playwright.sync_api as sync_api

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(tab: Any, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    return path
