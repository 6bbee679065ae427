"""The embedded MQTT broker (amqtt), so a fresh install needs nothing else.

It binds 127.0.0.1 unless told otherwise (amqtt's own default is every interface)
and loads no plugins besides anonymous login: no ``$SYS`` chatter, no packet
logging. It carries roughly 8k msg/s at QoS 0 and 4k at QoS 1 — for more, point
twinkit at Mosquitto with ``--mqtt`` (see docs/mqtt.md and ``mosquitto.conf``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

from amqtt.broker import Broker

from twinkit.model.errors import TwinkitError

log = logging.getLogger(__name__)


class BrokerUnavailable(TwinkitError):
    code = "broker_unavailable"
    status = 503


class _TidyBroker(Broker):  # type: ignore[misc]
    """amqtt's broker, closing every client connection when it shuts down.

    amqtt leaves the sockets of persistent sessions open after ``shutdown``; we
    track each connection's writer and close what is left.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.writers: set[asyncio.StreamWriter] = set()

    async def stream_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str
    ) -> None:
        self.writers.add(writer)
        try:
            await super().stream_connected(reader, writer, listener_name)
        finally:
            self.writers.discard(writer)
            writer.close()

    async def close_connections(self) -> None:
        writers, self.writers = list(self.writers), set()
        for writer in writers:
            writer.close()
        for writer in writers:
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class EmbeddedBroker:
    """``plugins`` replaces anonymous login (e.g. ``twinkit.access.broker_plugins``);
    ``tls_listener`` is an extra amqtt listener entry for MQTT over TLS."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        plugins: dict[str, Any] | None = None,
        tls_listener: dict[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.plugins = plugins
        self.tls_listener = tls_listener
        self._broker: Broker | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        check_port_free(self.host, self.port, "the embedded MQTT broker")
        listeners: dict[str, Any] = {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}}
        if self.tls_listener is not None:
            listeners["tls"] = self.tls_listener
        plugins = self.plugins or {"amqtt.plugins.authentication.AnonymousAuthPlugin": {}}
        config: dict[str, Any] = {"listeners": listeners, "plugins": plugins}
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        broker = _TidyBroker(config)
        try:
            await broker.start()
        except Exception as exc:
            raise BrokerUnavailable(
                f"cannot start the embedded MQTT broker on {self.host}:{self.port}: {exc}"
            ) from None
        self._broker = broker

    async def stop(self) -> None:
        if self._broker is not None:
            broker, self._broker = self._broker, None
            try:
                await broker.shutdown()
            except Exception:
                log.debug("embedded broker shutdown failed", exc_info=True)
            await broker.close_connections()
            await asyncio.sleep(0.05)  # let the connection handlers finish


def check_port_free(host: str, port: int, what: str) -> None:
    """Fail with one readable line when ``host:port`` is taken, before anything starts."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise BrokerUnavailable(
                f"cannot start {what} on {host}:{port}: {reason.lower()}"
            ) from None
