"""One MQTT connection (paho-mqtt 2.x) bridged into asyncio.

paho's network loop runs in its own thread (it drains ~3x faster than asyncio
clients), reading the socket in large chunks and decoding runs of PUBLISH packets
in one pass (:mod:`twinkit.ingest.read_ahead`). Each run, or each message paho
decodes itself, is appended to a deque and, when the deque was empty, one drain is
scheduled on the event loop with ``call_soon_threadsafe`` — one wake-up per burst
instead of one per message. Messages are routed by topic filter to
callbacks on the loop. QoS 1 messages are acknowledged by hand (``manual_ack``):
the consumer calls :meth:`MqttLink.ack` once the message's effect is committed.

The session is persistent (``clean_session=False``, fixed client id), so while we
are disconnected the broker keeps QoS 1 messages for us; paho reconnects with
exponential backoff (1 s … 30 s).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from twinkit.ingest.broker_url import BrokerAddress
from twinkit.ingest.publish_packets import Message
from twinkit.ingest.read_ahead import ReadAheadClient
from twinkit.ingest.topics import TopicFilter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


DRAIN_SLICE = 2000
ROUTE_CACHE = 200_000

Receiver = Callable[[Message, list[str]], None]


@dataclass(frozen=True, slots=True)
class Route:
    filter: TopicFilter
    qos: int
    receiver: Receiver


class MqttLink:
    """A paho client whose messages arrive on the asyncio loop, routed by topic filter."""

    def __init__(
        self,
        address: BrokerAddress,
        *,
        client_id: str,
        clean_session: bool = False,
        manual_ack: bool = True,
        will: Will | None = None,
        keepalive: int = 30,
    ) -> None:
        self.address = address
        self.client_id = client_id
        self.routes: list[Route] = []
        self.connected = asyncio.Event()
        self.connects = 0
        self.on_connect: list[Callable[[], None]] = []
        # awaited on every (re)connect before any message of that connection is routed
        self.before_messages: list[Callable[[], Awaitable[None]]] = []
        self._held = False
        # topic -> its route: a device publishes on the same few topics all day
        self._route_of: dict[str, Route | None] = {}
        self._acks: list[tuple[int, int]] = []
        self._hooks: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: deque[Message] = deque()
        self._manual_ack = manual_ack
        self._keepalive = keepalive
        self._closing = False
        client = ReadAheadClient(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=paho.MQTTv311,
            manual_ack=manual_ack,
            reconnect_on_failure=True,
        )
        client.reconnect_delay_set(1, 30)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        if address.username is not None:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            context = ssl.create_default_context(cafile=address.ca_file)
            if address.insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            client.tls_set_context(context)
        if will is not None:
            client.will_set(will.topic, will.payload, will.qos, will.retain)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._received
        client.publish_sink = self._received_run
        self.client = client

    def route(self, pattern: str, receiver: Receiver, qos: int = 1) -> None:
        """Deliver messages matching ``pattern`` to ``receiver``, called on the loop."""
        self.routes.append(Route(TopicFilter(pattern), qos, receiver))
        self._route_of.clear()
        if self.connected.is_set():
            self.client.subscribe(pattern, qos)

    async def start(self, wait: float | None = 10.0) -> None:
        """Connect (in the background, retrying); wait up to ``wait`` s for the first CONNACK."""
        self._loop = asyncio.get_running_loop()
        self.client.connect_async(self.address.host, self.address.port, self._keepalive)
        self.client.loop_start()
        if wait is not None:
            try:
                await asyncio.wait_for(self.connected.wait(), wait)
            except TimeoutError:
                await self.close()
                raise ConnectionError(
                    f"cannot reach the MQTT broker at {self.address.url()}"
                ) from None

    async def close(self) -> None:
        self._send_acks()  # acknowledgements still waiting for this loop turn
        self._closing = True
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)
        self.connected.clear()

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Queue a message; paho sends it from its network thread (or after reconnecting)."""
        self.client.publish(topic, payload, qos, retain)

    def ack(self, message: Message) -> None:
        """Acknowledge a QoS 1 message (only once its effect is durable).

        Acks are gathered and handed to paho as one write per loop turn
        (:meth:`ReadAheadClient.ack_many`): a burst of commits costs one wake-up of paho's
        thread and one ``send``, not one of each per message.
        """
        if self._manual_ack and message.qos > 0:
            self._acks.append((message.mid, message.qos))
            if len(self._acks) == 1 and self._loop is not None:
                self._loop.call_soon(self._send_acks)

    def _send_acks(self) -> None:
        acks, self._acks = self._acks, []
        self.client.ack_many([mid for mid, qos in acks if qos == 1])
        for mid, qos in acks:
            if qos == 2:  # never subscribed to, so a broker should not send one
                self.client.ack(mid, qos)

    # -- paho thread ----------------------------------------------------------------------
    def _connected(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: object,
        properties: object,
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT broker %s refused the connection: %s", self.address.url(), reason)
            return
        subscriptions = [(route.filter.text, route.qos) for route in self.routes]
        if subscriptions:
            client.subscribe(subscriptions)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._set_connected)

    def _disconnected(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: object,
        properties: object,
    ) -> None:
        if self._loop is not None and not self._closing:
            log.warning("MQTT connection to %s lost (%s); retrying", self.address.url(), reason)
            self._loop.call_soon_threadsafe(self.connected.clear)

    def _received(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            log.warning("MQTT message on a topic that is not UTF-8 dropped")
            if message.qos > 0 and self._manual_ack:
                client.ack(message.mid, message.qos)
            return
        payload = bytes(message.payload)
        retain = bool(message.retain)
        self._received_run([Message(topic, payload, message.qos, message.mid, message.dup, retain)])

    def _received_run(self, messages: list[Message]) -> None:
        inbox = self._inbox
        inbox.extend(messages)
        # Only the run itself is there: the loop had emptied the inbox (or is about to pop
        # its last older message, which costs one spare drain). Testing for emptiness before
        # extending could miss a drain that returned in between, stranding the run.
        if len(inbox) == len(messages) and self._loop is not None:
            self._loop.call_soon_threadsafe(self._drain)

    # -- loop thread ----------------------------------------------------------------------
    def _set_connected(self) -> None:
        self.connects += 1
        if self.before_messages:
            self._held = True
            self._hooks = asyncio.ensure_future(self._run_hooks())
        else:
            self._announce()

    async def _run_hooks(self) -> None:
        try:
            for hook in self.before_messages:
                await hook()
        except Exception:
            log.exception("MQTT connect hook failed")
        finally:
            self._held = False
            self._announce()
            self._drain()

    def _announce(self) -> None:
        self.connected.set()
        for callback in self.on_connect:
            try:
                callback()
            except Exception:
                log.exception("MQTT on-connect callback failed")

    def _find_route(self, parts: list[str]) -> Route | None:
        for route in self.routes:
            if route.filter.match_levels(parts) is not None:
                return route
        return None

    def _drain(self) -> None:
        if self._held:
            return  # resumed by _run_hooks
        inbox = self._inbox
        route_of = self._route_of
        # A bounded slice per turn, so a flood cannot starve the rest of the loop.
        for _ in range(DRAIN_SLICE):
            if not inbox:
                return
            message = inbox[0]
            topic = message.topic
            parts = topic.split("/")
            try:
                route = route_of[topic]
            except KeyError:
                route = self._find_route(parts)
                if len(route_of) > ROUTE_CACHE:
                    route_of.clear()
                route_of[topic] = route
            if route is None:
                self.ack(message)
            else:
                try:
                    route.receiver(message, parts)
                except Exception:
                    log.exception("MQTT receiver failed on %s", topic)
                    self.ack(message)
            inbox.popleft()
        if inbox and self._loop is not None:
            self._loop.call_soon(self._drain)
