"""The change feed itself: replay then live, exactly once, bounded."""

from __future__ import annotations

import asyncio

import pytest

from twinkit import FeedOverflow, Filter, Platform
from twinkit.api import ChangeFeed
from twinkit.api.feeds import REPLAY_PAGE


async def write(tk: Platform, twin: str, count: int, start: int = 0) -> None:
    items = [(twin, {"v": float(i)}, None) for i in range(start, start + count)]
    for chunk in range(0, len(items), 500):
        await tk.twins.telemetry_batch(items[chunk : chunk + 500])


async def drain(feed: ChangeFeed, until: int) -> list[int]:
    """Values of ``v`` received until ``until`` telemetry events were seen."""
    seen: list[int] = []
    async with asyncio.timeout(20):
        while len(seen) < until:
            for event in await feed.next_batch(1.0):
                seen.append(int(event.data["values"]["v"]))
    return seen


async def test_replay_spans_pages_then_goes_live(tk: Platform) -> None:
    await tk.twins.put("a")
    await tk.twins.put("b")
    await write(tk, "a", REPLAY_PAGE + 300)
    await write(tk, "b", 50)
    where = Filter.of(twins=["a"], kinds=["TelemetryReceived"])
    feed = ChangeFeed(tk, where, 0, max_pending=10_000)
    try:
        replayed = await drain(feed, REPLAY_PAGE + 300)
        await write(tk, "a", 20, start=REPLAY_PAGE + 300)
        live = await drain(feed, 20)
    finally:
        feed.close()
    assert replayed + live == list(range(REPLAY_PAGE + 320))


async def test_writes_during_the_replay_arrive_once_in_order(tk: Platform) -> None:
    await tk.twins.put("a")
    await write(tk, "a", 1500)
    feed = ChangeFeed(tk, Filter.of(kinds=["TelemetryReceived"]), 0, max_pending=10_000)
    writer = asyncio.create_task(write(tk, "a", 700, start=1500))
    try:
        got = await drain(feed, 2200)
        await writer
        assert await feed.next_batch(0.05) == []
    finally:
        feed.close()
    assert got == list(range(2200))


async def test_resume_from_a_cursor_skips_what_was_seen(tk: Platform) -> None:
    await tk.twins.put("a")
    await write(tk, "a", 10)
    events = await tk.journal.since(0)
    cursor = events[5].seq
    feed = ChangeFeed(tk, Filter(), cursor, max_pending=100)
    try:
        batch = await feed.next_batch(0.5)
    finally:
        feed.close()
    assert [e.seq for e in batch] == [e.seq for e in events[6:]]


async def test_a_consumer_too_far_behind_gets_its_events_then_overflow(tk: Platform) -> None:
    await tk.twins.put("a")
    feed = ChangeFeed(tk, Filter(), None, max_pending=5)
    await write(tk, "a", 12)
    got = await feed.next_batch(0.5)
    assert len(got) == 5
    with pytest.raises(FeedOverflow):
        await feed.next_batch(0.5)
    feed.close()


async def test_idle_feed_returns_an_empty_batch(tk: Platform) -> None:
    feed = ChangeFeed(tk, Filter(), None, max_pending=5)
    try:
        assert await feed.next_batch(0.01) == []
    finally:
        feed.close()
