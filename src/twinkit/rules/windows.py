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
from datetime import UTC, datetime
from typing import Any

from twinkit.model.errors import NotFound
from twinkit.platform import Platform
from twinkit.rules.conditions import WindowCall


class SeriesWindow:
    """The points of one series in time order, trimmed to ``keep`` seconds before the newest.

    Beside the raw values it keeps each point as a float (NaN when not a number) and running
    sums, so ``avg``/``sum``/``count`` over any span are two lookups and ``min``/``max`` one
    C-level pass: a 5-minute window at 10 Hz costs the same as one at 0.1 Hz.
    """

    __slots__ = ("_other", "cnum", "csum", "keep", "loaded", "nums", "times", "values")

    def __init__(self, keep: float) -> None:
        self.keep = keep
        self.times: list[float] = []
        self.values: list[Any] = []
        self.nums: list[float] = []
        self.csum: list[float] = []  # csum[i]: sum of the numbers among points 0..i
        self.cnum: list[int] = []  # cnum[i]: how many of points 0..i are numbers
        self._other = 0  # points held that are not numbers
        self.loaded = False  # back-filled from history yet

    def add(self, t: float, value: Any) -> None:
        """File one point. The same value at the same time again (a redelivered message, or a
        point the back-fill read from history just before its event arrived) is kept once."""
        if self.times and t == self.times[-1] and value == self.values[-1]:
            return
        if not self.times or t >= self.times[-1]:
            self.times.append(t)
            self.values.append(value)
            x = _as_float(value)
            self.nums.append(x)
            number = x == x
            self._other += not number
            self.csum.append((self.csum[-1] if self.csum else 0.0) + (x if number else 0.0))
            self.cnum.append((self.cnum[-1] if self.cnum else 0) + number)
        else:  # a late point: keep the order, rebuild the running sums
            at = bisect.bisect_right(self.times, t)
            if at and self.times[at - 1] == t and self.values[at - 1] == value:
                return
            self.times.insert(at, t)
            self.values.insert(at, value)
            self._rebuild()
        self._trim()

    def prepend(self, points: Iterable[tuple[float, Any]]) -> None:
        """Points from history older than every point held (the back-fill)."""
        first = self.times[0] if self.times else math.inf
        older = [(t, v) for t, v in points if t < first]
        if older:
            self.times[:0] = [t for t, _ in older]
            self.values[:0] = [v for _, v in older]
            self._rebuild()
        self._trim()

    def _rebuild(self) -> None:
        self.nums = [_as_float(v) for v in self.values]
        self.csum, self.cnum, total, count = [], [], 0.0, 0
        for x in self.nums:
            if x == x:
                total += x
                count += 1
            self.csum.append(total)
            self.cnum.append(count)
        self._other = len(self.nums) - count

    def _trim(self) -> None:
        if not self.times:
            return
        cut = bisect.bisect_left(self.times, self.times[-1] - self.keep)
        if cut > 0:
            self._other -= sum(1 for x in self.nums[:cut] if x != x)
            for held in (self.times, self.values, self.nums, self.csum, self.cnum):
                del held[:cut]

    def span(self, start: float, end: float) -> tuple[int, int]:
        """Indexes ``lo, hi`` of the points with ``start < t <= end``."""
        return bisect.bisect_right(self.times, start), bisect.bisect_right(self.times, end)

    def points(self, start: float, end: float) -> list[tuple[float, Any]]:
        """Points with ``start < t <= end``."""
        lo, hi = self.span(start, end)
        return list(zip(self.times[lo:hi], self.values[lo:hi], strict=True))

    def stat(self, func: str, lo: int, hi: int) -> Any:
        """``func`` over points ``lo..hi-1`` (numbers only), or None when undefined."""
        if func == "count":
            return hi - lo
        if hi <= lo:
            return None
        # the running sums start before the oldest point still held: take differences only
        first = self.nums[lo]
        before_sum = self.csum[lo] - (first if first == first else 0.0)
        before_num = self.cnum[lo] - (first == first)
        numbers = self.cnum[hi - 1] - before_num
        if numbers == 0:
            return None
        if func in ("avg", "sum"):
            total = self.csum[hi - 1] - before_sum
            return total / numbers if func == "avg" else total
        chosen = self.nums[lo:hi] if not self._other else [x for x in self.nums[lo:hi] if x == x]
        if func == "min":
            return min(chosen)
        if func == "max":
            return max(chosen)
        if len(chosen) < 2:
            return None
        t = (
            self.times[lo:hi]
            if not self._other
            else [t for t, x in zip(self.times[lo:hi], self.nums[lo:hi], strict=True) if x == x]
        )
        if func == "delta":
            return chosen[-1] - chosen[0]
        return (chosen[-1] - chosen[0]) / (t[-1] - t[0]) if t[-1] > t[0] else None


def _as_float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return math.nan


def window_value(call: WindowCall, window: SeriesWindow | None, now: float) -> Any:
    """The value of ``call`` at ``now``, or None when undefined (no points, not numbers)."""
    if window is None:
        return 0 if call.func == "count" else None
    lo, hi = window.span(now - call.span, now)
    if not call.inner:
        return window.stat(call.func, lo, hi)
    if call.func == "count":
        return hi - lo
    numbers = [
        (t, float(x))
        for t, x in ((t, _dig(v, call.inner)) for t, v in window.points(now - call.span, now))
        if _num(x)
    ]
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


async def backfill(
    platform: Platform, twin: str, series: str, window: SeriesWindow, now: float
) -> None:
    """Fill ``window`` from history with the ``keep`` seconds before its oldest point (before
    ``now`` when empty): a rule added later sees the past at once."""
    window.loaded = True
    first = window.times[0] if window.times else now
    start = datetime.fromtimestamp(first - window.keep, UTC)
    end = datetime.fromtimestamp(first, UTC)
    try:
        points = await platform.history.read(twin, series, start=start, end=end)
    except NotFound:
        points = []
    window.prepend(points)
