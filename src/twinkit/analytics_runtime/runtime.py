"""The detector runtime: every twin of a configured model learns its own baseline, live.

TL;DR::

    runtime = DetectorRuntime(platform, parse_detections(yaml.safe_load(text)))
    await runtime.start()        # restores nothing yet: states load lazily, per twin
    ...                          # telemetry flows; anomaly_score appears on the twins
    await runtime.close()        # checkpoints every detector state

The bus callback only queues the sample (a bounded queue: when scoring falls behind, samples
are dropped and counted in ``dropped`` — ingestion is never slowed). A background task scores
the queue in batches: per twin and entry, ``process_one`` (score, then learn). Results go back
on the twin as ``AnalyticsUpdated {"values": {"anomaly_score", "anomaly_contributions"}}``,
rate-limited, because a streaming score jitters from sample to sample and writing each one would
double the journal. A result is written (in sample time):

* at once when the score climbs into a higher band (normal < 0.5 ≤ elevated < threshold ≤
  anomalous) or an alert is raised or cleared — news is never held back;
* when it moved by more than ``write_change`` and ``write_gap`` seconds passed since the last
  write (default 0.05 and 30 s);
* every ``write_every`` seconds regardless (default 60 s), so the twin shows a fresh score.

A steady asset sending a sample a second thus costs one or two journal events a minute.

A score at or above the entry's ``threshold`` raises an alert (source ``detector:<name>``,
one open at a time); it clears after the score stayed below ``clear_below`` for ``clear_after``.

State: each detector pickles (``Batch.detector_states[(twin, name)]``), checkpointed through
the group committer every ``checkpoint_every`` seconds and on close, and loaded the first time
a twin sends a sample after a restart, so a restarted platform continues instead of re-learning.
A twin without state starts from its entry's fleet detector (``fleet_prior``) once the fleet
has learnt ``prior_after`` samples from all twins of the model, else from scratch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from twinkit.analytics import Detector
from twinkit.analytics_runtime.config import Detection
from twinkit.bus import Filter, Unsubscribe
from twinkit.history.series import points_of
from twinkit.model.errors import NotFound
from twinkit.model.events import Context, Event, EventKind
from twinkit.model.time import format_time
from twinkit.platform import Platform
from twinkit.rules.alerts import Alerts
from twinkit.storage.ports import Batch

log = logging.getLogger(__name__)

FLEET = "$fleet"  # the pseudo twin the fleet detectors' states are stored under
Scored = Callable[[str, str, float, float], None]  # (twin, detector key, time, score)


@dataclass(slots=True)
class _Watch:
    """What the runtime keeps per (twin, entry) between samples."""

    score: float = 0.0
    contributions: dict[str, float] = field(default_factory=dict)
    alert_open: bool = False
    below_since: float | None = None


@dataclass(slots=True)
class _Written:
    score: float | None = None
    at: float = float("-inf")


@dataclass(slots=True)
class RuntimeStats:
    queued: int = 0
    dropped: int = 0
    scored: int = 0
    written: int = 0
    alerts_raised: int = 0
    alerts_cleared: int = 0
    checkpoints: int = 0


class DetectorRuntime:
    def __init__(
        self,
        platform: Platform,
        detections: list[Detection],
        *,
        alerts: Alerts | None = None,
        max_pending: int = 10_000,
        write_change: float = 0.05,
        write_gap: float = 30.0,
        write_every: float = 60.0,
        checkpoint_every: float = 30.0,
        max_live: int = 5_000,
        on_scored: Scored | None = None,
    ) -> None:
        self.platform = platform
        self.detections = list(detections)
        self.alerts = alerts or Alerts(platform)
        self._own_alerts = alerts is None
        self.write_change = write_change
        self.write_gap = write_gap
        self.write_every = write_every
        self.checkpoint_every = checkpoint_every
        self._on_scored = on_scored
        self._queue: asyncio.Queue[tuple[str, str | None, float, dict[str, Any]]] = asyncio.Queue(
            max_pending
        )
        self._by_model: dict[str | None, list[Detection]] = {}
        self._detectors: OrderedDict[tuple[str, str], Detector] = OrderedDict()
        self._parked: dict[tuple[str, str], bytes] = {}  # evicted states still being written
        self.max_live = max_live
        self._fleet: dict[tuple[str, str], Detector] = {}
        self._fleet_seen: dict[tuple[str, str], int] = {}
        self._watches: dict[tuple[str, str], _Watch] = {}
        self._written: dict[str, _Written] = {}
        self._changed: set[tuple[str, str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Unsubscribe | None = None
        self._busy = False
        self._last_checkpoint = 0.0
        self.stats = RuntimeStats()

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._own_alerts:
            await self.alerts.start()
        for entry in self.detections:
            if entry.fleet_prior:
                for key in entry.state_names():
                    raw = await self.platform.store.load_detector_state(FLEET, key)
                    if raw is not None:
                        self._fleet[(entry.name, key)], self._fleet_seen[(entry.name, key)] = (
                            pickle.loads(raw)
                        )
        self._last_checkpoint = asyncio.get_running_loop().time()
        self._unsubscribe = self.platform.bus.subscribe(
            self._on_event,
            Filter.of(kinds=[EventKind.TELEMETRY_RECEIVED.value, EventKind.TWIN_DELETED.value]),
        )
        self._task = asyncio.create_task(self._run(), name="twinkit-detectors")

    async def close(self) -> None:
        """Stop listening, score what is queued, and checkpoint every state."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.settle()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.checkpoint()
        if self._own_alerts:
            self.alerts.close()

    async def settle(self) -> None:
        """Wait until every queued sample is scored and its results written."""
        await self.platform.flush()
        await self._queue.join()
        await self.platform.flush()

    # -- the feed -----------------------------------------------------------------------------
    def entries_for(self, model: str | None) -> list[Detection]:
        """The entries watching twins of ``model`` (honouring ``extends``)."""
        found = self._by_model.get(model)
        if found is None:
            found = [e for e in self.detections if self._is_a(model, e.model)]
            self._by_model[model] = found
        return found

    def _is_a(self, model: str | None, wanted: str) -> bool:
        if model is None:
            return False
        try:
            return self.platform.registry.resolve(model).is_a(wanted)
        except Exception:
            return model == wanted

    def _on_event(self, event: Event) -> None:
        if event.kind is EventKind.TWIN_DELETED:
            self.forget(event.twin)
            return
        if not self.entries_for(event.model):
            return
        values: dict[str, Any] = {}
        moment = event.at.timestamp()
        for _, series, t, value in points_of(event):
            values[series.removeprefix("telemetry/")] = value
            moment = t
        try:
            self._queue.put_nowait((event.twin, event.model, moment, values))
            self.stats.queued += 1
        except asyncio.QueueFull:
            self.stats.dropped += 1

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            self._busy = True
            try:
                while len(batch) < 1024 and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                writes: list[Awaitable[Any]] = []
                for twin, model, moment, values in batch:
                    await self._score(twin, model, moment, values, writes)
                if writes:
                    results = await asyncio.gather(*writes, return_exceptions=True)
                    for result in results:
                        if isinstance(result, Exception) and not isinstance(result, NotFound):
                            log.error("writing detector results failed: %r", result)
                if loop.time() - self._last_checkpoint >= self.checkpoint_every:
                    await self.checkpoint()
            except Exception:
                log.exception("detector runtime failed on a batch")
            finally:
                self._busy = False
                for _ in batch:
                    self._queue.task_done()

    # -- scoring ------------------------------------------------------------------------------
    async def _score(
        self,
        twin: str,
        model: str | None,
        moment: float,
        values: dict[str, Any],
        writes: list[Awaitable[Any]],
    ) -> None:
        # The hot path: cached detectors and watches are looked up inline (no await).
        entries = self.entries_for(model)
        touched = False
        for entry in entries:
            sample = {s: _number(values[s]) for s in entry.signals if s in values}
            if not any(v is not None for v in sample.values()):
                continue
            watch = self._watches.get((twin, entry.name)) or await self._watch(twin, entry)
            if entry.multivariate:
                full = {s: sample.get(s) for s in entry.signals}
                detector = await self._detector(twin, entry, entry.name)
                anomaly = detector.explain_one(full, moment)
                detector.learn_one(full, moment)
                self._changed.add((twin, entry.name))
                self._learn_fleet(entry, entry.name, full)
                watch.score, watch.contributions = anomaly.score, dict(anomaly.contributions)
                self._scored(twin, entry.name, moment, anomaly.score)
            else:
                scores: dict[str, float] = {}
                for signal, value in sample.items():
                    if value is None:
                        continue
                    key = (twin, f"{entry.name}/{signal}")
                    live = self._detectors.get(key)
                    if live is None:
                        live = await self._detector(twin, entry, key[1])
                    else:
                        self._detectors.move_to_end(key)
                    scores[signal] = score = live.process_one({signal: value}, moment)
                    self._changed.add(key)
                    if entry.fleet_prior:
                        self._learn_fleet(entry, key[1], {signal: value})
                    if self._on_scored is not None:
                        self._on_scored(twin, key[1], moment, score)
                self.stats.scored += len(scores)
                watch.score = max(scores.values())
                if len(scores) == 1:
                    watch.contributions = {next(iter(scores)): 1.0} if watch.score > 0 else {}
                else:
                    total = sum(scores.values())
                    watch.contributions = (
                        {s: v / total for s, v in scores.items() if v > 0} if total > 0 else {}
                    )
            touched = True
            self._alert(twin, entry, watch, moment, sample, writes)
        if touched:
            self._write(twin, entries, moment, writes)

    def _scored(self, twin: str, key: str, moment: float, score: float) -> None:
        self.stats.scored += 1
        if self._on_scored is not None:
            self._on_scored(twin, key, moment, score)

    def _learn_fleet(self, entry: Detection, key: str, sample: dict[str, float | None]) -> None:
        if not entry.fleet_prior:
            return
        fleet = self._fleet.get((entry.name, key))
        if fleet is None:
            fleet = self._fleet[(entry.name, key)] = entry.create()
        # No timestamp: the fleet sees many twins interleaved, which would look like late data.
        fleet.learn_one(sample, None)
        self._fleet_seen[(entry.name, key)] = self._fleet_seen.get((entry.name, key), 0) + 1
        self._changed.add((FLEET, key))

    async def detector(self, twin: str, name: str) -> Detector:
        """The live detector ``name`` (``<entry>/<signal>`` or ``<entry>``) of ``twin``."""
        for entry in self.detections:
            if name in entry.state_names():
                return await self._detector(twin, entry, name)
        raise NotFound(f"no detector {name!r} is configured", "/name")

    async def _detector(self, twin: str, entry: Detection, key: str) -> Detector:
        detector = self._detectors.get((twin, key))
        if detector is not None:
            self._detectors.move_to_end((twin, key))
            return detector
        raw = self._parked.get((twin, key))
        if raw is None:
            raw = await self.platform.store.load_detector_state(twin, key)
        if raw is not None:
            detector = pickle.loads(raw)
        else:
            fleet = self._fleet.get((entry.name, key))
            if (
                fleet is not None
                and self._fleet_seen.get((entry.name, key), 0) >= entry.prior_after
            ):
                detector = fleet.from_prior()
            else:
                detector = entry.create()
        self._detectors[(twin, key)] = detector
        self._evict()
        return detector

    def _evict(self) -> None:
        """Keep at most ``max_live`` detectors in memory (a few tens of KB each).

        The least recently fed go; a changed one is written first, and kept aside until that
        write lands so its twin's next sample cannot load an older state.
        """
        while len(self._detectors) > self.max_live:
            key, detector = self._detectors.popitem(last=False)
            if key not in self._changed:
                continue
            self._changed.discard(key)
            blob = self._parked[key] = pickle.dumps(detector)
            written = self.platform.stage(Batch(detector_states={key: blob}))

            def landed(_: object, key: tuple[str, str] = key, blob: bytes = blob) -> None:
                if self._parked.get(key) is blob:
                    del self._parked[key]

            written.add_done_callback(landed)

    async def _watch(self, twin: str, entry: Detection) -> _Watch:
        watch = self._watches.get((twin, entry.name))
        if watch is None:
            watch = self._watches[(twin, entry.name)] = _Watch()
            with contextlib.suppress(NotFound):
                watch.alert_open = await self.alerts.open_alert(twin, entry.source) is not None
        return watch

    # -- results ------------------------------------------------------------------------------
    def _alert(
        self,
        twin: str,
        entry: Detection,
        watch: _Watch,
        moment: float,
        sample: dict[str, float | None],
        writes: list[Awaitable[Any]],
    ) -> None:
        context = Context(actor=f"detector:{entry.name}")
        if not watch.alert_open and watch.score >= entry.threshold:
            watch.alert_open, watch.below_since = True, None
            self.stats.alerts_raised += 1
            top = sorted(watch.contributions.items(), key=lambda kv: -kv[1])
            cause = {
                "detector": entry.detector,
                "score": round(watch.score, 4),
                "contributions": dict(top),
                "values": {k: v for k, v in sample.items() if v is not None},
                "at": _iso(moment),
            }
            signals = ", ".join(s for s, _ in top[:3]) or ", ".join(entry.signals)
            writes.append(
                self.alerts.raise_alert(
                    twin,
                    source=entry.source,
                    severity=entry.severity,
                    name=entry.name,
                    cause=cause,
                    message=f"{twin} behaves unlike itself ({signals}): score {watch.score:.2f}",
                    context=context,
                )
            )
            self._written.pop(twin, None)  # write the score that raised it
        elif watch.alert_open:
            if watch.score >= entry.clear_below:
                watch.below_since = None
                return
            if watch.below_since is None:
                watch.below_since = moment
            if moment - watch.below_since >= entry.clear_after:
                watch.alert_open, watch.below_since = False, None
                self.stats.alerts_cleared += 1
                writes.append(self.alerts.clear_source(twin, entry.source, context=context))

    def _write(
        self,
        twin: str,
        entries: list[Detection],
        moment: float,
        writes: list[Awaitable[Any]],
    ) -> None:
        watches = [w for e in entries if (w := self._watches.get((twin, e.name)))]
        score = max(w.score for w in watches)
        last = self._written.get(twin)
        if last is None:
            last = self._written[twin] = _Written()
        if not self._due(last, score, moment, max(e.threshold for e in entries)):
            return
        total = sum(w.score for w in watches)
        contributions: dict[str, float] = {}
        for w in watches:
            for signal, share in w.contributions.items():
                weight = w.score / total if total > 0 else 0.0
                contributions[signal] = contributions.get(signal, 0.0) + share * weight
        last.score, last.at = score, moment
        self.stats.written += 1
        data = {
            "values": {
                "anomaly_score": round(score, 4),
                "anomaly_contributions": {k: round(v, 4) for k, v in contributions.items()},
            },
            "at": _iso(moment),
        }
        writes.append(
            self.platform.twins.record(
                twin, EventKind.ANALYTICS_UPDATED, data, context=Context(actor="detectors")
            )
        )

    def _due(self, last: _Written, score: float, moment: float, threshold: float) -> bool:
        if last.score is None or moment - last.at >= self.write_every:
            return True
        if _band(score, threshold) > _band(last.score, threshold):
            return True
        return abs(score - last.score) > self.write_change and moment - last.at >= self.write_gap

    async def train_prior(
        self, name: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> int:
        """Teach entry ``name``'s fleet detectors the history of every twin of its model
        (and of models extending it); returns how many samples they learnt.

        Live samples keep teaching the fleet afterwards; this gives a fleet that is already
        running when detection is switched on a useful prior from the first new twin on.
        """
        entry = next((e for e in self.detections if e.name == name), None)
        if entry is None or not entry.fleet_prior:
            raise NotFound(f"no detection entry {name!r} with fleet_prior", "/name")
        learnt = 0
        for model in sorted(self.platform.registry.descendants(entry.model)):
            after = ""
            while ids := await self.platform.store.twin_ids(model=model, after=after, limit=500):
                for twin in ids:
                    learnt += await self._train_on(entry, twin, start, end)
                after = ids[-1]
        return learnt

    async def _train_on(
        self, entry: Detection, twin: str, start: datetime | None, end: datetime | None
    ) -> int:
        rows: dict[float, dict[str, float | None]] = {}
        for signal in entry.signals:
            try:
                points = await self.platform.history.read(
                    twin, f"telemetry/{signal}", start=start, end=end
                )
            except NotFound:
                continue
            for t, value in points:
                rows.setdefault(t, {})[signal] = _number(value)
        learnt = 0
        for t in sorted(rows):
            sample = rows[t]
            if entry.multivariate:
                self._learn_fleet(entry, entry.name, {s: sample.get(s) for s in entry.signals})
                learnt += 1
                continue
            for signal, value in sample.items():
                if value is not None:
                    self._learn_fleet(entry, f"{entry.name}/{signal}", {signal: value})
                    learnt += 1
        return learnt

    # -- persistence --------------------------------------------------------------------------
    async def checkpoint(self) -> int:
        """Write every detector state changed since the last checkpoint; returns how many."""
        self._last_checkpoint = asyncio.get_running_loop().time()
        changed, self._changed = self._changed, set()
        states: dict[tuple[str, str], bytes] = {}
        for twin, key in changed:
            if twin == FLEET:
                for (name, fkey), fleet in self._fleet.items():
                    if fkey == key:
                        seen = self._fleet_seen.get((name, fkey), 0)
                        states[(FLEET, key)] = pickle.dumps((fleet, seen))
            elif (detector := self._detectors.get((twin, key))) is not None:
                states[(twin, key)] = pickle.dumps(detector)
        if states:
            await self.platform.stage(Batch(detector_states=states))
            self.stats.checkpoints += 1
        return len(states)

    def forget(self, twin: str) -> None:
        """Drop a twin's detectors from memory (their checkpoint stays)."""
        for key in [k for k in self._detectors if k[0] == twin]:
            del self._detectors[key]
        self._changed = {k for k in self._changed if k[0] != twin}
        for key in [k for k in self._watches if k[0] == twin]:
            del self._watches[key]
        self._written.pop(twin, None)


def _band(score: float, threshold: float) -> int:
    return 2 if score >= threshold else 1 if score >= min(0.5, threshold) else 0


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _iso(moment: float) -> str:
    return format_time(datetime.fromtimestamp(moment, UTC))
