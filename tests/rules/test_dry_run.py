"""Dry-run: replay a twin's history through a rule, report when it fires, change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.rules.conftest import PUMP_MODEL, TANK_MODEL
from twinkit import Platform
from twinkit.model.errors import NotFound
from twinkit.rules import RuleEngine, dry_run, parse_rule
from twinkit.testing import FrozenClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def history(tk: Platform, clock: FrozenClock, values: list[float], step: float = 30) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    for value in values:
        await tk.twins.telemetry("p1", {"temperature": value})
        clock.advance(step)


async def test_dry_run_lists_each_firing_and_clearing_with_times_and_values(
    tk: Platform, clock: FrozenClock
) -> None:
    await history(tk, clock, [70, 85, 90, 60, 95, 70])
    rule = parse_rule({"id": "hot", "when": "telemetry.temperature > 80", "actions": ["alert"]})
    before = len(await tk.journal.events("p1"))
    report = (await dry_run(tk, rule, "p1")).to_json()
    assert report["fired"] == 2
    assert [(f["transition"], f["at"], f["values"]) for f in report["firings"]] == [
        ("fired", "2026-01-01T00:00:30Z", {"telemetry.temperature": 85}),
        ("cleared", "2026-01-01T00:01:30Z", {"telemetry.temperature": 60}),
        ("fired", "2026-01-01T00:02:00Z", {"telemetry.temperature": 95}),
        ("cleared", "2026-01-01T00:02:30Z", {"telemetry.temperature": 70}),
    ]
    assert len(await tk.journal.events("p1")) == before  # no side effects


async def test_dry_run_applies_windows_and_for_like_the_live_engine(
    tk: Platform, clock: FrozenClock
) -> None:
    values: list[float] = [70, 70, 90, 90, 90, 90, 90, 90, 60, 60, 60, 60]
    rule = parse_rule(
        {
            "id": "warm",
            "when": "avg(telemetry.temperature, '1m') > 80",
            "for": "1m",
            "actions": ["alert"],
        }
    )
    engine = RuleEngine(tk, tick=0.01)
    await engine.start()
    try:
        await engine.add(rule)
        await history(tk, clock, values)
        await engine.settle()
        live = [(f.transition, f.at) for f in engine.firings]
    finally:
        await engine.close()
    replayed = [(f.transition, f.at) for f in (await dry_run(tk, rule, "p1")).firings]
    assert replayed == live
    assert live == [
        ("fired", T0 + timedelta(seconds=150)),
        ("cleared", T0 + timedelta(seconds=240)),
    ]


async def test_a_for_that_runs_out_between_samples_fires_when_it_ran_out(
    tk: Platform, clock: FrozenClock
) -> None:
    await history(tk, clock, [90, 90, 50], step=300)
    rule = parse_rule(
        {"id": "r", "when": "telemetry.temperature > 80", "for": "2m", "actions": ["alert"]}
    )
    firings = (await dry_run(tk, rule, "p1")).firings
    assert [(f.transition, f.at) for f in firings] == [
        ("fired", T0 + timedelta(minutes=2)),
        ("cleared", T0 + timedelta(minutes=10)),
    ]


async def test_start_and_end_limit_what_is_reported(tk: Platform, clock: FrozenClock) -> None:
    await history(tk, clock, [90, 50, 90, 50, 90, 50])
    rule = parse_rule({"id": "r", "when": "telemetry.temperature > 80", "actions": ["alert"]})
    report = await dry_run(
        tk, rule, "p1", start=T0 + timedelta(seconds=45), end=T0 + timedelta(seconds=100)
    )
    assert [(f.transition, f.at) for f in report.firings] == [
        ("fired", T0 + timedelta(seconds=60)),
        ("cleared", T0 + timedelta(seconds=90)),
    ]


async def test_related_twins_are_read_as_they_were(tk: Platform, clock: FrozenClock) -> None:
    await tk.twins.put("t1", model=TANK_MODEL, reported={"level": 10.0})
    await tk.twins.put("p1", model=PUMP_MODEL)
    await tk.twins.put_relationship("p1", "f", {"name": "feeds", "target": "t1"})
    clock.advance(10)
    await tk.twins.telemetry("p1", {"temperature": 1.0})  # tank at 10: no firing
    clock.advance(10)
    await tk.twins.patch("t1", "reported", {"level": 99.0})
    clock.advance(10)
    await tk.twins.telemetry("p1", {"temperature": 2.0})  # tank at 99 now
    rule = parse_rule({"id": "r", "when": "related('feeds', level) > 90", "actions": ["alert"]})
    firings = (await dry_run(tk, rule, "p1")).firings
    # judged when the tank changed, as live (not only at the pump's next value)
    assert [(f.transition, f.at) for f in firings] == [("fired", T0 + timedelta(seconds=20))]
    assert firings[0].values == {"related('feeds', level)": 99.0}


async def test_python_rules_can_be_dry_run(tk: Platform, clock: FrozenClock) -> None:
    from twinkit.rules import python_rule

    await history(tk, clock, [10, 20, 40])
    rule = python_rule(
        "jump",
        lambda twin: (
            (twin.max("telemetry.temperature", "1m") or 0)
            - (twin.min("telemetry.temperature", "1m") or 0)
            > 15
        ),
        windows={"telemetry.temperature": "1m"},
    )
    firings = (await dry_run(tk, rule, "p1")).firings
    # fires with the 40; clears at 90 s, with no new value, when the 20 leaves the minute
    assert [(f.transition, f.at) for f in firings] == [
        ("fired", T0 + timedelta(seconds=60)),
        ("cleared", T0 + timedelta(seconds=90)),
    ]


async def test_an_unknown_twin_is_not_found(tk: Platform) -> None:
    rule = parse_rule({"id": "r", "when": "temp > 1", "actions": ["alert"]})
    with pytest.raises(NotFound):
        await dry_run(tk, rule, "ghost")
