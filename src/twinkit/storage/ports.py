"""The storage port: what the engine needs from a store, and nothing more.

Every adapter (memory, SQLite, later PostgreSQL) passes the same contract suite in
``tests/contracts``. Writes arrive as one :class:`Batch` per group commit and are
all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from twinkit.model.events import Event
from twinkit.twins.state import TwinState


@dataclass(frozen=True, slots=True)
class Block:
    """A run of points of one series, sorted by time; ``values`` are floats or JSON values."""

    twin: str
    path: str
    times: list[float]
    values: list[Any]


@dataclass(slots=True)
class Batch:
    """Everything one group commit writes, in one transaction."""

    events: list[Event] = field(default_factory=list)
    twins: dict[str, TwinState] = field(default_factory=dict)
    snapshots: list[TwinState] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    series_watermark: int | None = None
    series_marks: dict[tuple[str, str], int] = field(default_factory=dict)
    detector_states: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.events or self.twins or self.snapshots or self.blocks or self.detector_states
        )

    def absorb(self, other: Batch) -> None:
        self.events.extend(other.events)
        self.twins.update(other.twins)
        self.snapshots.extend(other.snapshots)
        self.blocks.extend(other.blocks)
        self.detector_states.update(other.detector_states)
        self.series_marks.update(other.series_marks)
        if other.series_watermark is not None:
            self.series_watermark = other.series_watermark


class Store(Protocol):
    """A durable home for twins, their journal, their history and the models."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def commit(self, batch: Batch) -> None:
        """Write the batch atomically; when this returns, it survives a crash."""

    # twins and relationships
    async def load_twin(self, twin: str) -> TwinState | None: ...

    async def last_revision(self, twin: str) -> int:
        """The journal length of ``twin``, also after it was deleted (0 if never seen)."""

    async def twin_ids(
        self, *, model: str | None = None, after: str = "", limit: int = 100
    ) -> list[str]: ...

    async def count_twins(self) -> int: ...

    async def incoming(self, target: str) -> list[dict[str, Any]]: ...

    # journal
    async def events(
        self,
        twin: str,
        *,
        after_revision: int = 0,
        until_revision: int | None = None,
        limit: int | None = None,
    ) -> list[Event]: ...

    async def events_since(self, seq: int, *, limit: int = 10_000) -> list[Event]:
        """Events of every twin with ``seq`` greater than the given one, in seq order."""

    async def last_seq(self) -> int: ...

    async def replay_material(
        self, twin: str, revision: int
    ) -> tuple[TwinState | None, list[Event]]:
        """The latest snapshot at or before ``revision`` and the events from it up to
        ``revision`` (fewer if the journal is shorter): what an as-of read folds."""

    async def revision_at(self, twin: str, moment: datetime) -> int:
        """The revision the twin had at ``moment`` (0 if it did not exist yet)."""

    # time series
    async def read_series(self, twin: str, path: str, start: float, end: float) -> list[Block]: ...

    async def series_paths(self, twin: str) -> list[str]: ...

    async def series_watermark(self) -> int: ...

    async def series_marks(self) -> dict[tuple[str, str], int]:
        """Per series, the last journal seq whose points are written as blocks."""

    async def prune_series(self, twin: str, path: str, before: float) -> int:
        """Drop points older than ``before``; returns how many were dropped."""

    # models
    async def save_models(self, documents: list[dict[str, Any]]) -> None: ...

    async def delete_model(self, dtmi: str) -> None: ...

    async def load_models(self) -> list[dict[str, Any]]: ...

    # analytics state, kept with the twin
    async def load_detector_state(self, twin: str, name: str) -> bytes | None: ...

    async def load_detector_states(self, twins: Sequence[str], name: str) -> dict[str, bytes]:
        """The state called ``name`` of each of ``twins`` that has one, in one read."""
        ...
