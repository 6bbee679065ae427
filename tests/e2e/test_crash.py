"""Kill -9 while devices publish: every message the broker acknowledged to the device ends
up in history exactly once (QoS 1, persistent session, ack only after commit)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.e2e.conftest import PUMP
from tests.e2e.mqtt_device import eventually
from tests.server.serve_process import finish, kill, read_lines, twinkit
from twinkit.ingest.mosquitto import Mosquitto, free_port
from twinkit.platform import Platform

MESSAGES = 3000


@pytest.mark.slow
async def test_sigkill_during_ingest_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    async with Platform.open(db) as tk:
        await tk.models.add(PUMP)
        await tk.twins.put("pump-1", model="dtmi:test:Pump;1")
    with Mosquitto(tmp_path / "broker", persistence=True) as broker:
        http = free_port()
        args = ("serve", "--db", str(db), "--port", str(http), "--mqtt", broker.url)
        server = twinkit(*args, cwd=tmp_path)
        read_lines(server, "mqtt://")
        await asyncio.sleep(0.3)  # the platform's subscriptions are in place

        device = paho.Client(CallbackAPIVersion.VERSION2, client_id="crash-device")
        device.max_inflight_messages_set(100)
        device.connect("127.0.0.1", broker.port)
        device.loop_start()
        sent: list[tuple[int, paho.MQTTMessageInfo]] = []
        killed_at = MESSAGES // 3
        restarted = False
        started = time.monotonic()
        for seq in range(MESSAGES):
            body = orjson.dumps({"values": {"seq": seq}})
            sent.append((seq, device.publish("twinkit/pump-1/telemetry", body, 1)))
            if seq % 100 == 0:
                await asyncio.sleep(0.05)  # ~2k msg/s
            if seq == killed_at:
                kill(server)
            if seq == 2 * killed_at and not restarted:
                server = twinkit(*args, cwd=tmp_path)
                read_lines(server, "mqtt://")
                restarted = True
        await eventually(lambda: all(info.is_published() for _, info in sent), 30)
        acknowledged = {seq for seq, info in sent if info.is_published()}
        assert len(acknowledged) == MESSAGES
        device.loop_stop()
        device.disconnect()

        async def everything_applied() -> bool:
            async with httpx.AsyncClient() as client:
                reply = await client.get(f"http://127.0.0.1:{http}/api/v1/twins/pump-1")
            return reply.status_code == 200 and reply.json()["revision"] >= 1 + MESSAGES

        await eventually(everything_applied, 60, "every acknowledged message applied")
        server.send_signal(signal.SIGTERM)
        code, _, err = finish(server)
        assert code == 0, err
    async with Platform.open(db) as tk:
        points = await tk.history.read("pump-1", "telemetry/seq")
        values = [int(v) for _, v in points]
        state = await tk.twins.get("pump-1")
        events = await tk.journal.events("pump-1", limit=None)
        journaled = [e.data["values"]["seq"] for e in events if e.kind.value == "TelemetryReceived"]
    assert sorted(journaled) == sorted(acknowledged), "journal: a message lost or doubled"
    assert len(values) == len(set(values)), "a message was applied twice"
    assert set(values) == acknowledged, "an acknowledged message was lost"
    assert state.revision == 1 + MESSAGES
    assert time.monotonic() - started < 120
