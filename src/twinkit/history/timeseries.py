"""Reading history: range reads and downsampling over stored blocks plus the live buffer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from twinkit.history.aggregation import downsample
from twinkit.history.series import SeriesBuffer
from twinkit.model.errors import NotFound, ValidationFailed
from twinkit.model.events import Event
from twinkit.model.time import Clock
from twinkit.storage.group_commit import GroupCommitter
from twinkit.storage.ports import Batch, Block, Store


@dataclass(frozen=True, slots=True)
class Retention:
    """Keep points younger than ``keep`` for twins of ``model`` (any if None) and ``path``
    (a series path like ``telemetry/temperature``, or a prefix ending in ``/``; any if None)."""

    keep: timedelta
    model: str | None = None
    path: str | None = None

    def covers(self, model: str | None, path: str) -> bool:
        if self.model is not None and self.model != model:
            return False
        if self.path is None:
            return True
        return path == self.path or (self.path.endswith("/") and path.startswith(self.path))


class History:
    def __init__(
        self,
        store: Store,
        committer: GroupCommitter,
        clock: Clock,
        flush_points: int = 50_000,
        flush_seconds: float = 5.0,
    ) -> None:
        self._store = store
        self._committer = committer
        self._clock = clock
        self.buffer = SeriesBuffer(flush_points)
        self._flush_seconds = flush_seconds
        self._flushing = False
        self._last_flush = 0.0
        self.retention: list[Retention] = []
        self._pending_blocks: list[Block] = []

    async def recover(self) -> None:
        """Rebuild the buffer from journal events the last flush did not cover."""
        seq = await self._store.series_watermark()
        self.buffer.watermark = seq
        while events := await self._store.events_since(seq, limit=20_000):
            self.buffer.add(events)
            seq = events[-1].seq

    def on_committed(self, events: list[Event]) -> None:
        self.buffer.add(events)
        now = asyncio.get_running_loop().time()
        if not self._last_flush:
            self._last_flush = now
        due = self.buffer.full or (
            self.buffer.size and now - self._last_flush > self._flush_seconds
        )
        if due and not self._flushing:
            self._flushing = True
            self._last_flush = now
            blocks, watermark = self.buffer.drain()
            future = self._committer.stage(Batch(blocks=blocks, series_watermark=watermark))
            future.add_done_callback(self._flushed)
            self._pending_blocks = blocks

    def _flushed(self, future: asyncio.Future[None]) -> None:
        self._flushing = False
        if future.exception() is not None:
            # The journal still has every point: put them back so reads see them.
            for block in self._pending_blocks:
                for t, v in zip(block.times, block.values, strict=True):
                    self.buffer.restore(block.twin, block.path, t, v)
        self._pending_blocks = []

    async def flush(self) -> None:
        if self.buffer.size:
            blocks, watermark = self.buffer.drain()
            await self._committer.stage(Batch(blocks=blocks, series_watermark=watermark))

    async def read(
        self,
        twin: str,
        path: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        every: timedelta | None = None,
        agg: str = "mean",
        limit: int | None = None,
    ) -> list[tuple[float, Any]]:
        """Points of one series in [start, end], optionally downsampled to ``every`` buckets."""
        path = await self._resolve_path(twin, path)
        lo = start.timestamp() if start else -np.inf
        hi = end.timestamp() if end else np.inf
        if lo > hi:
            raise ValidationFailed("start is after end", "/start")
        blocks = await self._store.read_series(twin, path, lo, hi)
        blocks.append(self.buffer.read(twin, path, lo, hi))
        times = np.concatenate([np.asarray(b.times, dtype=np.float64) for b in blocks])
        values: list[Any] = [v for b in blocks for v in b.values]
        order = np.argsort(times, kind="stable")
        times = times[order]
        values = [values[i] for i in order]
        inside = np.flatnonzero((times >= lo) & (times <= hi))
        if len(inside) != len(times):
            times = times[inside]
            values = [values[i] for i in inside]
        if every is not None:
            origin = lo if np.isfinite(lo) else (float(times[0]) if len(times) else 0.0)
            times, values = downsample(times, values, every.total_seconds(), agg, origin)
        points = list(zip(times.tolist(), values, strict=True))
        return points[-limit:] if limit else points

    async def paths(self, twin: str) -> list[str]:
        return sorted(set(await self._store.series_paths(twin)) | self.buffer.paths(twin))

    async def _resolve_path(self, twin: str, path: str) -> str:
        path = path.strip("/").replace(".", "/")
        known = await self.paths(twin)
        if path in known:
            return path
        for section in ("telemetry", "reported", "desired"):
            if f"{section}/{path}" in known:
                return f"{section}/{path}"
        if "/" in path and path.split("/", 1)[0] in ("telemetry", "reported", "desired"):
            return path
        raise NotFound(f"twin {twin!r} has no history for {path!r}", "/path")

    async def enforce_retention(self, models: dict[str, str | None]) -> int:
        """Drop points older than the retention rules allow; ``models`` maps twin to model."""
        await self.flush()
        now = self._clock.now().timestamp()
        dropped = 0
        for twin, model in models.items():
            for path in await self._store.series_paths(twin):
                keeps = [r.keep for r in self.retention if r.covers(model, path)]
                if keeps:
                    before = now - min(keeps).total_seconds()
                    dropped += await self._store.prune_series(twin, path, before)
        return dropped
