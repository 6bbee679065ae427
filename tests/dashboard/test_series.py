"""The chart's numpy read of history answers exactly what ``History.read`` answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from twinkit.dashboard.series import BlockCache, cache_for, downsampled
from twinkit.model.errors import NotFound
from twinkit.platform import Platform

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
async def platform(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Platform]:
    path = None if request.param == "memory" else tmp_path / "series.db"
    async with Platform.open(path) as tk:
        await tk.twins.put("m", reported={"serial": "a"})
        items = [("m", {"power": float(i % 17) + i / 1000}, T0 + timedelta(seconds=7 * i))
                 for i in range(3000)]  # fmt: skip
        await tk.twins.telemetry_batch(items)
        await tk.flush()
        await tk.history.flush()
        yield tk


@pytest.mark.parametrize("agg", ["mean", "min", "max", "count", "sum"])
async def test_buckets_equal_history_read(platform: Platform, agg: str) -> None:
    start, end = T0 - timedelta(minutes=3), T0 + timedelta(hours=5)
    every = 311.0
    # a few newer points that may still sit in the write buffer
    await platform.twins.telemetry("m", {"power": 99.5}, at=T0 + timedelta(hours=4))
    fast = await downsampled(platform, "m", "power", start, end, every, agg)
    slow = await platform.history.read(
        "m", "power", start=start, end=end, every=timedelta(seconds=every), agg=agg
    )
    assert len(fast) == len(slow)
    for (t, v), (t_ref, v_ref) in zip(fast, slow, strict=True):
        assert t == pytest.approx(t_ref)
        assert v == pytest.approx(v_ref)


async def test_unknown_series_and_bad_ranges_are_refused(platform: Platform) -> None:
    with pytest.raises(NotFound):
        await downsampled(platform, "m", "nothing", T0, T0 + timedelta(hours=1), 60.0)
    with pytest.raises(NotFound):
        await downsampled(platform, "nobody", "power", T0, T0 + timedelta(hours=1), 60.0)
    with pytest.raises(Exception, match="start is after end"):
        await downsampled(platform, "m", "power", T0, T0 - timedelta(hours=1), 60.0)
    with pytest.raises(Exception, match="at most"):
        await downsampled(platform, "m", "power", T0, T0 + timedelta(days=30), 1.0)


async def test_cache_reads_only_new_blocks(tmp_path: Path) -> None:
    async with Platform.open(tmp_path / "cache.db") as tk:
        await tk.twins.put("m")
        first = [("m", {"power": 1.0}, T0 + timedelta(seconds=i)) for i in range(500)]
        await tk.twins.telemetry_batch(first)
        await tk.flush()
        await tk.history.flush()
        window = (T0 - timedelta(hours=1), T0 + timedelta(hours=1))
        counted = await downsampled(tk, "m", "power", *window, 7200.0, "count")
        assert counted[0][1] == 500
        cache = cache_for(tk.store)
        assert isinstance(cache, BlockCache)
        assert len(cache._series) == 1
        later = [("m", {"power": 3.0}, T0 + timedelta(seconds=600 + i)) for i in range(100)]
        await tk.twins.telemetry_batch(later)
        await tk.flush()
        await tk.history.flush()
        again = await downsampled(tk, "m", "power", *window, 7200.0, "mean")
        assert again[0][1] == pytest.approx((500 * 1.0 + 100 * 3.0) / 600)
