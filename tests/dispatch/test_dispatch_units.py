"""Presence, the durable outbox and commands, without a broker (publish is recorded)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from tests.e2e.mqtt_device import eventually
from twinkit.dispatch.commands import Commands, DeviceUnreachable
from twinkit.dispatch.desired import DesiredPublisher
from twinkit.dispatch.outbox import QueuedCommand, SQLiteOutbox, outbox_for
from twinkit.dispatch.presence import Presence, read_status
from twinkit.ingest.publish_packets import Message
from twinkit.model.events import EventKind
from twinkit.platform import Platform


def test_presence_from_status_and_from_traffic() -> None:
    came: list[str] = []
    presence = Presence(window=10)
    presence.on_online(came.append)
    presence.seen("a", now=0)
    assert presence.is_online("a", now=5) and not presence.is_online("a", now=11)
    presence.seen("a", now=12)  # back after the window: online again, announced again
    assert came == ["a", "a"]
    presence.announce("b", True, now=0)
    assert presence.is_online("b", now=10_000)  # an announced status does not age
    presence.announce("b", False, now=1)  # the broker delivered the last will
    assert not presence.is_online("b", now=1)
    presence.seen("b", now=2)
    assert presence.is_online("b", now=2) and came == ["a", "a", "b", "b"]


@pytest.mark.parametrize(
    ("payload", "online"),
    [
        (b"online", True),
        (b"offline", False),
        (b'"online"', True),
        (b'{"online": false}', False),
        (b"", False),
        (b"maybe", None),
        (b"{bad", None),
    ],
)
def test_status_payloads(payload: bytes, online: bool | None) -> None:
    assert read_status(payload) is online


async def test_the_sqlite_outbox_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "o.db")
    outbox = SQLiteOutbox(path)
    await outbox.open()
    await outbox.add(QueuedCommand("r1", "t", "reboot", {"a": 1}, 1.0, 100.0, {"actor": "x"}))
    await outbox.add(QueuedCommand("r2", "t", "reboot", None, 2.0, 5.0, {}))
    await outbox.close()
    again = SQLiteOutbox(path)
    await again.open()
    assert [c.request_id for c in await again.pending("t", now=0)] == ["r1", "r2"]
    assert [c.request_id for c in await again.expire(now=10)] == ["r2"]
    assert (await again.pending("t", now=10))[0].payload == {"a": 1}
    assert not await again.remove("r1", twin="someone-else")  # not theirs to answer
    assert await again.remove("r1", twin="t") and not await again.remove("r1")
    await again.close()


@pytest.fixture
async def tk() -> AsyncIterator[Platform]:
    async with Platform.open(None) as platform:
        await platform.twins.put("p1")
        yield platform


class Wire:
    """Records what the platform publishes; can play the device answering."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, int, bool]] = []

    def publish(self, topic: str, body: bytes, qos: int, retain: bool) -> None:
        self.sent.append((topic, body, qos, retain))


async def test_an_answered_command(tk: Platform) -> None:
    wire = Wire()
    presence = Presence()
    commands = Commands(tk, wire.publish, presence, outbox_for(tk))
    presence.announce("p1", True)
    sending = asyncio.create_task(commands.send("p1", "reboot", {"n": 1}, timeout=5))
    await eventually(lambda: wire.sent)
    topic, body, qos, _ = wire.sent[0]
    assert topic.startswith("twinkit/p1/commands/reboot/") and qos == 1
    assert orjson.loads(body)["payload"] == {"n": 1}
    request_id = topic.rsplit("/", 1)[1]
    answer = orjson.dumps({"status": 201, "payload": "done"})
    response = Message(topic + "/response", answer, 1, 1, False, False)
    commands.receive_response(response, response.topic.split("/"))
    outcome = await sending
    assert (outcome.state, outcome.status, outcome.payload) == ("answered", 201, "done")
    assert outcome.request_id == request_id
    await asyncio.sleep(0.05)
    kinds = [e.kind for e in await tk.journal.events("p1")]
    assert kinds[-2:] == [EventKind.COMMAND_SENT, EventKind.COMMAND_ANSWERED]
    await commands.close()


async def test_without_mqtt_a_command_can_only_be_queued(tk: Platform) -> None:
    commands = Commands(tk, None, Presence(), outbox_for(tk))
    with pytest.raises(DeviceUnreachable):
        await commands.send("p1", "reboot", None)
    outcome = await commands.send("p1", "reboot", None, ttl=30)
    assert outcome.state == "queued"
    await commands.close()


async def test_queued_commands_go_out_when_the_device_is_seen(tk: Platform) -> None:
    wire = Wire()
    presence = Presence()
    commands = Commands(tk, wire.publish, presence, outbox_for(tk))
    outcome = await commands.send("p1", "reboot", {"x": 1}, ttl=30)
    assert outcome.state == "queued" and wire.sent == []
    presence.seen("p1")
    await eventually(lambda: wire.sent)
    assert wire.sent[0][0].endswith(outcome.request_id)
    await commands.close()


async def test_desired_changes_are_published_retained(tk: Platform) -> None:
    wire = Wire()
    publisher = DesiredPublisher(tk, wire.publish)
    publisher.start()
    state = await tk.twins.patch("p1", "desired", {"speed": 3})
    await eventually(lambda: wire.sent)
    topic, body, qos, retain = wire.sent[-1]
    assert (topic, qos, retain) == ("twinkit/p1/desired", 1, True)
    assert orjson.loads(body) == {"version": state.revision, "desired": {"speed": 3}}
    await tk.twins.delete("p1")
    await eventually(lambda: wire.sent[-1][1] == b"")  # deleting clears the retained message
    assert await publisher.publish_all() == 0
    await publisher.close()
