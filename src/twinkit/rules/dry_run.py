"""Dry-run: replay a twin's journal through a rule and report when it would have fired.

Rules are tested like code: before a rule goes live, ``dry_run(platform, rule, "pump-1")``
folds the twin's journal event by event, keeps the rule's windows from the replayed samples,
applies the same ``for:`` timing as the live engine (:class:`twinkit.rules.tracking.Hold`) and
lists every moment it would have fired or cleared, with the values it saw. Nothing is written
and no action runs. Related twins are read as they were at each moment (as-of reads), and
the rule is judged whenever one of them changed a value it reads, as live.

Time-only transitions are replayed too: between two events the rule is judged at each of its
deadlines (:func:`twinkit.rules.tracking.next_change`), as the live engine's timers do — a
six-minute gap in a twin's telemetry fires ``age(telemetry.temp) > '5m'`` five minutes into
the gap and clears it when the next value arrives.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from twinkit.history.series import points_of
from twinkit.model.errors import NotFound
from twinkit.model.events import Event
from twinkit.platform import Platform
from twinkit.rules.actions import Firing
from twinkit.rules.conditions import RelatedCall
from twinkit.rules.related import related_inputs, related_value
from twinkit.rules.rule import Rule
from twinkit.rules.schedule import DEFAULT_GRACE
from twinkit.rules.tracking import (
    JUDGED,
    Hold,
    concerns,
    event_inputs,
    judge,
    next_change,
    rule_inputs,
    window_series,
)
from twinkit.rules.windows import SeriesWindow
from twinkit.twins.state import TwinState, apply

_PAGE = 1000


@dataclass(slots=True)
class DryRun:
    rule: str
    twin: str
    evaluations: int = 0
    events: int = 0
    firings: list[Firing] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        fired = [f for f in self.firings if f.transition == "fired"]
        return {
            "rule": self.rule,
            "twin": self.twin,
            "events": self.events,
            "evaluations": self.evaluations,
            "fired": len(fired),
            "firings": [f.to_json() for f in self.firings],
        }


async def dry_run(
    platform: Platform,
    rule: Rule,
    twin: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    grace: float = DEFAULT_GRACE,
) -> DryRun:
    """When ``rule`` would have fired on ``twin`` between ``start`` and ``end`` (both optional).

    The whole journal is replayed (windows and ``for:`` need the time before ``start``);
    only transitions inside [start, end] are reported.
    """
    replay = _Replay(platform, rule, twin, grace)
    changes = deque(await related_changes(platform, rule, twin))
    after = 0
    while events := await platform.journal.events(twin, after_revision=after, limit=_PAGE):
        for event in events:
            moment = _moment(event)
            if end is not None and moment > end.timestamp():
                break
            while changes and changes[0] < moment:
                await replay.related_change(changes.popleft())
            await replay.feed(event)
        else:
            after = events[-1].revision
            if len(events) == _PAGE:
                continue
        break
    if replay.state.revision == 0:
        raise NotFound(f"twin {twin!r} has no journal", "/twin")
    # up to the end, or to now in the twin's own time
    horizon = end.timestamp() if end is not None else _now(platform) - replay.lag
    while changes and changes[0] <= horizon:
        await replay.related_change(changes.popleft())
    await replay.timers(horizon, inclusive=True)
    lo = start.timestamp() if start is not None else float("-inf")
    replay.report.firings = [f for f in replay.report.firings if f.at.timestamp() >= lo]
    return replay.report


async def related_changes(platform: Platform, rule: Rule, twin: str) -> list[float]:
    """When the twins ``rule`` reads through ``related()``/``incoming()`` (those related to
    ``twin`` today) changed a value it reads, in order: the live engine judges the twin at
    each of these moments, so the dry-run does too."""
    calls = rule.condition.related if rule.condition is not None else ()
    if not calls:
        return []
    try:
        state = await platform.twins.get(twin)
        incoming = await platform.twins.incoming(twin)
    except NotFound:
        return []
    others: set[str] = set()
    for call in calls:
        if call.direction == "out":
            links = state.relationships.values()
            others |= {r["target"] for r in links if r["name"] == call.relationship}
        else:
            others |= {r["source"] for r in incoming if r["name"] == call.relationship}
    _, inputs = related_inputs([rule])
    moments: list[float] = []
    for other in sorted(others - {twin}):
        after = 0
        while events := await platform.journal.events(other, after_revision=after, limit=_PAGE):
            moments += [
                e.at.timestamp()
                for e in events
                if e.kind in JUDGED and concerns(inputs, event_inputs(e))
            ]
            after = events[-1].revision
            if len(events) < _PAGE:
                break
    return sorted(moments)


def _now(platform: Platform) -> float:
    return platform.clock.now().timestamp()


def _moment(event: Event) -> float:
    moment = event.at.timestamp()
    for _, _, t, _ in points_of(event):
        moment = t
    return moment


class _Replay:
    def __init__(self, platform: Platform, rule: Rule, twin: str, grace: float) -> None:
        self.platform = platform
        self.grace = grace
        self.rule = rule
        self.state = TwinState(twin)
        self.hold = Hold()
        keep = max((w.span for w in rule.condition.windows), default=0.0) if rule.condition else 0.0
        keep = max([keep, *rule.windows.values()])
        self.windows = {series: SeriesWindow(keep) for series in window_series(rule)}
        self.report = DryRun(rule.id, twin)
        self.inputs = rule_inputs(rule)
        self.deadline: float | None = None  # when time alone may change the rule's truth
        self.lag = 0.0  # how far the twin's time trailed the clock at its last event

    async def feed(self, event: Event) -> None:
        self.report.events += 1
        now = _moment(event)
        await self.timers(now - self.grace)
        self.lag = event.at.timestamp() - now
        self.state = apply(self.state, event)
        for _, series, t, value in points_of(event):
            window = self.windows.get(series)
            if window is not None:
                window.add(t, value)
        if event.kind in JUDGED and self.state.exists:
            if concerns(self.inputs, event_inputs(event)):
                await self.evaluate(now)
        elif not self.state.exists:
            self.hold = Hold()
            self.deadline = None

    async def related_change(self, moment: float) -> None:
        """A twin the rule reads changed at ``moment``: the deadlines it shows have passed,
        then the rule, as the live engine judges the twins reading a changed twin."""
        await self.timers(moment - self.grace)
        if self.state.exists:
            await self.evaluate(moment)

    async def timers(self, now: float, *, inclusive: bool = False) -> None:
        """Judge at every deadline before ``now``. Before a value, ``now`` is its time less
        the grace: as live, a value arriving within the grace after a deadline is judged
        instead of the deadline."""
        while (
            self.deadline is not None
            and (self.deadline < now or (inclusive and self.deadline == now))
            and self.state.exists
        ):
            await self.evaluate(self.deadline)

    async def evaluate(self, now: float) -> None:
        self.report.evaluations += 1
        state = self.state

        async def related(call: RelatedCall) -> Any:
            return await related_value(self.platform, state, call, now)

        doc = state.document()
        holds, values = await judge(self.rule, doc, self.windows, now, related)
        transition = self.hold.step(holds, now, self.rule.hold)
        moments = [
            t
            for t in (self.hold.due(self.rule.hold), next_change(self.rule, doc, self.windows, now))
            if t is not None and t > now
        ]
        self.deadline = min(moments) if moments else None
        if transition is not None:
            at = datetime.fromtimestamp(now, UTC)
            self.report.firings.append(Firing(self.rule.id, state.id, at, transition, values()))
