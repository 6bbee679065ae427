"""Time series of every telemetry value and every property change.

The journal is the durable record; series are a projection of it, kept in
memory as small per-series buffers and written as blocks (many points per row)
once enough have gathered. The last flushed event ``seq`` is stored with the
blocks, so after a crash the platform replays the journal past it and loses
nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from twinkit.model.events import Event, EventKind
from twinkit.model.time import parse_time
from twinkit.storage.ports import Block

Point = tuple[str, str, float, Any]

_SECTIONS = {
    EventKind.REPORTED_CHANGED: "reported",
    EventKind.DESIRED_CHANGED: "desired",
}


def points_of(event: Event) -> Iterator[Point]:
    """The series points an event contributes: ``(twin, path, time, value)``."""
    source = event.data.get("at")
    moment = (parse_time(source) if source else event.at).timestamp()
    if event.kind is EventKind.TELEMETRY_RECEIVED:
        for name, value in event.data["values"].items():
            yield event.twin, f"telemetry/{name}", moment, value
    elif event.kind is EventKind.ANALYTICS_UPDATED:
        for name, value in event.data["values"].items():
            yield event.twin, f"analytics/{name}", moment, value
    elif event.kind in _SECTIONS:
        section = _SECTIONS[event.kind]
        for name, value in event.data.get("set", {}).items():
            yield event.twin, f"{section}/{name}", moment, value
    elif event.kind in (EventKind.TWIN_CREATED, EventKind.TWIN_REPLACED):
        for section in ("reported", "desired"):
            for name, value in event.data.get(section, {}).items():
                yield event.twin, f"{section}/{name}", moment, value


class _Run:
    """The buffered points of one series, with the journal seqs they came from."""

    __slots__ = ("first_seq", "last_seq", "since", "times", "values")

    def __init__(self, since: float) -> None:
        self.times: list[float] = []
        self.values: list[Any] = []
        self.first_seq = 0
        self.last_seq = 0
        self.since = since


SeriesKey = tuple[str, str]


class SeriesBuffer:
    """Points committed to the journal but not yet written as blocks.

    A series is written once it has ``block_points`` points or its oldest buffered
    point is ``max_age`` seconds old, so blocks stay large whatever the rate.
    ``watermark`` is the journal seq below which every point is in a block: after a
    crash the journal is replayed from there, skipping what each series already has.
    """

    def __init__(
        self, block_points: int = 512, max_age: float = 30.0, max_points: int = 1_000_000
    ) -> None:
        self._runs: dict[SeriesKey, _Run] = {}
        self._inflight: dict[SeriesKey, list[_Run]] = defaultdict(list)
        self.ready: set[SeriesKey] = set()
        self.size = 0
        self.seen_seq = 0
        self.block_points = block_points
        self.max_age = max_age
        self.max_points = max_points
        self.generation = 0
        self._known: dict[str, set[str]] = {}  # every path ever buffered, per twin

    def add(
        self, events: Iterable[Event], now: float = 0.0, flushed: dict[SeriesKey, int] | None = None
    ) -> None:
        """Buffer the points of committed events (``flushed``: skip what blocks hold)."""
        runs = self._runs
        block_points = self.block_points
        for event in events:
            seq = event.seq
            if event.kind is EventKind.TELEMETRY_RECEIVED and flushed is None:
                # the hot path of ingestion, inlined: one run lookup and two appends a value
                source = event.data.get("at")
                moment = (parse_time(source) if source else event.at).timestamp()
                twin = event.twin
                for name, value in event.data["values"].items():
                    key = (twin, "telemetry/" + name)
                    run = runs.get(key)
                    if run is None:
                        run = runs[key] = _Run(now)
                        run.first_seq = seq
                        self._known.setdefault(key[0], set()).add(key[1])
                    run.times.append(moment)
                    run.values.append(value)
                    run.last_seq = seq
                    if len(run.times) >= block_points:
                        self.ready.add(key)
                self.size += len(event.data["values"])
            else:
                for twin, path, moment, value in points_of(event):
                    key = (twin, path)
                    if flushed is not None and flushed.get(key, 0) >= seq:
                        continue
                    run = runs.get(key)
                    if run is None:
                        run = runs[key] = _Run(now)
                        run.first_seq = seq
                        self._known.setdefault(key[0], set()).add(key[1])
                    run.times.append(moment)
                    run.values.append(value)
                    run.last_seq = seq
                    self.size += 1
                    if len(run.times) >= block_points:
                        self.ready.add(key)
            if seq > self.seen_seq:
                self.seen_seq = seq

    @property
    def watermark(self) -> int:
        firsts = [r.first_seq for r in self._runs.values()]
        firsts += [r.first_seq for runs in self._inflight.values() for r in runs]
        return min(firsts) - 1 if firsts else self.seen_seq

    def take(
        self, now: float, everything: bool = False
    ) -> tuple[list[Block], dict[SeriesKey, int]]:
        """Move the series due for writing in flight; returns their blocks and last seqs."""
        if everything or self.size >= self.max_points:
            keys = list(self._runs)
        else:
            keys = list(self.ready)
            if now:
                keys += [
                    k
                    for k, r in self._runs.items()
                    if now - r.since >= self.max_age and k not in self.ready
                ]
        blocks: list[Block] = []
        marks: dict[SeriesKey, int] = {}
        for key in keys:
            run = self._runs.pop(key, None)
            if run is None:
                continue
            self.size -= len(run.times)
            self._inflight[key].append(run)
            order = sorted(range(len(run.times)), key=run.times.__getitem__)
            blocks.append(
                Block(key[0], key[1], [run.times[i] for i in order], [run.values[i] for i in order])
            )
            marks[key] = run.last_seq
        self.ready.clear()
        return blocks, marks

    def landed(self, marks: dict[SeriesKey, int]) -> None:
        """The blocks for ``marks`` are durable: forget their in-flight copies."""
        for key, last in marks.items():
            runs = [r for r in self._inflight.get(key, []) if r.last_seq > last]
            if runs:
                self._inflight[key] = runs
            else:
                self._inflight.pop(key, None)
        self.generation += 1

    def failed(self, marks: dict[SeriesKey, int]) -> None:
        """Writing failed: put the in-flight points back so they are retried and readable."""
        for key in marks:
            for run in self._inflight.pop(key, []):
                current = self._runs.get(key)
                if current is not None:
                    run.times += current.times
                    run.values += current.values
                    run.last_seq = current.last_seq
                self._runs[key] = run
        self.size = sum(len(r.times) for r in self._runs.values())

    def read(self, twin: str, path: str, start: float, end: float) -> Block:
        key = (twin, path)
        runs = [*self._inflight.get(key, []), *([self._runs[key]] if key in self._runs else [])]
        times = [t for r in runs for t in r.times]
        values = [v for r in runs for v in r.values]
        keep = [i for i, t in enumerate(times) if start <= t <= end]
        return Block(twin, path, [times[i] for i in keep], [values[i] for i in keep])

    def paths(self, twin: str) -> set[str]:
        """The series this buffer has seen for ``twin`` (their points may be written by now)."""
        return set(self._known.get(twin, ()))
