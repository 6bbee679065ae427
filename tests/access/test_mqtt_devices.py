"""A device with valid credentials cannot read or write another device's topics — on a real
Mosquitto (configured from the auth file) and on the embedded amqtt broker (plugins)."""

from __future__ import annotations

import inspect
import os
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from amqtt.broker import Broker
from paho.mqtt.enums import CallbackAPIVersion

from twinkit.access.audit import AuditLog
from twinkit.access.broker import PLATFORM_USER, broker_plugins, device_may
from twinkit.access.config import AuthConfig
from twinkit.access.identities import Device, hash_password
from twinkit.access.mosquitto import write_mosquitto_config
from twinkit.ingest.mosquitto import Mosquitto, free_port


class Client:
    """A paho client that records what it receives."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
        self.received: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.mqtt = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex)
        if username is not None:
            self.mqtt.username_pw_set(username, password)
        self.connected = threading.Event()
        self.reason: object = None

        def on_connect(
            client: object, userdata: object, flags: object, reason: object, properties: object
        ) -> None:
            self.reason = reason
            self.connected.set()

        self.mqtt.on_connect = on_connect
        self.mqtt.on_message = lambda c, u, m: self.received.put((m.topic, bytes(m.payload)))
        self.mqtt.connect("127.0.0.1", port)
        self.mqtt.loop_start()
        self.connected.wait(3)

    @property
    def ok(self) -> bool:
        return bool(self.connected.is_set() and not getattr(self.reason, "is_failure", True))

    def messages(self) -> set[bytes]:
        found = set()
        while not self.received.empty():
            found.add(self.received.get()[1])
        return found

    def close(self) -> None:
        self.mqtt.loop_stop()
        self.mqtt.disconnect()


def auth_file(tmp_path: Path) -> Path:
    config = AuthConfig(
        devices={
            "pump-1": Device("pump-1", "acme~pump-1", hash_password("pw1")),
            "pump-2": Device("pump-2", "acme~pump-2", hash_password("pw2")),
        }
    )
    path = tmp_path / "auth.yaml"
    config.save(path)
    return path


@pytest.fixture(params=["mosquitto", "embedded"])
async def broker(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[int, str]]:
    """(port, platform password) of a broker that enforces device credentials and topics."""
    path = auth_file(tmp_path)
    if request.param == "mosquitto":
        files = write_mosquitto_config(AuthConfig.load(path), tmp_path / "conf", "platform-pw")
        settings = f"allow_anonymous false\npassword_file {files.passwords}\nacl_file {files.acl}\n"
        if os.geteuid() == 0 and "geteuid" not in inspect.getsource(Mosquitto.start):
            settings += "user root\n"  # root mosquitto would switch users, locked out of tmp
        with Mosquitto(tmp_path / "mosquitto", settings=settings) as mosquitto:
            yield mosquitto.port, "platform-pw"
        return
    plugins, login = broker_plugins(path, tmp_path / "audit.jsonl")
    port = free_port()
    amqtt = Broker(
        {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}}, "plugins": plugins}
    )
    await amqtt.start()
    try:
        yield port, login.password
    finally:
        await amqtt.shutdown()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    made: list[Client] = []
    yield made
    for client in made:
        client.close()


async def test_device_cannot_use_another_devices_topics(
    broker: tuple[int, str], clients: list[Client]
) -> None:
    import asyncio

    port, platform_password = broker

    async def connect(user: str | None, password: str | None) -> Client:
        client = await asyncio.to_thread(Client, port, user, password)
        clients.append(client)
        return client

    assert not (await connect("pump-2", "wrong")).ok
    assert not (await connect(None, None)).ok
    assert not (await connect("stranger", "pw1")).ok
    platform = await connect(PLATFORM_USER, platform_password)
    one, two = await connect("pump-1", "pw1"), await connect("pump-2", "pw2")
    assert platform.ok and one.ok and two.ok
    platform.mqtt.subscribe("twinkit/#", qos=1)
    for topic in (
        "twinkit/acme~pump-2/#",
        "twinkit/#",
        "twinkit/+/desired",
        "#",
        "twinkit/acme~pump-1/#",
    ):
        one.mqtt.subscribe(topic, qos=1)
    await asyncio.sleep(0.5)
    two.mqtt.publish("twinkit/acme~pump-2/telemetry", b"secret-of-2", qos=1)
    platform.mqtt.publish("twinkit/acme~pump-2/desired", b"desired-of-2", qos=1)
    platform.mqtt.publish("twinkit/acme~pump-1/desired", b"desired-of-1", qos=1)
    one.mqtt.publish("twinkit/acme~pump-2/reported", b"forged-by-1", qos=1)
    one.mqtt.publish("twinkit/acme~pump-1/reported", b"mine", qos=1)
    deadline = time.monotonic() + 3
    seen: set[bytes] = set()
    while time.monotonic() < deadline and b"mine" not in seen:
        await asyncio.sleep(0.1)
        seen |= platform.messages()
    await asyncio.sleep(0.5)
    seen |= platform.messages()
    assert {b"secret-of-2", b"desired-of-2", b"desired-of-1", b"mine"} <= seen
    assert b"forged-by-1" not in seen
    assert one.messages() == {b"desired-of-1", b"mine"}


async def test_embedded_broker_audits_refusals(
    broker: tuple[int, str], clients: list[Client], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import asyncio

    audit = tmp_path / "audit.jsonl"
    if "mosquitto" in request.node.name:
        pytest.skip("Mosquitto logs its refusals in its own log")
    port, _ = broker
    bad = await asyncio.to_thread(Client, port, "pump-2", "wrong")
    one = await asyncio.to_thread(Client, port, "pump-1", "pw1")
    clients += [bad, one]
    one.mqtt.publish("twinkit/acme~pump-2/reported", b"forged", qos=1)
    await asyncio.sleep(0.5)
    entries = AuditLog.reader(audit).list()
    actions = {(e["subject"], e["action"]) for e in entries}
    assert ("device:pump-2", "mqtt connect") in actions
    assert ("device:pump-1", "mqtt publish") in actions
    assert all(e["outcome"] == "denied" for e in entries)


def test_topic_rule() -> None:
    assert device_may("acme~p1", "twinkit/acme~p1/telemetry")
    assert device_may("acme~p1", "twinkit/acme~p1/#")
    assert not device_may("acme~p1", "twinkit/acme~p10/telemetry")
    assert not device_may("acme~p1", "twinkit/+/telemetry")
    assert not device_may("acme~p1", "twinkit/#")
    assert not device_may("p/x", "twinkit/p/x/telemetry")
    assert not device_may("#", "twinkit/#")
