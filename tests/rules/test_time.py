"""Rules whose truth changes with the passing of time alone: no data for N minutes (``age()``),
``for:`` that completes without a new value, windows whose points age out. A fake clock drives
the platform and the engine; alerts must be raised and cleared at the exact moments."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.rules.conftest import PUMP_MODEL
from twinkit import Platform
from twinkit.model.errors import ValidationFailed
from twinkit.model.events import EventKind
from twinkit.rules import RuleEngine, compile_rule_condition, dry_run, parse_rule
from twinkit.testing import FrozenClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SILENT = {
    "id": "silent",
    "models": [PUMP_MODEL],
    "when": "age(telemetry.temperature) > '5m'",
    "actions": [{"alert": {"severity": "warning", "message": "{twin} sent nothing for 5 min"}}],
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def alert_log(tk: Platform, twin: str) -> list[tuple[str, datetime]]:
    """The twin's alert events: (kind, when recorded)."""
    kinds = (EventKind.ALERT_RAISED, EventKind.ALERT_CLEARED)
    return [(e.kind.value, e.at) for e in await tk.journal.events(twin) if e.kind in kinds]


def transitions(engine: RuleEngine) -> list[tuple[str, str, datetime]]:
    return [(f.rule, f.transition, f.at) for f in engine.firings]


async def advance_to(engine: RuleEngine, clock: FrozenClock, seconds: float) -> None:
    clock.set(at(seconds))
    await engine.settle()


async def test_no_data_for_five_minutes_raises_at_five_minutes_and_clears_on_the_next_value(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(SILENT)
    await tk.twins.telemetry("p1", {"temperature": 20.0})  # at T0
    await advance_to(engine, clock, 299)
    assert engine.firings == [] and engine.alerts.list() == []
    await advance_to(engine, clock, 300)
    assert transitions(engine) == [("silent", "fired", at(300))]
    [alert] = engine.alerts.list(twin="p1")
    assert alert["cause"]["values"] == {"age(telemetry.temperature)": 300.0}
    assert alert["message"] == "p1 sent nothing for 5 min"
    await advance_to(engine, clock, 1000)  # still silent: still one alert
    assert len(transitions(engine)) == 1
    await tk.twins.telemetry("p1", {"temperature": 21.0})  # at 1000 s
    await engine.settle()
    assert transitions(engine)[-1] == ("silent", "cleared", at(1000))
    assert engine.alerts.list() == []
    assert await alert_log(tk, "p1") == [("AlertRaised", at(300)), ("AlertCleared", at(1000))]
    await advance_to(engine, clock, 1299)  # the next value re-armed the deadline
    assert len(transitions(engine)) == 2
    await advance_to(engine, clock, 1300)
    assert transitions(engine)[-1] == ("silent", "fired", at(1300))


async def test_the_engine_acts_on_its_own_timer_a_grace_after_the_deadline(
    tk: Platform, clock: FrozenClock
) -> None:
    engine = RuleEngine(tk, tick=0.01, grace=2.0)
    await engine.start()
    try:
        await tk.twins.put("p1", model=PUMP_MODEL)
        await engine.add(SILENT)
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        clock.set(at(301))  # past the deadline, within the grace: nothing yet
        await asyncio.sleep(0.1)
        assert engine.firings == []
        clock.set(at(302.5))  # no settle, no check_timers: the background task does it
        for _ in range(200):
            if engine.alerts.list():
                break
            await asyncio.sleep(0.01)
        assert transitions(engine) == [("silent", "fired", at(300))]  # at the deadline itself
        assert engine.timer_evaluations >= 1
    finally:
        await engine.close()


async def test_a_value_within_the_grace_is_judged_instead_of_the_deadline(
    tk: Platform, clock: FrozenClock
) -> None:
    engine = RuleEngine(tk, tick=0.01, grace=2.0)
    await engine.start()
    try:
        await tk.twins.put("p1", model=PUMP_MODEL)
        await engine.add(SILENT)
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        clock.set(at(300.5))
        await tk.twins.telemetry("p1", {"temperature": 20.0})  # late by half a second
        clock.set(at(303))
        await asyncio.sleep(0.1)
        await engine.settle()
        assert engine.firings == []
    finally:
        await engine.close()


async def test_age_of_a_section_reads_any_of_its_values(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add({"id": "quiet", "when": "age(telemetry) >= 300", "actions": ["alert"]})
    await tk.twins.telemetry("p1", {"temperature": 20.0})
    clock.set(at(200))
    await tk.twins.telemetry("p1", {"vibration": 0.1})  # another signal keeps it alive
    await advance_to(engine, clock, 400)
    assert engine.firings == []
    await advance_to(engine, clock, 500)
    assert transitions(engine) == [("quiet", "fired", at(500))]


async def test_a_twin_that_never_reported_the_value_is_not_silent(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(SILENT)
    await tk.twins.telemetry("p1", {"vibration": 0.1})
    await advance_to(engine, clock, 3600)
    assert engine.firings == []  # age() of a value never received is undefined: not true


async def test_a_device_clock_behind_the_platform_is_not_declared_silent_at_once(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(SILENT)
    clock.set(at(600))
    await tk.twins.telemetry("p1", {"temperature": 20.0}, at=at(0))  # its clock: 10 min slow
    await engine.settle()
    assert engine.firings == []
    await advance_to(engine, clock, 899)
    assert engine.firings == []
    await advance_to(engine, clock, 900)  # five minutes after the value arrived
    assert transitions(engine) == [("silent", "fired", at(300))]  # in the device's own time


async def test_for_completes_at_its_exact_moment_without_a_new_value(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(
        {"id": "hot", "when": "telemetry.temperature > 80", "for": "2m", "actions": ["alert"]}
    )
    clock.set(at(10))
    await tk.twins.telemetry("p1", {"temperature": 90.0})
    await advance_to(engine, clock, 129)
    assert engine.firings == []
    await advance_to(engine, clock, 400)  # the engine was late: the firing is still at 130 s
    assert transitions(engine) == [("hot", "fired", at(130))]
    assert len(engine.alerts.list(twin="p1")) == 1


async def test_an_alert_on_a_window_average_clears_when_the_window_runs_empty(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(
        {"id": "warm", "when": "avg(telemetry.temperature, '5m') > 80", "actions": ["alert"]}
    )
    for second in (0, 10, 20):
        clock.set(at(second))
        await tk.twins.telemetry("p1", {"temperature": 90.0})
    await engine.settle()
    assert transitions(engine) == [("warm", "fired", at(0))]
    await advance_to(engine, clock, 319)  # two points aged out: the mean is still 90
    assert len(engine.firings) == 1
    await advance_to(engine, clock, 330)
    assert transitions(engine)[-1] == ("warm", "cleared", at(320))  # the last point left
    assert engine.firings[-1].values == {}  # an empty window has no value
    assert engine.alerts.list() == []


async def test_a_spike_leaving_the_window_clears_a_max_rule_between_samples(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(
        {"id": "peak", "when": "max(telemetry.temperature, '1m') > 80", "actions": ["alert"]}
    )
    await tk.twins.telemetry("p1", {"temperature": 95.0})
    clock.set(at(10))
    await tk.twins.telemetry("p1", {"temperature": 70.0})
    await advance_to(engine, clock, 100)
    assert transitions(engine) == [("peak", "fired", at(0)), ("peak", "cleared", at(60))]
    assert engine.firings[-1].values == {"max(telemetry.temperature, '1m')": 70.0}


async def test_count_equal_zero_is_another_way_to_say_no_data(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await tk.twins.telemetry("p1", {"temperature": 20.0})
    await engine.add(
        {"id": "none", "when": "count(telemetry.temperature, '5m') = 0", "actions": ["alert"]}
    )
    await advance_to(engine, clock, 120)
    assert engine.firings == []
    await advance_to(engine, clock, 300)
    assert transitions(engine) == [("none", "fired", at(300))]


async def test_a_timed_rule_added_later_judges_twins_that_are_already_silent(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    for twin in ("p1", "p2"):
        await tk.twins.put(twin, model=PUMP_MODEL)
    await tk.twins.telemetry("p1", {"temperature": 20.0})
    clock.set(at(200))
    await tk.twins.telemetry("p2", {"temperature": 20.0})
    clock.set(at(400))
    await engine.add(SILENT)
    await engine.settle()
    assert [(f.twin, f.transition, f.at) for f in engine.firings] == [("p1", "fired", at(400))]
    await advance_to(engine, clock, 500)
    assert [(f.twin, f.at) for f in engine.firings] == [("p1", at(400)), ("p2", at(500))]


async def test_one_heap_serves_every_twin_without_a_task_each(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await engine.add(SILENT)
    twins = [f"p{i}" for i in range(300)]
    for twin in twins:
        await tk.twins.put(twin, model=PUMP_MODEL)
    await tk.twins.telemetry_batch([(t, {"temperature": 20.0}, None) for t in twins])
    await engine.settle()
    assert len(engine.timers) == 300
    assert len(asyncio.all_tasks()) < 10  # the platform's and the engine's, not one per twin
    await advance_to(engine, clock, 300)
    assert len(engine.alerts.list()) == 300
    assert len(engine.timers) == 0  # fired and nothing more can change by time alone


async def test_the_dry_run_reports_no_data_in_a_gap_of_history(
    tk: Platform, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    for second in (0, 30, 60, 420, 450):  # a 6-minute gap after 60 s
        clock.set(at(second))
        await tk.twins.telemetry("p1", {"temperature": 20.0})
    report = await dry_run(tk, parse_rule(SILENT), "p1")
    assert [(f.transition, f.at, f.values) for f in report.firings] == [
        ("fired", at(360), {"age(telemetry.temperature)": 300.0}),
        ("cleared", at(420), {"age(telemetry.temperature)": 0.0}),
    ]
    clock.set(at(800))  # and up to now: silent again since 450 s
    report = await dry_run(tk, parse_rule(SILENT), "p1")
    assert [(f.transition, f.at) for f in report.firings][-1] == ("fired", at(750))


async def test_the_dry_run_of_timed_rules_matches_what_the_live_engine_did(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    rules: list[dict[str, Any]] = [
        SILENT,
        {"id": "warm", "when": "avg(telemetry.temperature, '2m') > 80", "actions": ["alert"]},
        {"id": "hot", "when": "telemetry.temperature > 85", "for": "90s", "actions": ["alert"]},
    ]
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add_many(rules)
    samples = [(0, 90), (20, 95), (40, 70), (400, 90), (420, 90), (900, 60), (930, 99)]
    for second, value in samples:
        await advance_to(engine, clock, second)
        await tk.twins.telemetry("p1", {"temperature": float(value)})
    await advance_to(engine, clock, 1500)
    live = sorted(transitions(engine))
    replayed = []
    for rule in rules:
        report = await dry_run(tk, parse_rule(rule), "p1")
        replayed += [(f.rule, f.transition, f.at) for f in report.firings]
    replayed.sort()
    assert replayed == live, live
    assert live == sorted(
        [
            ("silent", "fired", at(340)),  # five minutes after the value at 40 s
            ("silent", "cleared", at(400)),
            ("silent", "fired", at(720)),
            ("silent", "cleared", at(900)),
            ("silent", "fired", at(1230)),
            ("warm", "fired", at(0)),
            ("warm", "cleared", at(140)),  # the 95 left the window: the mean is 70
            ("warm", "fired", at(400)),
            ("warm", "cleared", at(540)),  # the window ran empty
            ("warm", "fired", at(1020)),  # the 60 left the window: the mean is 99
            ("warm", "cleared", at(1050)),
            ("hot", "fired", at(490)),  # 90 s after 400 s, with no value at 490 s
            ("hot", "cleared", at(900)),
            ("hot", "fired", at(1020)),
        ]
    )


@pytest.mark.parametrize(
    "text",
    [
        "age(telemetry.temperature) = '5m'",
        "age(telemetry.temperature, '5m') > 1",
        "age(telemetry.temperature) > 'soon'",
        "age(delta.mode) > '1m'",
        "age(telemetry.temperature) > true",
    ],
)
def test_age_conditions_that_make_no_sense_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        compile_rule_condition(text)


def test_age_comparisons_read_durations_and_flip_at_the_threshold() -> None:
    condition = compile_rule_condition("'5m' < age(temperature) AND age(telemetry) <= 60")
    assert [(a.path, a.thresholds) for a in condition.ages] == [
        (("reported", "temperature"), (300.0,)),
        (("telemetry",), (60.0,)),
    ]
    doc: dict[str, Any] = {"id": "x", "reported": {}, "desired": {}, "telemetry": {}}
    first, second = (a.slot for a in condition.ages)
    assert condition.holds(doc, {first: 300.0, second: 59.9})  # reached the five minutes
    assert not condition.holds(doc, {first: 299.9, second: 59.9})
    assert not condition.holds(doc, {first: 300.0, second: 60.0})  # sixty seconds have passed


async def test_sub_second_durations_at_todays_epoch_values_fire_at_their_moments(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    """``start + 0.3`` can fall a hair short of 0.3 s after ``start`` in floating point."""
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add_many(
        [
            {"id": "quiet", "when": "age(telemetry.temperature) > '300ms'", "actions": ["alert"]},
            {"id": "hot", "when": "telemetry.temperature > 80", "for": "0.3", "actions": ["alert"]},
            {
                "id": "warm",
                "when": "avg(telemetry.temperature, '300ms') > 80",
                "actions": ["alert"],
            },
        ]
    )
    for start in (0.123, 1.1, 7.7):
        clock.set(at(start))
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        await advance_to(engine, clock, start + 0.9)
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        await engine.settle()
    fired = sorted(f.rule for f in engine.firings if f.transition == "fired")
    # silent after 0.123, 1.1, 2.0 (until 7.7) and 7.7: four times; the others three times
    assert fired == ["hot"] * 3 + ["quiet"] * 4 + ["warm"] * 3, engine.firings
    replayed = []
    for rule in engine.list():
        replayed += [(f.rule, f.transition, f.at) for f in (await dry_run(tk, rule, "p1")).firings]
    assert sorted(replayed) == sorted(transitions(engine))
    assert all(f.at - at(0) < timedelta(seconds=8.7) for f in engine.firings)
