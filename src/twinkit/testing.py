"""Public helpers for testing code that uses twinkit: a frozen clock and throwaway platforms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from twinkit.platform import Platform


class FrozenClock:
    """A clock that only moves when told to (``advance``), for deterministic timestamps."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 1.0) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


@asynccontextmanager
async def memory_platform(clock: FrozenClock | None = None) -> AsyncIterator[Platform]:
    """A platform that keeps everything in memory and vanishes afterwards."""
    async with Platform.open(None, clock=clock) as platform:
        yield platform


@asynccontextmanager
async def sqlite_platform(
    path: str | Path, clock: FrozenClock | None = None
) -> AsyncIterator[Platform]:
    """A platform on a real SQLite file."""
    async with Platform.open(path, clock=clock) as platform:
        yield platform


__all__ = ["FrozenClock", "memory_platform", "sqlite_platform"]
