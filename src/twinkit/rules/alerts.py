"""Alerts: raised → acknowledged → cleared, one open alert per (twin, source), in the journal.

TL;DR::

    alert = await alerts.raise_alert("pump-1", source="rule:overheat", severity="critical",
                                     cause={"values": {"telemetry.temp": 93.0}})
    await alerts.acknowledge("pump-1", alert["id"], context=Context(actor="alice"))
    await alerts.clear("pump-1", alert["id"])

Every step is a journal event on the twin (``AlertRaised``/``AlertAcknowledged``/
``AlertCleared``), so open alerts are part of the twin document (``alerts``), of as-of reads,
of the change feeds and of the dashboard. ``source`` says who raised it (``rule:<id>`` or
``detector:<name>``) and is the deduplication key: raising again while one is open returns the
open alert and writes nothing. Cleared alerts leave the document but stay in the journal.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

from twinkit.bus import Filter, Unsubscribe
from twinkit.model.errors import NotFound, ValidationFailed
from twinkit.model.events import Context, Event, EventKind
from twinkit.model.time import format_time
from twinkit.platform import Platform

ALERT_KINDS = (EventKind.ALERT_RAISED, EventKind.ALERT_ACKNOWLEDGED, EventKind.ALERT_CLEARED)


class Alerts:
    """Raise, acknowledge, clear and list alerts; keeps an index of open alerts per twin."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}
        self._open: dict[str, dict[str, dict[str, Any]]] = {}  # twin → alert id → alert
        self._unsubscribe: Unsubscribe | None = None
        self.raised = 0

    async def start(self) -> None:
        """Follow the alert events, then index the alerts already open on every twin."""
        if self._unsubscribe is not None:
            return
        kinds = [k.value for k in (*ALERT_KINDS, EventKind.TWIN_DELETED)]
        self._unsubscribe = self._platform.bus.subscribe(self._follow, Filter.of(kinds=kinds))
        after = ""
        while page := await self._platform.twins.page(after=after, limit=500):
            for state in page:
                if state.alerts:
                    self._open[state.id] = {k: dict(v) for k, v in state.alerts.items()}
            after = page[-1].id

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _follow(self, event: Event) -> None:
        if event.kind is EventKind.TWIN_DELETED:
            self._open.pop(event.twin, None)
            return
        twin = self._open.setdefault(event.twin, {})
        when = format_time(event.at)
        if event.kind is EventKind.ALERT_RAISED:
            alert = event.data["alert"]
            twin[alert["id"]] = {**alert, "state": "raised", "raised_at": when}
        elif event.kind is EventKind.ALERT_ACKNOWLEDGED and event.data["id"] in twin:
            twin[event.data["id"]].update(
                state="acknowledged", acknowledged_at=when, acknowledged_by=event.context.actor
            )
        elif event.kind is EventKind.ALERT_CLEARED:
            twin.pop(event.data["id"], None)
        if not twin:
            self._open.pop(event.twin, None)

    @asynccontextmanager
    async def _exclusive(self, twin: str, source: str) -> AsyncIterator[None]:
        """One raise or clear at a time per (twin, source): the dedupe check-then-write."""
        key = (twin, source)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def open_alert(self, twin: str, source: str) -> dict[str, Any] | None:
        """The open (raised or acknowledged) alert ``source`` holds on ``twin``, if any."""
        alerts = await self._alerts_of(twin)
        return next((dict(a) for a in alerts.values() if a.get("source") == source), None)

    async def _alerts_of(self, twin: str) -> dict[str, dict[str, Any]]:
        # The index follows the alert events themselves, so it is right even while a fold
        # elsewhere loses the twin's ``alerts`` section; the twin is read when not following.
        if self._unsubscribe is not None:
            if not await self._platform.twins.exists(twin):
                raise NotFound(f"twin {twin!r} does not exist", "/id")
            return self._open.get(twin, {})
        return (await self._platform.twins.get(twin)).alerts

    async def raise_alert(
        self,
        twin: str,
        *,
        source: str,
        severity: str = "warning",
        name: str | None = None,
        cause: dict[str, Any] | None = None,
        message: str | None = None,
        context: Context | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """The open alert of ``source`` on ``twin`` and whether it was raised by this call."""
        async with self._exclusive(twin, source):
            current = await self.open_alert(twin, source)
            if current is not None:
                return current, False
            alert: dict[str, Any] = {
                "id": uuid4().hex[:16],
                "name": name or source.split(":", 1)[-1],
                "severity": severity,
                "source": source,
                "cause": cause or {},
            }
            if message:
                alert["message"] = message
            # The top-level copies let feed readers (the dashboard) key and show the alert
            # without knowing the nested shape.
            data = {"alert": alert, "id": alert["id"], "severity": severity, "source": source}
            if message:
                data["message"] = message
            event = await self._platform.twins.record(
                twin, EventKind.ALERT_RAISED, data, context=context
            )
            self.raised += 1
            return {**alert, "state": "raised", "raised_at": format_time(event.at)}, True

    async def acknowledge(
        self, twin: str, alert_id: str, *, context: Context | None = None
    ) -> dict[str, Any]:
        """Mark an open alert as seen by someone (``context.actor``); idempotent."""
        alert = await self._get(twin, alert_id)
        if alert["state"] == "acknowledged":
            return alert
        await self._platform.twins.record(
            twin, EventKind.ALERT_ACKNOWLEDGED, {"id": alert_id}, context=context
        )
        return await self._get(twin, alert_id)

    async def clear(
        self, twin: str, alert_id: str, *, context: Context | None = None
    ) -> dict[str, Any]:
        """Close an open alert (it leaves the twin document; the journal keeps it)."""
        alert = await self._get(twin, alert_id)
        async with self._exclusive(twin, str(alert.get("source", ""))):
            alert = await self._get(twin, alert_id)  # a concurrent clear may have won
            await self._platform.twins.record(
                twin,
                EventKind.ALERT_CLEARED,
                {"id": alert_id, "source": alert.get("source")},
                context=context,
            )
        return {**alert, "state": "cleared"}

    async def clear_source(
        self, twin: str, source: str, *, context: Context | None = None
    ) -> dict[str, Any] | None:
        """Clear the open alert ``source`` holds on ``twin``; None when there is none."""
        current = await self.open_alert(twin, source)
        if current is None:
            return None
        return await self.clear(twin, current["id"], context=context)

    async def _get(self, twin: str, alert_id: str) -> dict[str, Any]:
        alert = (await self._alerts_of(twin)).get(alert_id)
        if alert is None:
            raise NotFound(f"twin {twin!r} has no open alert {alert_id!r}", "/alert_id")
        return {**alert, "twin": twin}

    def list(
        self,
        *,
        twin: str | None = None,
        state: str | None = None,
        severity: str | None = None,
        source: str | None = None,
    ) -> list[dict[str, Any]]:
        """Open alerts (newest first), filtered by twin, state, severity and source."""
        if state not in (None, "raised", "acknowledged"):
            raise ValidationFailed("state is raised or acknowledged", "/state")
        found = [
            {**alert, "twin": twin_id}
            for twin_id, alerts in self._scope(twin)
            for alert in alerts.values()
            if (state is None or alert.get("state") == state)
            and (severity is None or alert.get("severity") == severity)
            and (source is None or alert.get("source") == source)
        ]
        found.sort(key=lambda a: (str(a.get("raised_at", "")), a["twin"]), reverse=True)
        return found

    def _scope(self, twin: str | None) -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
        if twin is None:
            yield from self._open.items()
        elif twin in self._open:
            yield twin, self._open[twin]
