"""Rules across a crash (the engine never closes: nothing is saved on the way out): a pending
``for:`` keeps its start and a rule that fired — whatever its actions — does not fire again.

The in-process tests stop the engine as a crash would (its task cancelled, ``close`` never
called) on a real SQLite file and a fake clock; the last one kills a real ``twinkit serve``
with SIGKILL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.rules.conftest import MODELS, PUMP_MODEL, FakeCommands, Receiver
from tests.server.serve_process import kill, read_lines, twinkit
from twinkit import Platform
from twinkit.ingest.mosquitto import free_port
from twinkit.model.events import EventKind
from twinkit.rules import RuleEngine
from twinkit.rules.restart import HOLD_NAME
from twinkit.testing import FrozenClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOT = {"id": "hot", "when": "telemetry.temperature > 80", "for": "2m", "actions": ["alert"]}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@asynccontextmanager
async def until_crash(
    path: Path, clock: FrozenClock, rules: list[dict[str, Any]], **options: Any
) -> AsyncIterator[tuple[Platform, RuleEngine]]:
    """One run that ends as a crash does: the engine is stopped without ``close``."""
    async with Platform.open(path, clock=clock) as tk:
        if tk.models.list() == []:
            await tk.models.add(MODELS)
        engine = RuleEngine(tk, tick=0.01, **options)
        await engine.start()
        await engine.add_many(rules)  # as ``twinkit serve --rules`` does on every start
        try:
            yield tk, engine
        finally:
            await engine.settle()
            assert engine._unsubscribe is not None and engine._task is not None
            engine._unsubscribe()
            engine._task.cancel()
            await asyncio.gather(engine._task, return_exceptions=True)


def fired(engine: RuleEngine) -> list[tuple[str, str, datetime]]:
    return [(f.rule, f.transition, f.at) for f in engine.firings]


async def test_a_pending_for_keeps_its_start_across_a_crash(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "plant.db"
    async with until_crash(path, clock, [HOT]) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        clock.set(at(60))
        await engine.settle()
    clock.set(at(90))
    async with until_crash(path, clock, [HOT]) as (tk, engine):
        await engine.settle()
        assert engine.timers.get(("hot", "p1")) == at(120).timestamp()
        clock.set(at(119))
        await engine.settle()
        assert engine.firings == []
        clock.set(at(120))
        await engine.settle()
        assert fired(engine) == [("hot", "fired", at(120))]


async def test_a_for_that_stopped_holding_before_the_crash_starts_afresh(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "plant.db"
    async with until_crash(path, clock, [HOT]) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        clock.set(at(60))
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        await engine.settle()
    clock.set(at(100))
    async with until_crash(path, clock, [HOT]) as (tk, engine):
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        clock.set(at(150))
        await engine.settle()
        assert engine.firings == []
        clock.set(at(220))
        await engine.settle()
        assert fired(engine) == [("hot", "fired", at(220))]


async def test_a_for_that_ran_out_while_the_platform_was_down_fires_once_on_start(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "plant.db"
    async with until_crash(path, clock, [HOT]) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        await engine.settle()
    clock.set(at(600))
    async with until_crash(path, clock, [HOT]) as (tk, engine):
        await engine.settle()
        assert fired(engine) == [("hot", "fired", at(600))]
    clock.set(at(900))
    async with until_crash(path, clock, [HOT]) as (tk, engine):
        await tk.twins.telemetry("p1", {"temperature": 91.0})
        await engine.settle()
        assert engine.firings == []
        assert len(engine.alerts.list()) == 1


async def test_a_rule_that_set_desired_values_does_not_set_them_again_after_a_crash(
    tmp_path: Path, clock: FrozenClock
) -> None:
    eco = {
        "id": "eco",
        "when": "telemetry.temperature > 80",
        "actions": [{"set_desired": {"mode": "eco"}}],
        "on_clear": [{"set_desired": {"mode": "normal"}}],
    }
    path = tmp_path / "plant.db"
    async with until_crash(path, clock, [eco]) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        await engine.settle()
        assert fired(engine) == [("eco", "fired", at(0))]
    clock.set(at(60))
    async with until_crash(path, clock, [eco]) as (tk, engine):
        await tk.twins.telemetry("p1", {"temperature": 95.0})  # still hot
        await engine.settle()
        assert engine.firings == []
        clock.set(at(120))
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        await engine.settle()
        assert fired(engine) == [("eco", "cleared", at(120))]
        writes = [
            (e.data, e.at)
            for e in await tk.journal.events("p1")
            if e.kind is EventKind.DESIRED_CHANGED
        ]
        assert [(d["set"], t) for d, t in writes] == [
            ({"mode": "eco"}, at(0)),
            ({"mode": "normal"}, at(120)),
        ]


async def test_commands_and_webhooks_are_not_sent_again_after_a_crash(
    tmp_path: Path, clock: FrozenClock, receiver: Receiver
) -> None:
    rule = {
        "id": "reboot",
        "when": "telemetry.vibration > 7",
        "for": "30s",
        "actions": [{"command": "reboot"}, {"webhook": receiver.url}],
    }
    path = tmp_path / "plant.db"
    commands = FakeCommands()
    async with until_crash(path, clock, [rule], commands=commands) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await tk.twins.telemetry("p1", {"vibration": 9.0})
        clock.set(at(30))
        await engine.settle()
        assert fired(engine) == [("reboot", "fired", at(30))]
    clock.set(at(45))
    async with until_crash(path, clock, [rule], commands=commands) as (tk, engine):
        await engine.settle()
        await tk.twins.telemetry("p1", {"vibration": 9.5})
        clock.set(at(300))
        await engine.settle()
        assert engine.firings == []
    assert [c[:2] for c in commands.sent] == [("p1", "reboot")]
    assert [(b["rule"], b["transition"]) for b in receiver.bodies] == [("reboot", "fired")]


async def test_hold_records_are_written_on_changes_of_state_only(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with until_crash(tmp_path / "plant.db", clock, [HOT]) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        for second, value in [(0, 20.0), (1, 21.0), (2, 90.0), (3, 91.0), (4, 92.0)]:
            clock.set(at(second))
            await tk.twins.telemetry("p1", {"temperature": value})
        await engine.settle()
        assert engine.records.writes == 1  # starts holding
        clock.set(at(122))
        await engine.settle()
        assert engine.records.writes == 2  # fired
        for second in range(123, 130):
            clock.set(at(second))
            await tk.twins.telemetry("p1", {"temperature": 95.0})
        await tk.twins.telemetry("p1", {"temperature": 20.0})
        await engine.settle()
        assert engine.records.writes == 3  # cleared


def test_a_for_survives_sigkill_of_twinkit_serve(tmp_path: Path, receiver: Receiver) -> None:
    """A real crash: ``twinkit serve`` is killed with SIGKILL while a ``for: 8s`` is pending
    and after a rule with a webhook fired; after the restart the ``for:`` completes at its
    original moment and the fired rule does not call its webhook again."""
    rules = {
        "rules": [
            {
                "id": "slow",
                "when": "telemetry.temperature > 80",
                "for": "8s",
                "actions": [{"webhook": receiver.url}],
            },
            {
                "id": "now",
                "when": "telemetry.temperature > 80",
                "actions": [{"webhook": receiver.url}, {"set_desired": {"mode": "eco"}}],
            },
        ]
    }
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    args = ("serve", "--db", "t.db", "--port", str(port), "--no-mqtt", "--rules", "rules.yaml")

    def bodies(rule: str) -> list[dict[str, Any]]:
        return [b for b in receiver.bodies if b["rule"] == rule]

    def wait_for(what: Any, seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while not what():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.05)

    process = twinkit(*args, cwd=tmp_path)
    try:
        read_lines(process, "http://")
        assert httpx.post(f"{base}/models", json=MODELS).status_code < 300
        assert httpx.put(f"{base}/twins/p1", json={"model": PUMP_MODEL}).status_code < 300
        sent = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        while datetime.now(UTC) < sent:
            time.sleep(0.01)
        values = {"at": sent.isoformat(), "values": {"temperature": 90.0}}
        assert httpx.post(f"{base}/twins/p1/telemetry", json=values).status_code < 300
        wait_for(lambda: bodies("now"))
        time.sleep(1.0)
    finally:
        kill(process)
    assert bodies("slow") == []
    process = twinkit(*args, cwd=tmp_path)
    try:
        read_lines(process, "http://")
        values = {"values": {"temperature": 95.0}}  # still hot
        assert httpx.post(f"{base}/twins/p1/telemetry", json=values).status_code < 300
        wait_for(lambda: bodies("slow"))
        time.sleep(0.5)
        twin = httpx.get(f"{base}/twins/p1").json()
    finally:
        kill(process)
    moments = [datetime.fromisoformat(b["at"]) for b in bodies("slow")]
    assert moments == [sent + timedelta(seconds=8)]
    assert [b["transition"] for b in bodies("now")] == ["fired"]
    assert twin["desired"] == {"mode": "eco"}
    assert receiver.status == 200


async def test_only_twins_that_held_something_have_their_record_read_on_start(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plant.db"
    async with until_crash(path, clock, [HOT]) as (tk, engine):
        for twin in ("p1", "p2", "p3"):
            await tk.twins.put(twin, model=PUMP_MODEL)
            await tk.twins.telemetry(twin, {"temperature": 20.0})
        await tk.twins.telemetry("p2", {"temperature": 90.0})  # the only one pending
        await engine.settle()
    read: list[str] = []
    async with Platform.open(path, clock=clock) as tk:
        load, load_many = tk.store.load_detector_state, tk.store.load_detector_states

        async def counted(twin: str, name: str) -> bytes | None:
            if name == HOLD_NAME:
                read.append(twin)
            return await load(twin, name)

        async def counted_many(twins: Sequence[str], name: str) -> dict[str, bytes]:
            if name == HOLD_NAME:
                read.extend(twins)
            return await load_many(twins, name)

        monkeypatch.setattr(tk.store, "load_detector_state", counted)
        monkeypatch.setattr(tk.store, "load_detector_states", counted_many)
        engine = RuleEngine(tk, tick=0.01)
        await engine.start()
        await engine.add(HOT)
        clock.set(at(60))
        for twin in ("p1", "p2", "p3"):
            await tk.twins.telemetry(twin, {"temperature": 95.0})
        clock.set(at(120))
        await engine.settle()
        assert read == ["p2"]
        assert [(f.twin, f.at) for f in engine.firings] == [("p2", at(120))]  # pending since 0
        await engine.close()


async def test_a_deleted_twin_takes_its_record_along(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "plant.db"
    eco = {
        "id": "eco",
        "when": "telemetry.temperature > 80",
        "actions": [{"set_desired": {"mode": "eco"}}],
    }
    async with until_crash(path, clock, [eco]) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        await engine.settle()
        await tk.twins.delete("p1")
        await engine.settle()
    async with until_crash(path, clock, [eco]) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)  # a new twin with the old id
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        await engine.settle()
        assert fired(engine) == [("eco", "fired", at(0))]


async def test_a_rule_removed_and_added_again_starts_afresh_on_every_twin(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "plant.db"
    eco = {
        "id": "eco",
        "when": "telemetry.temperature > 80",
        "actions": [{"set_desired": {"mode": "eco"}}],
    }
    async with until_crash(path, clock, [eco]) as (tk, engine):
        await tk.twins.put("p1", model=PUMP_MODEL)
        await tk.twins.telemetry("p1", {"temperature": 90.0})
        await engine.settle()
    async with Platform.open(path, clock=clock) as tk:
        engine = RuleEngine(tk, tick=0.01)
        await engine.start()
        await engine.remove("eco")  # p1's record was not read yet
        await engine.add(eco)
        await tk.twins.telemetry("p1", {"temperature": 95.0})
        await engine.settle()
        assert fired(engine) == [("eco", "fired", at(0))]
        await engine.close()
