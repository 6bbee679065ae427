"""The event bus and its bounded feeds."""

from __future__ import annotations

import asyncio

import pytest

import twinkit
from twinkit import FeedOverflow, Filter
from twinkit.testing import memory_platform


async def test_feed_yields_matching_events_then_ends_when_closed() -> None:
    async with memory_platform() as tk:
        feed = tk.bus.feed(Filter.of(twins=["a"]))
        await tk.twins.put("a")
        await tk.twins.put("b")
        await tk.twins.telemetry("a", {"x": 1})
        feed.close()
        seen = [(e.twin, e.kind.value) async for e in feed]
        assert seen == [("a", "TwinCreated"), ("a", "TelemetryReceived")]


async def test_slow_feed_is_cut_off_instead_of_growing() -> None:
    async with memory_platform() as tk:
        await tk.twins.put("a")
        feed = tk.bus.feed(max_pending=5)
        for i in range(10):
            await tk.twins.telemetry("a", {"x": i})
        received = []
        with pytest.raises(FeedOverflow):
            async for event in feed:
                received.append(event.revision)
        assert received == [2, 3, 4, 5, 6]
        assert feed.overflowed


async def test_a_failing_listener_does_not_stop_the_others() -> None:
    async with memory_platform() as tk:
        seen: list[int] = []

        def broken(_: object) -> None:
            raise RuntimeError("boom")

        tk.bus.subscribe(broken)
        tk.bus.subscribe(lambda e: seen.append(e.revision))
        await tk.twins.put("a")
        await asyncio.sleep(0)
        assert seen == [1]


def test_public_api_is_pinned() -> None:
    assert sorted(twinkit.__all__) == sorted(
        [
            "AlreadyExists",
            "Bus",
            "Conflict",
            "Context",
            "Event",
            "EventKind",
            "Feed",
            "FeedOverflow",
            "Filter",
            "Interface",
            "ModelRegistry",
            "NotFound",
            "PatchFailed",
            "Platform",
            "PreconditionFailed",
            "TwinState",
            "TwinkitError",
            "ValidationFailed",
            "__version__",
        ]
    )
    for name in twinkit.__all__:
        assert getattr(twinkit, name) is not None
