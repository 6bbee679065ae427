"""Timed rules across a restart of the platform (a real SQLite file): deadlines are recomputed
from the stored twins, and what fired before the restart does not fire again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.rules.conftest import MODELS, PUMP_MODEL
from twinkit import Platform
from twinkit.model.events import EventKind
from twinkit.rules import RuleEngine
from twinkit.testing import FrozenClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SILENT = {"id": "silent", "when": "age(telemetry.temperature) > '5m'", "actions": ["alert"]}
HOT = {"id": "hot", "when": "telemetry.temperature > 80", "for": "2m", "actions": ["alert"]}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@asynccontextmanager
async def running(
    path: Path, clock: FrozenClock, *, persist: bool = True
) -> AsyncIterator[tuple[Platform, RuleEngine]]:
    """One run of the platform and its rule engine on the file at ``path``."""
    async with Platform.open(path, clock=clock) as tk:
        if tk.models.list() == []:
            await tk.models.add(MODELS)
        engine = RuleEngine(tk, tick=0.01, persist=persist)
        await engine.start()
        try:
            yield tk, engine
        finally:
            await engine.close()


async def raised_and_cleared(tk: Platform, twin: str) -> list[tuple[str, datetime]]:
    kinds = (EventKind.ALERT_RAISED, EventKind.ALERT_CLEARED)
    return [(e.kind.value, e.at) for e in await tk.journal.events(twin) if e.kind in kinds]


async def test_an_alert_raised_before_a_restart_is_not_raised_again_and_clears_after(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "plant.db"
    async with running(path, clock) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await engine.add(SILENT)
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        clock.set(at(300))
        await engine.settle()
        assert len(engine.alerts.list()) == 1
    clock.set(at(900))
    async with running(path, clock) as (tk, engine):
        await engine.settle()
        assert engine.firings == []  # still silent: nothing new
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        await engine.settle()
        assert [(f.transition, f.at) for f in engine.firings] == [("cleared", at(900))]
        assert await raised_and_cleared(tk, "p1") == [
            ("AlertRaised", at(300)),
            ("AlertCleared", at(900)),
        ]


async def test_a_deadline_still_ahead_is_armed_again_from_the_twin_metadata(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "plant.db"
    async with running(path, clock) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await engine.add(SILENT)
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        clock.set(at(100))
        await engine.settle()
    clock.set(at(150))
    async with running(path, clock) as (tk, engine):
        await engine.settle()
        assert engine.timers.get(("silent", "p1")) == at(300).timestamp()
        clock.set(at(299))
        await engine.settle()
        assert engine.firings == []
        clock.set(at(300))
        await engine.settle()
        assert [(f.transition, f.at) for f in engine.firings] == [("fired", at(300))]


async def test_a_deadline_that_passed_while_the_platform_was_down_fires_once_on_start(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "plant.db"
    async with running(path, clock) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await engine.add(SILENT)
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        await engine.settle()
    clock.set(at(3600))
    async with running(path, clock) as (tk, engine):
        await engine.settle()
        assert [(f.transition, f.at) for f in engine.firings] == [("fired", at(3600))]
    clock.set(at(7200))
    async with running(path, clock) as (tk, engine):
        await engine.settle()
        assert engine.firings == []
        assert [k for k, _ in await raised_and_cleared(tk, "p1")] == ["AlertRaised"]


async def test_a_pending_for_keeps_its_start_across_a_clean_restart(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "plant.db"
    async with running(path, clock) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await engine.add(HOT)
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        clock.set(at(60))
        await engine.settle()
    clock.set(at(90))
    async with running(path, clock) as (tk, engine):
        await engine.add(HOT)  # as a rules file does on every start: the same rule again
        await engine.settle()
        assert engine.firings == []
        clock.set(at(120))
        await engine.settle()
        assert [(f.transition, f.at) for f in engine.firings] == [("fired", at(120))]


async def test_without_saved_holds_an_open_alert_still_counts_as_fired(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """As after a crash: nothing was saved on close, the journal's open alert is all there is."""
    path = tmp_path / "plant.db"
    async with running(path, clock, persist=False) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await engine.add(HOT)
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        clock.set(at(200))
        await engine.settle()
        assert len(engine.alerts.list()) == 1
    async with running(path, clock, persist=False) as (tk, engine):
        await engine.add(HOT)
        await tk.twins.telemetry("p1", {"temperature": 95.0})  # still hot: no second alert
        clock.set(at(400))
        await engine.settle()
        assert engine.firings == []
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        await engine.settle()
        assert [f.transition for f in engine.firings] == ["cleared"]
        assert [k for k, _ in await raised_and_cleared(tk, "p1")] == [
            "AlertRaised",
            "AlertCleared",
        ]


async def test_a_changed_rule_does_not_inherit_the_saved_timing(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "plant.db"
    async with running(path, clock) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await engine.add(HOT)
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        clock.set(at(60))
        await engine.settle()
    clock.set(at(90))
    async with running(path, clock) as (tk, engine):
        await engine.add({**HOT, "for": "3m"})  # starts timing afresh, from now
        await engine.settle()
        clock.set(at(200))
        await engine.settle()
        assert engine.firings == []
        clock.set(at(270))
        await engine.settle()
        assert [(f.transition, f.at) for f in engine.firings] == [("fired", at(270))]
