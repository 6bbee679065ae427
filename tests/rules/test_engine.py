"""The live rule engine: conditions, windows, for-durations, related twins and every action."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.rules.conftest import (
    BIG_TANK_MODEL,
    MODELS,
    PUMP_MODEL,
    TANK_MODEL,
    FakeCommands,
    Receiver,
)
from twinkit import Platform
from twinkit.model.events import EventKind
from twinkit.rules import RuleEngine, TwinView
from twinkit.testing import FrozenClock


async def alert_events(tk: Platform, twin: str) -> list[tuple[EventKind, dict[str, Any]]]:
    kinds = (EventKind.ALERT_RAISED, EventKind.ALERT_ACKNOWLEDGED, EventKind.ALERT_CLEARED)
    return [(e.kind, e.data) for e in await tk.journal.events(twin) if e.kind in kinds]


async def send(
    tk: Platform,
    clock: FrozenClock,
    twin: str,
    values: list[float],
    step: float = 10.0,
    name: str = "temperature",
) -> None:
    for value in values:
        await tk.twins.telemetry(twin, {name: value})
        clock.advance(step)


async def test_a_rule_raises_one_alert_while_it_holds_and_clears_it_after(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(
        {
            "id": "hot",
            "models": [PUMP_MODEL],
            "when": "telemetry.temperature > 80",
            "actions": [
                {"alert": {"severity": "critical", "message": "{twin} at {telemetry.temperature}"}}
            ],
        }
    )
    await send(tk, clock, "p1", [70, 85, 90, 95])
    await engine.settle()
    events = await alert_events(tk, "p1")
    assert [k for k, _ in events] == [EventKind.ALERT_RAISED]  # deduplicated: one per episode
    alert = events[0][1]["alert"]
    assert alert["severity"] == "critical" and alert["source"] == "rule:hot"
    assert alert["cause"]["values"]["telemetry.temperature"] == 85
    assert alert["message"] == "p1 at 85"
    assert [a["id"] for a in engine.alerts.list(twin="p1")] == [alert["id"]]
    await send(tk, clock, "p1", [60])
    await engine.settle()
    assert [k for k, _ in await alert_events(tk, "p1")] == [
        EventKind.ALERT_RAISED,
        EventKind.ALERT_CLEARED,
    ]
    assert engine.alerts.list(twin="p1") == []
    assert [f.transition for f in engine.firings] == ["fired", "cleared"]


async def test_window_average_ignores_a_spike_but_not_a_sustained_rise(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(
        {"id": "avg-hot", "when": "avg(telemetry.temperature, '1m') > 80", "actions": ["alert"]}
    )
    await send(tk, clock, "p1", [70, 70, 70, 70, 70, 110, 70, 70, 70, 70, 70])  # mean < 80 always
    await engine.settle()
    assert engine.firings == []
    await send(tk, clock, "p1", [95, 95, 95, 95, 95, 95])
    await engine.settle()
    assert [f.transition for f in engine.firings] == ["fired"]
    assert engine.firings[0].values["avg(telemetry.temperature, '1m')"] > 80


async def test_rate_of_change(tk: Platform, engine: RuleEngine, clock: FrozenClock) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(
        {"id": "climb", "when": "rate(telemetry.temperature, '1m') > 0.5", "actions": ["alert"]}
    )
    await send(tk, clock, "p1", [20, 21, 22, 23])  # 0.1 per second
    await engine.settle()
    assert engine.firings == []
    await send(tk, clock, "p1", [33, 43, 53])  # 1 per second
    await engine.settle()
    assert [f.transition for f in engine.firings] == ["fired"]


async def test_windows_are_backfilled_from_history_when_a_rule_arrives_late(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await send(tk, clock, "p1", [100, 100, 100, 100])  # before the rule exists
    await engine.add(
        {"id": "n", "when": "count(telemetry.temperature, '5m') >= 5", "actions": ["alert"]}
    )
    await send(tk, clock, "p1", [100])
    await engine.settle()
    assert [f.transition for f in engine.firings] == ["fired"]
    assert engine.firings[0].values["count(telemetry.temperature, '5m')"] == 5


async def test_for_duration_fires_only_after_the_condition_held_long_enough(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(
        {"id": "hot2m", "when": "telemetry.temperature > 80", "for": "2m", "actions": ["alert"]}
    )
    await send(tk, clock, "p1", [90, 90, 90, 90, 60, 90, 90, 90], step=30)  # broken at 4th step
    await engine.settle()
    assert engine.firings == []
    await send(tk, clock, "p1", [90, 90], step=30)
    await engine.settle()
    assert [f.transition for f in engine.firings] == ["fired"]
    assert engine.firings[0].at == clock.now() - timedelta(seconds=30)


async def test_for_duration_completes_on_the_timer_without_new_samples(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(
        {"id": "stuck", "when": "telemetry.temperature > 80", "for": "2m", "actions": ["alert"]}
    )
    await send(tk, clock, "p1", [90], step=0)
    await engine.settle()
    clock.advance(119)
    await engine.check_timers()
    assert engine.firings == []
    clock.advance(1)
    await engine.check_timers()
    await engine.settle()
    assert [f.transition for f in engine.firings] == ["fired"]
    assert len(engine.alerts.list(twin="p1")) == 1


async def test_rules_over_related_twins_follow_changes_of_the_related_twin(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await tk.twins.put("t1", model=TANK_MODEL, reported={"level": 50.0})
    await tk.twins.put("t2", model=TANK_MODEL, reported={"level": 60.0})
    await tk.twins.put_relationship("p1", "f1", {"name": "feeds", "target": "t1"})
    await tk.twins.put_relationship("p1", "f2", {"name": "feeds", "target": "t2"})
    await engine.add(
        {
            "id": "overflow",
            "models": [PUMP_MODEL],
            "when": "related('feeds', level) > 90",
            "actions": [{"set_desired": {"mode": "eco"}}],
        }
    )
    await engine.add(
        {
            "id": "fed-by-hot",
            "models": [TANK_MODEL],
            "when": "incoming('feeds', telemetry.temperature, 'avg') > 50",
            "actions": ["alert"],
        }
    )
    await tk.twins.patch("t2", "reported", {"level": 95.0})  # a change on the *related* twin
    await engine.settle()
    assert (await tk.twins.get("p1")).desired == {"mode": "eco"}
    assert engine.firings[0].values["related('feeds', level)"] == 95.0
    await tk.twins.telemetry("p1", {"temperature": 70.0})
    await engine.settle()
    assert {a["twin"] for a in engine.alerts.list(source="rule:fed-by-hot")} == {"t1", "t2"}


async def test_rules_select_twins_by_model_honouring_extends_and_by_id(
    tk: Platform, engine: RuleEngine
) -> None:
    await tk.twins.put("tank", model=TANK_MODEL)
    await tk.twins.put("big", model=BIG_TANK_MODEL)
    await tk.twins.put("pump", model=PUMP_MODEL)
    await tk.twins.put("other", model=TANK_MODEL)
    await engine.add(
        {"id": "tanks", "models": [TANK_MODEL], "when": "level > 1", "actions": ["alert"]}
    )
    await engine.add(
        {"id": "one", "twins": ["other", "pump"], "when": "level > 1", "actions": ["alert"]}
    )
    for twin in ("tank", "big", "other"):
        await tk.twins.patch(twin, "reported", {"level": 5.0})
    await tk.twins.patch("pump", "reported", {"rpm": 5.0})
    await engine.settle()
    fired = {(f.rule, f.twin) for f in engine.firings}
    assert fired == {("tanks", "tank"), ("tanks", "big"), ("tanks", "other"), ("one", "other")}


async def test_set_desired_command_webhook_and_on_clear_actions(
    tk: Platform, clock: FrozenClock, receiver: Receiver
) -> None:
    commands = FakeCommands()
    engine = RuleEngine(tk, commands=commands, tick=0.01)
    await engine.start()
    try:
        await tk.twins.put("p1", model=PUMP_MODEL)
        await engine.add(
            {
                "id": "hot",
                "when": "telemetry.temperature > 80",
                "actions": [
                    {"set_desired": {"mode": "eco", "rpm": 900}},
                    {
                        "command": {
                            "name": "reboot",
                            "payload": {"delay": 5},
                            "timeout": "3s",
                            "ttl": 60,
                        }
                    },
                    {"webhook": {"url": receiver.url, "headers": {"x-token": "s3cret"}}},
                ],
                "on_clear": [{"set_desired": {"mode": "boost"}}, {"webhook": receiver.url}],
            }
        )
        await send(tk, clock, "p1", [90, 91])
        await engine.settle()
        assert (await tk.twins.get("p1")).desired == {"mode": "eco", "rpm": 900}
        assert commands.sent == [("p1", "reboot", {"delay": 5}, 3.0, 60.0)]
        assert len(receiver.bodies) == 1
        body = receiver.bodies[0]
        assert (body["rule"], body["twin"], body["transition"]) == ("hot", "p1", "fired")
        assert body["values"] == {"telemetry.temperature": 90}
        assert receiver.headers[0]["x-token"] == "s3cret"
        changed = [e for e in await tk.journal.events("p1") if e.kind is EventKind.DESIRED_CHANGED]
        assert changed[0].context.actor == "rule:hot"
        await send(tk, clock, "p1", [20])
        await engine.settle()
        assert (await tk.twins.get("p1")).desired["mode"] == "boost"
        assert [b["transition"] for b in receiver.bodies] == ["fired", "cleared"]
        assert engine.actuator.stats.failed == 0
    finally:
        await engine.close()


async def test_a_failing_action_does_not_stop_the_others(
    tk: Platform, engine: RuleEngine, clock: FrozenClock, receiver: Receiver
) -> None:
    receiver.status = 500
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add(
        {
            "id": "hot",
            "when": "telemetry.temperature > 80",
            "actions": [{"webhook": receiver.url}, {"command": "reboot"}, "alert"],
        }
    )
    await send(tk, clock, "p1", [90])
    await engine.settle()
    assert engine.actuator.stats.failed == 2  # the webhook answered 500; no command sender
    assert len(engine.alerts.list(twin="p1")) == 1


async def test_python_rules_with_windows(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL, reported={"rpm": 1000.0})

    @engine.rule(
        "spread",
        models=[PUMP_MODEL],
        windows={"telemetry.temperature": "1m"},
        actions=[{"alert": {"severity": "info"}}],
    )
    def spread(twin: TwinView) -> bool:
        """The temperature swings by more than 10 degrees within a minute."""
        high, low = twin.max("telemetry.temperature", "1m"), twin.min("telemetry.temperature", "1m")
        return high is not None and low is not None and high - low > 10 and twin.get("rpm") > 500

    await send(tk, clock, "p1", [50, 52, 51])
    await engine.settle()
    assert engine.firings == []
    await send(tk, clock, "p1", [65])
    await engine.settle()
    assert [f.rule for f in engine.firings] == ["spread"]
    assert engine.get("spread").describe()["description"].startswith("The temperature swings")


async def test_removing_a_rule_clears_its_open_alerts(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await engine.add({"id": "hot", "when": "telemetry.temperature > 80", "actions": ["alert"]})
    await send(tk, clock, "p1", [90])
    await engine.settle()
    assert len(engine.alerts.list()) == 1
    await engine.remove("hot")
    assert engine.alerts.list() == []


async def test_declared_rules_survive_a_restart(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "rules.db"
    async with Platform.open(path, clock=clock) as tk:
        await tk.models.add(MODELS)
        engine = RuleEngine(tk)
        await engine.start()
        await engine.add(
            {"id": "hot", "when": "telemetry.temperature > 80", "for": "1m", "actions": ["alert"]}
        )
        await engine.close()
    async with Platform.open(path, clock=clock) as tk:
        engine = RuleEngine(tk, tick=0.01)
        await engine.start()
        try:
            assert [r.id for r in engine.list()] == ["hot"]
            assert engine.get("hot").hold == 60.0
        finally:
            await engine.close()


async def test_bursts_beyond_the_pending_bound_are_dropped_and_counted(
    tk: Platform, clock: FrozenClock
) -> None:
    engine = RuleEngine(tk, max_pending=2, tick=10.0)
    await engine.start()
    try:
        for i in range(5):
            await tk.twins.put(f"p{i}", model=PUMP_MODEL)
        await engine.add({"id": "r", "when": "telemetry.temperature > 1", "actions": ["alert"]})
        await tk.twins.telemetry_batch([(f"p{i}", {"temperature": 5.0}, None) for i in range(5)])
        await engine.settle()
        assert engine.dropped == 3
        assert len(engine.alerts.list()) == 2
    finally:
        await engine.close()


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "x"},
        {"id": "x", "when": "a > 1", "actions": [{"page": {}}]},
        {"id": "x y", "when": "a > 1", "actions": ["alert"]},
    ],
)
async def test_invalid_rules_are_refused(engine: RuleEngine, bad: dict[str, Any]) -> None:
    from twinkit.model.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        await engine.add(bad)
    assert engine.list() == []


async def test_a_clear_never_overtakes_the_fire_before_it(tk: Platform) -> None:
    """The fire's actions are slow (a command to a slow device, then the alert); the clear
    right after it waits for them, so the alert it clears is not raised after it."""

    class SlowDevice:
        async def send(self, twin: str, name: str, payload: Any = None, **options: Any) -> Any:
            await asyncio.sleep(0.2)
            return {"state": "answered"}

    engine = RuleEngine(tk, tick=0.01, commands=SlowDevice())
    await engine.start()
    try:
        await tk.twins.put("p1", model=PUMP_MODEL)
        rule = {"id": "hot", "when": "telemetry.temperature > 80"}
        await engine.add({**rule, "actions": [{"command": "reboot"}, "alert"]})
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        await engine.settle()
        assert [f.transition for f in engine.firings] == ["fired", "cleared"]
        assert engine.alerts.list() == []
        kinds = [e.kind for e in await tk.journal.events("p1")]
        assert kinds[-2:] == [EventKind.ALERT_RAISED, EventKind.ALERT_CLEARED]
    finally:
        await engine.close()
