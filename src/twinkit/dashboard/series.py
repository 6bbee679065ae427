"""Downsampled chart series straight from the stored blocks, as numpy arrays.

Why this exists beside ``GET /api/v1/twins/{id}/history/{path}``: that route decodes every
stored point into Python objects before bucketing (about a second per million points on these
machines), while a chart needs only ~1,000 buckets. Here numeric blocks are read with
``np.frombuffer`` and bucketed with ``np.bincount``, so a million points cost tens of
milliseconds. Anything this fast path cannot handle (non-numeric values, a store without SQL,
an unknown aggregate) falls back to ``History.read``, so the answers are the same.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np

from twinkit.dashboard.fleet import SQLReader
from twinkit.model.errors import NotFound, ValidationFailed
from twinkit.platform import Platform

FAST_AGGREGATES = ("mean", "min", "max", "count", "sum")
MAX_BUCKETS = 20_000
SECTIONS = ("telemetry", "reported", "desired")


async def resolve_path(platform: Platform, twin: str, path: str) -> str:
    """``power`` → ``telemetry/power`` (the stored series name), as the history route does."""
    path = path.strip("/").replace(".", "/")
    known = set(await platform.history.paths(twin))
    if path in known:
        return path
    for section in SECTIONS:
        if f"{section}/{path}" in known:
            return f"{section}/{path}"
    raise NotFound(f"twin {twin!r} has no history for {path!r}", "/path")


def stored_path(conn: sqlite3.Connection, twin: str, path: str) -> tuple[str, int] | None:
    """The stored series a chart path names, and its id (one indexed lookup per candidate)."""
    path = path.strip("/").replace(".", "/")
    for candidate in (path, *(f"{section}/{path}" for section in SECTIONS)):
        row = conn.execute(
            "SELECT id FROM series WHERE twin=? AND path=?", (twin, candidate)
        ).fetchone()
        if row is not None:
            return candidate, int(row[0])
    return None


Arrays = tuple["np.ndarray[Any, Any]", "np.ndarray[Any, Any]"]


def _stored(conn: sqlite3.Connection, series: int, lo: float, hi: float) -> Arrays | None:
    """Every stored point in [lo, hi] as (times, values) arrays; None if a block is not numeric."""
    blocks = conn.execute(
        "SELECT numeric, times, vals FROM blocks WHERE series=? AND t0<=? AND t1>=?",
        (series, hi, lo),
    ).fetchall()
    if any(not numeric for numeric, _, _ in blocks):
        return None
    if not blocks:
        return np.empty(0), np.empty(0)
    times = np.concatenate([np.frombuffer(t, dtype=np.float64) for _, t, _ in blocks])
    values = np.concatenate([np.frombuffer(v, dtype=np.float64) for _, _, v in blocks])
    return times, values


# Stored blocks never change once written (retention only deletes them), so a long series read
# once is kept decoded and later reads fetch only the blocks written since.
CACHE_POINTS = 4_000_000
# below this share of a series' time span, a range read beats decoding the whole series
CACHE_SHARE = 0.25


@dataclass
class _Decoded:
    last_block: int
    blocks: int
    times: np.ndarray[Any, Any]
    values: np.ndarray[Any, Any]


class BlockCache:
    """Decoded numeric series, least recently used first out, bounded in points."""

    def __init__(self, max_points: int = CACHE_POINTS) -> None:
        self.max_points = max_points
        self._series: OrderedDict[int, _Decoded] = OrderedDict()

    def read(self, conn: sqlite3.Connection, series: int, lo: float, hi: float) -> Arrays | None:
        """Points of a series in [lo, hi] (not sorted across blocks); None if not numeric."""
        count, t0, t1 = conn.execute(
            "SELECT count(*), min(t0), max(t1) FROM blocks WHERE series=?", (series,)
        ).fetchone()
        cached = self._series.pop(series, None)
        if cached is None and (not count or (hi - lo) < CACHE_SHARE * (t1 - t0)):
            return _stored(conn, series, lo, hi)
        query = "SELECT id, numeric, times, vals FROM blocks WHERE series=? AND id>? ORDER BY id"
        rows = conn.execute(query, (series, cached.last_block if cached else -1)).fetchall()
        if cached is not None and cached.blocks + len(rows) != count:
            cached = None  # blocks were pruned: decode again
            rows = conn.execute(query, (series, -1)).fetchall()
        if any(not numeric for _, numeric, _, _ in rows):
            return None
        times = [np.frombuffer(t, dtype=np.float64) for _, _, t, _ in rows]
        values = [np.frombuffer(v, dtype=np.float64) for _, _, _, v in rows]
        if cached is not None:
            times.insert(0, cached.times)
            values.insert(0, cached.values)
        decoded = _Decoded(
            rows[-1][0] if rows else (cached.last_block if cached else -1),
            count,
            np.concatenate(times) if times else np.empty(0),
            np.concatenate(values) if values else np.empty(0),
        )
        if decoded.times.size <= self.max_points:
            self._series[series] = decoded
            while sum(d.times.size for d in self._series.values()) > self.max_points:
                self._series.popitem(last=False)
        return decoded.times, decoded.values


_caches: WeakKeyDictionary[Any, BlockCache] = WeakKeyDictionary()


def cache_for(store: Any) -> BlockCache:
    """One cache per store (a platform's SQLite file)."""
    cache = _caches.get(store)
    if cache is None:
        cache = _caches[store] = BlockCache()
    return cache


def bucket(
    times: np.ndarray[Any, Any], values: np.ndarray[Any, Any], lo: float, every: float, agg: str
) -> list[list[float]]:
    """``[[bucket start, aggregate], ...]`` for the non-empty buckets, in time order."""
    if times.size == 0:
        return []
    index = np.floor((times - lo) / every).astype(np.int64)
    counts = np.bincount(index)
    present = np.flatnonzero(counts)
    reduced: np.ndarray[Any, Any]
    if agg == "count":
        reduced = counts[present].astype(np.float64)
    elif agg in ("mean", "sum"):
        sums = np.bincount(index, weights=values)[present]
        reduced = sums / counts[present] if agg == "mean" else sums
    else:
        order = np.lexsort((values, index))
        sorted_index = index[order]
        starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
        if agg == "min":
            reduced = values[order][starts]
        else:
            ends = np.r_[starts[1:], sorted_index.size] - 1
            reduced = values[order][ends]
    labels = lo + present * every
    return np.column_stack((labels, reduced)).tolist()  # type: ignore[no-any-return]


async def downsampled(
    platform: Platform,
    twin: str,
    path: str,
    start: datetime,
    end: datetime,
    every: float,
    agg: str = "mean",
) -> list[list[Any]]:
    """Points of one series in [start, end], one per ``every``-second bucket from ``start``."""
    lo, hi = start.timestamp(), end.timestamp()
    if hi < lo:
        raise ValidationFailed("start is after end", "/start")
    if every <= 0 or (hi - lo) / every > MAX_BUCKETS:
        raise ValidationFailed(f"every must give at most {MAX_BUCKETS} buckets", "/every")
    await platform.twins.get(twin)
    store = platform.store
    arrays: Arrays | None = None
    if agg in FAST_AGGREGATES and isinstance(store, SQLReader):
        found = await store.read(lambda c: stored_path(c, twin, path))
        series_path = found[0] if found else await resolve_path(platform, twin, path)
        if found is not None:
            cache = cache_for(store)
            arrays = await store.read(lambda c: cache.read(c, found[1], lo, hi))
        else:
            arrays = (np.empty(0), np.empty(0))
    else:
        series_path = await resolve_path(platform, twin, path)
    if arrays is not None:
        pending = platform.history.buffer.read(twin, series_path, lo, hi)
        if pending.times and all(isinstance(v, int | float) for v in pending.values):
            arrays = (
                np.concatenate([arrays[0], np.asarray(pending.times, dtype=np.float64)]),
                np.concatenate([arrays[1], np.asarray(pending.values, dtype=np.float64)]),
            )
        elif pending.times:
            arrays = None
    if arrays is not None:
        times, values = arrays
        inside = (times >= lo) & (times <= hi)
        return bucket(times[inside], values[inside], lo, every, agg)
    points = await platform.history.read(
        twin, series_path, start=start, end=end, every=timedelta(seconds=every), agg=agg
    )
    return [[t, v] for t, v in points]
