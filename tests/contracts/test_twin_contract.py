"""The state contract, run against every storage adapter."""

from __future__ import annotations

from typing import Any

import pytest

from twinkit import (
    Conflict,
    Context,
    EventKind,
    NotFound,
    PatchFailed,
    Platform,
    PreconditionFailed,
    ValidationFailed,
)
from twinkit.storage.ports import Batch
from twinkit.testing import FrozenClock

PUMP_ID = "dtmi:acme:Pump;1"


async def make_pump(tk: Platform, twin: str = "p1", **reported: Any) -> None:
    await tk.twins.put(twin, model=PUMP_ID, reported={"serial": "SN1", **reported})


async def test_create_then_replace_reports_created_flag_and_bumps_revision(tk: Platform) -> None:
    state, created = await tk.twins.put("p1", model=PUMP_ID, reported={"serial": "A"})
    assert created and state.revision == 1 and state.etag == '"1"'
    state, created = await tk.twins.put("p1", model=PUMP_ID, reported={"serial": "B"})
    assert not created and state.revision == 2
    assert (await tk.twins.get("p1")).reported == {"serial": "B"}


async def test_delta_holds_desired_values_until_reported(tk: Platform) -> None:
    await tk.twins.put("p1", model=PUMP_ID, desired={"rpm": 1200.0, "mode": "eco"})
    doc = (await tk.twins.get("p1")).document()
    assert doc["delta"] == {"rpm": 1200.0, "mode": "eco"}
    await tk.twins.patch("p1", "reported", {"rpm": 1200.0})
    assert (await tk.twins.get("p1")).document()["delta"] == {"mode": "eco"}
    await tk.twins.patch("p1", "reported", {"mode": "eco"})
    assert (await tk.twins.get("p1")).document()["delta"] == {}


async def test_merge_patch_sets_nested_and_removes_with_null(tk: Platform) -> None:
    await tk.twins.put("p1", model=PUMP_ID, desired={"limits": {"low": 1.0, "high": 9.0}})
    state = await tk.twins.patch("p1", "desired", {"limits": {"high": None}, "rpm": 10.0})
    assert state.desired == {"limits": {"low": 1.0}, "rpm": 10.0}
    state = await tk.twins.patch("p1", "desired", {"limits": None})
    assert state.desired == {"rpm": 10.0}
    assert "limits" not in state.metadata["desired"]


async def test_json_patch_applies_rfc6902_operations(tk: Platform) -> None:
    await tk.twins.put("p1", model=PUMP_ID, desired={"limits": {"low": 1.0, "high": 9.0}})
    ops = [
        {"op": "test", "path": "/limits/low", "value": 1.0},
        {"op": "replace", "path": "/limits/high", "value": 5.0},
        {"op": "add", "path": "/rpm", "value": 3.0},
    ]
    state = await tk.twins.patch("p1", "desired", ops, json_patch=True)
    assert state.desired == {"limits": {"low": 1.0, "high": 5.0}, "rpm": 3.0}


async def test_failing_json_patch_test_is_a_precondition_failure(tk: Platform) -> None:
    await tk.twins.put("p1", model=PUMP_ID, desired={"rpm": 3.0})
    with pytest.raises(PreconditionFailed):
        await tk.twins.patch(
            "p1", "desired", [{"op": "test", "path": "/rpm", "value": 4.0}], json_patch=True
        )


async def test_json_patch_that_does_not_apply_leaves_twin_untouched(tk: Platform) -> None:
    await tk.twins.put("p1", model=PUMP_ID, desired={"rpm": 3.0})
    with pytest.raises(PatchFailed):
        await tk.twins.patch(
            "p1", "desired", [{"op": "remove", "path": "/nothing"}], json_patch=True
        )
    state = await tk.twins.get("p1")
    assert state.revision == 1 and state.desired == {"rpm": 3.0}


@pytest.mark.parametrize(
    ("section", "patch", "path"),
    [
        ("reported", {"rpm": "fast"}, "/rpm"),
        ("reported", {"unknown": 1}, "/unknown"),
        ("desired", {"serial": "X"}, "/serial"),  # read-only property
        ("desired", {"mode": "turbo"}, "/mode"),  # not in the enum
        ("desired", {"limits": {"low": "x"}}, "/limits/low"),
        ("desired", {"limits": {"middle": 1}}, "/limits/middle"),
    ],
)
async def test_bad_patch_names_the_path_and_changes_nothing(
    tk: Platform, section: str, patch: dict[str, Any], path: str
) -> None:
    await make_pump(tk)
    before = await tk.twins.get("p1")
    with pytest.raises(ValidationFailed) as caught:
        await tk.twins.patch("p1", section, patch)
    assert caught.value.path == path
    after = await tk.twins.get("p1")
    assert after == before
    assert len(await tk.journal.events("p1")) == 1


async def test_put_with_bad_values_points_into_the_body(tk: Platform) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await tk.twins.put("p1", model=PUMP_ID, reported={"rpm": True})
    assert caught.value.path == "/reported/rpm"
    with pytest.raises(ValidationFailed) as caught:
        await tk.twins.put("p1", model="dtmi:acme:Nope;1")
    assert caught.value.path == "/model"
    assert not await tk.twins.exists("p1")


async def test_if_match_conflicts_on_a_stale_etag(tk: Platform) -> None:
    await make_pump(tk)
    state = await tk.twins.patch("p1", "reported", {"rpm": 1.0}, if_match='"1"')
    assert state.revision == 2
    with pytest.raises(PreconditionFailed):
        await tk.twins.patch("p1", "reported", {"rpm": 2.0}, if_match='"1"')
    await tk.twins.patch("p1", "reported", {"rpm": 2.0}, if_match="*")
    assert (await tk.twins.get("p1")).reported["rpm"] == 2.0


async def test_conditional_write_lands_only_when_the_predicate_holds(tk: Platform) -> None:
    await make_pump(tk, rpm=100.0)
    with pytest.raises(PreconditionFailed):
        await tk.twins.patch("p1", "desired", {"rpm": 5.0}, condition="reported.rpm > 200")
    state = await tk.twins.patch(
        "p1", "desired", {"rpm": 5.0}, condition="rpm = 100 AND serial = 'SN1'"
    )
    assert state.desired == {"rpm": 5.0}


async def test_metadata_keeps_changed_updated_and_device_times(
    tk: Platform, clock: FrozenClock
) -> None:
    await make_pump(tk, rpm=1.0)
    clock.advance(10)
    await tk.twins.patch("p1", "reported", {"rpm": 1.0})
    meta = (await tk.twins.get("p1")).metadata["reported"]["rpm"]
    assert meta["changed_at"] == "2026-01-01T00:00:00Z"
    assert meta["updated_at"] == "2026-01-01T00:00:10Z"
    clock.advance(10)
    device_time = clock.now().replace(second=5)
    await tk.twins.telemetry("p1", {"temperature": 20.5}, at=device_time)
    meta = (await tk.twins.get("p1")).metadata["telemetry"]["temperature"]
    assert meta["at"] == "2026-01-01T00:00:05Z"
    assert meta["updated_at"] == "2026-01-01T00:00:20Z"


async def test_telemetry_updates_latest_values_and_is_validated(tk: Platform) -> None:
    await make_pump(tk)
    state = await tk.twins.telemetry("p1", {"temperature": 21.0, "vibration": None})
    assert state.telemetry == {"temperature": 21.0}
    with pytest.raises(ValidationFailed) as caught:
        await tk.twins.telemetry("p1", {"temperature": "hot"})
    assert caught.value.path == "/values/temperature"
    with pytest.raises(ValidationFailed):
        await tk.twins.telemetry("p1", {"pressure": 1.0})
    with pytest.raises(NotFound):
        await tk.twins.telemetry("ghost", {"temperature": 1.0})


async def test_relationships_need_an_existing_target_of_the_right_model(tk: Platform) -> None:
    await make_pump(tk)
    with pytest.raises(ValidationFailed) as caught:
        await tk.twins.put_relationship("p1", "r1", {"name": "feeds", "target": "t1"})
    assert caught.value.path == "/target"
    await make_pump(tk, "p2")
    with pytest.raises(ValidationFailed):
        await tk.twins.put_relationship("p1", "r1", {"name": "feeds", "target": "p2"})
    await tk.twins.put("t1", model="dtmi:acme:BigTank;1")  # extends Tank: accepted
    rel = await tk.twins.put_relationship(
        "p1", "r1", {"name": "feeds", "target": "t1", "properties": {"valve": "A"}}
    )
    assert rel == {
        "id": "r1",
        "source": "p1",
        "name": "feeds",
        "target": "t1",
        "properties": {"valve": "A"},
    }
    assert await tk.twins.incoming("t1") == [rel]
    assert await tk.twins.relationships("p1") == [rel]


async def test_max_multiplicity_is_enforced_but_replacing_is_fine(tk: Platform) -> None:
    await make_pump(tk)
    for tank in ("t1", "t2", "t3"):
        await tk.twins.put(tank, model="dtmi:acme:Tank;1")
    await tk.twins.put_relationship("p1", "a", {"name": "feeds", "target": "t1"})
    await tk.twins.put_relationship("p1", "b", {"name": "feeds", "target": "t2"})
    with pytest.raises(Conflict):
        await tk.twins.put_relationship("p1", "c", {"name": "feeds", "target": "t3"})
    await tk.twins.put_relationship("p1", "b", {"name": "feeds", "target": "t3"})
    assert [r["target"] for r in await tk.twins.relationships("p1")] == ["t1", "t3"]


async def test_delete_with_relationships_needs_cascade(tk: Platform) -> None:
    await make_pump(tk)
    await tk.twins.put("t1", model="dtmi:acme:Tank;1")
    await tk.twins.put_relationship("p1", "r", {"name": "feeds", "target": "t1"})
    await tk.twins.put_relationship("t1", "d", {"name": "drains", "target": "p1"})
    with pytest.raises(Conflict):
        await tk.twins.delete("t1")
    await tk.twins.delete("t1", cascade=True)
    assert not await tk.twins.exists("t1")
    assert await tk.twins.relationships("p1") == []
    kinds = [e.kind for e in await tk.journal.events("p1")]
    assert kinds[-1] is EventKind.RELATIONSHIP_REMOVED


async def test_recreated_twin_continues_its_journal(tk: Platform) -> None:
    await make_pump(tk)
    await tk.twins.delete("p1")
    with pytest.raises(NotFound):
        await tk.twins.get("p1")
    state, created = await tk.twins.put("p1", model=PUMP_ID)
    assert created and state.revision == 3


async def test_events_carry_context_and_list_after_a_revision(tk: Platform) -> None:
    ctx = Context(actor="alice", correlation_id="c-1", cause="ticket-9")
    await tk.twins.put("p1", model=PUMP_ID, context=ctx)
    await tk.twins.telemetry("p1", {"temperature": 1.0})
    await tk.twins.patch("p1", "desired", {"rpm": 2.0})
    events = await tk.journal.events("p1", after_revision=1)
    assert [e.kind.value for e in events] == ["TelemetryReceived", "DesiredChanged"]
    first = (await tk.journal.events("p1"))[0]
    assert first.context == ctx and first.model == PUMP_ID


async def test_as_of_revision_and_time_give_the_exact_document(
    tk: Platform, clock: FrozenClock
) -> None:
    documents = []
    await make_pump(tk)
    documents.append((await tk.twins.get("p1")).document())
    for step in range(150):
        clock.advance(1)
        await tk.twins.telemetry("p1", {"temperature": float(step)})
        documents.append((await tk.twins.get("p1")).document())
    for revision in (1, 2, 63, 64, 65, 128, 151):
        old = await tk.journal.as_of("p1", revision=revision)
        assert old.document() == documents[revision - 1]
    from datetime import timedelta

    start = clock.now() - timedelta(seconds=150)
    at_time = await tk.journal.as_of("p1", at=start + timedelta(seconds=40, milliseconds=500))
    assert at_time.revision == 41
    with pytest.raises(NotFound):
        await tk.journal.as_of("p1", revision=152)


async def test_bus_delivers_committed_events_in_order_with_filters(tk: Platform) -> None:
    from twinkit import Filter

    seen: list[tuple[str, int]] = []
    telemetry_only: list[str] = []
    stop = tk.bus.subscribe(lambda e: seen.append((e.twin, e.revision)))
    tk.bus.subscribe(
        lambda e: telemetry_only.append(e.twin), Filter.of(kinds=["TelemetryReceived"])
    )
    await make_pump(tk, "a")
    await make_pump(tk, "b")
    import asyncio

    await asyncio.gather(*(tk.twins.telemetry("a", {"temperature": float(i)}) for i in range(20)))
    stop()
    await tk.twins.telemetry("b", {"temperature": 1.0})
    revisions_a = [r for t, r in seen if t == "a"]
    assert revisions_a == list(range(1, 22))
    assert ("b", 2) not in seen
    assert telemetry_only.count("a") == 20 and telemetry_only.count("b") == 1


async def test_twins_page_by_model(tk: Platform) -> None:
    for i in range(5):
        await make_pump(tk, f"p{i}")
    await tk.twins.put("t1", model="dtmi:acme:Tank;1")
    first = await tk.twins.page(model=PUMP_ID, limit=3)
    rest = await tk.twins.page(model=PUMP_ID, after=first[-1].id, limit=3)
    assert [s.id for s in first + rest] == ["p0", "p1", "p2", "p3", "p4"]


async def test_models_cannot_be_deleted_while_twins_use_them(tk: Platform) -> None:
    await make_pump(tk)
    with pytest.raises(Conflict):
        await tk.models.delete("dtmi:acme:Tank;1")  # Pump's relationship and BigTank use it
    with pytest.raises(Conflict):
        await tk.models.delete(PUMP_ID)
    await tk.twins.delete("p1")
    await tk.models.delete(PUMP_ID)
    assert PUMP_ID not in tk.registry


async def test_alerts_have_a_lifecycle_on_the_twin_and_in_the_journal(tk: Platform) -> None:
    await make_pump(tk)
    alert = {
        "id": "hot",
        "name": "Too hot",
        "severity": "major",
        "source": "rule:hot",
        "cause": {"temperature": 99.0},
    }
    await tk.twins.record("p1", EventKind.ALERT_RAISED, {"alert": alert})
    doc = (await tk.twins.get("p1")).document()
    assert doc["alerts"]["hot"]["state"] == "raised"
    await tk.twins.record(
        "p1", EventKind.ALERT_ACKNOWLEDGED, {"id": "hot"}, context=Context(actor="bob")
    )
    assert (await tk.twins.get("p1")).alerts["hot"]["acknowledged_by"] == "bob"
    await tk.twins.record("p1", EventKind.ALERT_CLEARED, {"id": "hot"})
    assert (await tk.twins.get("p1")).alerts == {}
    assert (await tk.journal.as_of("p1", revision=2)).alerts["hot"]["severity"] == "major"


async def test_analytics_results_land_on_the_twin_and_in_history(tk: Platform) -> None:
    await make_pump(tk)
    await tk.twins.record(
        "p1",
        EventKind.ANALYTICS_UPDATED,
        {"values": {"anomaly_score": 0.93, "contributions": {"vibration": 1.0}}},
    )
    state = await tk.twins.get("p1")
    assert state.document()["analytics"]["anomaly_score"] == 0.93
    assert [v for _, v in await tk.history.read("p1", "anomaly_score")] == [0.93]


async def test_telemetry_keeps_alerts_and_analytics_on_the_twin(tk: Platform) -> None:
    await make_pump(tk)
    alert = {"id": "a1", "name": "x", "severity": "minor", "source": "rule:x", "cause": {}}
    await tk.twins.record("p1", EventKind.ALERT_RAISED, {"alert": alert})
    await tk.twins.record("p1", EventKind.ANALYTICS_UPDATED, {"values": {"anomaly_score": 0.5}})
    state = await tk.twins.telemetry("p1", {"temperature": 1.0})
    assert set(state.alerts) == {"a1"}
    assert state.analytics == {"anomaly_score": 0.5}


async def test_detector_states_read_many_at_once_as_one_by_one(tk: Platform) -> None:
    twins = [f"t{index}" for index in range(1_200)]  # more than one IN (...) list's worth
    kept = {twin: b"s-" + twin.encode() for twin in twins[::3]}
    states = {(twin, "holds"): state for twin, state in kept.items()}
    states[("t1", "other")] = b"not this name"
    await tk.stage(Batch(detector_states=states))
    found = await tk.store.load_detector_states([*twins, "missing"], "holds")
    assert found == kept
    assert found["t3"] == await tk.store.load_detector_state("t3", "holds")
    assert await tk.store.load_detector_states([], "holds") == {}
