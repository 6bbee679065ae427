"""Devices publish over a real broker (Mosquitto and the embedded one); twins change."""

from __future__ import annotations

import orjson
import pytest

from tests.e2e.mqtt_device import Device, eventually
from twinkit.ingest.broker_url import parse_broker_url
from twinkit.ingest.connector import MqttConnector
from twinkit.ingest.mappers import Mappers
from twinkit.ingest.pipeline import AutoCreate, IngestSettings
from twinkit.ingest.signals import Signal
from twinkit.model.events import EventKind
from twinkit.platform import Platform


@pytest.mark.parametrize("qos", [0, 1])
async def test_telemetry_envelope_and_flat_objects_reach_the_twin_and_its_history(
    tk: Platform, connector: MqttConnector, broker_url: str, qos: int
) -> None:
    device = await Device.open(broker_url, "pump-1")
    try:
        body = {"at": "2026-01-01T00:00:00Z", "values": {"temperature": 21.5}}
        await device.publish("twinkit/pump-1/telemetry", body, qos)
        await device.publish("twinkit/pump-1/telemetry", {"temperature": 22.5}, qos)

        async def both() -> bool:
            points = await tk.history.read("pump-1", "telemetry/temperature")
            return len(points) == 2

        await eventually(both, what="two temperature points")
        state = await tk.twins.get("pump-1")
        assert state.telemetry["temperature"] == 22.5
        points = await tk.history.read("pump-1", "telemetry/temperature")
        assert [v for _, v in points] == [21.5, 22.5]
        assert points[0][0] == pytest.approx(1767225600.0)
    finally:
        device.close()


async def test_reported_is_a_merge_patch(
    tk: Platform, connector: MqttConnector, broker_url: str
) -> None:
    device = await Device.open(broker_url, "pump-1")
    try:
        await device.publish("twinkit/pump-1/reported", {"speed": 1200.0, "firmware": "1.0"})
        await device.publish("twinkit/pump-1/reported", {"firmware": None})

        async def patched() -> bool:
            state = await tk.twins.get("pump-1")
            return state.reported == {"speed": 1200.0}

        await eventually(patched, what="firmware removed by the second patch")
    finally:
        device.close()


async def test_many_messages_keep_per_twin_order(
    tk: Platform, connector: MqttConnector, broker_url: str
) -> None:
    for index in range(2, 6):
        await tk.twins.put(f"pump-{index}", model="dtmi:test:Pump;1")
    device = await Device.open(broker_url, "gateway")
    try:
        for seq in range(200):
            for index in range(1, 6):
                device.send(f"twinkit/pump-{index}/telemetry", {"seq": seq}, 1)

        async def all_in() -> bool:
            return connector.ingest.stats.counters["applied"] >= 1000

        await eventually(all_in, what="1000 messages applied")
        for index in range(1, 6):
            points = await tk.history.read(f"pump-{index}", "telemetry/seq")
            assert [v for _, v in points] == list(range(200))
    finally:
        device.close()


async def test_a_message_id_is_applied_once(
    tk: Platform, connector: MqttConnector, broker_url: str
) -> None:
    device = await Device.open(broker_url, "pump-1")
    try:
        body = {"msg_id": "m-1", "values": {"seq": 1}}
        await device.publish("twinkit/pump-1/telemetry", body, 1)
        await device.publish("twinkit/pump-1/telemetry", body, 1)
        await device.publish("twinkit/pump-1/telemetry", {"msg_id": "m-2", "values": {"seq": 2}}, 1)
        await eventually(lambda: connector.ingest.stats.counters["received"] >= 3)
        await tk.flush()
        await eventually(lambda: connector.ingest.pending == 0)
        points = await tk.history.read("pump-1", "telemetry/seq")
        assert [v for _, v in points] == [1, 2]
        assert connector.ingest.stats.counters["duplicates"] == 1
    finally:
        device.close()


async def test_a_gateway_mapper_fans_one_message_out_to_many_twins(
    tk: Platform, broker_url: str
) -> None:
    await tk.twins.put("pump-2", model="dtmi:test:Pump;1")
    mappers = Mappers()

    @mappers.register("plant/+/readings")
    def gateway(topic: str, payload: bytes) -> list[Signal]:
        body = orjson.loads(payload)
        return [Signal(r["device"], "telemetry", {"temperature": r["t"]}) for r in body]

    connector = MqttConnector(tk, parse_broker_url(broker_url), mappers=mappers)
    await connector.start()
    device = await Device.open(broker_url, "gw-1")
    try:
        readings = [{"device": "pump-1", "t": 30.0}, {"device": "pump-2", "t": 31.0}]
        await device.publish("plant/gw-1/readings", readings, 1)

        async def both() -> bool:
            one, two = await tk.twins.get("pump-1"), await tk.twins.get("pump-2")
            return (
                one.telemetry.get("temperature") == 30.0
                and two.telemetry.get("temperature") == 31.0
            )

        await eventually(both, what="both twins updated from one gateway message")
    finally:
        device.close()
        await connector.close()


async def test_auto_create_makes_a_twin_on_first_contact(tk: Platform, broker_url: str) -> None:
    rule = AutoCreate("twinkit/+/telemetry", "dtmi:test:Pump;1", id_prefix="new-")
    settings = IngestSettings(autocreate=(rule,))
    connector = MqttConnector(tk, parse_broker_url(broker_url), settings=settings)
    await connector.start()
    device = await Device.open(broker_url, "new-7")
    try:
        await device.publish("twinkit/new-7/telemetry", {"temperature": 5.0}, 1)
        await device.publish("twinkit/new-7/telemetry", {"temperature": 6.0}, 1)
        await device.publish("twinkit/other/telemetry", {"temperature": 5.0}, 1)

        async def created() -> bool:
            if not await tk.twins.exists("new-7"):
                return False
            return len(await tk.history.read("new-7", "telemetry/temperature")) == 2

        await eventually(created, what="new-7 created with two points")
        state = await tk.twins.get("new-7")
        assert state.model == "dtmi:test:Pump;1"
        events = await tk.journal.events("new-7")
        assert events[0].kind is EventKind.TWIN_CREATED
        await eventually(lambda: connector.ingest.stats.rejected["unknown_twin"] == 1)
        assert not await tk.twins.exists("other")
    finally:
        device.close()
        await connector.close()
