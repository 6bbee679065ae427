"""The rule engine: follows the change feed, evaluates rules per twin, fires their actions.

TL;DR::

    engine = RuleEngine(platform, commands=commands)
    await engine.start()
    await engine.add({"id": "hot", "models": ["dtmi:acme:Pump;1"],
                      "when": "avg(telemetry.temp, '5m') > 80", "for": "2m",
                      "actions": [{"alert": {"severity": "critical"}}]})
    ...
    await engine.close()

The bus callback only files each sample into the windows the rules read and queues the
event (cheap, bounded, never blocks ingestion); a background task folds each event onto its own
copy of the twin, judges the rules that read a value the event changed, on the twin exactly as
that event left it, and runs actions in tasks of their own.

A rule *fires* when its condition starts to hold (after ``for``), and *clears* when it stops
holding; nothing happens while it keeps holding, so one overheating pump
is one alert, not one per sample. ``for`` completes on a timer too: a condition that became
true and then saw no more samples still fires ``for`` later.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from twinkit.bus import Filter, Unsubscribe
from twinkit.history.series import points_of
from twinkit.model.errors import Conflict, NotFound, TwinkitError
from twinkit.model.events import Event, EventKind
from twinkit.platform import Platform
from twinkit.rules.actions import Actuator, CommandSender, Firing
from twinkit.rules.alerts import Alerts
from twinkit.rules.conditions import RelatedCall, is_missing, lookup
from twinkit.rules.rule import Check, Rule, parse_rule, python_rule
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
from twinkit.storage.ports import Batch
from twinkit.twins.state import TwinState, apply

log = logging.getLogger(__name__)

WATCHED = (*JUDGED, EventKind.TWIN_DELETED)
RULES_KEY = ("$platform", "rules")  # where declared rules are kept (the detector_states table)


class RuleEngine:
    """Rules by id, evaluated against the live twins; see the module text."""

    def __init__(
        self,
        platform: Platform,
        *,
        commands: CommandSender | None = None,
        http: httpx.AsyncClient | None = None,
        alerts: Alerts | None = None,
        tick: float = 1.0,
        max_pending: int = 100_000,
        max_states: int = 50_000,
        persist: bool = True,
    ) -> None:
        self.platform = platform
        self.alerts = alerts or Alerts(platform)
        self._own_alerts = alerts is None
        self.actuator = Actuator(platform, self.alerts, commands=commands, http=http)
        self._rules: dict[str, Rule] = {}
        self._by_model: dict[str | None, list[Rule]] = {}
        self._keep: dict[str, float] = {}  # series → longest window over it
        self._related_rules = False
        self._related_inputs: frozenset[str] = frozenset()
        self._inputs: dict[str, frozenset[str] | None] = {}
        self._series: dict[str, tuple[str, ...]] = {}  # rule → the series it reads windows of
        self._windows: dict[tuple[str, str], SeriesWindow] = {}
        self._holds: dict[tuple[str, str], Hold] = {}  # (rule, twin)
        self._pending: deque[tuple[Event, float]] = deque()  # (event, its sample time)
        self._states: OrderedDict[str, TwinState] = OrderedDict()  # folded here, per event
        self._max_states = max_states
        self._neighbours: set[str] = set()  # twins whose related twins must be re-evaluated
        self._wake = asyncio.Event()
        self._tick = tick
        self._max_pending = max_pending
        self._persist = persist
        self._task: asyncio.Task[None] | None = None
        self._actions: set[asyncio.Task[None]] = set()
        self._unsubscribe: Unsubscribe | None = None
        self._busy = False
        self.dropped = 0
        self.evaluations = 0
        self.firings: list[Firing] = []  # the latest transitions, newest last (bounded)

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._own_alerts:
            await self.alerts.start()
        if self._persist:
            raw = await self.platform.store.load_detector_state(*RULES_KEY)
            for source in orjson.loads(raw) if raw else []:
                try:
                    self._install(parse_rule(source))
                except TwinkitError as exc:  # a stored rule the grammar no longer accepts
                    log.error("stored rule %r is skipped: %s", source.get("id"), exc)
        kinds = [k.value for k in WATCHED]
        self._unsubscribe = self.platform.bus.subscribe(self._on_event, Filter.of(kinds=kinds))
        self._task = asyncio.create_task(self._run(), name="twinkit-rules")

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.settle()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.actuator.close()
        if self._own_alerts:
            self.alerts.close()

    async def settle(self) -> None:
        """Wait until every change seen so far is evaluated and its actions have run."""
        await self.platform.flush()
        while self._pending or self._neighbours or self._busy or self._actions:
            if self._actions:
                await asyncio.gather(*list(self._actions), return_exceptions=True)
            else:
                await asyncio.sleep(0.002)
            await self.platform.flush()

    # -- the rule set -------------------------------------------------------------------------
    async def add(self, rule: Rule | dict[str, Any], *, replace: bool = True) -> Rule:
        """Add (or replace) a rule; declared rules are kept with the platform."""
        if not isinstance(rule, Rule):
            rule = parse_rule(rule)
        if not replace and rule.id in self._rules:
            raise Conflict(f"rule {rule.id!r} already exists", "/id")
        self._install(rule)
        await self._save()
        return rule

    async def add_many(self, rules: Iterable[Rule | dict[str, Any]]) -> list[Rule]:
        parsed = [r if isinstance(r, Rule) else parse_rule(r, f"/{i}") for i, r in enumerate(rules)]
        for rule in parsed:
            self._install(rule)
        await self._save()
        return parsed

    def rule(
        self,
        rule_id: str,
        *,
        when: str | None = None,
        models: tuple[str, ...] | list[str] = (),
        twins: tuple[str, ...] | list[str] = (),
        hold: str | float = 0.0,
        actions: list[Any] | tuple[Any, ...] = ("alert",),
        on_clear: list[Any] | tuple[Any, ...] = (),
        windows: dict[str, str | float] | None = None,
    ) -> Callable[[Check], Check]:
        """Decorator: register a Python check (gets a :class:`TwinView`, returns a bool)."""

        def register(check: Check) -> Check:
            self._install(
                python_rule(
                    rule_id,
                    check,
                    when=when,
                    models=models,
                    twins=twins,
                    hold=hold,
                    actions=actions,
                    on_clear=on_clear,
                    windows=windows,
                )
            )
            return check

        return register

    async def remove(self, rule_id: str) -> None:
        rule = self.get(rule_id)
        del self._rules[rule_id]
        self._inputs.pop(rule_id, None)
        self._series.pop(rule_id, None)
        self._by_model.clear()
        for key in [k for k in self._holds if k[0] == rule_id]:
            hold = self._holds.pop(key)
            if hold.active and rule.alert is not None:
                await self.alerts.clear_source(key[1], rule.alert_source)
        self._recompute_keep()
        await self._save()

    def get(self, rule_id: str) -> Rule:
        rule = self._rules.get(rule_id)
        if rule is None:
            raise NotFound(f"no rule {rule_id!r}", "/id")
        return rule

    def list(self) -> builtins.list[Rule]:
        return sorted(self._rules.values(), key=lambda r: r.id)

    def _install(self, rule: Rule) -> None:
        old = self._rules.get(rule.id)
        self._rules[rule.id] = rule
        self._inputs[rule.id] = rule_inputs(rule)
        self._series[rule.id] = tuple(window_series(rule))
        self._by_model.clear()
        if old is not None:
            for key in [k for k in self._holds if k[0] == rule.id]:
                self._holds[key].since = None  # a changed rule starts timing afresh
        self._recompute_keep()

    def _recompute_keep(self) -> None:
        keep: dict[str, float] = {}
        for rule in self._rules.values():
            spans = dict(rule.windows)
            for call in rule.condition.windows if rule.condition else ():
                spans[call.series] = max(spans.get(call.series, 0.0), call.span)
            for series, span in spans.items():
                keep[series] = max(keep.get(series, 0.0), span)
        self._keep = keep
        related = [c for r in self._rules.values() if r.condition for c in r.condition.related]
        self._related_rules = bool(related)
        # what a related twin must change for the twins reading it to be judged again
        self._related_inputs = frozenset(
            f"{c.path[0]}/{c.path[1]}" for c in related if len(c.path) > 1
        )
        for (_, series), window in list(self._windows.items()):
            if series in keep:
                window.keep = keep[series]
        self._windows = {k: w for k, w in self._windows.items() if k[1] in keep}

    async def _save(self) -> None:
        if not self._persist:
            return
        declared = [dict(r.source) for r in self.list() if r.source is not None]
        await self.platform._committer.stage(
            Batch(detector_states={RULES_KEY: orjson.dumps(declared)})
        )

    def rules_for(self, twin: str, model: str | None) -> builtins.list[Rule]:
        """The rules that watch ``twin`` (by id or by model, honouring ``extends``)."""
        candidates = self._by_model.get(model)
        if candidates is None:
            candidates = [r for r in self._rules.values() if self._model_matches(r, model)]
            self._by_model[model] = candidates
        if not any(r.twins for r in candidates):
            return candidates
        return [r for r in candidates if not r.twins or twin in r.twins]

    def _model_matches(self, rule: Rule, model: str | None) -> bool:
        if not rule.models:
            return True
        if model is None:
            return False
        try:
            resolved = self.platform.registry.resolve(model)
        except Exception:
            return model in rule.models
        return any(resolved.is_a(m) for m in rule.models)

    # -- the feed -----------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        twin = event.twin
        if event.kind is EventKind.TWIN_DELETED:
            self._forget(twin)
            return
        if not self._rules:
            return
        if self._related_rules and concerns(self._related_inputs, event_inputs(event)):
            self._neighbours.add(twin)
            self._wake.set()
        if not self.rules_for(twin, event.model):
            return
        moment = event.at.timestamp()
        for _, series, t, value in points_of(event):
            keep = self._keep.get(series)
            if keep is not None:
                window = self._windows.get((twin, series))
                if window is None:
                    window = self._windows[(twin, series)] = SeriesWindow(keep)
                window.add(t, value)
            moment = t
        if len(self._pending) >= self._max_pending:
            self.dropped += 1
            self._states.pop(twin, None)  # its next event reloads the twin
            return
        self._pending.append((event, moment))
        self._wake.set()

    def _forget(self, twin: str) -> None:
        self._states.pop(twin, None)
        self._windows = {k: w for k, w in self._windows.items() if k[0] != twin}
        self._holds = {k: h for k, h in self._holds.items() if k[1] != twin}

    def _now(self) -> float:
        return self.platform.clock.now().timestamp()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._tick)
            self._wake.clear()
            self._busy = True
            try:
                await self.evaluate_pending()
                await self.check_timers()
            except Exception:
                log.exception("rule evaluation failed")
            finally:
                self._busy = False

    async def evaluate_pending(self) -> None:
        """Evaluate every change seen since the last call (the background task's work).

        Each event is evaluated on the twin exactly as that event left it (the engine folds
        the journal events itself), so a dip between two samples is never skipped, however
        far behind the engine runs.
        """
        while self._pending:
            event, moment = self._pending.popleft()
            state = await self._state_after(event)
            if state is not None:
                await self.evaluate_twin(event.twin, moment, state, event_inputs(event))
        while self._neighbours:
            changed, self._neighbours = self._neighbours, set()
            for twin in changed:
                for other in await self._dependents(twin):
                    await self.evaluate_twin(other, self._now())

    async def _state_after(self, event: Event) -> TwinState | None:
        """The twin right after ``event``, or None when a newer state was already judged."""
        state = self._states.get(event.twin)
        if state is not None and state.revision + 1 == event.revision:
            state = apply(state, event)
        elif state is not None and state.revision >= event.revision:
            return None
        else:  # first sight of the twin, or events were dropped: read it as of this event
            try:
                state = await self.platform.journal.as_of(event.twin, revision=event.revision)
            except TwinkitError:
                self._forget(event.twin)
                return None
        self._remember(state)
        return state

    def _remember(self, state: TwinState) -> None:
        self._states[state.id] = state
        self._states.move_to_end(state.id)
        while len(self._states) > self._max_states:
            self._states.popitem(last=False)

    async def check_timers(self) -> None:
        """Complete every ``for:`` that has run out by the platform clock (called each tick)."""
        now = self._now()
        due = {
            twin
            for (rule_id, twin), hold in self._holds.items()
            if rule_id in self._rules
            and (at := hold.due(self._rules[rule_id].hold)) is not None
            and at <= now
        }
        for twin in due:
            await self.evaluate_twin(twin, now)

    async def _dependents(self, twin: str) -> set[str]:
        """Twins whose ``related()``/``incoming()`` read ``twin``."""
        out_names = {
            c.relationship
            for r in self._rules.values()
            if r.condition
            for c in r.condition.related
            if c.direction == "out"
        }
        in_names = {
            c.relationship
            for r in self._rules.values()
            if r.condition
            for c in r.condition.related
            if c.direction == "in"
        }
        found: set[str] = set()
        try:
            if out_names:
                found |= {
                    r["source"]
                    for r in await self.platform.twins.incoming(twin)
                    if r["name"] in out_names
                }
            if in_names:
                state = await self.platform.twins.get(twin)
                found |= {
                    r["target"] for r in state.relationships.values() if r["name"] in in_names
                }
        except NotFound:
            pass
        found.discard(twin)
        return found

    # -- evaluation ---------------------------------------------------------------------------
    async def evaluate_twin(
        self,
        twin: str,
        moment: float,
        state: TwinState | None = None,
        changed: frozenset[str] | None = None,
    ) -> None:
        """Judge the rules of ``twin`` at ``moment`` (on its current state unless given) that
        read one of the ``changed`` values (all of them when None)."""
        if state is None:
            try:
                state = await self.platform.twins.get(twin)
            except NotFound:
                self._forget(twin)
                return
        rules = self.rules_for(twin, state.model)
        if not rules:
            return
        doc: dict[str, Any] | None = None
        for rule in rules:
            if not concerns(self._inputs.get(rule.id), changed):
                continue
            if doc is None:
                doc = state.document()
            self.evaluations += 1
            try:
                holds, values = await self._holds_now(rule, state, doc, moment)
            except Exception:
                log.exception("rule %s failed on twin %s", rule.id, twin)
                continue
            hold = self._holds.get((rule.id, twin))
            if hold is None:
                hold = self._holds[(rule.id, twin)] = Hold()
            transition = hold.step(holds, moment, rule.hold)
            if transition is None:
                if not hold.active and hold.since is None:
                    self._holds.pop((rule.id, twin), None)
                continue
            at = datetime.fromtimestamp(moment, UTC)
            firing = Firing(rule.id, twin, at, transition, values())
            self.firings = [*self.firings[-999:], firing]
            task = asyncio.create_task(self.actuator.fire(rule, firing))
            self._actions.add(task)
            task.add_done_callback(self._actions.discard)

    async def _holds_now(
        self, rule: Rule, state: TwinState, doc: dict[str, Any], now: float
    ) -> tuple[bool, Callable[[], dict[str, Any]]]:
        windows: dict[str, SeriesWindow] = {}
        for name in self._series.get(rule.id, ()):
            window = self._windows.get((state.id, name))
            if window is None or not window.loaded:
                window = await self._window(state.id, name, now)
            windows[name] = window

        async def related(call: RelatedCall) -> Any:
            return await self._related(state, call)

        return await judge(rule, doc, windows, now, related)

    async def _window(self, twin: str, series: str, now: float) -> SeriesWindow:
        """The twin's window over ``series``, back-filled from history on first use."""
        keep = self._keep.get(series, 0.0)
        window = self._windows.get((twin, series))
        if window is None:
            window = self._windows[(twin, series)] = SeriesWindow(keep)
        if not window.loaded:
            window.loaded = True
            first = window.times[0] if window.times else now
            start = datetime.fromtimestamp(first - keep, UTC)
            end = datetime.fromtimestamp(first, UTC)
            try:
                points = await self.platform.history.read(twin, series, start=start, end=end)
            except NotFound:
                points = []
            window.prepend(points)
        return window

    async def _related(self, state: TwinState, call: RelatedCall) -> Any:
        if call.direction == "out":
            others = [
                r["target"] for r in state.relationships.values() if r["name"] == call.relationship
            ]
        else:
            others = [
                r["source"]
                for r in await self.platform.twins.incoming(state.id)
                if r["name"] == call.relationship
            ]
        values = []
        for other in others:
            try:
                doc = (await self.platform.twins.get(other)).document()
            except NotFound:
                continue
            value = lookup(doc, call.path)
            if not is_missing(value):
                values.append(value)
        return aggregate(call.agg, values)
