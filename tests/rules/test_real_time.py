"""Timed rules in real time, through ``twinkit serve`` itself: a real SQLite file, the real
clock, HTTP in and out, and durations short enough to wait for."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx

from twinkit.ingest.mosquitto import free_port, wait_for_port
from twinkit.server import ServeOptions, serve

SENSOR = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:test:Sensor;1",
    "@type": "Interface",
    "contents": [{"@type": "Telemetry", "name": "temperature", "schema": "double"}],
}
RULES = """
rules:
  - id: silent
    models: [dtmi:test:Sensor;1]
    when: age(telemetry.temperature) > '300ms'
    severity: warning
  - id: hot
    models: [dtmi:test:Sensor;1]
    when: telemetry.temperature > 80
    for: 300ms
    severity: critical
"""


async def alerts(api: httpx.AsyncClient) -> dict[str, Any]:
    reply = await api.get("/alerts", params={"twin": "s1"})
    return {a["source"]: a for a in reply.json()["alerts"]}


async def wait_until(api: httpx.AsyncClient, done: Any, seconds: float = 10.0) -> float:
    """Poll the alerts until ``done(alerts)``; the seconds it took."""
    start = time.monotonic()
    while not done(await alerts(api)):
        assert time.monotonic() - start < seconds, await alerts(api)
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_silence_and_a_for_fire_and_clear_in_real_time(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULES)
    http = free_port()
    stop = asyncio.Event()
    options = ServeOptions(
        db=str(tmp_path / "s.db"), port=http, no_mqtt=True, rules=str(tmp_path / "rules.yaml")
    )
    server = asyncio.create_task(serve(options, stop))
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", http)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http}/api/v1") as api:
            assert (await api.post("/models", json=SENSOR)).status_code in (200, 201)
            assert (await api.put("/twins/s1", json={"model": SENSOR["@id"]})).status_code == 201
            sent = await api.post("/twins/s1/telemetry", json={"values": {"temperature": 90}})
            assert sent.status_code in (200, 202), sent.text
            # no further value: "hot" completes its 300 ms and "silent" sees 300 ms of silence
            waited = await wait_until(api, lambda a: {"rule:hot", "rule:silent"} <= set(a))
            assert 0.3 <= waited < 5
            raised = await alerts(api)
            assert raised["rule:silent"]["cause"]["values"]["age(telemetry.temperature)"] >= 0.3
            await api.post("/twins/s1/telemetry", json={"values": {"temperature": 20}})
            await wait_until(api, lambda a: a == {})  # both clear on the next value
            await wait_until(api, lambda a: set(a) == {"rule:silent"})  # and silent again
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(server, 30)
