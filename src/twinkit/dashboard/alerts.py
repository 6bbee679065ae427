"""Recent alerts of the whole fleet with their lifecycle, for the alerts page.

Alerts are journal events (``AlertRaised`` → ``AlertAcknowledged`` → ``AlertCleared``). A twin
keeps only its open alerts; this board also remembers cleared ones, across twins, folded by
(twin, alert key). On first use it replays the recent journal so alerts
raised before the page was opened are not missed, then follows the bus.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from twinkit.bus import Filter, Unsubscribe
from twinkit.model.events import Event, EventKind
from twinkit.model.time import format_time
from twinkit.platform import Platform

ALERT_KINDS = (EventKind.ALERT_RAISED, EventKind.ALERT_ACKNOWLEDGED, EventKind.ALERT_CLEARED)
STATES = {
    EventKind.ALERT_RAISED: "raised",
    EventKind.ALERT_ACKNOWLEDGED: "acknowledged",
    EventKind.ALERT_CLEARED: "cleared",
}
# how far back the journal is replayed on start, and how many alerts are remembered
REPLAY_EVENTS = 50_000
REMEMBERED = 5_000


def alert_fields(data: dict[str, Any]) -> dict[str, Any]:
    """An alert event's fields: ``AlertRaised`` nests them under ``alert``; the others do not."""
    nested = data.get("alert")
    if isinstance(nested, dict):
        return {**{k: v for k, v in data.items() if k != "alert"}, **nested}
    return dict(data)


def alert_key(data: dict[str, Any]) -> str:
    """The identity of one alert inside a twin: its id, else its rule or detector."""
    data = alert_fields(data)
    for field in ("id", "alert", "alert_id", "rule", "detector", "name"):
        value = data.get(field)
        if isinstance(value, str | int) and value != "":
            return str(value)
    return "alert"


class AlertBoard:
    """Every recent alert with its lifecycle state, newest first."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._alerts: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._last_seq = 0
        self._unsubscribe: Unsubscribe | None = None
        self._ready = asyncio.Lock()
        self._loaded = False

    async def start(self) -> None:
        """Subscribe, then replay the recent journal (events seen twice are applied once)."""
        async with self._ready:
            if self._loaded:
                return
            self._unsubscribe = self._platform.bus.subscribe(
                self.apply, Filter.of(kinds=list(ALERT_KINDS))
            )
            store = self._platform.store
            seq = max(0, await store.last_seq() - REPLAY_EVENTS)
            while events := await store.events_since(seq, limit=5_000):
                for event in events:
                    if event.kind in STATES:
                        self.apply(event)
                seq = events[-1].seq
            self._loaded = True

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def apply(self, event: Event) -> None:
        state = STATES.get(event.kind)
        if state is None or (event.seq and event.seq <= self._last_seq and self._loaded):
            return
        self._last_seq = max(self._last_seq, event.seq)
        fields = alert_fields(event.data)
        key = (event.twin, alert_key(fields))
        previous = self._alerts.pop(key, None)
        alert = dict(previous or {})
        alert.update(
            {
                "twin": event.twin,
                "key": key[1],
                "model": event.model,
                "state": state,
                "updated_at": format_time(event.at),
                "revision": event.revision,
            }
        )
        if state == "raised" or "raised_at" not in alert:
            alert["raised_at"] = format_time(event.at)
        alert["severity"] = fields.get("severity", alert.get("severity", "warning"))
        message = fields.get("message") or fields.get("reason") or fields.get("summary")
        if message or "message" not in alert:
            alert["message"] = message or _describe(key[1], fields)
        alert["data"] = {**alert.get("data", {}), **fields}
        self._alerts[key] = alert
        while len(self._alerts) > REMEMBERED:
            self._alerts.popitem(last=False)

    def list(
        self, *, twin: str | None = None, state: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        found = []
        for alert in reversed(self._alerts.values()):
            if twin and alert["twin"] != twin:
                continue
            if state == "open" and alert["state"] == "cleared":
                continue
            if state and state != "open" and alert["state"] != state:
                continue
            found.append(alert)
            if len(found) == limit:
                break
        return found


def _describe(key: str, fields: dict[str, Any]) -> str:
    """A readable line for an alert that carries no message of its own."""
    source = fields.get("rule") or fields.get("detector")
    return f"{key} ({source})" if source and source != key else str(key)
