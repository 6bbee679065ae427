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


_SECTIONS = ("telemetry", "reported", "desired", "analytics")


def _values(blocks: list[Block]) -> Any:
    """All blocks' values: one float array when every value is a number (the common case,
    kept in numpy end to end), else a list."""
    arrays = []
    for block in blocks:
        if isinstance(block.values, np.ndarray):
            arrays.append(block.values)
        elif {type(v) for v in block.values} <= {float, int}:
            arrays.append(np.asarray(block.values, dtype=np.float64))
        else:
            return [
                v
                for b in blocks
                for v in (b.values.tolist() if isinstance(b.values, np.ndarray) else b.values)
            ]
    return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.float64)


class History:
    def __init__(self, store: Store, committer: GroupCommitter, clock: Clock) -> None:
        self._store = store
        self._committer = committer
        self._clock = clock
        self.buffer = SeriesBuffer()
        self._last_age_check = 0.0
        self.retention: list[Retention] = []

    async def recover(self) -> None:
        """Rebuild the buffer from journal events that are not in blocks yet."""
        seq = await self._store.series_watermark()
        marks = await self._store.series_marks()
        self.buffer.seen_seq = seq
        while events := await self._store.events_since(seq, limit=20_000):
            self.buffer.add(events, self._now(), marks)
            seq = events[-1].seq

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def on_committed(self, events: list[Event]) -> None:
        now = self._now()
        self.buffer.add(events, now)
        aged = now - self._last_age_check > 1.0
        if aged:
            self._last_age_check = now
        if self.buffer.ready or aged or self.buffer.size >= self.buffer.max_points:
            self._write(now, everything=False)

    def _write(self, now: float, everything: bool) -> asyncio.Future[None] | None:
        blocks, marks = self.buffer.take(now, everything)
        if not blocks:
            return None
        batch = Batch(blocks=blocks, series_marks=marks, series_watermark=self.buffer.watermark)
        future = self._committer.stage(batch)
        future.add_done_callback(lambda f: self._written(f, marks))
        return future

    def _written(self, future: asyncio.Future[None], marks: dict[tuple[str, str], int]) -> None:
        if future.cancelled() or future.exception() is not None:
            self.buffer.failed(marks)  # the journal still has them; retried on the next write
        else:
            self.buffer.landed(marks)

    async def flush(self) -> None:
        """Write every buffered point as blocks now."""
        future = self._write(0.0, everything=True)
        if future is not None:
            await future

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
        while True:  # a block write landing mid-read would show its points twice or not at all
            generation = self.buffer.generation
            blocks = await self._store.read_series(twin, path, lo, hi)
            if generation == self.buffer.generation:
                break
        blocks.append(self.buffer.read(twin, path, lo, hi))
        times = np.concatenate([np.asarray(b.times, dtype=np.float64) for b in blocks])
        values: Any = _values(blocks)
        if len(times) > 1 and bool(np.any(times[1:] < times[:-1])):
            order = np.argsort(times, kind="stable")
            times = times[order]
            values = values[order] if isinstance(values, np.ndarray) else [values[i] for i in order]
        inside = np.flatnonzero((times >= lo) & (times <= hi))
        if len(inside) != len(times):
            times = times[inside]
            values = (
                values[inside] if isinstance(values, np.ndarray) else [values[i] for i in inside]
            )
        if every is not None:
            origin = lo if np.isfinite(lo) else (float(times[0]) if len(times) else 0.0)
            times, values = downsample(times, values, every.total_seconds(), agg, origin)
        if limit:
            times, values = times[-limit:], values[-limit:]
        plain = values.tolist() if isinstance(values, np.ndarray) else values
        return list(zip(times.tolist(), plain, strict=True))

    async def paths(self, twin: str) -> list[str]:
        return sorted(set(await self._store.series_paths(twin)) | self.buffer.paths(twin))

    async def _resolve_path(self, twin: str, path: str) -> str:
        path = path.strip("/").replace(".", "/")
        known = await self.paths(twin)
        if path in known:
            return path
        for section in _SECTIONS:
            if f"{section}/{path}" in known:
                return f"{section}/{path}"
        if "/" in path and path.split("/", 1)[0] in _SECTIONS:
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
