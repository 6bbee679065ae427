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
is one alert, not one per sample.

Time alone changes some rules: ``age(temp) > '5m'`` (no data for five minutes), a window whose
points age out, a pending ``for: 2m``. After judging such a rule the engine arms a deadline in
one heap shared by all twins (:mod:`twinkit.rules.schedule`) and the same background task
judges the rule again then, at that exact moment. It acts ``grace`` seconds after a deadline
so that a sample still in flight is judged first. On start (and when a timed rule is added)
every twin's timed rules are judged once on the stored twin, which re-arms every deadline from
the twin's metadata and windows; what had fired before a restart — a crash included — does not
fire again, and a pending ``for:`` keeps its start: each (rule, twin) hold is written whenever
it changes state (:mod:`twinkit.rules.restart`).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
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
from twinkit.rules.conditions import RelatedCall
from twinkit.rules.folding import FoldedTwins
from twinkit.rules.related import RelatedChange, dependents, related_inputs, related_value
from twinkit.rules.restart import HoldRecords, fingerprint
from twinkit.rules.rule import Check, Rule, parse_rule, python_rule, watches_model
from twinkit.rules.schedule import DEFAULT_GRACE, Schedule
from twinkit.rules.tracking import (
    JUDGED,
    Hold,
    concerns,
    event_inputs,
    judge,
    next_change,
    rule_inputs,
    sample_lag,
    window_keeps,
    window_series,
)
from twinkit.rules.windows import SeriesWindow, backfill
from twinkit.storage.ports import Batch
from twinkit.twins.state import TwinState

log = logging.getLogger(__name__)

WATCHED = (*JUDGED, EventKind.TWIN_DELETED)
RULES_KEY = ("$platform", "rules")  # where declared rules are kept (the detector_states table)
_SEED_PAGE = 500


@dataclass(slots=True)
class _Seed:
    """A pass over every twin judging ``rules`` (None: every timed rule and every rule with
    a hold kept from before a restart), to arm their deadlines."""

    rules: frozenset[str] | None
    after: str = ""


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
        grace: float = DEFAULT_GRACE,
        max_pending: int = 100_000,
        max_states: int = 50_000,
        max_timers: int = 1_000_000,
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
        self.records = HoldRecords(platform, persist=persist)  # the holds, as stored
        # (event, its sample time), and changes of twins that related rules read, in order
        self._pending: deque[tuple[Event, float] | RelatedChange] = deque()
        self._states = FoldedTwins(platform.journal, max_states)  # folded here, per event
        self._neighbours: dict[str, RelatedChange] = {}  # the pending ones, by twin
        self._wake = asyncio.Event()
        self._tick = tick  # the longest the background task sleeps without being woken
        self._grace = grace
        self.timers = Schedule(max_timers)  # every (rule, twin)'s next deadline
        self._seeds: deque[_Seed] = deque()
        self._judging = asyncio.Lock()
        self._started = False
        self._max_pending = max_pending
        self._persist = persist
        self._task: asyncio.Task[None] | None = None
        self._actions: set[asyncio.Task[None]] = set()
        self._unsubscribe: Unsubscribe | None = None
        self._busy = False
        self.dropped = 0
        self.evaluations = 0
        self.timer_evaluations = 0  # judgements made because a deadline came, not a value
        self.firings: list[Firing] = []  # the latest transitions, newest last (bounded)

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self, *, judge: bool = True) -> None:
        """Load the kept rules and start judging; ``judge=False`` only loads them, to add or
        remove rules offline (``twinkit rules apply --db``) without judging any twin."""
        if self._own_alerts:
            await self.alerts.start()
        if self._persist:
            raw = await self.platform.store.load_detector_state(*RULES_KEY)
            for source in orjson.loads(raw) if raw else []:
                try:
                    self._install(parse_rule(source))
                except TwinkitError as exc:  # a stored rule the grammar no longer accepts
                    log.error("stored rule %r is skipped: %s", source.get("id"), exc)
        if not judge:
            return
        await self.records.read_index()
        for rule in self._rules.values():
            self.records.alerted(rule, self.alerts.list(source=rule.alert_source))
        self._started = True
        self._seeds.append(_Seed(None))
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
        if self._persist and self._started:
            await self.platform.flush()  # the hold records (written as holds change)
        self._started = False
        await self.actuator.close()
        if self._own_alerts:
            self.alerts.close()

    async def settle(self) -> None:
        """Wait until every change seen so far is evaluated, every deadline the platform clock
        has reached is judged (without the grace: nothing is in flight once flushed), and
        their actions have run."""
        await self.platform.flush()
        while True:
            if self._pending or self._neighbours or self._busy or self._seeds:
                self._wake.set()
                await asyncio.sleep(0.002)
            elif self._actions:
                await asyncio.gather(*list(self._actions), return_exceptions=True)
            elif (due := self.timers.next_due()) is not None and due <= self._now():
                await self.check_timers()
            else:
                return
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
        self.timers.disarm_rule(rule_id)
        for key in [k for k in self._holds if k[0] == rule_id]:
            hold = self._holds.pop(key)
            if hold.active and rule.alert is not None:
                await self.alerts.clear_source(key[1], rule.alert_source)
        await self.records.drop_rule(rule_id)
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
        printed = fingerprint(rule)
        self.records.define(rule, printed)
        # the same definition again (a rules file applied on every start) changes nothing
        changed = old is not None and fingerprint(old) != printed
        self._rules[rule.id] = rule
        self._inputs[rule.id] = rule_inputs(rule)
        self._series[rule.id] = tuple(window_series(rule))
        self._by_model.clear()
        if changed:
            self.timers.disarm_rule(rule.id)
            for key in [k for k in self._holds if k[0] == rule.id]:
                self._holds[key].since = None  # a changed rule starts timing afresh
        self._recompute_keep()
        if self._started:
            if old is None:
                self.records.alerted(rule, self.alerts.list(source=rule.alert_source))
            if rule.timed and (old is None or changed):  # arm its deadlines on the twins now
                self._seeds.append(_Seed(frozenset({rule.id})))
                self._wake.set()

    def _recompute_keep(self) -> None:
        self._keep = keep = window_keeps(self._rules.values())
        self._related_rules, self._related_inputs = related_inputs(self._rules.values())
        for (_, series), window in list(self._windows.items()):
            if series in keep:
                window.keep = keep[series]
        self._windows = {k: w for k, w in self._windows.items() if k[1] in keep}

    async def _save(self) -> None:
        if not self._persist:
            return
        declared = [dict(r.source) for r in self.list() if r.source is not None]
        await self.platform.stage(Batch(detector_states={RULES_KEY: orjson.dumps(declared)}))

    def rules_for(self, twin: str, model: str | None) -> builtins.list[Rule]:
        """The rules that watch ``twin`` (by id or by model, honouring ``extends``)."""
        candidates = self._by_model.get(model)
        if candidates is None:
            registry = self.platform.registry
            candidates = [r for r in self._rules.values() if watches_model(r, registry, model)]
            self._by_model[model] = candidates
        if not any(r.twins for r in candidates):
            return candidates
        return [r for r in candidates if not r.twins or twin in r.twins]

    # -- the feed -----------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        twin = event.twin
        if event.kind is EventKind.TWIN_DELETED:
            self._forget(twin)
            return
        if not self._rules:
            return
        if self._related_rules and concerns(self._related_inputs, event_inputs(event)):
            change = self._neighbours.get(twin)
            if change is None:  # a burst of changes is judged once, at its last one
                change = self._neighbours[twin] = RelatedChange(twin, event.at.timestamp())
                self._pending.append(change)
            change.last = event.at.timestamp()
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
            self._states.forget(twin)  # its next event reloads the twin
            return
        self._pending.append((event, moment))
        self._wake.set()

    def _forget(self, twin: str) -> None:
        self.records.drop_twin(twin)
        self.timers.disarm_twin(twin)
        self._states.forget(twin)
        self._windows = {k: w for k, w in self._windows.items() if k[0] != twin}
        self._holds = {k: h for k, h in self._holds.items() if k[1] != twin}

    def _now(self) -> float:
        return self.platform.clock.now().timestamp()

    async def _run(self) -> None:
        while True:
            timeout = 0.0 if self._seeds else self._tick
            due = self.timers.next_due()
            if due is not None:  # sleep until the next deadline (plus grace) at most
                timeout = min(timeout, max(0.0, due + self._grace - self._now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            async with self._judging:
                self._busy = True
                try:
                    await self._evaluate_pending()
                    await self._seed_page()
                    await self._judge_due(self._now() - self._grace)
                except Exception:
                    log.exception("rule evaluation failed")
                finally:
                    self._busy = False

    async def evaluate_pending(self) -> None:
        """Evaluate every change seen since the last call (the background task's work)."""
        async with self._judging:
            await self._evaluate_pending()

    async def _evaluate_pending(self) -> None:
        """Evaluate every change seen since the last call.

        Each event is evaluated on the twin exactly as that event left it (the engine folds
        the journal events itself), so a dip between two samples is never skipped, however
        far behind the engine runs.
        """
        while self._pending:
            item = self._pending.popleft()
            if isinstance(item, RelatedChange):
                await self._judge_dependents(item)
                continue
            event, moment = item
            await self._judge_passed(event.twin, moment - self._grace, event.revision)
            try:
                state = await self._states.after(event)
            except TwinkitError:  # deleted meanwhile
                self._forget(event.twin)
                continue
            if state is not None:
                lag = event.at.timestamp() - moment  # the twin's time trails the clock by this
                await self.evaluate_twin(event.twin, moment, state, event_inputs(event), lag=lag)

    async def _judge_dependents(self, change: RelatedChange) -> None:
        """A twin changed that related rules read: judge the twins reading it, at the change
        (after the deadlines the change shows have passed), in order with their own values."""
        del self._neighbours[change.twin]
        for other in await dependents(self.platform, self._rules.values(), change.twin):
            await self._judge_passed(other, change.first - self._grace)
            await self.evaluate_twin(other, change.last)

    async def _judge_passed(self, twin: str, before: float, revision: int | None = None) -> None:
        """Before a change — a value of the twin (its ``revision``, ``before`` in the twin's
        time) or of a twin it reads (``before`` on the clock) — the twin's deadlines that change
        shows have passed, on the twins as they were then: as the timer would have, had the
        engine kept up."""
        if twin not in self.timers.twins:
            return
        while due := self.timers.take_twin(twin, before, by_clock=revision is None):
            state = self._states.get(twin)
            if revision is not None and (state is None or state.revision >= revision):
                try:
                    state = await self.platform.journal.as_of(twin, revision=revision - 1)
                except TwinkitError:
                    return
            for (rule_id, _), at, lag in due:
                self.timer_evaluations += 1
                await self.evaluate_twin(twin, at, state, only=(rule_id,), lag=lag, past=True)

    async def check_timers(self) -> None:
        """Judge every (rule, twin) whose deadline the platform clock has reached, at the
        moment of its deadline. The background task does this by itself ``grace`` seconds
        after each deadline; call it directly when driving a fake clock."""
        async with self._judging:
            await self._judge_due(self._now())

    async def _judge_due(self, until: float) -> None:
        await self._evaluate_pending()  # values that arrived before the deadlines come first
        for (rule_id, twin), at, lag in self.timers.take(until):
            self.timer_evaluations += 1
            state = self._states.get(twin)  # the twin as the engine last judged it
            await self.evaluate_twin(twin, at, state, only=(rule_id,), lag=lag)

    async def _seed_page(self) -> None:
        """One page of the oldest seeding pass (one page per turn: events are not held up)."""
        if not self._seeds:
            return
        seed = self._seeds[0]
        page = await self.platform.twins.page(after=seed.after, limit=_SEED_PAGE)
        if len(page) < _SEED_PAGE:
            self._seeds.popleft()
        else:
            seed.after = page[-1].id
        # The page can show a commit whose events are not delivered yet. Flushing waits for
        # the commit in flight (its events are published before its writers are released):
        # they arrive and are judged first, so a seed does not judge what the engine has not
        # seen (a commit starting after the page was read is only judged after the seed).
        await self.platform.flush()
        await self._evaluate_pending()
        await self.records.load_many(s.id for s in page if self.rules_for(s.id, s.model))
        now = self._now()
        for state in page:
            known = self._states.get(state.id)
            if known is not None and known.revision > state.revision:
                state = known
            candidates = self.rules_for(state.id, state.model)
            rules = [
                r.id
                for r in candidates
                if (r.timed or (r.id, state.id) in self._holds or self.records.kept(r.id, state.id))
                and (seed.rules is None or r.id in seed.rules)
                and self.timers.get((r.id, state.id)) is None  # else judged since, and armed
            ]
            if rules:
                lag = sample_lag(state.document())
                await self.evaluate_twin(state.id, now - lag, state, only=rules, lag=lag)

    # -- evaluation ---------------------------------------------------------------------------
    async def evaluate_twin(
        self,
        twin: str,
        moment: float,
        state: TwinState | None = None,
        changed: frozenset[str] | None = None,
        *,
        only: Collection[str] | None = None,
        lag: float = 0.0,
        past: bool = False,
    ) -> None:
        """Judge the rules of ``twin`` at ``moment`` (on its current state unless given) that
        read one of the ``changed`` values (all of them when None), or the rules ``only``;
        re-arm the deadlines of the timed ones (``lag``: how far the twin's time trails the
        platform clock; ``past``: a moment already gone, related twins are read as they were)."""
        if state is None:
            try:
                state = await self.platform.twins.get(twin)
            except NotFound:
                self._forget(twin)
                return
        rules = self.rules_for(twin, state.model)
        if not rules:
            return
        if not self.records.loaded(twin):
            await self.records.load(twin)
        doc: dict[str, Any] | None = None
        for rule in rules:
            if only is not None and rule.id not in only:
                continue
            if not concerns(self._inputs.get(rule.id), changed):
                continue
            if doc is None:
                doc = state.document()
            self.evaluations += 1
            try:
                when = moment + lag if past else None
                holds, values, windows = await self._holds_now(rule, state, doc, moment, when)
            except Exception:
                log.exception("rule %s failed on twin %s", rule.id, twin)
                continue
            hold = self._holds.get((rule.id, twin))
            if hold is None:
                hold = self._holds[(rule.id, twin)] = self.records.restore(rule, twin)
            since, active = hold.since, hold.active
            transition = hold.step(holds, moment, rule.hold)
            written = None
            if hold.since != since or hold.active != active:  # a change of state: record it
                written = self.records.note(rule, twin, hold)
            if rule.timed:
                change = next_change(rule, doc, windows, moment)
                self._arm(rule, twin, hold, change, moment, lag)
            if transition is None:
                if not hold.active and hold.since is None:
                    self._holds.pop((rule.id, twin), None)
                continue
            at = datetime.fromtimestamp(moment, UTC)
            firing = Firing(rule.id, twin, at, transition, values())
            self.firings = [*self.firings[-999:], firing]
            task = self.actuator.submit(rule, firing, written)  # once recorded: never twice
            self._actions.add(task)
            task.add_done_callback(self._actions.discard)

    def _arm(
        self, rule: Rule, twin: str, hold: Hold, change: float | None, now: float, lag: float
    ) -> None:
        # strictly later than the judgement: a deadline can never make the engine spin
        at = change if change is not None and change > now else None
        due = hold.due(rule.hold)
        if due is not None and due > now and (at is None or due < at):
            at = due
        self.timers.arm((rule.id, twin), at, lag)

    async def _holds_now(
        self, rule: Rule, state: TwinState, doc: dict[str, Any], now: float, then: float | None
    ) -> tuple[bool, Callable[[], dict[str, Any]], dict[str, SeriesWindow]]:
        windows: dict[str, SeriesWindow] = {}
        for name in self._series.get(rule.id, ()):
            window = self._windows.get((state.id, name))
            if window is None or not window.loaded:
                window = await self._window(state.id, name, now)
            windows[name] = window

        async def related(call: RelatedCall) -> Any:
            return await related_value(self.platform, state, call, then)

        holds, values = await judge(rule, doc, windows, now, related)
        return holds, values, windows

    async def _window(self, twin: str, series: str, now: float) -> SeriesWindow:
        """The twin's window over ``series``, back-filled from history on first use."""
        window = self._windows.get((twin, series))
        if window is None:
            window = self._windows[(twin, series)] = SeriesWindow(self._keep.get(series, 0.0))
        if not window.loaded:
            await backfill(self.platform, twin, series, window, now)
        return window
