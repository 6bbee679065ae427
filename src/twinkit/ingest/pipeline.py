"""The ingest path: device messages → signals → twin writes, concurrently, acked after commit.

Each signal becomes one write task. Writes to one twin are staged in arrival order
(the engine stages without awaiting in between), and many twins' writes share one
group commit, so a burst costs a few transactions rather than one per message.
A QoS 1 message is acknowledged to the broker only after every write it caused
has committed — or it was rejected for good (bad input is never redelivered).
A write that failed in storage is *not* acknowledged: the broker redelivers it
after the next reconnect.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twinkit.ingest.dedupe import KEY_PREFIXES, RecentIds, message_key
from twinkit.ingest.limits import TokenBuckets
from twinkit.ingest.mappers import Mappers, twin_of, twinkit_layout
from twinkit.ingest.publish_packets import Message
from twinkit.ingest.rejections import (
    INVALID,
    MALFORMED,
    MAPPING_FAILED,
    OVERLOADED,
    RATE_LIMITED,
    TOO_LARGE,
    UNKNOWN_TWIN,
    WRITE_FAILED,
    IngestStats,
    Publish,
    Rejection,
    Rejections,
)
from twinkit.ingest.signals import MalformedPayload, Signal
from twinkit.ingest.topics import TopicFilter
from twinkit.model.errors import NotFound, TwinkitError
from twinkit.model.events import Context
from twinkit.platform import Platform
from twinkit.twins.engine import Twins

log = logging.getLogger("twinkit.ingest")

# journal events read back per twin on its first redelivery after a (re)connect: more than
# the broker ever has in flight unacknowledged to us (Mosquitto: max_inflight_messages)
RESTORE = 16384

Ack = Callable[[Message], None]


@dataclass(frozen=True, slots=True)
class AutoCreate:
    """Create a twin of ``model`` on first contact from a topic matching ``topic``
    (and, if given, a twin id starting with ``id_prefix``)."""

    topic: str
    model: str | None = None
    id_prefix: str = ""

    def matches(self, parts: list[str], twin: str) -> bool:
        return twin.startswith(self.id_prefix) and (
            _filter(self.topic).match_levels(parts) is not None
        )


@functools.lru_cache(maxsize=256)
def _filter(pattern: str) -> TopicFilter:
    return TopicFilter(pattern)


@dataclass(frozen=True, slots=True)
class IngestSettings:
    max_payload: int = 256 * 1024
    device_rate: float = 1000.0  # messages per second per device; 0 = unlimited
    device_burst: float = 2000.0
    max_pending: int = 50_000  # QoS 0 messages beyond this many writes in flight are shed
    dedupe_window: int = 256
    autocreate: tuple[AutoCreate, ...] = field(default_factory=tuple)


class Ingest:
    """Applies device messages to twins. ``receive`` is called on the event loop."""

    def __init__(
        self,
        platform: Platform,
        *,
        ack: Ack,
        publish: Publish | None = None,
        settings: IngestSettings | None = None,
        mappers: Mappers | None = None,
        on_seen: Callable[[str], None] | None = None,
    ) -> None:
        self.platform = platform
        self.settings = settings or IngestSettings()
        self.mappers = mappers or Mappers()
        self.stats = IngestStats()
        self.rejections = Rejections(self.stats, publish)
        self.recent = RecentIds(self.settings.dedupe_window)
        self.pending = 0
        self._ack = ack
        self._buckets = TokenBuckets(self.settings.device_rate, self.settings.device_burst)
        self._creating: dict[str, asyncio.Future[None]] = {}
        self._restoring: dict[str, asyncio.Future[None]] = {}
        self._epoch_seq = 0
        self._tasks: set[asyncio.Future[bool]] = set()
        self._on_seen = on_seen
        self._telemetry = TelemetryTurn(platform.twins)

    # -- the hot path ---------------------------------------------------------------------
    def receive(self, message: Message, parts: list[str]) -> None:
        counters = self.stats.counters
        counters["received"] += 1
        twin = twin_of(parts)
        device = twin or message.topic
        if self._on_seen is not None and twin is not None:
            self._on_seen(twin)
        # errors go to twinkit/{twin}/errors; a foreign topic (a mapper's) names no twin
        if len(message.payload) > self.settings.max_payload:
            limit = self.settings.max_payload
            self._refuse(message, twin, TOO_LARGE, f"payload is larger than {limit} bytes")
            return
        if not self._buckets.allow(device):
            rate = self.settings.device_rate
            self._refuse(message, twin, RATE_LIMITED, f"{device}: more than {rate:g} messages/s")
            return
        if message.qos == 0 and self.pending >= self.settings.max_pending:
            self._refuse(message, twin, OVERLOADED, "the platform is overloaded; retry later")
            return
        mapper = self.mappers.find(parts)
        try:
            if mapper is not None:
                signals = mapper(message.topic, message.payload)
            else:
                signals = twinkit_layout(parts, message.payload)
        except MalformedPayload as exc:
            self._refuse(message, twin, MALFORMED, exc.message, exc.path)
            return
        except TwinkitError as exc:
            self._refuse(message, twin, INVALID, exc.message, exc.path)
            return
        except Exception as exc:
            log.debug("mapper failed on %s", message.topic, exc_info=True)
            text = f"{message.topic}: {type(exc).__name__}: {exc}"
            self._refuse(message, twin, MAPPING_FAILED, text)
            return
        writes: list[asyncio.Future[Any]] = []
        for signal in signals:
            if self._on_seen is not None and signal.twin != twin:
                self._on_seen(signal.twin)  # a device behind a gateway
            key = message_key(signal.msg_id, message.mid, message.payload, message.qos)
            if key is not None:
                seen, write = self.recent.get(signal.twin, key)
                if seen:
                    counters["duplicates"] += 1
                    if write is not None:
                        writes.append(write)
                    continue
            checked = message.dup and key is not None and signal.twin not in self.recent.restored
            started: asyncio.Future[bool]
            if checked:
                started = asyncio.create_task(self._apply_checked(signal, key, parts))  # type: ignore[arg-type]
            elif signal.kind == "telemetry":
                tracked = message.qos > 0 or key is not None
                written = self._telemetry_write(signal, key, parts, tracked)
                if written is None:
                    continue
                if key is not None:
                    self.recent.add(signal.twin, key, written)
                writes.append(written)
                continue
            else:
                started = asyncio.create_task(self._apply(signal, key, parts))
            self.pending += 1
            self._tasks.add(started)
            started.add_done_callback(self._finished)
            if key is not None and not checked:
                self.recent.add(signal.twin, key, started)
            writes.append(started)
        self._ack_after(message, writes)

    def _finished(self, write: asyncio.Future[bool]) -> None:
        self.pending -= 1
        self._tasks.discard(write)

    def _ack_after(self, message: Message, writes: list[asyncio.Future[Any]]) -> None:
        if message.qos == 0:
            return
        if not writes:
            self._acked(message)
            return
        if len(writes) == 1:  # the common case: one message, one signal
            writes[0].add_done_callback(functools.partial(self._ack_one, message))
            return
        left = [len(writes), True]

        def done(write: asyncio.Future[Any]) -> None:
            left[1] = left[1] and _succeeded(write)
            left[0] -= 1
            if left[0] == 0 and left[1]:
                self._acked(message)

        for write in writes:
            write.add_done_callback(done)

    def _ack_one(self, message: Message, write: asyncio.Future[Any]) -> None:
        if _succeeded(write):
            self._acked(message)

    def _acked(self, message: Message) -> None:
        self.stats.counters["acked"] += 1
        self._ack(message)

    def _refuse(
        self, message: Message, twin: str | None, code: str, text: str, path: str = ""
    ) -> None:
        self.rejections.reject(Rejection(twin, code, text, path))
        if message.qos > 0:
            self._acked(message)

    # -- writes ---------------------------------------------------------------------------
    async def _apply_checked(self, signal: Signal, key: str, parts: list[str]) -> bool:
        """A redelivery for a twin not yet restored in this connection: read its journal first."""
        await self._restore(signal.twin)
        seen, write = self.recent.get(signal.twin, key)
        if seen:
            self.stats.counters["duplicates"] += 1
            if write is not None:
                await write
            return True
        self.recent.add(signal.twin, key, asyncio.current_task())
        return await self._apply(signal, key, parts)

    async def new_epoch(self) -> None:
        """Call on every (re)connect, before messages flow: fixes the restore horizon."""
        self._epoch_seq = await self.platform.store.last_seq()
        self.recent.new_epoch()
        self._restoring.clear()

    async def _restore(self, twin: str) -> None:
        running = self._restoring.get(twin)
        if running is None:
            running = self._restoring[twin] = asyncio.ensure_future(self._read_keys(twin))
        await running

    async def _read_keys(self, twin: str) -> None:
        """Keys of ``twin``'s last RESTORE events committed before this connection began."""
        epoch = self._epoch_seq
        size = 512
        old: list[str] = []
        while True:
            try:
                state = await self.platform.twins.get(twin)
            except NotFound:
                break
            start = max(0, state.revision - size)
            events = await self.platform.journal.events(twin, after_revision=start, limit=size)
            old = [e.context.correlation_id for e in events if e.seq <= epoch]
            if len(old) >= RESTORE or start == 0 or size >= 8 * RESTORE:
                break
            size *= 4
        keys = frozenset(k for k in old[-RESTORE:] if k.startswith(KEY_PREFIXES))
        self.recent.restore(twin, keys)

    def _telemetry_write(
        self, signal: Signal, key: str | None, parts: list[str], tracked: bool
    ) -> asyncio.Future[bool] | None:
        """Telemetry joins the turn's batch directly: no task per message on the hot path.

        When ``tracked`` (the message is acknowledged or deduplicated) the returned future
        says whether it may be acknowledged, as ``_apply``'s does; otherwise nothing waits
        on it and no future is made. An unknown twin that an auto-create rule covers takes
        the slow path through ``_apply``.
        """
        context = Context(actor=f"device:{signal.twin}", correlation_id=key or "", cause=None)
        outcome = asyncio.get_running_loop().create_future() if tracked else None
        self.pending += 1

        def written(error: BaseException | None) -> None:
            if isinstance(error, NotFound) and self._autocreate(parts, signal.twin):
                retry = asyncio.ensure_future(self._apply(signal, key, parts))
                self._tasks.add(retry)
                retry.add_done_callback(functools.partial(self._retried, outcome))
                return
            self.pending -= 1
            ok = self._applied(signal, key) if error is None else self._failed(signal, key, error)
            if outcome is not None:
                outcome.set_result(ok)

        self._telemetry.add(
            signal.twin, signal.values, signal.at, context, written, awaited=tracked
        )
        return outcome

    def _retried(self, outcome: asyncio.Future[bool] | None, retry: asyncio.Future[bool]) -> None:
        self.pending -= 1
        self._tasks.discard(retry)
        if outcome is not None:
            outcome.set_result(
                not retry.cancelled() and retry.exception() is None and retry.result()
            )

    async def _apply(self, signal: Signal, key: str | None, parts: list[str]) -> bool:
        """Write one signal; True when the message may be acknowledged."""
        context = Context(actor=f"device:{signal.twin}", correlation_id=key or "", cause=None)
        try:
            try:
                await self._write(signal, context)
            except NotFound:
                rule = self._autocreate(parts, signal.twin)
                if rule is None:
                    raise
                await self._create(signal.twin, rule.model)
                await self._write(signal, context)
        except Exception as error:
            return self._failed(signal, key, error)
        return self._applied(signal, key)

    def _applied(self, signal: Signal, key: str | None) -> bool:
        self.stats.counters["applied"] += 1
        if key is not None:
            self.recent.settle(signal.twin, key)
        return True

    def _failed(self, signal: Signal, key: str | None, error: BaseException) -> bool:
        """Count and report a refused write; True when the message may still be acknowledged
        (bad input is never redelivered; a storage failure is)."""
        self._forget(signal, key)
        if isinstance(error, NotFound):
            self.rejections.reject(
                Rejection(signal.twin, UNKNOWN_TWIN, f"twin {signal.twin!r} does not exist", "")
            )
            return True
        if isinstance(error, TwinkitError):
            path = error.path
            if signal.kind == "telemetry" and path.startswith("/values"):
                path = path.removeprefix("/values")  # the engine's pointer: into the values
            self.rejections.reject(
                Rejection(signal.twin, INVALID, error.message, signal.path_base + path)
            )
            return True
        log.error("writing %s for twin %s failed", signal.kind, signal.twin, exc_info=error)
        self.stats.rejected[WRITE_FAILED] += 1
        return False

    def _forget(self, signal: Signal, key: str | None) -> None:
        if key is not None:
            self.recent.forget(signal.twin, key)

    async def _write(self, signal: Signal, context: Context) -> None:
        twins = self.platform.twins
        if signal.kind == "telemetry":
            await self._telemetry.write(signal.twin, signal.values, signal.at, context)
        else:
            await twins.patch(signal.twin, "reported", signal.values, at=signal.at, context=context)

    def _autocreate(self, parts: list[str], twin: str) -> AutoCreate | None:
        for rule in self.settings.autocreate:
            if rule.matches(parts, twin):
                return rule
        return None

    async def _create(self, twin: str, model: str | None) -> None:
        running = self._creating.get(twin)
        if running is not None:
            await running
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._creating[twin] = future
        try:
            if not await self.platform.twins.exists(twin):
                context = Context(actor=f"device:{twin}", cause="auto-create on first contact")
                await self.platform.twins.put(twin, model=model, context=context)
                self.stats.counters["created"] += 1
        finally:
            del self._creating[twin]
            future.set_result(None)

    async def drain(self) -> None:
        """Wait for every write in flight (on shutdown)."""
        while self._tasks or self.pending:
            await asyncio.gather(*list(self._tasks), self._telemetry.idle(), return_exceptions=True)


Written = Callable[[BaseException | None], None]

# batches folding or committing at once: one commits while the next folds and waits
IN_FLIGHT = 2
# a batch this big already spreads its fixed costs: it may go while another is in flight
FULL_BATCH = 1000
# and no batch grows beyond this, so a backlog is folded while earlier parts commit
MAX_BATCH = 5000


class TelemetryTurn:
    """Telemetry goes to the engine in batches that grow with the load.

    With nothing in flight a message goes at the end of this loop turn. Under load the
    messages arriving meanwhile wait and go together as the next batch. A second batch
    may start while one is in flight — one committing while the next folds — when the
    broker waits for its acknowledgements (QoS 1, a bounded window in flight) or once it
    holds :data:`FULL_BATCH` messages; no batch holds more than :data:`MAX_BATCH`.
    A quiet device waits for nothing, and a flood costs one fold pass and one commit per
    batch instead of per message. A batch starts folding only once the one before it is
    staged, so each twin's messages keep their order. Each message keeps its own context
    and hears its own outcome: ``written(None)`` once durable, or the error.
    """

    def __init__(self, twins: Twins) -> None:
        self._twins = twins
        self._items: list[tuple[str, Any, datetime | None, Context, Written]] = []
        self._running = 0
        self._scheduled = False
        self._awaited = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_staged: asyncio.Future[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def add(
        self,
        twin: str,
        values: Any,
        at: datetime | None,
        context: Context,
        written: Written,
        *,
        awaited: bool = True,
    ) -> None:
        """Queue one message. ``awaited``: something waits for its outcome (a QoS 1 ack the
        broker's flow control needs): it may start a second batch while one is in flight.
        QoS 0 messages only join the next batch — under a flood, bigger batches go further."""
        self._items.append((twin, values, at, context, written))
        self._awaited = self._awaited or awaited
        self._idle.clear()
        if self._may_start():
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _may_start(self) -> bool:
        if self._scheduled or not self._items:
            return False
        if not self._running:
            return True
        return self._running < IN_FLIGHT and (self._awaited or len(self._items) >= FULL_BATCH)

    async def write(self, twin: str, values: Any, at: datetime | None, context: Context) -> None:
        """Add one message and wait until it is durable (raises the error that refused it)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def written(error: BaseException | None) -> None:
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

        self.add(twin, values, at, context, written)
        await future

    async def idle(self) -> None:
        """Wait until every message added so far has its outcome."""
        await self._idle.wait()

    def _flush(self) -> None:
        self._scheduled = False
        items, self._items = self._items[:MAX_BATCH], self._items[MAX_BATCH:]
        self._awaited = self._awaited and bool(self._items)
        if not items:
            if not self._running:
                self._idle.set()
            return
        self._running += 1
        staged = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(self._apply(items, self._last_staged, staged))
        self._last_staged = staged
        self._tasks.add(task)
        task.add_done_callback(self._settled)
        if self._may_start():
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._running -= 1
        self._tasks.discard(task)
        if self._may_start():
            self._flush()
        elif not self._running and not self._items and not self._scheduled:
            self._idle.set()

    async def _apply(
        self,
        items: list[tuple[str, Any, datetime | None, Context, Written]],
        after: asyncio.Future[None] | None,
        staged: asyncio.Future[None],
    ) -> None:
        def mark_staged() -> None:
            if not staged.done():
                staged.set_result(None)

        try:
            if after is not None:
                await after  # the batch before is in its twins' histories: ours goes after it
            results = await self._twins.telemetry_batch(
                [item[:4] for item in items], on_staged=mark_staged
            )
        except Exception as exc:
            for *_, written in items:
                written(exc)
            return
        finally:
            mark_staged()  # also when cancelled: the next batch must not wait forever
        for (*_, written), result in zip(items, results, strict=True):
            if isinstance(result, TwinkitError):
                # the batch numbered its pointers (/3/values/x); a message has one
                head, _, rest = result.path[1:].partition("/")
                if head.isdigit():
                    result.path = "/" + rest
                written(result)
            else:
                written(None)


def _succeeded(write: asyncio.Future[Any]) -> bool:
    """A write may be acknowledged: it finished, did not raise, and did not say no."""
    return not write.cancelled() and write.exception() is None and write.result() is not False
