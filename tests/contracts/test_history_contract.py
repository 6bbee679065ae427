"""History: every telemetry value and property change as a time series, on every adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from twinkit import NotFound, Platform, ValidationFailed
from twinkit.history.timeseries import Retention
from twinkit.testing import FrozenClock

PUMP_ID = "dtmi:acme:Pump;1"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def fill(tk: Platform, count: int) -> None:
    await tk.twins.put("p1", model=PUMP_ID)
    for i in range(count):
        await tk.twins.telemetry("p1", {"temperature": float(i)}, at=T0 + timedelta(seconds=i))


async def test_range_read_returns_points_in_time_order(tk: Platform) -> None:
    await fill(tk, 100)
    points = await tk.history.read(
        "p1", "temperature", start=T0 + timedelta(seconds=10), end=T0 + timedelta(seconds=19)
    )
    assert [v for _, v in points] == [float(i) for i in range(10, 20)]
    assert points[0][0] == (T0 + timedelta(seconds=10)).timestamp()


async def test_history_spans_flushed_blocks_and_the_live_buffer(tk: Platform) -> None:
    tk.history.buffer.block_points = 30
    await fill(tk, 100)
    await tk.history.flush()
    await tk.twins.telemetry("p1", {"temperature": 100.0}, at=T0 + timedelta(seconds=100))
    values = [v for _, v in await tk.history.read("p1", "telemetry/temperature")]
    assert values == [float(i) for i in range(101)]


async def test_out_of_order_device_times_are_read_back_sorted(tk: Platform) -> None:
    await tk.twins.put("p1", model=PUMP_ID)
    for second in (5, 1, 3):
        await tk.twins.telemetry(
            "p1", {"vibration": float(second)}, at=T0 + timedelta(seconds=second)
        )
    assert [v for _, v in await tk.history.read("p1", "vibration")] == [1.0, 3.0, 5.0]


@pytest.mark.parametrize(
    ("agg", "expected"),
    [
        ("mean", [4.5, 14.5, 24.5]),
        ("min", [0.0, 10.0, 20.0]),
        ("max", [9.0, 19.0, 29.0]),
        ("first", [0.0, 10.0, 20.0]),
        ("last", [9.0, 19.0, 29.0]),
        ("count", [10, 10, 10]),
        ("sum", [45.0, 145.0, 245.0]),
    ],
)
async def test_downsampling_buckets_by_every(tk: Platform, agg: str, expected: list[float]) -> None:
    await fill(tk, 30)
    points = await tk.history.read(
        "p1", "temperature", start=T0, every=timedelta(seconds=10), agg=agg
    )
    assert [v for _, v in points] == expected
    assert [t for t, _ in points] == [T0.timestamp() + s for s in (0, 10, 20)]


async def test_property_changes_are_series_too(tk: Platform) -> None:
    await tk.twins.put("p1", model=PUMP_ID, desired={"rpm": 1.0})
    await tk.twins.patch("p1", "desired", {"rpm": 2.0})
    await tk.twins.patch("p1", "reported", {"rpm": 2.0})
    assert [v for _, v in await tk.history.read("p1", "desired/rpm")] == [1.0, 2.0]
    assert [v for _, v in await tk.history.read("p1", "rpm")] == [2.0]
    assert set(await tk.history.paths("p1")) == {"desired/rpm", "reported/rpm"}


async def test_unknown_series_and_bad_ranges_are_clear_errors(tk: Platform) -> None:
    await fill(tk, 3)
    with pytest.raises(NotFound):
        await tk.history.read("p1", "pressure")
    with pytest.raises(ValidationFailed):
        await tk.history.read("p1", "temperature", start=T0 + timedelta(1), end=T0)
    with pytest.raises(ValidationFailed):
        await tk.history.read("p1", "temperature", every=timedelta(seconds=1), agg="median")


async def test_retention_drops_old_points_for_the_matching_model_and_path(
    tk: Platform, clock: FrozenClock
) -> None:
    await tk.twins.put("t1", model="dtmi:acme:Tank;1")
    await fill(tk, 100)
    await tk.twins.patch("t1", "reported", {"level": 1.0})
    clock.set(T0 + timedelta(seconds=100))
    tk.history.retention.append(Retention(timedelta(seconds=30), PUMP_ID, "telemetry/"))
    dropped = await tk.enforce_retention()
    assert dropped == 70
    values = [v for _, v in await tk.history.read("p1", "temperature")]
    assert values == [float(i) for i in range(70, 100)]
    assert len(await tk.history.read("t1", "level")) == 1
