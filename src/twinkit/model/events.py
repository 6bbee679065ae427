"""Events: immutable, past-tense records of a change to one twin, with who caused it.

A twin's journal is its ordered events; its revision is the journal's length and
its state is a fold over the journal (:func:`twinkit.twins.state.apply`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import count
from os import urandom
from typing import Any

from twinkit.model.time import format_time, parse_time

_PREFIX = urandom(6).hex()
_COUNTER = count(1)


def new_correlation_id() -> str:
    """Unique per process run and cheap: a random prefix and a counter."""
    return f"{_PREFIX}-{next(_COUNTER):x}"


class EventKind(StrEnum):
    TWIN_CREATED = "TwinCreated"
    TWIN_REPLACED = "TwinReplaced"
    TWIN_DELETED = "TwinDeleted"
    REPORTED_CHANGED = "ReportedChanged"
    DESIRED_CHANGED = "DesiredChanged"
    TELEMETRY_RECEIVED = "TelemetryReceived"
    RELATIONSHIP_ADDED = "RelationshipAdded"
    RELATIONSHIP_REPLACED = "RelationshipReplaced"
    RELATIONSHIP_REMOVED = "RelationshipRemoved"
    COMMAND_SENT = "CommandSent"
    COMMAND_ANSWERED = "CommandAnswered"
    ALERT_RAISED = "AlertRaised"
    ALERT_ACKNOWLEDGED = "AlertAcknowledged"
    ALERT_CLEARED = "AlertCleared"
    ANALYTICS_UPDATED = "AnalyticsUpdated"


@dataclass(frozen=True, slots=True)
class Context:
    """Who or what caused a change: carried on every event it leads to."""

    actor: str = "system"
    correlation_id: str = field(default_factory=lambda: new_correlation_id())
    cause: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"actor": self.actor, "correlation_id": self.correlation_id, "cause": self.cause}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Context:
        return cls(raw.get("actor", "system"), raw.get("correlation_id", ""), raw.get("cause"))


@dataclass(frozen=True, slots=True)
class Event:
    """One change to one twin. ``seq`` orders events across all twins (the feed cursor)."""

    twin: str
    revision: int
    kind: EventKind
    at: datetime
    data: dict[str, Any]
    context: Context
    model: str | None = None
    seq: int = 0

    @property
    def id(self) -> str:
        return f"{self.twin}:{self.revision}"

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "twin": self.twin,
            "revision": self.revision,
            "kind": self.kind.value,
            "at": format_time(self.at),
            "model": self.model,
            "data": self.data,
            "context": self.context.to_json(),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Event:
        return cls(
            twin=raw["twin"],
            revision=raw["revision"],
            kind=EventKind(raw["kind"]),
            at=parse_time(raw["at"]),
            data=raw["data"],
            context=Context.from_json(raw["context"]),
            model=raw.get("model"),
            seq=raw.get("seq", 0),
        )
