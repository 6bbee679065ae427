"""MQTT 3.1.1 PUBLISH packets decoded straight from a read buffer.

Under a flood nearly every packet a subscriber reads is a PUBLISH, and paho spends
most of its thread's time on each one: a packet dict, a ``MQTTMessage``, a decode
through ``struct`` format strings, two locks and a log call. This module decodes a
run of complete QoS 0/1 PUBLISH packets from the bytes :class:`ReadAheadClient`
already holds, in one pass, into the :class:`Message` the ingest loop consumes.

It stops at the first packet it does not fully own — another packet type, QoS 2,
a topic that is not UTF-8, a malformed length, or a packet whose end has not
arrived — and leaves it, and everything after it, to paho's own path.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLISH = 0x30


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    mid: int
    dup: bool
    retain: bool


def take_publishes(buffer: bytes, start: int) -> tuple[list[Message], int]:
    """The complete QoS 0/1 PUBLISH packets at the front of ``buffer[start:]``, and the
    offset just after the last one taken (``start`` when none is)."""
    taken: list[Message] = []
    size = len(buffer)
    at = start
    while at + 1 < size:
        header = buffer[at]
        qos = (header >> 1) & 3
        if header & 0xF0 != PUBLISH or qos > 1:
            break
        # the remaining length: 7 bits a byte, low first, at most 4 bytes
        cursor = at + 1
        length = 0
        shift = 0
        while cursor < size and shift < 28:
            byte = buffer[cursor]
            cursor += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        else:
            break  # the length is cut off (or longer than MQTT allows: paho reports it)
        end = cursor + length
        if end > size:
            break  # the rest of this packet is still on its way
        if length < 2:
            break  # malformed: paho's path refuses it
        topic_end = cursor + 2 + ((buffer[cursor] << 8) | buffer[cursor + 1])
        body = topic_end + 2 if qos else topic_end
        if topic_end == cursor + 2 or body > end:
            break  # an empty topic (not allowed in 3.1.1), or a topic longer than the packet
        try:
            topic = buffer[cursor + 2 : topic_end].decode()
        except UnicodeDecodeError:
            break
        mid = (buffer[topic_end] << 8) | buffer[topic_end + 1] if qos else 0
        taken.append(
            Message(topic, buffer[body:end], qos, mid, bool(header & 0x08), bool(header & 0x01))
        )
        at = end
    return taken, at
