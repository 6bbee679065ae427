"""Dry-run: replay a twin's journal through a rule and report when it would have fired.

Rules are tested like code: before a rule goes live, ``dry_run(platform, rule, "pump-1")``
folds the twin's journal event by event, keeps the rule's windows from the replayed samples,
applies the same ``for:`` timing as the live engine (:class:`twinkit.rules.tracking.Hold`) and
lists every moment it would have fired or cleared, with the values it saw. Nothing is written
and no action runs. Related twins are read as they were at each moment (as-of reads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from twinkit.history.series import points_of
from twinkit.model.errors import NotFound, TwinkitError
from twinkit.model.events import Event
from twinkit.platform import Platform
from twinkit.rules.actions import Firing
from twinkit.rules.conditions import RelatedCall, is_missing, lookup
from twinkit.rules.rule import Rule
from twinkit.rules.tracking import (
    JUDGED,
    Hold,
    concerns,
    event_inputs,
    judge,
    rule_inputs,
    window_series,
)
from twinkit.rules.windows import SeriesWindow, aggregate
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
) -> DryRun:
    """When ``rule`` would have fired on ``twin`` between ``start`` and ``end`` (both optional).

    The whole journal is replayed (windows and ``for:`` need the time before ``start``);
    only transitions inside [start, end] are reported.
    """
    replay = _Replay(platform, rule, twin)
    after = 0
    while events := await platform.journal.events(twin, after_revision=after, limit=_PAGE):
        for event in events:
            if end is not None and _moment(event) > end.timestamp():
                break
            await replay.feed(event)
        else:
            after = events[-1].revision
            if len(events) == _PAGE:
                continue
        break
    if replay.state.revision == 0:
        raise NotFound(f"twin {twin!r} has no journal", "/twin")
    horizon = end.timestamp() if end is not None else platform.clock.now().timestamp()
    await replay.timer(horizon)
    lo = start.timestamp() if start is not None else float("-inf")
    replay.report.firings = [f for f in replay.report.firings if f.at.timestamp() >= lo]
    return replay.report


def _moment(event: Event) -> float:
    moment = event.at.timestamp()
    for _, _, t, _ in points_of(event):
        moment = t
    return moment


class _Replay:
    def __init__(self, platform: Platform, rule: Rule, twin: str) -> None:
        self.platform = platform
        self.rule = rule
        self.state = TwinState(twin)
        self.hold = Hold()
        keep = max((w.span for w in rule.condition.windows), default=0.0) if rule.condition else 0.0
        keep = max([keep, *rule.windows.values()])
        self.windows = {series: SeriesWindow(keep) for series in window_series(rule)}
        self.report = DryRun(rule.id, twin)
        self.inputs = rule_inputs(rule)

    async def feed(self, event: Event) -> None:
        self.report.events += 1
        now = _moment(event)
        await self.timer(now)
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

    async def timer(self, now: float) -> None:
        """A pending ``for:`` that ran out before ``now`` fires when it ran out (as live)."""
        due = self.hold.due(self.rule.hold)
        if due is not None and due <= now and self.state.exists:
            await self.evaluate(due)

    async def evaluate(self, now: float) -> None:
        self.report.evaluations += 1
        state = self.state

        async def related(call: RelatedCall) -> Any:
            return await self._related(state, call, now)

        holds, values = await judge(self.rule, state.document(), self.windows, now, related)
        transition = self.hold.step(holds, now, self.rule.hold)
        if transition is not None:
            at = datetime.fromtimestamp(now, UTC)
            self.report.firings.append(Firing(self.rule.id, state.id, at, transition, values()))

    async def _related(self, state: TwinState, call: RelatedCall, now: float) -> Any:
        moment = datetime.fromtimestamp(now, UTC)
        if call.direction == "out":
            others = [
                r["target"] for r in state.relationships.values() if r["name"] == call.relationship
            ]
        else:  # who pointed at the twin then is not indexed by time: today's sources are used
            try:
                incoming = await self.platform.twins.incoming(state.id)
            except NotFound:
                incoming = []
            others = [r["source"] for r in incoming if r["name"] == call.relationship]
        values = []
        for other in others:
            try:
                doc = (await self.platform.journal.as_of(other, at=moment)).document()
            except TwinkitError:
                continue
            value = lookup(doc, call.path)
            if not is_missing(value):
                values.append(value)
        return aggregate(call.agg, values)
