"""Platform → device over a real broker: retained desired state, commands, the offline queue."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.e2e.mqtt_device import Device, eventually
from twinkit.ingest.broker_url import parse_broker_url
from twinkit.ingest.connector import MqttConnector
from twinkit.ingest.mosquitto import Mosquitto
from twinkit.model.events import EventKind
from twinkit.platform import Platform


async def test_desired_is_retained_and_acknowledged_by_the_report(
    tk: Platform, connector: MqttConnector, broker_url: str
) -> None:
    state = await tk.twins.patch("pump-1", "desired", {"speed": 900.0})
    await eventually(lambda: connector.desired.published >= 1)
    # a device that connects afterwards gets the retained desired state at once
    device = await Device.open(broker_url, "pump-1")
    try:
        await device.subscribe("twinkit/pump-1/desired")
        found = await eventually(lambda: device.messages("/desired"), what="retained desired")
        _, payload, retained = found[0]
        assert retained
        assert orjson.loads(payload) == {"version": state.revision, "desired": {"speed": 900.0}}
        assert (await tk.twins.get("pump-1")).document()["delta"] == {"speed": 900.0}
        await device.publish("twinkit/pump-1/reported", {"speed": 900.0})

        async def acknowledged() -> bool:
            return bool((await tk.twins.get("pump-1")).document()["delta"] == {})

        await eventually(acknowledged, what="delta empty once reported")
        # a later change reaches the connected device with a higher version
        await tk.twins.patch("pump-1", "desired", {"speed": 950.0})
        later = await eventually(
            lambda: len(device.messages("/desired")) >= 2 and device.messages("/desired")
        )
        body = orjson.loads(later[-1][1])
        assert body["desired"] == {"speed": 950.0} and body["version"] > state.revision
    finally:
        device.close()


def answer_commands(device: Device, status: int = 200) -> None:
    def respond(topic: str, payload: bytes) -> None:
        if "/commands/" in topic and not topic.endswith("/response"):
            request = orjson.loads(payload)
            body = {"status": status, "payload": {"echo": request["payload"]}}
            device.client.publish(topic + "/response", orjson.dumps(body), 1)

    device.responder = respond


async def test_a_command_is_answered_and_journaled(
    tk: Platform, connector: MqttConnector, broker_url: str
) -> None:
    device = await Device.open(broker_url, "pump-1")
    try:
        await device.subscribe("twinkit/pump-1/commands/+/+")
        answer_commands(device)
        await device.publish("twinkit/pump-1/status", b"online", 1, retain=True)
        await eventually(lambda: connector.presence.is_online("pump-1"))
        outcome = await connector.commands.send("pump-1", "reboot", {"delay": 1}, timeout=5)
        assert outcome.state == "answered"
        assert outcome.status == 200
        assert outcome.payload == {"echo": {"delay": 1}}

        async def journaled() -> list[EventKind] | bool:
            events = await tk.journal.events("pump-1")
            kinds = [e.kind for e in events]
            return EventKind.COMMAND_ANSWERED in kinds and kinds

        kinds = await eventually(journaled, what="the answer in the journal")
        assert EventKind.COMMAND_SENT in kinds
        events = await tk.journal.events("pump-1")
        sent = next(e for e in events if e.kind is EventKind.COMMAND_SENT)
        assert sent.data["request_id"] == outcome.request_id
    finally:
        device.close()


async def test_a_silent_device_times_out(tk: Platform, connector: MqttConnector) -> None:
    outcome = await connector.commands.send("pump-1", "reboot", None, timeout=0.3)
    assert outcome.state == "timed_out"
    events = await tk.journal.events("pump-1")
    assert events[-1].kind is EventKind.COMMAND_ANSWERED
    assert events[-1].data["outcome"] == "timed_out"


async def test_a_command_for_an_offline_device_is_queued_and_delivered_when_it_returns(
    tk: Platform, connector: MqttConnector, broker_url: str
) -> None:
    # the device was online, then its connection dropped: the broker sends its last will
    device = await Device.open(broker_url, "pump-1", will=("twinkit/pump-1/status", b"offline"))
    await device.publish("twinkit/pump-1/status", b"online", 1, retain=True)
    await eventually(lambda: connector.presence.is_online("pump-1"))
    device.close(clean=False)
    await eventually(lambda: not connector.presence.is_online("pump-1"), what="last will")

    outcome = await connector.commands.send("pump-1", "reboot", {"delay": 2}, ttl=60)
    assert outcome.state == "queued"
    assert [c.request_id for c in await connector.commands.outbox.pending("pump-1", 0)] == [
        outcome.request_id
    ]
    back = await Device.open(broker_url, "pump-1-again")
    try:
        await back.subscribe("twinkit/pump-1/commands/+/+")
        answer_commands(back)
        await back.publish("twinkit/pump-1/status", b"online", 1, retain=True)

        async def answered() -> bool:
            events = await tk.journal.events("pump-1")
            return any(
                e.kind is EventKind.COMMAND_ANSWERED
                and e.data["request_id"] == outcome.request_id
                and e.data["payload"] == {"echo": {"delay": 2}}
                for e in events
            )

        await eventually(answered, what="the queued command answered after reconnecting")
        assert await connector.commands.outbox.pending("pump-1", 0) == []
    finally:
        back.close()


async def test_the_offline_queue_survives_a_restart(tmp_path: Path, mosquitto: Mosquitto) -> None:
    from tests.e2e.conftest import PUMP

    db = tmp_path / "restart.db"
    async with Platform.open(db) as tk:
        await tk.models.add(PUMP)
        await tk.twins.put("pump-9", model="dtmi:test:Pump;1")
        connector = MqttConnector(tk, parse_broker_url(mosquitto.url))
        await connector.start()
        outcome = await connector.commands.send("pump-9", "reboot", {"n": 1}, ttl=600)
        assert outcome.state == "queued"
        await connector.close()
    async with Platform.open(db) as tk:
        connector = MqttConnector(tk, parse_broker_url(mosquitto.url))
        await connector.start()
        device = await Device.open(mosquitto.url, "pump-9")
        try:
            await device.subscribe("twinkit/pump-9/commands/+/+")
            answer_commands(device)
            await device.publish("twinkit/pump-9/telemetry", {"temperature": 1.0})  # seen

            async def answered() -> bool:
                events = await tk.journal.events("pump-9")
                return any(e.kind is EventKind.COMMAND_ANSWERED for e in events)

            await eventually(answered, what="queued command delivered after a restart")
            assert await connector.commands.outbox.pending("pump-9", 0) == []
        finally:
            device.close()
            await connector.close()


async def test_queued_commands_expire_after_their_ttl(tk: Platform, broker_url: str) -> None:
    connector = MqttConnector(tk, parse_broker_url(broker_url))
    await connector.start()
    try:
        outcome = await connector.commands.send("pump-1", "reboot", None, ttl=0.05)
        assert outcome.state == "queued"
        await eventually(lambda: True)
        import asyncio

        await asyncio.sleep(0.1)
        assert await connector.commands.expire() == 1
        events = await tk.journal.events("pump-1")
        assert events[-1].data["outcome"] == "expired"
    finally:
        await connector.close()


async def test_unknown_commands_and_twins_are_refused(
    tk: Platform, connector: MqttConnector
) -> None:
    from twinkit.model.errors import NotFound, ValidationFailed

    with pytest.raises(ValidationFailed):
        await connector.commands.send("pump-1", "explode", None)
    with pytest.raises(NotFound):
        await connector.commands.send("ghost", "reboot", None)
