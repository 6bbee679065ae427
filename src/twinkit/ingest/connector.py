"""Everything a platform does over MQTT, on one broker connection.

Device → platform: telemetry and reported state (:class:`Ingest`), presence
(``twinkit/{id}/status`` and last-seen), answers to commands. Platform → device:
retained desired state, commands (with the durable offline queue) and errors.

>>> connector = MqttConnector(platform, parse_broker_url("mqtt://127.0.0.1:1883"))
>>> await connector.start()                     # doctest: +SKIP
>>> await connector.commands.send("pump-1", "reboot", {"delay": 5}, timeout=5)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from twinkit.dispatch.commands import RESPONSE_PATTERN, Commands
from twinkit.dispatch.desired import DesiredPublisher
from twinkit.dispatch.outbox import Outbox, outbox_for
from twinkit.dispatch.presence import Presence, read_status
from twinkit.ingest.broker_url import BrokerAddress
from twinkit.ingest.mappers import Mappers
from twinkit.ingest.mqtt import MqttLink
from twinkit.ingest.pipeline import Ingest, IngestSettings
from twinkit.ingest.publish_packets import Message
from twinkit.platform import Platform

log = logging.getLogger(__name__)


class MetricsSink(Protocol):
    """What the API's metrics offer (``twinkit.api.metrics.ApiMetrics``)."""

    def ingested(self, surface: str, messages: int, values: int) -> None: ...
    def rejected(self, surface: str, reason: str) -> None: ...


DEVICE_TOPICS = ("twinkit/+/telemetry", "twinkit/+/reported")
STATUS_PATTERN = "twinkit/+/status"


class MqttConnector:
    def __init__(
        self,
        platform: Platform,
        address: BrokerAddress,
        *,
        client_id: str = "twinkit-platform",
        settings: IngestSettings | None = None,
        mappers: Mappers | None = None,
        outbox: Outbox | None = None,
        presence_window: float = 300.0,
        expire_every: float = 5.0,
    ) -> None:
        self.platform = platform
        self.address = address
        self.link = MqttLink(address, client_id=client_id, clean_session=False)
        self.presence = Presence(presence_window)
        self.mappers = mappers or Mappers()
        self.ingest = Ingest(
            platform,
            ack=self.link.ack,
            publish=self.link.publish,
            settings=settings,
            mappers=self.mappers,
            on_seen=self.presence.seen,
        )
        self.commands = Commands(
            platform,
            self.link.publish,
            self.presence,
            outbox if outbox is not None else outbox_for(platform),
            ack=self.link.ack,
        )
        self.commands.metrics = self.metrics
        self.desired = DesiredPublisher(platform, self.link.publish)
        self._expire_every = expire_every
        self._expiry: asyncio.Task[None] | None = None
        self._sink: MetricsSink | None = None
        self._pushed: dict[str, int] = {}
        link = self.link
        link.before_messages.append(self.ingest.new_epoch)
        link.route(STATUS_PATTERN, self._status)
        link.route(RESPONSE_PATTERN, self.commands.receive_response)
        for pattern in self.mappers.patterns:
            link.route(pattern, self.ingest.receive)
        for pattern in DEVICE_TOPICS:
            link.route(pattern, self.ingest.receive)

    async def start(self, wait: float | None = 10.0) -> None:
        """Connect and start dispatching; raises ConnectionError if the broker is unreachable."""
        await self.commands.outbox.open()
        await self.link.start(wait)
        self.desired.start()
        await self.desired.publish_all()
        self._expiry = asyncio.create_task(self._expire_loop(), name="twinkit-command-expiry")

    async def close(self) -> None:
        """Finish in-flight writes (so their acks go out), then disconnect."""
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        # No unsubscribing: the persistent session keeps queueing QoS 1 messages while we are away.
        await self.ingest.drain()
        await self.desired.close()
        await self.commands.close()
        await self.link.close()
        await self.commands.outbox.close()

    def metrics(self) -> dict[str, int]:
        """Counters for ``/metrics``: ``ingest.*`` (see :class:`IngestStats`) and more."""
        flat = {f"ingest.{k}": v for k, v in self.ingest.stats.snapshot().items()}
        flat["ingest.pending"] = self.ingest.pending
        flat["mqtt.connected"] = int(self.link.connected.is_set())
        flat["mqtt.connects"] = self.link.connects
        flat["desired.published"] = self.desired.published
        return flat

    def report_to(self, sink: MetricsSink) -> None:
        """Add the ingest counters to the API's Prometheus metrics (pushed once a second)."""
        self._sink = sink

    def push_metrics(self) -> None:
        sink = self._sink
        if sink is None:
            return
        now = dict(self.ingest.stats.counters)
        now.update({f"rejected.{k}": v for k, v in self.ingest.stats.rejected.items()})
        delta = {k: v - self._pushed.get(k, 0) for k, v in now.items()}
        self._pushed = now
        if delta.get("applied", 0) > 0:
            sink.ingested("mqtt", delta["applied"], delta["applied"])
        for key, count in delta.items():
            if key.startswith("rejected.") and count > 0:
                for _ in range(min(count, 10_000)):
                    sink.rejected("mqtt", key.removeprefix("rejected."))

    def _status(self, message: Message, parts: list[str]) -> None:
        online = read_status(message.payload)
        if online is not None:
            self.presence.announce(parts[1], online)
        self.link.ack(message)

    async def _expire_loop(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(1.0)
            ticks += 1
            self.push_metrics()
            if ticks % max(1, round(self._expire_every)):
                continue
            try:
                await self.commands.expire()
            except Exception:
                log.exception("expiring queued commands failed")
