"""The read-ahead buffer belongs to one connection: bytes read ahead from a socket that
was replaced (a reconnect) are never parsed as the new connection's — on paho's path and
on the PUBLISH fast path alike. Driven through ``loop_read`` with scripted sockets."""

from __future__ import annotations

import pytest
from paho.mqtt.enums import CallbackAPIVersion

from twinkit.ingest.publish_packets import Message
from twinkit.ingest.read_ahead import ReadAheadClient


class ScriptedSocket:
    """A socket whose ``recv`` returns the given chunks, then would block — a few times: a
    client that keeps polling it (spinning on an empty socket) fails instead of hanging."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.empty_reads = 0

    def close(self) -> None:
        self.chunks.clear()

    def recv(self, size: int) -> bytes:
        if not self.chunks:
            self.empty_reads += 1
            assert self.empty_reads < 10, "the client keeps reading a socket that has nothing"
            raise BlockingIOError
        chunk = self.chunks.pop(0)
        assert len(chunk) <= size
        return chunk


def publish(topic: str, payload: bytes) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic.encode() + payload
    return bytes([0x30, len(body)]) + body


@pytest.mark.parametrize("fast", [False, True], ids=["paho-path", "publish-runs"])
def test_bytes_read_ahead_from_a_replaced_socket_are_dropped(fast: bool) -> None:
    client = ReadAheadClient(CallbackAPIVersion.VERSION2, client_id="buffer")
    received: list[bytes] = []
    old = ScriptedSocket(b"".join(publish("t/old", b"%d" % i) for i in range(5)))
    new = ScriptedSocket(publish("t/new", b"fresh"))

    def arrived(payload: bytes) -> None:
        received.append(payload)
        if client._sock is old:  # type: ignore[comparison-overlap]  # drops mid-buffer
            client._sock = new  # type: ignore[assignment]

    def arrived_run(run: list[Message]) -> None:
        for message in run:
            arrived(message.payload)

    client.on_message = lambda c, u, m: arrived(bytes(m.payload))
    if fast:
        client.publish_sink = arrived_run
    client._sock = old  # type: ignore[assignment]
    client.loop_read()
    assert client.buffered() == 0
    client.loop_read()
    # paho decodes the chunk's first packet itself, the fast path would take the rest
    assert received == [b"0", b"fresh"]


def test_the_fast_path_leaves_a_packet_cut_at_the_chunk_end_to_paho() -> None:
    client = ReadAheadClient(CallbackAPIVersion.VERSION2, client_id="buffer")
    runs: list[list[Message]] = []
    singles: list[bytes] = []
    client.publish_sink = runs.append
    client.on_message = lambda c, u, m: singles.append(bytes(m.payload))
    stream = b"".join(publish("t/x", b"%03d" % i) for i in range(10))
    cut = len(stream) - 4  # the last packet's end arrives in the next read
    client._sock = ScriptedSocket(stream[:cut], stream[cut:])  # type: ignore[assignment]
    client.loop_read()
    client.loop_read()
    taken = [m.payload for run in runs for m in run]
    assert singles == [b"000", b"009"]  # the first of each read, and the cut one
    assert taken == [b"%03d" % i for i in range(1, 9)]


def test_paho_is_told_the_connection_is_alive() -> None:
    """Packets taken by the fast path count as traffic for paho's keepalive."""
    client = ReadAheadClient(CallbackAPIVersion.VERSION2, client_id="buffer")
    taken: list[Message] = []
    client._sock = ScriptedSocket()  # type: ignore[assignment]
    # bytes already read ahead, paho between packets: only the fast path can take them
    client._buffered_socket = client._sock
    client._buffer, client._offset = publish("t/a", b"1") + publish("t/a", b"2"), 0
    client._last_bytes_received = 0.0
    assert client._take_publishes(taken.extend)
    assert [m.payload for m in taken] == [b"1", b"2"]
    assert client._last_bytes_received > 0.0
