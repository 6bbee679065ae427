"""Sliding windows of recent points per (twin, series), and the window functions over them.

The rule engine keeps, for every series a rule's window reads, the points of the last
``keep`` seconds (the longest window over that series), filled from the change feed and
back-filled once from history. Times are the samples' own times (the device's ``at`` when it
sent one), so late or replayed data lands where it belongs.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

from twinkit.rules.conditions import WindowCall


class SeriesWindow:
    """The points of one series in time order, trimmed to ``keep`` seconds before the newest."""

    __slots__ = ("keep", "loaded", "times", "values")

    def __init__(self, keep: float) -> None:
        self.keep = keep
        self.times: list[float] = []
        self.values: list[Any] = []
        self.loaded = False  # back-filled from history yet

    def add(self, t: float, value: Any) -> None:
        if not self.times or t >= self.times[-1]:
            self.times.append(t)
            self.values.append(value)
        else:  # a late point: keep the order
            at = bisect.bisect_right(self.times, t)
            self.times.insert(at, t)
            self.values.insert(at, value)
        self._trim()

    def prepend(self, points: Iterable[tuple[float, Any]]) -> None:
        """Points from history older than every point held (the back-fill)."""
        first = self.times[0] if self.times else math.inf
        older = [(t, v) for t, v in points if t < first]
        if older:
            self.times[:0] = [t for t, _ in older]
            self.values[:0] = [v for _, v in older]
        self._trim()

    def _trim(self) -> None:
        if not self.times:
            return
        cut = bisect.bisect_left(self.times, self.times[-1] - self.keep)
        if cut > 0:
            del self.times[:cut]
            del self.values[:cut]

    def points(self, start: float, end: float) -> list[tuple[float, Any]]:
        """Points with ``start < t <= end``."""
        lo = bisect.bisect_right(self.times, start)
        hi = bisect.bisect_right(self.times, end)
        return list(zip(self.times[lo:hi], self.values[lo:hi], strict=True))


def window_value(call: WindowCall, window: SeriesWindow | None, now: float) -> Any:
    """The value of ``call`` at ``now``, or None when undefined (no points, not numbers)."""
    if window is None:
        return 0 if call.func == "count" else None
    points = window.points(now - call.span, now)
    if call.func == "count":
        return len(points)
    numbers = [(t, float(x)) for t, x in ((t, _dig(v, call.inner)) for t, v in points) if _num(x)]
    if not numbers:
        return None
    values = [x for _, x in numbers]
    if call.func == "avg":
        return sum(values) / len(values)
    if call.func == "min":
        return min(values)
    if call.func == "max":
        return max(values)
    if call.func == "sum":
        return sum(values)
    if len(numbers) < 2:
        return None
    (t0, x0), (t1, x1) = numbers[0], numbers[-1]
    if call.func == "delta":
        return x1 - x0
    return (x1 - x0) / (t1 - t0) if t1 > t0 else None  # rate: units per second


def _dig(value: Any, inner: tuple[str, ...]) -> Any:
    for key in inner:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def aggregate(agg: str, values: list[Any]) -> Any:
    """``related()``'s aggregate over the related twins' values (None when undefined)."""
    if agg == "count":
        return len(values)
    numbers = [float(v) for v in values if _num(v)]
    if not numbers:
        return None
    if agg == "max":
        return max(numbers)
    if agg == "min":
        return min(numbers)
    if agg == "sum":
        return sum(numbers)
    return sum(numbers) / len(numbers)
