"""The whole path, in process: HTTP command route → dispatch → MQTT → a device → HTTP answer."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import orjson

from tests.e2e.mqtt_device import Device, eventually
from twinkit.ingest.mosquitto import free_port, wait_for_port
from twinkit.server import ServeOptions, serve

PUMP = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:test:Valve;1",
    "@type": "Interface",
    "contents": [
        {"@type": "Telemetry", "name": "flow", "schema": "double"},
        {"@type": "Command", "name": "close"},
    ],
}


async def test_commands_answered_timed_out_and_queued_over_http(tmp_path: Path) -> None:
    http, mqtt = free_port(), free_port()
    stop = asyncio.Event()
    options = ServeOptions(db=str(tmp_path / "s.db"), port=http, broker_port=mqtt)
    server = asyncio.create_task(serve(options, stop))
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", http)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http}/api/v1") as api:
            assert (await api.post("/models", json=PUMP)).status_code in (200, 201)
            reply = await api.put("/twins/v1", json={"model": "dtmi:test:Valve;1"})
            assert reply.status_code == 201

            # nobody listening, no ttl: 504
            reply = await api.post("/twins/v1/commands/close", json={"timeout": 0.3})
            assert reply.status_code == 504, reply.text

            # the device is known offline and a ttl is given: 202, delivered when it is back
            device = await Device.open(f"mqtt://127.0.0.1:{mqtt}", "v1")
            await device.publish("twinkit/v1/status", b"offline", 1, retain=True)
            await asyncio.sleep(0.3)
            reply = await api.post("/twins/v1/commands/close", json={"ttl": 60})
            assert reply.status_code == 202, reply.text

            def answer(topic: str, payload: bytes) -> None:
                if "/commands/" in topic and not topic.endswith("/response"):
                    body = orjson.dumps({"status": 200, "payload": {"closed": True}})
                    device.client.publish(topic + "/response", body, 1)

            device.responder = answer
            await device.subscribe("twinkit/v1/commands/#")
            await device.publish("twinkit/v1/status", b"online", 1, retain=True)

            async def delivered() -> bool:
                events = (await api.get("/twins/v1/events")).json()
                items = events["items"] if isinstance(events, dict) else events
                return any(
                    e["kind"] == "CommandAnswered" and e["data"]["status"] == 200 for e in items
                )

            await eventually(delivered, what="the queued command answered")

            # online now: 200 with the device's answer
            reply = await api.post("/twins/v1/commands/close", json={"timeout": 5})
            assert reply.status_code == 200, reply.text
            assert reply.json()["payload"] == {"closed": True}
            device.close()
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(server, 30)
