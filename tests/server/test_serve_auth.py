"""``twinkit serve --auth``: devices log in to the embedded broker with their own
credentials and reach only their own twin; a public address needs authentication."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest

from tests.e2e.mqtt_device import eventually
from tests.server.serve_process import finish, twinkit
from twinkit.access import AuthConfig
from twinkit.access.identities import Device, hash_password
from twinkit.ingest.broker_url import BrokerAddress
from twinkit.ingest.mosquitto import free_port, wait_for_port
from twinkit.ingest.mqtt import MqttLink
from twinkit.platform import Platform
from twinkit.server import ServeOptions, serve


async def test_devices_use_their_own_login_and_twin_only(tmp_path: Path) -> None:
    auth_file = tmp_path / "auth.yaml"
    AuthConfig(devices={"pump-1": Device("pump-1", "pump-1", hash_password("pw1"))}).save(auth_file)
    db = tmp_path / "a.db"
    async with Platform.open(db) as tk:
        await tk.twins.put("pump-1")
        await tk.twins.put("pump-2")
    http, mqtt = free_port(), free_port()
    stop = asyncio.Event()
    options = ServeOptions(db=str(db), port=http, broker_port=mqtt, auth=str(auth_file))
    server = asyncio.create_task(serve(options, stop))
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", http)
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"http://127.0.0.1:{http}/api/v1/twins/pump-1")
        assert reply.status_code == 401  # the API wants a token now

        device = MqttLink(
            BrokerAddress("127.0.0.1", mqtt, username="pump-1", password="pw1"),
            client_id="pump-1",
            clean_session=True,
            manual_ack=False,
        )
        await device.start()
        device.publish("twinkit/pump-1/telemetry", b'{"t": 1}', 1)
        device.publish("twinkit/pump-2/telemetry", b'{"t": 666}', 1)  # not its twin
        intruder = MqttLink(
            BrokerAddress("127.0.0.1", mqtt, username="pump-1", password="wrong"),
            client_id="intruder",
        )
        with pytest.raises(ConnectionError):
            await intruder.start(wait=2)
        await asyncio.sleep(1.0)
        await device.close()
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(server, 30)
    async with Platform.open(db) as tk:
        assert (await tk.twins.get("pump-1")).telemetry == {"t": 1}
        assert (await tk.twins.get("pump-2")).telemetry == {}


def test_a_public_address_without_auth_is_refused_in_one_line(tmp_path: Path) -> None:
    code, _, err = finish(
        twinkit("serve", "--host", "0.0.0.0", "--port", str(free_port()), cwd=tmp_path)
    )
    assert code == 1
    assert err.strip().splitlines() == [err.strip()]
    assert "without authentication" in err


async def test_metrics_count_mqtt_rejections(tmp_path: Path) -> None:
    http, mqtt = free_port(), free_port()
    stop = asyncio.Event()
    options = ServeOptions(db=str(tmp_path / "m.db"), port=http, broker_port=mqtt)
    server = asyncio.create_task(serve(options, stop))
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", http)
        device = MqttLink(BrokerAddress("127.0.0.1", mqtt), client_id="d", manual_ack=False)
        await device.start()
        device.publish("twinkit/ghost/telemetry", b'{"t": 1}', 1)

        async def counted() -> bool:
            async with httpx.AsyncClient() as client:
                text = (await client.get(f"http://127.0.0.1:{http}/metrics")).text
            return 'reason="unknown_twin",surface="mqtt"' in text

        await eventually(counted, 20, "the MQTT rejection in /metrics")
        await device.close()
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(server, 30)
