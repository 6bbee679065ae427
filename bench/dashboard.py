"""Dashboard benchmark in real headless Chromium, each figure beside a baseline from the same run.

    python bench/dashboard.py [--twins 100000] [--points 1000000] [--db PATH] [--runs 5]

1. Fleet page with ``--twins`` twins: time from navigation start to the first page of rows on
   screen (the app's ``fleet-rendered`` performance mark), beside the baseline of fetching the
   same JSON page in the same browser with no rendering. Target: < 1 s.
2. Twin page over one series of ``--points`` points spread over 30 days: time from navigation
   start to the chart drawn (``chart-drawn`` mark, downsampled on the server to ~1 point per
   pixel), and the redraw after switching to another range, beside fetching the same
   downsampled JSON with no rendering, and the server-side cost of reading the raw series.
   Target: < 1 s.

The database is built once and reused (``--db``); building 100k twins and 1M points takes a
few minutes on a laptop core. Chromium is Debian's (/usr/bin/chromium), driven by Playwright.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from twinkit.dashboard.headless import CHROMIUM, CHROMIUM_ARGS
from twinkit.platform import Platform

MODEL = {
    "@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"],
    "@id": "dtmi:bench:Meter;1",
    "@type": "Interface",
    "displayName": "Meter",
    "contents": [
        {"@type": ["Telemetry", "Power"], "name": "power", "schema": "double",
         "unit": "kilowatt"},
        {"@type": ["Telemetry", "Temperature"], "name": "temperature", "schema": "double",
         "unit": "degreeCelsius"},
        {"@type": "Property", "name": "serial", "schema": "string"},
        {"@type": "Property", "name": "limit", "schema": "double", "writable": True},
    ],
}  # fmt: skip
CHART_TWIN = "bench-meter-series"
SPAN = timedelta(days=29)


async def build(db: Path, twins: int, points: int) -> None:
    """Create the fleet and the long series unless the database already has them."""
    async with Platform.open(db) as tk:
        if "dtmi:bench:Meter;1" not in tk.registry:
            await tk.models.add(MODEL)
        have = await tk.store.count_twins()
        started = time.perf_counter()
        chunk = 2000
        for first in range(have, twins, chunk):
            await asyncio.gather(
                *(
                    tk.twins.put(
                        f"meter-{i:06d}",
                        model="dtmi:bench:Meter;1",
                        reported={"serial": f"SN{i:06d}", "limit": 40.0},
                    )
                    for i in range(first, min(first + chunk, twins))
                )
            )
            print(f"  twins: {min(first + chunk, twins):,}/{twins:,}", end="\r", flush=True)
        if have < twins:
            batch = [(f"meter-{i:06d}", {"power": 10.0 + i % 7, "temperature": 21.5}, None)
                     for i in range(200)]  # fmt: skip
            await tk.twins.telemetry_batch(batch)
            print(f"  {twins - have:,} twins in {time.perf_counter() - started:.0f} s")
        if not await tk.twins.exists(CHART_TWIN):
            await import_series(tk, points)


async def import_series(tk: Platform, points: int) -> None:
    """The chart twin's history, imported as stored blocks (as a history import would):
    ``points`` values over 30 days, a daily cycle plus a sawtooth, the newest ending now."""
    import numpy as np

    from twinkit.storage.ports import Batch, Block

    await tk.twins.put(CHART_TWIN, model="dtmi:bench:Meter;1", reported={"serial": "X"})
    started = time.perf_counter()
    end = datetime.now(UTC).timestamp() - 60
    times = np.linspace(end - SPAN.total_seconds(), end, points)
    days = (times - times[0]) / 86400
    values = np.round(30 + 10 * np.sin(days * 2 * np.pi) + (np.arange(points) % 13) * 0.3, 3)
    size = 4096
    for first in range(0, points, size * 50):
        blocks = [
            Block(CHART_TWIN, "telemetry/power", times[i : i + size].tolist(),
                  values[i : i + size].tolist())
            for i in range(first, min(first + size * 50, points), size)
        ]  # fmt: skip
        await tk.store.commit(Batch(blocks=blocks))
    await tk.twins.telemetry(CHART_TWIN, {"power": float(values[-1])})
    await tk.flush()
    print(f"  {points:,} points imported in {time.perf_counter() - started:.1f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``twinkit serve`` (without MQTT) on the benchmark database, in a thread."""

    def __init__(self, db: Path) -> None:
        from twinkit.server import ServeOptions, serve

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Event | None = None
        options = ServeOptions(db=str(db), port=self.port, no_mqtt=True)

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.stop = asyncio.Event()
            self.loop.run_until_complete(serve(options, self.stop))

        self.thread = threading.Thread(target=run, daemon=True)

    def __enter__(self) -> Server:
        import httpx

        self.thread.start()
        for _ in range(600):
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(20)


RESOURCE = (
    "performance.getEntriesByType('resource').filter(e => e.name.includes({part!r}))"
    ".map(e => e.responseEnd)[0] || null"
)
FETCH = """async (url) => {{
  const t0 = performance.now();
  const body = await (await fetch(url, {{cache: 'no-store'}})).json();
  return [performance.now() - t0, {count}];
}}"""


WAIT_MARK = """(name) => new Promise((resolve) => {
  const found = (entries) => entries.find((e) => e.name === name);
  const seen = found(performance.getEntriesByName(name));
  if (seen) return resolve([seen.startTime, seen.detail]);
  new PerformanceObserver((list, observer) => {
    const mark = found(list.getEntries());
    if (mark) { observer.disconnect(); resolve([mark.startTime, mark.detail]); }
  }).observe({ type: "mark", buffered: true });
})"""


def wait_mark(page: Any, name: str, timeout: float = 30.0) -> tuple[float, Any]:
    """The mark's time since navigation start, waited for inside the page (no polling)."""
    page.set_default_timeout(timeout * 1000)
    at, detail = page.evaluate(WAIT_MARK, name)
    return float(at), detail


def median(values: list[float]) -> float:
    return statistics.median(values)


def main_thread_ms(cdp: Any) -> float:
    """CPU the page's main thread spent on tasks (script, style, layout, paint) so far."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return float(metrics.get("TaskDuration", 0.0)) * 1000


def open_page(browser: Any) -> tuple[Any, Any, Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    return context, page, cdp


def bench_fleet(browser: Any, url: str, runs: int) -> dict[str, float]:
    rendered, api_done, fetched, busy = [], [], [], []
    for _ in range(runs):
        context, page, cdp = open_page(browser)
        page.goto(url + "/")
        at, _detail = wait_mark(page, "fleet-rendered")
        busy.append(main_thread_ms(cdp))
        rendered.append(at)
        api_done.append(page.evaluate(RESOURCE.format(part="/api/v1/dashboard/fleet")) or 0)
        took, rows = page.evaluate(
            FETCH.format(count="body.items.length"), "/api/v1/dashboard/fleet?limit=50"
        )
        assert rows == 50, rows
        fetched.append(took)
        context.close()
    return {
        "first": rendered[0],
        "busy": median(busy),
        "rendered": median(rendered),
        "api_done": median(api_done),
        "fetch_only": median(fetched),
    }


def bench_chart(browser: Any, url: str, runs: int) -> dict[str, float]:
    drawn, shown, refetch, redraw, fetched, busy = [], [], [], [], [], []
    history_url = ""
    for _ in range(runs):
        context, page, cdp = open_page(browser)
        page.goto(f"{url}/twins/{CHART_TWIN}?range=30d")
        at, detail = wait_mark(page, "chart-drawn:power")
        busy.append(main_thread_ms(cdp))
        drawn.append(at)
        shown.append(float(detail["points"]))
        history_url = page.evaluate(
            "performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => n.includes('/series/power'))[0]"
        )
        # switching range: a new downsampled read and a redraw
        page.evaluate("performance.clearMarks()")
        clicked = page.evaluate("performance.now()")
        page.get_by_test_id("chart-power").get_by_role("button", name="7d").click()
        at7, _ = wait_mark(page, "chart-drawn:power")
        redraw.append(at7 - clicked)
        took, count = page.evaluate(FETCH.format(count="body.points.length"), history_url)
        fetched.append(took)
        refetch.append(count)
        context.close()
    return {
        "first": drawn[0],
        "busy": median(busy),
        "drawn": median(drawn),
        "points_drawn": median(shown),
        "redraw_7d": median(redraw),
        "fetch_only": median(fetched),
        "history_url": history_url,  # type: ignore[dict-item]
    }


async def raw_read_seconds(db: Path, points: int) -> tuple[float, int]:
    """Server-side baseline: read every raw point of the series (what downsampling avoids)."""
    async with Platform.open(db) as tk:
        started = time.perf_counter()
        raw = await tk.history.read(CHART_TWIN, "power")
        return time.perf_counter() - started, len(raw)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--twins", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="reused between runs")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    db = args.db or Path(tempfile.gettempdir()) / f"twinkit-dash-{args.twins}-{args.points}.db"
    print(f"database: {db}")
    asyncio.run(build(db, args.twins, args.points))
    raw_s, raw_n = asyncio.run(raw_read_seconds(db, args.points))

    from playwright.sync_api import sync_playwright

    with Server(db) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        fleet = bench_fleet(browser, server.url, args.runs)
        chart = bench_chart(browser, server.url, args.runs)
        browser.close()

    print()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (other work slows every figure)")
    print()
    print(f"fleet page, {args.twins:,} twins (median of {args.runs} loads, each in a new context)")
    print(f"  first page of 50 rows on screen   {fleet['rendered']:8.0f} ms   target < 1000 ms")
    print(f"  first load (server caches cold)   {fleet['first']:8.0f} ms")
    print(f"  browser main thread busy (CPU)    {fleet['busy']:8.0f} ms  (until the mark)")
    print(f"  of which the rows' JSON arrived   {fleet['api_done']:8.0f} ms after navigation")
    print(
        f"  baseline: fetch the same JSON     {fleet['fetch_only']:8.0f} ms   "
        f"(page / fetch = {fleet['rendered'] / max(fleet['fetch_only'], 0.1):.1f}x)"
    )
    print()
    print(f"twin page, one series of {raw_n:,} points over 30 days")
    print(
        f"  chart drawn (30 d, {chart['points_drawn']:.0f} buckets)   {chart['drawn']:8.0f} ms"
        "   target < 1000 ms"
    )
    print(f"  first load (series not yet decoded) {chart['first']:6.0f} ms")
    print(f"  browser main thread busy (CPU)    {chart['busy']:8.0f} ms  (until the mark)")
    print(f"  switch to 7 d: read + redraw      {chart['redraw_7d']:8.0f} ms")
    print(
        f"  baseline: fetch the same JSON     {chart['fetch_only']:8.0f} ms   "
        f"(redraw / fetch = {chart['redraw_7d'] / max(chart['fetch_only'], 0.1):.1f}x)"
    )
    print(f"  baseline: read raw series (server, no JSON) {raw_s * 1000:8.0f} ms")
    ok = fleet["rendered"] < 1000 and chart["drawn"] < 1000
    print()
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
