"""A real MQTT client standing in for a device in tests (paho, its own network thread).

Every wait is async: the embedded broker runs on the test's own event loop, so
blocking it would deadlock the handshake.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from twinkit.ingest.broker_url import parse_broker_url


class Device:
    """Publishes like a device and records what it receives (topic, payload, retain)."""

    def __init__(
        self,
        url: str,
        client_id: str,
        *,
        will: tuple[str, bytes] | None = None,
        clean_session: bool = True,
    ) -> None:
        address = parse_broker_url(url)
        self.received: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=paho.MQTTv311,
        )
        self.client.max_inflight_messages_set(1000)
        if will is not None:
            self.client.will_set(will[0], will[1], 1, True)
        self.client.on_message = self._message
        self.client.on_connect = lambda *a: self._connected.set()
        self.client.connect_async(address.host, address.port, keepalive=5)
        self.client.loop_start()
        self.url = url
        self.responder: Callable[[str, bytes], None] | None = None

    @classmethod
    async def open(cls, url: str, client_id: str, **options: Any) -> Device:
        device = cls(url, client_id, **options)
        await eventually(device._connected.is_set, what=f"{client_id} connected to {url}")
        return device

    def _message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.received.append((message.topic, bytes(message.payload), bool(message.retain)))
        if self.responder is not None:
            self.responder(message.topic, bytes(message.payload))

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.subscribe(topic, qos)
        await eventually(done.is_set, what=f"subscribed to {topic}")

    async def publish(self, topic: str, body: Any, qos: int = 1, retain: bool = False) -> None:
        """Publish; at QoS 1 return once the broker acknowledged it."""
        payload = body if isinstance(body, bytes) else orjson.dumps(body)
        info = self.client.publish(topic, payload, qos, retain)
        if qos > 0:
            await eventually(info.is_published, what=f"broker ack for {topic}")

    def send(self, topic: str, body: Any, qos: int = 1) -> paho.MQTTMessageInfo:
        """Publish without waiting (for bursts)."""
        payload = body if isinstance(body, bytes) else orjson.dumps(body)
        return self.client.publish(topic, payload, qos)

    def messages(self, topic_part: str = "") -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return [m for m in self.received if topic_part in m[0]]

    def close(self, *, clean: bool = True) -> None:
        if clean:
            self.client.disconnect()
        else:
            # drop the TCP connection without DISCONNECT: the broker sends the last will
            sock = self.client.socket()
            if sock is not None:
                sock.close()
        self.client.loop_stop()


async def eventually(check: Callable[[], Any], seconds: float = 20.0, what: str = "") -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what or check}")
        await asyncio.sleep(0.02)
