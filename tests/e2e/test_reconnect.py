"""The broker goes away and comes back: twinkit reconnects with backoff and loses nothing."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.mqtt_device import Device, eventually
from twinkit.ingest.broker_url import parse_broker_url
from twinkit.ingest.connector import MqttConnector
from twinkit.ingest.mosquitto import Mosquitto
from twinkit.platform import Platform


async def test_qos1_published_while_twinkit_was_cut_off_arrives_after_reconnect(
    tk: Platform, tmp_path: Path
) -> None:
    broker = Mosquitto(tmp_path / "restarting", persistence=True).start()
    connector = MqttConnector(tk, parse_broker_url(broker.url))
    await connector.start()
    try:
        broker.stop()  # saves the persistent session (our subscriptions) to disk
        await eventually(lambda: not connector.link.connected.is_set(), what="disconnect seen")
        broker.start()
        device = await Device.open(broker.url, "pump-1")
        for seq in range(5):
            await device.publish("twinkit/pump-1/telemetry", {"values": {"seq": seq}}, 1)
        device.close()

        async def all_five() -> bool:
            return len(await tk.history.read("pump-1", "telemetry/seq")) == 5

        await eventually(all_five, 40, "the five messages queued for twinkit's session")
        assert connector.link.connects >= 2
        assert connector.metrics()["mqtt.connected"] == 1
    finally:
        await connector.close()
        broker.stop()
