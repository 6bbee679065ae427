"""QoS 1 redeliveries (the broker never saw our ack) are applied exactly once, even when
the process that applied them is gone and its memory of recent ids with it."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import PUMP
from tests.e2e.mqtt_device import Device, eventually
from twinkit.ingest.broker_url import parse_broker_url
from twinkit.ingest.connector import MqttConnector
from twinkit.ingest.mosquitto import Mosquitto
from twinkit.platform import Platform


async def test_unacknowledged_messages_redelivered_after_a_restart_apply_once(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    db = tmp_path / "twins.db"
    address = parse_broker_url(mosquitto.url)
    async with Platform.open(db) as tk:
        await tk.models.add(PUMP)
        await tk.twins.put("pump-1", model="dtmi:test:Pump;1")
        first = MqttConnector(tk, address, client_id="ingest-under-test")
        first.ingest._ack = lambda message: None  # every ack lost, as in a crash after commit
        await first.start()
        device = await Device.open(mosquitto.url, "pump-1")
        for seq in range(20):
            await device.publish("twinkit/pump-1/telemetry", {"values": {"seq": seq}}, 1)
        await eventually(lambda: first.ingest.stats.counters["applied"] == 20)
        await first.close()
    async with Platform.open(db) as tk:
        second = MqttConnector(tk, address, client_id="ingest-under-test")
        await second.start()
        try:
            await eventually(
                lambda: second.ingest.stats.counters["duplicates"] == 20,
                what="20 redeliveries recognised",
            )
            await eventually(lambda: second.ingest.stats.counters["acked"] == 20)
            points = await tk.history.read("pump-1", "telemetry/seq")
            assert [v for _, v in points] == list(range(20))
            # new messages after the redeliveries are applied as usual
            await device.publish("twinkit/pump-1/telemetry", {"values": {"seq": 20}}, 1)
            await eventually(lambda: second.ingest.stats.counters["applied"] == 1)
        finally:
            device.close()
            await second.close()
