"""Time and related twins: a ``for:`` over a ``related()`` condition completes by time alone,
a related twin's change judged late first judges the deadline it passed (with the related
twins as they were then), and what cannot be timed — ages and windows inside ``related()``,
windows over it — is refused when the rule is loaded, naming the rule and the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.rules.conftest import PUMP_MODEL, TANK_MODEL
from twinkit import Platform
from twinkit.model.errors import ValidationFailed
from twinkit.rules import RuleEngine, dry_run, parse_rule, parse_rules
from twinkit.testing import FrozenClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FULL = {
    "id": "tank-full",
    "models": [PUMP_MODEL],
    "when": "related('feeds', level) > 90",
    "for": "2m",
    "actions": ["alert"],
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def plant(tk: Platform) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    await tk.twins.put("t1", model=TANK_MODEL, reported={"level": 50.0})
    await tk.twins.put_relationship("p1", "f1", {"name": "feeds", "target": "t1"})


def fired(engine: RuleEngine) -> list[tuple[str, str, datetime]]:
    return [(f.twin, f.transition, f.at) for f in engine.firings]


async def test_a_for_over_a_related_condition_completes_by_time_alone(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await plant(tk)
    await engine.add(FULL)
    await tk.twins.patch("t1", "reported", {"level": 95.0})  # the pump itself never changes
    await engine.settle()
    assert engine.timers.get(("tank-full", "p1")) == at(120).timestamp()
    clock.set(at(119))
    await engine.settle()
    assert engine.firings == []
    clock.set(at(120))
    await engine.settle()
    assert fired(engine) == [("p1", "fired", at(120))]


async def test_the_dry_run_of_a_related_for_equals_what_the_engine_did(
    tk: Platform, engine: RuleEngine, clock: FrozenClock
) -> None:
    await plant(tk)
    await engine.add(FULL)
    clock.set(at(10))
    await tk.twins.patch("t1", "reported", {"level": 95.0})
    clock.set(at(50))
    await tk.twins.telemetry("p1", {"temperature": 20.0})  # a value of the pump's own
    clock.set(at(130))
    await engine.settle()
    clock.set(at(200))
    await tk.twins.patch("t1", "reported", {"level": 30.0})
    await tk.twins.patch("t1", "reported", {"name": "tank one"})  # not a value it reads
    clock.set(at(300))
    await engine.settle()
    live = [(f.transition, f.at, f.values) for f in engine.firings]
    assert [(t, moment) for t, moment, _ in live] == [("fired", at(130)), ("cleared", at(200))]
    report = await dry_run(tk, parse_rule(FULL), "p1", grace=engine._grace)
    assert [(f.transition, f.at, f.values) for f in report.firings] == live


@pytest.fixture
async def late_engine(tk: Platform) -> AsyncIterator[RuleEngine]:
    """An engine whose background task only wakes for changes (a tick of an hour): a change
    and a deadline it passed are seen in the same turn, as when the engine runs behind."""
    engine = RuleEngine(tk, tick=3600)
    await engine.start()
    yield engine
    await engine.close()


async def test_a_related_change_seen_late_first_judges_the_deadline_it_passed(
    tk: Platform, late_engine: RuleEngine, clock: FrozenClock
) -> None:
    await plant(tk)
    await late_engine.add(FULL)
    await tk.twins.patch("t1", "reported", {"level": 95.0})
    await late_engine.settle()
    clock.set(at(130))  # the for: ran out at 120; the tank drains at 130, before any timer ran
    await tk.twins.patch("t1", "reported", {"level": 40.0})
    await late_engine.settle()
    assert fired(late_engine) == [("p1", "fired", at(120)), ("p1", "cleared", at(130))]
    alert = late_engine.firings[0]
    assert alert.values["related('feeds', level)"] == 95.0  # the tank as it was at 120


async def test_a_related_change_within_the_grace_is_judged_instead_of_the_deadline(
    tk: Platform, late_engine: RuleEngine, clock: FrozenClock
) -> None:
    """As for a twin's own values: a change in flight when the deadline came wins."""
    await plant(tk)
    await late_engine.add(FULL)
    await tk.twins.patch("t1", "reported", {"level": 95.0})
    await late_engine.settle()
    clock.set(at(120.2))
    await tk.twins.patch("t1", "reported", {"level": 40.0})
    await late_engine.settle()
    assert late_engine.firings == []


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ("related('feeds', age(telemetry.level)) > '5m'", "age() inside related()"),
        ("incoming('feeds', avg(telemetry.temperature, '5m')) > 50", "avg() inside incoming()"),
        ("avg(related('feeds', level), '5m') > 90", "avg() over related()"),
        ("age(incoming('feeds', temperature)) > '5m'", "age() over incoming()"),
    ],
)
def test_time_over_related_twins_is_refused_naming_the_rule_and_the_field(
    when: str, words: str
) -> None:
    rules = [{"id": "ok", "when": "level > 1"}, {"id": "tank-silent", "when": when}]
    document = {"rules": [{**rule, "actions": ["alert"]} for rule in rules]}
    with pytest.raises(ValidationFailed) as caught:
        parse_rules(document)
    assert caught.value.path == "/rules/1/when"
    message = caught.value.message
    assert message.startswith("rule 'tank-silent': ") and words in message
    assert "\n" not in message


async def test_a_refused_rule_is_a_400_naming_the_field(tmp_path: Path) -> None:
    async with Platform.open(tmp_path / "t.db") as tk:
        engine = RuleEngine(tk)
        await engine.start()
        try:
            rule = {"id": "x", "when": "related('feeds', age(telemetry.level)) > '5m'"}
            with pytest.raises(ValidationFailed) as caught:
                await engine.add({**rule, "actions": ["alert"]})
            assert caught.value.status == 400 and caught.value.path == "/when"
        finally:
            await engine.close()
