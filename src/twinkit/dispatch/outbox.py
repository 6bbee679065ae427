"""The durable offline queue: commands waiting for a device to come back.

A command sent with a time-to-live to an offline device is stored here (in its own
table of the platform's SQLite file, so it survives a restart) and delivered when
the device is next seen. It leaves the queue when the device answers or its
time-to-live runs out. An in-memory platform gets an in-memory queue.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from twinkit.platform import Platform
from twinkit.storage.sqlite import SQLiteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS command_outbox (
    request_id TEXT PRIMARY KEY, twin TEXT NOT NULL, name TEXT NOT NULL,
    payload BLOB NOT NULL, queued_at REAL NOT NULL, expires_at REAL NOT NULL,
    context BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS command_outbox_twin ON command_outbox(twin, queued_at);
"""


@dataclass(frozen=True, slots=True)
class QueuedCommand:
    request_id: str
    twin: str
    name: str
    payload: Any
    queued_at: float  # epoch seconds
    expires_at: float
    context: dict[str, Any]


class Outbox(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def add(self, command: QueuedCommand) -> None: ...
    async def pending(self, twin: str, now: float) -> list[QueuedCommand]: ...
    async def remove(self, request_id: str, twin: str | None = None) -> bool: ...
    async def expire(self, now: float) -> list[QueuedCommand]: ...


class MemoryOutbox:
    def __init__(self) -> None:
        self._items: dict[str, QueuedCommand] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def add(self, command: QueuedCommand) -> None:
        self._items[command.request_id] = command

    async def pending(self, twin: str, now: float) -> list[QueuedCommand]:
        found = [c for c in self._items.values() if c.twin == twin and c.expires_at > now]
        return sorted(found, key=lambda c: c.queued_at)

    async def remove(self, request_id: str, twin: str | None = None) -> bool:
        found = self._items.get(request_id)
        if found is None or (twin is not None and found.twin != twin):
            return False
        del self._items[request_id]
        return True

    async def expire(self, now: float) -> list[QueuedCommand]:
        gone = [c for c in self._items.values() if c.expires_at <= now]
        for command in gone:
            del self._items[command.request_id]
        return gone


class SQLiteOutbox:
    """The queue as a table beside the twins, written with ``synchronous=FULL``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="twinkit-outbox")
        self._conn: sqlite3.Connection | None = None

    async def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            if self._conn is None:
                self._conn = sqlite3.connect(self.path, isolation_level=None)
                self._conn.execute("PRAGMA busy_timeout=5000")
                self._conn.execute("PRAGMA synchronous=FULL")
                self._conn.executescript(SCHEMA)
            if sql == "CLOSE":
                self._conn.close()
                self._conn = None
                return []
            return self._conn.execute(sql, params).fetchall()

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    async def open(self) -> None:
        await self._run("SELECT 1")

    async def close(self) -> None:
        await self._run("CLOSE")
        self._pool.shutdown()

    async def add(self, command: QueuedCommand) -> None:
        await self._run(
            "INSERT OR REPLACE INTO command_outbox VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                command.request_id,
                command.twin,
                command.name,
                orjson.dumps(command.payload),
                command.queued_at,
                command.expires_at,
                orjson.dumps(command.context),
            ),
        )

    async def pending(self, twin: str, now: float) -> list[QueuedCommand]:
        rows = await self._run(
            "SELECT * FROM command_outbox WHERE twin = ? AND expires_at > ? ORDER BY queued_at",
            (twin, now),
        )
        return [_command(row) for row in rows]

    async def remove(self, request_id: str, twin: str | None = None) -> bool:
        """Drop a command (answered); with ``twin``, only if it was for that twin."""
        rows = await self._run(
            "DELETE FROM command_outbox WHERE request_id = ? AND twin = coalesce(?, twin)"
            " RETURNING request_id",
            (request_id, twin),
        )
        return bool(rows)

    async def expire(self, now: float) -> list[QueuedCommand]:
        rows = await self._run(
            "DELETE FROM command_outbox WHERE expires_at <= ? RETURNING *", (now,)
        )
        return [_command(row) for row in rows]


def _command(row: tuple[Any, ...]) -> QueuedCommand:
    rid, twin, name, payload, queued_at, expires_at, context = row
    return QueuedCommand(
        rid, twin, name, orjson.loads(payload), queued_at, expires_at, orjson.loads(context)
    )


def outbox_for(platform: Platform) -> Outbox:
    """The queue that lives where the platform keeps its data."""
    if isinstance(platform.store, SQLiteStore):
        return SQLiteOutbox(platform.store.path)
    return MemoryOutbox()
