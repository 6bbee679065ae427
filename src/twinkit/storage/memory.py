"""The in-memory store: the reference adapter for tests and throwaway platforms."""

from __future__ import annotations

import bisect
import copy
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from twinkit.model.events import Event
from twinkit.storage.ports import Batch, Block
from twinkit.twins.state import TwinState


class MemoryStore:
    def __init__(self) -> None:
        self._twins: dict[str, TwinState] = {}
        self._journal: dict[str, list[Event]] = defaultdict(list)
        self._all_events: list[Event] = []
        self._snapshots: dict[str, list[TwinState]] = defaultdict(list)
        self._series: dict[tuple[str, str], list[Block]] = defaultdict(list)
        self._twin_paths: dict[str, set[str]] = defaultdict(set)
        self._watermark = 0
        self._marks: dict[tuple[str, str], int] = {}
        self._models: dict[str, dict[str, Any]] = {}
        self._detectors: dict[tuple[str, str], bytes] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def commit(self, batch: Batch) -> None:
        for event in batch.events:
            self._journal[event.twin].append(event)
            self._all_events.append(event)
        for twin_id, state in batch.twins.items():
            if state.exists:
                self._twins[twin_id] = state
            else:
                self._twins.pop(twin_id, None)
        for snap in batch.snapshots:
            self._snapshots[snap.id].append(snap)
        for block in batch.blocks:
            self._series[(block.twin, block.path)].append(block)
            self._twin_paths[block.twin].add(block.path)
        self._marks.update(batch.series_marks)
        if batch.series_watermark is not None:
            self._watermark = batch.series_watermark
        self._detectors.update(batch.detector_states)

    async def load_twin(self, twin: str) -> TwinState | None:
        return self._twins.get(twin)

    async def last_revision(self, twin: str) -> int:
        journal = self._journal.get(twin)
        return journal[-1].revision if journal else 0

    async def twin_ids(
        self, *, model: str | None = None, after: str = "", limit: int = 100
    ) -> list[str]:
        ids = sorted(
            t for t, s in self._twins.items() if t > after and (model is None or s.model == model)
        )
        return ids[:limit]

    async def count_twins(self) -> int:
        return len(self._twins)

    def states(self) -> list[TwinState]:
        """Every live twin (the query evaluator's view of an in-memory platform)."""
        return list(self._twins.values())

    async def incoming(self, target: str) -> list[dict[str, Any]]:
        return [
            rel
            for state in self._twins.values()
            for rel in state.relationships.values()
            if rel["target"] == target
        ]

    async def events(
        self,
        twin: str,
        *,
        after_revision: int = 0,
        until_revision: int | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        journal = self._journal.get(twin, [])
        # revisions are 1..n in order, so the list index is revision - 1
        end = len(journal) if until_revision is None else min(until_revision, len(journal))
        chosen = journal[after_revision:end]
        return chosen[:limit] if limit is not None else chosen

    async def events_since(self, seq: int, *, limit: int = 10_000) -> list[Event]:
        index = bisect.bisect_right(self._all_events, seq, key=lambda e: e.seq)
        return self._all_events[index : index + limit]

    async def last_seq(self) -> int:
        return self._all_events[-1].seq if self._all_events else 0

    async def replay_material(
        self, twin: str, revision: int
    ) -> tuple[TwinState | None, list[Event]]:
        best = None
        for snap in self._snapshots.get(twin, []):
            if snap.revision <= revision:
                best = snap
        after = best.revision if best is not None else 0
        return best, await self.events(twin, after_revision=after, until_revision=revision)

    async def revision_at(self, twin: str, moment: datetime) -> int:
        revision = 0
        for event in self._journal.get(twin, []):
            if event.at > moment:
                break
            revision = event.revision
        return revision

    async def read_series(self, twin: str, path: str, start: float, end: float) -> list[Block]:
        return [
            b
            for b in self._series.get((twin, path), [])
            if b.times and b.times[0] <= end and b.times[-1] >= start
        ]

    async def series_paths(self, twin: str) -> list[str]:
        return sorted(self._twin_paths.get(twin, ()))

    async def series_watermark(self) -> int:
        return self._watermark

    async def series_marks(self) -> dict[tuple[str, str], int]:
        return dict(self._marks)

    async def prune_series(self, twin: str, path: str, before: float) -> int:
        dropped = 0
        kept: list[Block] = []
        for block in self._series.get((twin, path), []):
            cut = bisect.bisect_left(block.times, before)
            dropped += cut
            if cut < len(block.times):
                kept.append(Block(twin, path, block.times[cut:], block.values[cut:]))
        self._series[(twin, path)] = kept
        return dropped

    async def save_models(self, documents: list[dict[str, Any]]) -> None:
        for doc in documents:
            self._models[doc["@id"]] = copy.deepcopy(doc)

    async def delete_model(self, dtmi: str) -> None:
        self._models.pop(dtmi, None)

    async def load_models(self) -> list[dict[str, Any]]:
        return list(self._models.values())

    async def load_detector_state(self, twin: str, name: str) -> bytes | None:
        return self._detectors.get((twin, name))

    async def load_detector_states(self, twins: Sequence[str], name: str) -> dict[str, bytes]:
        found = ((twin, self._detectors.get((twin, name))) for twin in twins)
        return {twin: state for twin, state in found if state is not None}
