"""A twin's state, and the fold that builds it from the journal.

``apply(state, event)`` is pure: it returns a new state and never touches the old
one, so a cached state can be shared by readers while a writer moves on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from twinkit.model.events import Event, EventKind
from twinkit.model.time import format_time

Section = dict[str, Any]
Meta = dict[str, dict[str, str | None]]


@dataclass(frozen=True, slots=True)
class TwinState:
    """Everything the journal says about one twin after ``revision`` events."""

    id: str
    revision: int = 0
    model: str | None = None
    exists: bool = False
    reported: Section = field(default_factory=dict)
    desired: Section = field(default_factory=dict)
    telemetry: Section = field(default_factory=dict)
    metadata: dict[str, Meta] = field(default_factory=dict)
    relationships: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    analytics: Section = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return f'"{self.revision}"'

    def document(self) -> dict[str, Any]:
        """The twin document served by the API and stored for queries."""
        return {
            "id": self.id,
            "model": self.model,
            "revision": self.revision,
            "etag": self.etag,
            "reported": self.reported,
            "desired": self.desired,
            "delta": delta(self.desired, self.reported),
            "telemetry": self.telemetry,
            "metadata": self.metadata,
            "alerts": self.alerts,
            "analytics": self.analytics,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_document(
        cls, doc: dict[str, Any], relationships: Iterable[dict[str, Any]] = ()
    ) -> TwinState:
        return cls(
            id=doc["id"],
            revision=doc["revision"],
            model=doc.get("model"),
            exists=True,
            reported=doc.get("reported", {}),
            desired=doc.get("desired", {}),
            telemetry=doc.get("telemetry", {}),
            metadata=doc.get("metadata", {}),
            relationships={r["id"]: r for r in relationships},
            created_at=doc.get("created_at"),
            updated_at=doc.get("updated_at"),
            alerts=doc.get("alerts", {}),
            analytics=doc.get("analytics", {}),
        )


def delta(desired: Section, reported: Section) -> Section:
    """Desired values the device has not reported yet (recursing into objects)."""
    out: Section = {}
    for key, want in desired.items():
        have = reported.get(key)
        if isinstance(want, dict) and isinstance(have, dict):
            inner = delta(want, have)
            if inner:
                out[key] = inner
        elif want != have or key not in reported:
            out[key] = want
    return out


def replay(twin: str, events: Iterable[Event], start: TwinState | None = None) -> TwinState:
    state = start if start is not None else TwinState(twin)
    for event in events:
        state = apply(state, event)
    return state


def apply(state: TwinState, event: Event) -> TwinState:
    """The state after ``event``. Unknown kinds only advance the revision."""
    if event.revision != state.revision + 1:
        raise ValueError(f"event {event.id} does not follow revision {state.revision}")
    now = format_time(event.at)
    folder = _FOLDS.get(event.kind)
    if folder is None:
        return replace(state, revision=event.revision, updated_at=now)
    return folder(state, event, now)


def _created(state: TwinState, event: Event, now: str) -> TwinState:
    source = event.data.get("at")
    metadata: dict[str, Meta] = {
        "reported": {k: _meta(now, now, source) for k in event.data.get("reported", {})},
        "desired": {k: _meta(now, now, None) for k in event.data.get("desired", {})},
        "telemetry": {},
    }
    return replace(
        state,
        revision=event.revision,
        updated_at=now,
        model=event.data.get("model"),
        exists=True,
        reported=dict(event.data.get("reported", {})),
        desired=dict(event.data.get("desired", {})),
        telemetry={},
        metadata=metadata,
        relationships=state.relationships if event.kind is EventKind.TWIN_REPLACED else {},
        created_at=now if event.kind is EventKind.TWIN_CREATED else state.created_at,
    )


def _deleted(state: TwinState, event: Event, now: str) -> TwinState:
    return TwinState(state.id, event.revision, updated_at=now)


def _section_changed(name: str) -> Callable[[TwinState, Event, str], TwinState]:
    def fold(state: TwinState, event: Event, now: str) -> TwinState:
        values: Section = dict(getattr(state, name))
        meta: Meta = dict(state.metadata.get(name, {}))
        source = event.data.get("at")
        for key, value in event.data.get("set", {}).items():
            old = meta.get(key)
            changed = (
                now
                if key not in values or values[key] != value or old is None
                else old.get("changed_at")
            )
            values[key] = value
            meta[key] = _meta(changed, now, source)
        for key in event.data.get("removed", ()):
            values.pop(key, None)
            meta.pop(key, None)
        metadata = {**state.metadata, name: meta}
        if name == "reported":
            return replace(
                state, revision=event.revision, updated_at=now, reported=values, metadata=metadata
            )
        return replace(
            state, revision=event.revision, updated_at=now, desired=values, metadata=metadata
        )

    return fold


def _telemetry(state: TwinState, event: Event, now: str) -> TwinState:
    # The hot path of ingestion: one shared metadata dict for every value that changed
    # (states are never mutated, so sharing is safe) and a direct constructor call.
    values = dict(state.telemetry)
    meta: Meta = dict(state.metadata.get("telemetry", ()))
    source = event.data.get("at")
    fresh = {"changed_at": now, "updated_at": now, "at": source}
    for key, value in event.data["values"].items():
        old = meta.get(key)
        if old is not None and values.get(key) == value:
            meta[key] = {"changed_at": old["changed_at"], "updated_at": now, "at": source}
        else:
            meta[key] = fresh
        values[key] = value
    metadata = dict(state.metadata)
    metadata["telemetry"] = meta
    return TwinState(
        state.id,
        event.revision,
        state.model,
        state.exists,
        state.reported,
        state.desired,
        values,
        metadata,
        state.relationships,
        state.created_at,
        now,
        state.alerts,
        state.analytics,
    )


def _relationship_set(state: TwinState, event: Event, now: str) -> TwinState:
    rel = event.data["relationship"]
    rels = {**state.relationships, rel["id"]: rel}
    return replace(state, revision=event.revision, updated_at=now, relationships=rels)


def _relationship_removed(state: TwinState, event: Event, now: str) -> TwinState:
    rels = dict(state.relationships)
    rels.pop(event.data["id"], None)
    return replace(state, revision=event.revision, updated_at=now, relationships=rels)


def _alert_raised(state: TwinState, event: Event, now: str) -> TwinState:
    alert = {**event.data["alert"], "state": "raised", "raised_at": now}
    alerts = {**state.alerts, alert["id"]: alert}
    return replace(state, revision=event.revision, updated_at=now, alerts=alerts)


def _alert_acknowledged(state: TwinState, event: Event, now: str) -> TwinState:
    alerts = dict(state.alerts)
    current = alerts.get(event.data["id"])
    if current is not None:
        alerts[event.data["id"]] = {
            **current,
            "state": "acknowledged",
            "acknowledged_at": now,
            "acknowledged_by": event.context.actor,
        }
    return replace(state, revision=event.revision, updated_at=now, alerts=alerts)


def _alert_cleared(state: TwinState, event: Event, now: str) -> TwinState:
    alerts = dict(state.alerts)
    alerts.pop(event.data["id"], None)
    return replace(state, revision=event.revision, updated_at=now, alerts=alerts)


def _analytics(state: TwinState, event: Event, now: str) -> TwinState:
    values = {**state.analytics, **event.data["values"]}
    meta: Meta = dict(state.metadata.get("analytics", ()))
    stamp = {"changed_at": now, "updated_at": now, "at": event.data.get("at")}
    for key in event.data["values"]:
        meta[key] = stamp
    metadata = {**state.metadata, "analytics": meta}
    return replace(
        state, revision=event.revision, updated_at=now, analytics=values, metadata=metadata
    )


def _meta(changed: str | None, updated: str, source: str | None) -> dict[str, str | None]:
    return {"changed_at": changed, "updated_at": updated, "at": source}


_FOLDS: dict[EventKind, Callable[[TwinState, Event, str], TwinState]] = {
    EventKind.TWIN_CREATED: _created,
    EventKind.TWIN_REPLACED: _created,
    EventKind.TWIN_DELETED: _deleted,
    EventKind.REPORTED_CHANGED: _section_changed("reported"),
    EventKind.DESIRED_CHANGED: _section_changed("desired"),
    EventKind.TELEMETRY_RECEIVED: _telemetry,
    EventKind.RELATIONSHIP_ADDED: _relationship_set,
    EventKind.RELATIONSHIP_REPLACED: _relationship_set,
    EventKind.RELATIONSHIP_REMOVED: _relationship_removed,
    EventKind.ALERT_RAISED: _alert_raised,
    EventKind.ALERT_ACKNOWLEDGED: _alert_acknowledged,
    EventKind.ALERT_CLEARED: _alert_cleared,
    EventKind.ANALYTICS_UPDATED: _analytics,
}
