"""The read-ahead paho client against a real Mosquitto: every message arrives whole and in
order — small ones packed many to a read, large ones split over many reads, QoS 0 and 1 —
and nothing read from one connection leaks into the next."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from twinkit.ingest.mosquitto import Mosquitto
from twinkit.ingest.publish_packets import Message
from twinkit.ingest.read_ahead import CHUNK, ReadAheadClient

# paho's own path for every packet, or runs of PUBLISH packets decoded in one pass
PATHS = pytest.mark.parametrize("fast", [False, True], ids=["paho-path", "publish-runs"])


def subscriber(
    port: int, received: list[bytes], done: threading.Event, count: int, fast: bool = False
) -> ReadAheadClient:
    client = ReadAheadClient(CallbackAPIVersion.VERSION2, client_id="read-ahead")

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        received.append(bytes(message.payload))
        if len(received) >= count:
            done.set()

    def on_run(messages: list[Message]) -> None:
        received.extend(message.payload for message in messages)
        if len(received) >= count:
            done.set()

    if fast:
        client.publish_sink = on_run

    def on_connect(client: paho.Client, *args: object) -> None:
        client.subscribe("t/#", 1)

    client.on_message = on_message
    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def publish_all(port: int, payloads: list[bytes], qos: int) -> None:
    publisher = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{qos}")
    publisher.max_inflight_messages_set(100)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    last = None
    for index, payload in enumerate(payloads):
        last = publisher.publish(f"t/{index % 7}", payload, qos)
    assert last is not None
    last.wait_for_publish(30)
    publisher.loop_stop()
    publisher.disconnect()


def wait_subscribed(client: ReadAheadClient) -> None:
    deadline = time.monotonic() + 10
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # SUBACK


@PATHS
def test_small_and_large_messages_arrive_whole_and_in_order(
    mosquitto: Mosquitto, fast: bool
) -> None:
    small = [b"%06d" % index for index in range(20_000)]
    large = [bytes([index]) * (CHUNK * 2 + index) for index in range(5)]
    payloads = small[:10_000] + large + small[10_000:]
    received: list[bytes] = []
    done = threading.Event()
    client = subscriber(mosquitto.port, received, done, len(payloads), fast)
    try:
        wait_subscribed(client)
        publish_all(mosquitto.port, payloads, qos=1)
        assert done.wait(60), f"only {len(received)} of {len(payloads)} arrived"
    finally:
        client.loop_stop()
        client.disconnect()
    assert received == payloads  # QoS 1 from one publisher: whole and in order


@PATHS
def test_a_new_connection_starts_from_an_empty_buffer(mosquitto: Mosquitto, fast: bool) -> None:
    received: list[bytes] = []
    done = threading.Event()
    client = subscriber(mosquitto.port, received, done, 2_000, fast)
    try:
        wait_subscribed(client)
        publish_all(mosquitto.port, [b"a%05d" % i for i in range(1_000)], qos=0)
        deadline = time.monotonic() + 30
        while len(received) < 1_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        client.reconnect()  # drops the socket, with whatever was read ahead of paho
        wait_subscribed(client)
        publish_all(mosquitto.port, [b"b%05d" % i for i in range(1_000)], qos=1)
        assert done.wait(30), f"only {len(received)} arrived"
    finally:
        client.loop_stop()
        client.disconnect()
    second = [payload for payload in received if payload.startswith(b"b")]
    assert second == [b"b%05d" % i for i in range(1_000)]
    assert all(len(payload) == 6 for payload in received)


def test_acks_sent_together_end_the_redelivery_of_exactly_those_messages(
    mosquitto: Mosquitto,
) -> None:
    """``ack_many`` acknowledges a run of QoS 1 messages in one write: the broker redelivers
    to the resumed session only the ones left unacknowledged."""
    got: list[tuple[int, bytes]] = []

    def session() -> ReadAheadClient:
        client = ReadAheadClient(
            CallbackAPIVersion.VERSION2, client_id="acks", clean_session=False, manual_ack=True
        )
        client.publish_sink = lambda run: got.extend((m.mid, m.payload) for m in run)
        client.on_message = lambda c, u, m: got.append((m.mid, bytes(m.payload)))
        client.on_connect = lambda c, *args: c.subscribe("t/#", 1)
        client.connect("127.0.0.1", mosquitto.port)
        client.loop_start()
        wait_subscribed(client)
        return client

    client = session()
    payloads = [b"m%04d" % index for index in range(600)]
    publish_all(mosquitto.port, payloads, qos=1)
    deadline = time.monotonic() + 30
    while len(got) < len(payloads) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [payload for _, payload in got] == payloads
    client.ack_many([mid for mid, payload in got if payload < b"m0400"])
    time.sleep(0.5)  # the PUBACKs reach the broker
    client.disconnect()
    client.loop_stop()
    got.clear()
    client = session()
    time.sleep(1.0)  # anything the broker still holds for the session arrives now
    client.disconnect()
    client.loop_stop()
    assert sorted(payload for _, payload in got) == payloads[400:]
