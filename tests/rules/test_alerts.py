"""Alerts: lifecycle, deduplication, who acknowledged, the journal, the feed and the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.conftest import MODELS, PUMP_MODEL
from twinkit import Platform
from twinkit.bus import Filter
from twinkit.model.errors import NotFound, ValidationFailed
from twinkit.model.events import Context, Event, EventKind
from twinkit.rules import Alerts
from twinkit.testing import FrozenClock


@pytest.fixture
async def alerts(tk: Platform) -> Alerts:
    alerts = Alerts(tk)
    await alerts.start()
    await tk.twins.put("p1", model=PUMP_MODEL)
    await tk.twins.put("p2", model=PUMP_MODEL)
    return alerts


async def test_raised_acknowledged_cleared(
    tk: Platform, alerts: Alerts, clock: FrozenClock
) -> None:
    seen: list[Event] = []
    tk.bus.subscribe(
        seen.append, Filter.of(kinds=["AlertRaised", "AlertAcknowledged", "AlertCleared"])
    )
    alert, new = await alerts.raise_alert(
        "p1", source="rule:hot", severity="critical", cause={"values": {"t": 93}}, message="hot"
    )
    assert new and alert["state"] == "raised"
    doc = (await tk.twins.get("p1")).document()
    assert doc["alerts"][alert["id"]]["cause"] == {"values": {"t": 93}}
    assert doc["alerts"][alert["id"]]["severity"] == "critical"
    clock.advance(5)
    acked = await alerts.acknowledge("p1", alert["id"], context=Context(actor="alice"))
    assert (acked["state"], acked["acknowledged_by"]) == ("acknowledged", "alice")
    assert (await tk.twins.get("p1")).alerts[alert["id"]]["acknowledged_by"] == "alice"
    again = await alerts.acknowledge("p1", alert["id"])  # idempotent: no second event
    assert again["acknowledged_by"] == "alice"
    cleared = await alerts.clear("p1", alert["id"])
    assert cleared["state"] == "cleared"
    assert (await tk.twins.get("p1")).alerts == {}
    assert [e.kind for e in seen] == [
        EventKind.ALERT_RAISED,
        EventKind.ALERT_ACKNOWLEDGED,
        EventKind.ALERT_CLEARED,
    ]
    journal = [e.kind for e in await tk.journal.events("p1")]
    assert journal.count(EventKind.ALERT_ACKNOWLEDGED) == 1
    # the cleared alert is still in the journal, and in an as-of read of the past
    past = await tk.journal.as_of("p1", revision=journal.index(EventKind.ALERT_RAISED) + 1)
    assert alert["id"] in past.alerts


async def test_one_open_alert_per_twin_and_source(tk: Platform, alerts: Alerts) -> None:
    first, new1 = await alerts.raise_alert("p1", source="rule:hot")
    second, new2 = await alerts.raise_alert("p1", source="rule:hot", severity="critical")
    other, new3 = await alerts.raise_alert("p1", source="detector:temp")
    elsewhere, new4 = await alerts.raise_alert("p2", source="rule:hot")
    assert (new1, new2, new3, new4) == (True, False, True, True)
    assert second["id"] == first["id"]
    assert len({first["id"], other["id"], elsewhere["id"]}) == 3
    await alerts.clear("p1", first["id"])
    third, new5 = await alerts.raise_alert("p1", source="rule:hot")
    assert new5 and third["id"] != first["id"]


async def test_concurrent_raises_still_write_one_alert(tk: Platform, alerts: Alerts) -> None:
    import asyncio

    results = await asyncio.gather(*(alerts.raise_alert("p1", source="rule:x") for _ in range(10)))
    assert sum(new for _, new in results) == 1
    assert len({a["id"] for a, _ in results}) == 1


async def test_listing_filters(tk: Platform, alerts: Alerts) -> None:
    a, _ = await alerts.raise_alert("p1", source="rule:hot", severity="critical")
    await alerts.raise_alert("p2", source="rule:hot", severity="warning")
    await alerts.raise_alert("p2", source="detector:temp", severity="info")
    await alerts.acknowledge("p1", a["id"])
    assert len(alerts.list()) == 3
    assert [x["twin"] for x in alerts.list(severity="critical")] == ["p1"]
    assert [x["source"] for x in alerts.list(twin="p2", source="detector:temp")] == [
        "detector:temp"
    ]
    assert [x["twin"] for x in alerts.list(state="acknowledged")] == ["p1"]
    with pytest.raises(ValidationFailed):
        alerts.list(state="cleared")


async def test_unknown_alerts_and_twins_are_not_found(alerts: Alerts) -> None:
    with pytest.raises(NotFound):
        await alerts.acknowledge("p1", "nope")
    with pytest.raises(NotFound):
        await alerts.clear("ghost", "nope")
    with pytest.raises(NotFound):
        await alerts.raise_alert("ghost", source="rule:x")


async def test_deleting_a_twin_drops_its_alerts_from_the_index(
    tk: Platform, alerts: Alerts
) -> None:
    await alerts.raise_alert("p1", source="rule:x")
    await tk.twins.delete("p1")
    assert alerts.list() == []


async def test_open_alerts_are_indexed_again_after_a_restart(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "alerts.db"
    async with Platform.open(path, clock=clock) as tk:
        await tk.models.add(MODELS)
        await tk.twins.put("p1", model=PUMP_MODEL)
        alerts = Alerts(tk)
        await alerts.start()
        raised, _ = await alerts.raise_alert("p1", source="rule:x", severity="critical")
        alerts.close()
    async with Platform.open(path, clock=clock) as tk:
        alerts = Alerts(tk)
        await alerts.start()
        assert [a["id"] for a in alerts.list()] == [raised["id"]]
        _, new = await alerts.raise_alert("p1", source="rule:x")
        assert not new
        alerts.close()


async def test_telemetry_after_an_alert_keeps_it_on_the_twin(tk: Platform, alerts: Alerts) -> None:
    alert, _ = await alerts.raise_alert("p1", source="rule:x")
    await tk.twins.telemetry("p1", {"temperature": 20.0})
    assert alert["id"] in (await tk.twins.get("p1")).alerts


async def test_concurrent_clears_write_one_event(tk: Platform, alerts: Alerts) -> None:
    import asyncio

    alert, _ = await alerts.raise_alert("p1", source="rule:x")
    results = await asyncio.gather(
        *(alerts.clear("p1", alert["id"]) for _ in range(5)), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, NotFound) for r in results if isinstance(r, Exception))
    kinds = [e.kind for e in await tk.journal.events("p1")]
    assert kinds.count(EventKind.ALERT_CLEARED) == 1
