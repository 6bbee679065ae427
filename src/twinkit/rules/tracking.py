"""The one piece of state a rule keeps per twin: since when it holds, and whether it fired;
judging a rule at a moment, and when it must be judged again if no new value arrives.

Shared by the live engine and the dry-run, so a dry-run fires exactly when the engine would.
"""

from __future__ import annotations

import bisect
import inspect
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from twinkit.model.events import Event, EventKind
from twinkit.model.time import format_time, parse_duration, parse_time
from twinkit.rules.conditions import (
    AgeCall,
    RelatedCall,
    WindowCall,
    document_path,
    is_missing,
    lookup,
)
from twinkit.rules.rule import Rule
from twinkit.rules.windows import SeriesWindow, window_value

RelatedValue = Callable[[RelatedCall], Awaitable[Any]]


@dataclass(slots=True)
class Hold:
    since: float | None = None  # when the condition last became true
    active: bool = False  # fired and not cleared yet

    def step(self, holds: bool, now: float, need: float) -> str | None:
        """Feed one evaluation; returns "fired", "cleared" or None (no transition)."""
        if holds:
            if self.since is None:
                self.since = now
            if not self.active and now - self.since >= need:
                self.active = True
                return "fired"
            return None
        self.since = None
        if self.active:
            self.active = False
            return "cleared"
        return None

    def due(self, need: float) -> float | None:
        """When a pending ``for:`` completes, if one is pending."""
        if self.since is None or self.active or need <= 0:
            return None
        return reached(self.since, need)


JUDGED = frozenset(
    {
        EventKind.TWIN_CREATED,
        EventKind.TWIN_REPLACED,
        EventKind.REPORTED_CHANGED,
        EventKind.DESIRED_CHANGED,
        EventKind.TELEMETRY_RECEIVED,
        EventKind.ANALYTICS_UPDATED,
        EventKind.RELATIONSHIP_ADDED,
        EventKind.RELATIONSHIP_REPLACED,
        EventKind.RELATIONSHIP_REMOVED,
    }
)
"""The events after which rules are judged (the engine also follows TwinDeleted)."""

_SECTION_KINDS = {
    EventKind.TELEMETRY_RECEIVED: "telemetry",
    EventKind.ANALYTICS_UPDATED: "analytics",
    EventKind.REPORTED_CHANGED: "reported",
    EventKind.DESIRED_CHANGED: "desired",
}


def rule_inputs(rule: Rule) -> frozenset[str] | None:
    """The values (``section/name``) a rule reads, or None when it may read anything.

    A rule is judged again only when an event changes one of its inputs: a telemetry sample of
    ``vibration`` cannot change ``temperature > 80``. Python checks and related-twin rules read
    anything, so they are judged on every change of the twin.
    """
    condition = rule.condition
    if rule.check is not None or condition is None or condition.related:
        return None
    inputs = {w.series for w in condition.windows}
    for age in condition.ages:
        if len(age.path) < 2:
            return None  # age(telemetry): any telemetry value
        inputs.add(f"{age.path[0]}/{age.path[1]}")
    for path in condition.paths:
        if len(path) < 2:
            return None
        if path[0] == "delta":
            inputs |= {f"reported/{path[1]}", f"desired/{path[1]}"}
        else:
            inputs.add(f"{path[0]}/{path[1]}")
    return frozenset(inputs)


def event_inputs(event: Event) -> frozenset[str] | None:
    """The values an event changes, or None when it may change anything (created, replaced)."""
    section = _SECTION_KINDS.get(event.kind)
    if section is None:
        return None
    if section in ("telemetry", "analytics"):
        return frozenset(f"{section}/{k}" for k in event.data.get("values", ()))
    names = [*event.data.get("set", {}), *event.data.get("removed", ())]
    return frozenset(f"{section}/{k}" for k in names)


def concerns(inputs: frozenset[str] | None, changed: frozenset[str] | None) -> bool:
    return inputs is None or changed is None or not inputs.isdisjoint(changed)


def window_keeps(rules: Iterable[Rule]) -> dict[str, float]:
    """Per series, the longest window any of ``rules`` reads over it (what to keep of it)."""
    keep: dict[str, float] = {}
    for rule in rules:
        spans = dict(rule.windows)
        for call in rule.condition.windows if rule.condition else ():
            spans[call.series] = max(spans.get(call.series, 0.0), call.span)
        for series, span in spans.items():
            keep[series] = max(keep.get(series, 0.0), span)
    return keep


def window_series(rule: Rule) -> set[str]:
    """Every series the rule reads a window of."""
    series = set(rule.windows)
    if rule.condition is not None:
        series |= {w.series for w in rule.condition.windows}
    return series


async def judge(
    rule: Rule,
    doc: dict[str, Any],
    windows: Mapping[str, SeriesWindow],
    now: float,
    related: RelatedValue,
) -> tuple[bool, Callable[[], dict[str, Any]]]:
    """Does ``rule`` hold on ``doc`` at ``now``, and how to get the values it looked at
    (only needed when the rule fires or clears, so only computed then)."""
    computed: dict[str, Any] = {}
    condition = rule.condition
    if condition is not None:
        for call in condition.windows:
            value = window_value(call, windows.get(call.series), now)
            if value is not None:
                computed[call.slot] = value
        for age in condition.ages:
            seen = last_seen(doc, age)
            if seen is not None:
                computed[age.slot] = max(0.0, now - seen)
        for rel in condition.related:
            value = await related(rel)
            if value is not None:
                computed[rel.slot] = value
    holds = condition.holds(doc, computed) if condition is not None else True

    def values() -> dict[str, Any]:
        return condition.values(doc, computed) if condition is not None else {}

    if holds and rule.check is not None:
        result = rule.check(TwinView(doc, windows, now))
        if inspect.isawaitable(result):
            result = await result
        holds = bool(result)
    return holds, values


def next_change(
    rule: Rule, doc: dict[str, Any], windows: Mapping[str, SeriesWindow], now: float
) -> float | None:
    """The first moment after ``now`` at which ``rule`` may judge differently although no new
    value arrived: a point leaves (or a future-dated point enters) one of its windows, or an
    ``age()`` reaches a threshold it is compared with. None when only new values can change
    it. (A pending ``for:`` is the caller's: :meth:`Hold.due`.)"""
    soonest = math.inf
    condition = rule.condition
    if condition is not None:
        for age in condition.ages:
            seen = last_seen(doc, age) if age.thresholds else None
            if seen is not None:
                for threshold in age.thresholds:
                    moment = reached(seen, threshold)
                    if now < moment < soonest:
                        soonest = moment
        for call in condition.windows:
            soonest = _window_change(windows.get(call.series), call.span, now, soonest)
    for series, span in rule.windows.items():
        soonest = _window_change(windows.get(series), span, now, soonest)
    return soonest if soonest < math.inf else None


def _window_change(window: SeriesWindow | None, span: float, now: float, soonest: float) -> float:
    """``soonest``, or earlier if a point leaves the ``span`` window (or a point dated after
    ``now`` enters it) before that (on the hot path: one call per judgement)."""
    if window is None:
        return soonest
    times = window.times
    lo = bisect.bisect_right(times, now - span)
    hi = bisect.bisect_right(times, now)
    if lo < hi:  # the oldest point in the span leaves
        moment = times[lo] + span
        if moment - span < times[lo]:
            moment = left(times[lo], span)
        if now < moment < soonest:
            soonest = moment
    if hi < len(times) and times[hi] < soonest:  # a point dated after now enters
        soonest = times[hi]
    return soonest


def reached(start: float, span: float) -> float:
    """The first moment ``m`` with ``m - start >= span`` in floating point (``start + span``
    can fall a hair short at today's epoch values: a timer must never wake one ulp early)."""
    moment = start + span
    while moment - start < span:
        moment = math.nextafter(moment, math.inf)
    return moment


def left(t: float, span: float) -> float:
    """The first moment ``m`` at which a point at ``t`` is out of a ``span`` window
    (``m - span >= t``, the test :meth:`SeriesWindow.span` makes)."""
    moment = t + span
    while moment - span < t:
        moment = math.nextafter(moment, math.inf)
    return moment


def last_seen(doc: dict[str, Any], age: AgeCall) -> float | None:
    """When the value ``age`` reads last arrived: its sample time (the device's ``at``, else
    when it was written), the newest of a section's values for ``age(telemetry)``."""
    meta = (doc.get("metadata") or {}).get(age.path[0]) or {}
    stamps = [meta.get(age.path[1])] if len(age.path) > 1 else list(meta.values())
    newest: float | None = None
    for stamp in stamps:
        text = stamp and (stamp.get("at") or stamp.get("updated_at"))
        if text:
            moment = _epoch(text)
            newest = moment if newest is None or moment > newest else newest
    return newest


def sample_lag(doc: dict[str, Any]) -> float:
    """How far the twin's newest sample time trailed the moment it was written: the offset
    between the twin's own time and the platform clock (0 when devices send no ``at``)."""
    newest, lag = -math.inf, 0.0
    for section in ("telemetry", "reported", "analytics"):
        for stamp in ((doc.get("metadata") or {}).get(section) or {}).values():
            written = stamp.get("updated_at") if stamp else None
            if written and (moment := _epoch(written)) > newest:
                newest = moment
                lag = moment - _epoch(stamp["at"]) if stamp.get("at") else 0.0
    return lag


@lru_cache(maxsize=8192)
def _epoch(text: str) -> float:
    try:  # the platform writes these (format_time): ISO 8601 with a zone
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = parse_time(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class TwinView:
    """What a Python rule's check sees: the twin document and its recent windows.

    >>> view.get("telemetry.temp"), view.avg("telemetry.temp", "5m")   # doctest: +SKIP
    """

    def __init__(
        self, doc: dict[str, Any], windows: Mapping[str, SeriesWindow], now: float
    ) -> None:
        self.doc = doc
        self.id: str = doc.get("id", "")
        self.now = now
        self._windows = windows

    @property
    def time(self) -> str:
        return format_time(datetime.fromtimestamp(self.now, UTC))

    def get(self, path: str, default: Any = None) -> Any:
        """A value by its condition path (``temp`` means ``reported.temp``)."""
        value = lookup(self.doc, document_path(tuple(path.split("."))))
        return default if is_missing(value) else value

    def points(self, series: str, span: str | float) -> list[tuple[float, Any]]:
        window = self._windows.get(series.replace(".", "/"))
        if window is None:
            return []
        return window.points(self.now - _span(span), self.now)

    def _stat(self, func: str, series: str, span: str | float) -> Any:
        key = series.replace(".", "/")
        call = WindowCall("", func, key, (), _span(span), "")
        return window_value(call, self._windows.get(key), self.now)

    def avg(self, series: str, span: str | float) -> float | None:
        return self._stat("avg", series, span)  # type: ignore[no-any-return]

    def min(self, series: str, span: str | float) -> float | None:
        return self._stat("min", series, span)  # type: ignore[no-any-return]

    def max(self, series: str, span: str | float) -> float | None:
        return self._stat("max", series, span)  # type: ignore[no-any-return]

    def sum(self, series: str, span: str | float) -> float | None:
        return self._stat("sum", series, span)  # type: ignore[no-any-return]

    def count(self, series: str, span: str | float) -> int:
        return int(self._stat("count", series, span))

    def rate(self, series: str, span: str | float) -> float | None:
        """Change per second between the first and last point of the window."""
        return self._stat("rate", series, span)  # type: ignore[no-any-return]


def _span(span: str | float) -> float:
    if isinstance(span, str):
        return parse_duration(span).total_seconds()
    return float(span)
