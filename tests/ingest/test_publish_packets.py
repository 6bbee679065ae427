"""Decoding runs of PUBLISH packets from a read buffer: exactly the complete QoS 0/1
packets at the front, as paho itself decodes them, and nothing it should leave to paho."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion

from twinkit.ingest.publish_packets import Message, take_publishes


def remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def parts(message: Message) -> tuple[int, bytes]:
    """The first byte and the body of a PUBLISH packet as MQTT 3.1.1 lays it out (3.3)."""
    qos = message.qos
    header = 0x30 | (qos << 1) | (0x08 if message.dup else 0) | int(message.retain)
    topic = message.topic.encode()
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += message.mid.to_bytes(2, "big")
    return header, body + message.payload


def encode(message: Message) -> bytes:
    header, body = parts(message)
    return bytes([header]) + remaining_length(len(body)) + body


messages = st.builds(
    Message,
    topic=st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t),
    payload=st.binary(max_size=300),
    qos=st.integers(0, 1),
    mid=st.integers(1, 65535),
    dup=st.booleans(),
    retain=st.booleans(),
).map(lambda m: m if m.qos else Message(m.topic, m.payload, 0, 0, False, m.retain))


@given(st.lists(messages, max_size=20), st.data())
def test_takes_exactly_the_complete_packets_at_the_front(
    run: list[Message], data: st.DataObject
) -> None:
    packets = [encode(message) for message in run]
    stream = b"".join(packets)
    lead = data.draw(st.binary(max_size=5))  # bytes paho already consumed
    cut = data.draw(st.integers(0, len(stream)))  # where the socket read ended
    taken, offset = take_publishes(lead + stream[:cut], len(lead))
    whole = 0
    while whole < len(packets) and sum(map(len, packets[: whole + 1])) <= cut:
        whole += 1
    assert taken == run[:whole]
    assert offset == len(lead) + sum(map(len, packets[:whole]))


@given(messages)
def test_decodes_as_paho_does(message: Message) -> None:
    [taken], _ = take_publishes(encode(message), 0)
    paho = _packet.decode_publish(*parts(message), MQTTProtocolVersion.MQTTv311)
    assert (taken.topic.encode(), taken.payload, taken.qos, taken.mid) == (
        paho.topic,
        paho.payload,
        paho.qos,
        paho.mid,
    )
    assert (taken.dup, taken.retain) == (paho.dup, paho.retain)


def test_stops_at_what_paho_must_handle() -> None:
    good = encode(Message("t/1", b"{}", 1, 7, False, False))
    qos2 = encode(Message("t/2", b"{}", 2, 8, False, False))
    pingresp = b"\xd0\x00"
    not_utf8 = b"\x30\x05\x00\x02\xff\xfe!"
    empty_topic = b"\x30\x03\x00\x00!"
    topic_past_end = b"\x30\x03\x00\x09!"
    too_long = b"\x30\xff\xff\xff\xff\x01"
    qos3 = encode(Message("t/3", b"{}", 3, 9, False, False))  # a reserved QoS: malformed
    for tail in (qos2, qos3, pingresp, not_utf8, empty_topic, topic_past_end, too_long):
        taken, offset = take_publishes(good + tail + good, 0)
        assert [m.mid for m in taken] == [7], tail
        assert offset == len(good), tail
