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
    elif event.kind in _SECTIONS:
        section = _SECTIONS[event.kind]
        for name, value in event.data.get("set", {}).items():
            yield event.twin, f"{section}/{name}", moment, value
    elif event.kind in (EventKind.TWIN_CREATED, EventKind.TWIN_REPLACED):
        for section in ("reported", "desired"):
            for name, value in event.data.get(section, {}).items():
                yield event.twin, f"{section}/{name}", moment, value


class SeriesBuffer:
    """Points committed to the journal but not yet written as blocks."""

    def __init__(self, flush_points: int = 50_000) -> None:
        self._points: dict[tuple[str, str], tuple[list[float], list[Any]]] = defaultdict(
            lambda: ([], [])
        )
        self.size = 0
        self.watermark = 0
        self.flush_points = flush_points

    def add(self, events: Iterable[Event]) -> None:
        for event in events:
            for twin, path, moment, value in points_of(event):
                times, values = self._points[(twin, path)]
                times.append(moment)
                values.append(value)
                self.size += 1
            self.watermark = max(self.watermark, event.seq)

    @property
    def full(self) -> bool:
        return self.size >= self.flush_points

    def drain(self) -> tuple[list[Block], int]:
        """Take every buffered point as blocks sorted by time, with the seq they cover."""
        blocks = []
        for (twin, path), (times, values) in self._points.items():
            order = sorted(range(len(times)), key=times.__getitem__)
            blocks.append(Block(twin, path, [times[i] for i in order], [values[i] for i in order]))
        self._points.clear()
        self.size = 0
        return blocks, self.watermark

    def restore(self, twin: str, path: str, moment: float, value: Any) -> None:
        times, values = self._points[(twin, path)]
        times.append(moment)
        values.append(value)
        self.size += 1

    def read(self, twin: str, path: str, start: float, end: float) -> Block:
        times, values = self._points.get((twin, path), ([], []))
        keep = [i for i, t in enumerate(times) if start <= t <= end]
        return Block(twin, path, [times[i] for i in keep], [values[i] for i in keep])

    def paths(self, twin: str) -> set[str]:
        return {p for (t, p) in self._points if t == twin}
