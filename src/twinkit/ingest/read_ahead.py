"""A paho client that reads the socket in large chunks.

paho 2.x reads every packet with three ``recv`` calls (the command byte, the length byte
by byte, then the body) after a ``select`` of its own: four system calls and their Python
overhead per message, on a thread that shares the interpreter lock with the ingest loop.
Under a flood that was most of paho's time. This client reads up to :data:`CHUNK` bytes
at once and serves paho's small reads from that buffer, and keeps reading packets while
buffered bytes remain (the socket would not wake ``select`` for them).

When :attr:`ReadAheadClient.publish_sink` is set, runs of PUBLISH packets already in the
buffer skip paho's per-packet path: :func:`~twinkit.ingest.publish_packets.take_publishes`
decodes them in one pass and the sink receives them as a list (paho's ``on_message`` still
gets every packet the fast path leaves, so nothing is lost when it stops early).

It overrides paho internals, so the paho version is pinned and
``tests/e2e/test_read_ahead.py`` drives a real broker through it.
"""

from __future__ import annotations

from collections.abc import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from twinkit.ingest.publish_packets import Message, take_publishes

CHUNK = 64 * 1024

PublishSink = Callable[[list[Message]], None]

_PUBACK_HEAD = bytes([paho.PUBACK, 2])  # the fixed header; the message id follows


class ReadAheadClient(paho.Client):
    """``paho.Client`` whose reads come from a per-connection read-ahead buffer."""

    _buffer: bytes = b""
    _offset: int = 0
    _buffered_socket: object = None
    publish_sink: PublishSink | None = None

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._buffered_socket is not self._sock:  # a new connection: old bytes are void
            self._buffered_socket, self._buffer, self._offset = self._sock, b"", 0
        offset = self._offset
        if offset >= len(self._buffer):
            data = super()._sock_recv(CHUNK)  # BlockingIOError when nothing is there
            if len(data) <= bufsize:
                return data
            self._buffer, offset = data, 0
        # Never past the end: a short read (the rest of a packet that spans two reads) must
        # leave nothing "buffered", or ``loop_read`` would keep polling an empty socket.
        end = min(offset + bufsize, len(self._buffer))
        self._offset = end
        return self._buffer[offset:end]

    def buffered(self) -> int:
        """Bytes read from the socket that paho has not consumed yet."""
        if self._buffered_socket is not self._sock:
            return 0
        return len(self._buffer) - self._offset

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None and self.buffered():
            if self.publish_sink is not None and self._take_publishes(self.publish_sink):
                continue
            rc = super().loop_read(max_packets)
        return rc

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages (``manual_ack``) with one queued write.

        paho's ``ack`` queues each PUBACK on its own: a write to wake its thread per
        acknowledgement, then a ``send`` each. The PUBACKs of a committed batch go as one
        buffer instead (the broker reads them as the separate packets they are).
        """
        if not mids:
            return
        packet = b"".join([_PUBACK_HEAD + mid.to_bytes(2, "big") for mid in mids])
        self._easy_log(paho.MQTT_LOG_DEBUG, "Sending %d PUBACKs", len(mids))
        self._packet_queue(paho.PUBACK, packet, 0, 0)

    def _take_publishes(self, sink: PublishSink) -> bool:
        """Hand the buffered run of PUBLISH packets to ``sink``; False when there is none."""
        if self._in_packet["command"] != 0 or self._protocol == paho.MQTTv5:
            return False  # paho is inside a packet; v5 packets carry properties
        messages, self._offset = take_publishes(self._buffer, self._offset)
        if not messages:
            return False
        with self._msgtime_mutex:
            self._last_bytes_received = paho.time_func()
        sink(messages)
        if not self._manual_ack:  # as paho does: acknowledged once the callback has returned
            for message in messages:
                if message.qos == 1:
                    self._send_puback(message.mid)
        return True
