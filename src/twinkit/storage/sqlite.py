"""The SQLite store: one file in WAL mode, one writer thread, one reader thread.

Each group commit is one transaction with ``synchronous=FULL``, so a batch whose
commit returned survives ``kill -9`` and power loss. Time series are stored as
blocks (a run of points of one series, packed as float64 arrays or JSON),
clustered by (series, start time) so a range read is one index walk.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson

from twinkit.model.errors import TwinkitError
from twinkit.model.events import Event, EventKind
from twinkit.model.time import parse_time
from twinkit.storage.ports import Batch, Block
from twinkit.twins.state import TwinState

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS twins (
    id TEXT PRIMARY KEY, model TEXT, revision INTEGER NOT NULL, doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS twins_model ON twins(model, id);
CREATE TABLE IF NOT EXISTS relationships (
    source TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, target TEXT NOT NULL,
    properties TEXT NOT NULL, PRIMARY KEY (source, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relationships_target ON relationships(target, name);
CREATE INDEX IF NOT EXISTS relationships_name ON relationships(name, source);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, twin TEXT NOT NULL, revision INTEGER NOT NULL,
    at REAL NOT NULL, body BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_twin ON events(twin, revision, at);
CREATE TABLE IF NOT EXISTS snapshots (
    twin TEXT NOT NULL, revision INTEGER NOT NULL, at REAL NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (twin, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, twin TEXT NOT NULL, path TEXT NOT NULL,
    flushed_seq INTEGER NOT NULL DEFAULT 0, UNIQUE (twin, path)
);
CREATE TABLE IF NOT EXISTS blocks (
    id INTEGER PRIMARY KEY, series INTEGER NOT NULL, t0 REAL NOT NULL, t1 REAL NOT NULL,
    n INTEGER NOT NULL, numeric INTEGER NOT NULL, times BLOB NOT NULL, vals BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_range ON blocks(series, t0, t1);
CREATE TABLE IF NOT EXISTS detector_states (
    twin TEXT NOT NULL, name TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY (twin, name)
) WITHOUT ROWID;
"""


class StoreUnavailable(TwinkitError):
    code = "store_unavailable"
    status = 503


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-32000")
    return conn


class SQLiteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="twinkit-sqlite-w")
        self._reader_pool = ThreadPoolExecutor(1, thread_name_prefix="twinkit-sqlite-r")
        self._local = threading.local()
        self._series_ids: dict[tuple[str, str], int] = {}
        self._twin_paths: dict[str, set[str]] = {}  # so a twin's series are found without a scan
        self._stop_checkpoints = threading.Event()
        self._checkpointer: threading.Thread | None = None

    # -- plumbing -------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _connect(self.path)
        return conn

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer_pool, lambda: fn(self._conn()))

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_pool, lambda: fn(self._conn()))

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the reader connection (used by the query compiler)."""
        return await self._read(fn)

    async def open(self) -> None:
        def setup(conn: sqlite3.Connection) -> None:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StoreUnavailable(f"cannot put {self.path} in WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous=FULL")
            # Checkpoints run on their own thread (below): done inside a commit, copying the
            # WAL back and fsyncing the file stalled that commit, and every write waiting on it.
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.executescript(SCHEMA)
            for sid, twin, path in conn.execute("SELECT id, twin, path FROM series"):
                self._series_ids[(twin, path)] = sid
                self._twin_paths.setdefault(twin, set()).add(path)

        try:
            await self._write(setup)
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(f"cannot open database {self.path}: {exc}") from None
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="twinkit-sqlite-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint_loop(self, every: float = 1.0) -> None:
        conn = _connect(self.path)
        try:
            while not self._stop_checkpoints.wait(every):
                with contextlib.suppress(sqlite3.OperationalError):  # busy: next round
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    async def close(self) -> None:
        def shut(conn: sqlite3.Connection) -> None:
            conn.close()
            self._local.conn = None

        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.join)

        def final_checkpoint(conn: sqlite3.Connection) -> None:
            with contextlib.suppress(sqlite3.OperationalError):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        await self._write(final_checkpoint)
        await self._write(shut)
        await self._read(shut)
        self._writer_pool.shutdown()
        self._reader_pool.shutdown()

    # -- writes ---------------------------------------------------------------------------
    async def commit(self, batch: Batch) -> None:
        await self._write(lambda conn: self._commit(conn, batch))

    def _commit(self, conn: sqlite3.Connection, batch: Batch) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO events(seq, twin, revision, at, body) VALUES (?,?,?,?,?)",
                [
                    (e.seq, e.twin, e.revision, e.at.timestamp(), orjson.dumps(e.to_json()))
                    for e in batch.events
                ],
            )
            self._apply_relationships(conn, batch.events)
            upserts = [s for s in batch.twins.values() if s.exists]
            conn.executemany(
                "INSERT INTO twins(id, model, revision, doc) VALUES (?,?,?,?) ON CONFLICT(id)"
                " DO UPDATE SET model=excluded.model, revision=excluded.revision, doc=excluded.doc",
                [(s.id, s.model, s.revision, orjson.dumps(s.document()).decode()) for s in upserts],
            )
            conn.executemany(
                "DELETE FROM twins WHERE id = ?",
                [(s.id,) for s in batch.twins.values() if not s.exists],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO snapshots(twin, revision, at, body) VALUES (?,?,?,?)",
                [
                    (s.id, s.revision, _stamp(s.updated_at), _snapshot_body(s))
                    for s in batch.snapshots
                ],
            )
            self._write_blocks(conn, batch.blocks)
            conn.executemany(
                "UPDATE series SET flushed_seq = ? WHERE id = ?",
                [
                    (seq, self._series_id(conn, twin, path))
                    for (twin, path), seq in batch.series_marks.items()
                ],
            )
            if batch.series_watermark is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('series_watermark', ?)",
                    (str(batch.series_watermark),),
                )
            conn.executemany(
                "INSERT OR REPLACE INTO detector_states(twin, name, state) VALUES (?,?,?)",
                [(t, n, s) for (t, n), s in batch.detector_states.items()],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _apply_relationships(self, conn: sqlite3.Connection, events: Iterable[Event]) -> None:
        for event in events:
            if event.kind in (EventKind.RELATIONSHIP_ADDED, EventKind.RELATIONSHIP_REPLACED):
                rel = event.data["relationship"]
                conn.execute(
                    "INSERT OR REPLACE INTO relationships VALUES (?,?,?,?,?)",
                    (
                        event.twin,
                        rel["id"],
                        rel["name"],
                        rel["target"],
                        orjson.dumps(rel.get("properties", {})).decode(),
                    ),
                )
            elif event.kind is EventKind.RELATIONSHIP_REMOVED:
                conn.execute(
                    "DELETE FROM relationships WHERE source=? AND id=?",
                    (event.twin, event.data["id"]),
                )
            elif event.kind is EventKind.TWIN_DELETED:
                conn.execute("DELETE FROM relationships WHERE source=?", (event.twin,))

    def _write_blocks(self, conn: sqlite3.Connection, blocks: list[Block]) -> None:
        rows = []
        for block in blocks:
            if not block.times:
                continue
            sid = self._series_id(conn, block.twin, block.path)
            numeric = {type(v) for v in block.values} <= {float, int}
            vals = (
                np.asarray(block.values, dtype=np.float64).tobytes()
                if numeric
                else orjson.dumps(block.values)
            )
            times = np.asarray(block.times, dtype=np.float64)
            rows.append(
                (
                    sid,
                    float(times.min()),
                    float(times.max()),
                    len(block.times),
                    int(numeric),
                    times.tobytes(),
                    vals,
                )
            )
        conn.executemany(
            "INSERT INTO blocks(series, t0, t1, n, numeric, times, vals) VALUES (?,?,?,?,?,?,?)",
            rows,
        )

    def _series_id(self, conn: sqlite3.Connection, twin: str, path: str) -> int:
        key = (twin, path)
        sid = self._series_ids.get(key)
        if sid is None:
            conn.execute("INSERT OR IGNORE INTO series(twin, path) VALUES (?,?)", key)
            sid = conn.execute("SELECT id FROM series WHERE twin=? AND path=?", key).fetchone()[0]
            self._series_ids[key] = sid
            self._twin_paths.setdefault(twin, set()).add(path)
        return sid

    # -- twins ----------------------------------------------------------------------------
    async def load_twin(self, twin: str) -> TwinState | None:
        def load(conn: sqlite3.Connection) -> TwinState | None:
            row = conn.execute("SELECT doc FROM twins WHERE id=?", (twin,)).fetchone()
            if row is None:
                return None
            rels = conn.execute(
                "SELECT id, name, target, properties FROM relationships WHERE source=?", (twin,)
            ).fetchall()
            return TwinState.from_document(orjson.loads(row[0]), [_rel(twin, *r) for r in rels])

        return await self._read(load)

    async def last_revision(self, twin: str) -> int:
        def last(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT max(revision) FROM events WHERE twin=?", (twin,)).fetchone()
            return int(row[0] or 0)

        return await self._read(last)

    async def twin_ids(
        self, *, model: str | None = None, after: str = "", limit: int = 100
    ) -> list[str]:
        if model is None:
            sql, args = "SELECT id FROM twins WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
        else:
            sql = "SELECT id FROM twins WHERE model = ? AND id > ? ORDER BY id LIMIT ?"
            args = (model, after, limit)  # type: ignore[assignment]
        return await self._read(lambda c: [r[0] for r in c.execute(sql, args)])

    async def count_twins(self) -> int:
        return await self._read(
            lambda c: int(c.execute("SELECT count(*) FROM twins").fetchone()[0])
        )

    async def incoming(self, target: str) -> list[dict[str, Any]]:
        def rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            found = conn.execute(
                "SELECT source, id, name, target, properties FROM relationships WHERE target=?"
                " ORDER BY source, id",
                (target,),
            ).fetchall()
            return [_rel(src, rid, name, tgt, props) for src, rid, name, tgt, props in found]

        return await self._read(rows)

    # -- journal --------------------------------------------------------------------------
    async def events(
        self,
        twin: str,
        *,
        after_revision: int = 0,
        until_revision: int | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        until = until_revision if until_revision is not None else 2**62
        sql = (
            "SELECT body FROM events WHERE twin=? AND revision>? AND revision<=?"
            " ORDER BY revision LIMIT ?"
        )
        args = (twin, after_revision, until, -1 if limit is None else limit)
        return await self._read(lambda c: [_event(r[0]) for r in c.execute(sql, args)])

    async def events_since(self, seq: int, *, limit: int = 10_000) -> list[Event]:
        sql = "SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        return await self._read(lambda c: [_event(r[0]) for r in c.execute(sql, (seq, limit))])

    async def last_seq(self) -> int:
        return await self._read(
            lambda c: int(c.execute("SELECT max(seq) FROM events").fetchone()[0] or 0)
        )

    async def replay_material(
        self, twin: str, revision: int
    ) -> tuple[TwinState | None, list[Event]]:
        def find(conn: sqlite3.Connection) -> tuple[TwinState | None, list[Event]]:
            row = conn.execute(
                "SELECT body FROM snapshots WHERE twin=? AND revision<=?"
                " ORDER BY revision DESC LIMIT 1",
                (twin, revision),
            ).fetchone()
            snapshot = None if row is None else _snapshot_state(row[0])
            after = snapshot.revision if snapshot is not None else 0
            rows = conn.execute(
                "SELECT body FROM events WHERE twin=? AND revision>? AND revision<=?"
                " ORDER BY revision",
                (twin, after, revision),
            )
            return snapshot, [_event(r[0]) for r in rows]

        return await self._read(find)

    async def revision_at(self, twin: str, moment: datetime) -> int:
        stamp = moment.timestamp()

        def find(conn: sqlite3.Connection) -> int:
            low = (
                conn.execute(
                    "SELECT max(revision) FROM snapshots WHERE twin=? AND at<=?", (twin, stamp)
                ).fetchone()[0]
                or 0
            )
            high = (
                conn.execute(
                    "SELECT min(revision) FROM snapshots WHERE twin=? AND at>?", (twin, stamp)
                ).fetchone()[0]
                or 2**62
            )
            row = conn.execute(
                "SELECT max(revision) FROM events WHERE twin=? AND revision>=? AND revision<?"
                " AND at<=?",
                (twin, low, high, stamp),
            ).fetchone()
            return int(row[0] or low)

        return await self._read(find)

    # -- series ---------------------------------------------------------------------------
    async def read_series(self, twin: str, path: str, start: float, end: float) -> list[Block]:
        def read(conn: sqlite3.Connection) -> list[Block]:
            sid = self._series_ids.get((twin, path))
            if sid is None:
                return []
            rows = conn.execute(
                "SELECT numeric, times, vals FROM blocks WHERE series=? AND t0<=? AND t1>=?"
                " ORDER BY t0",
                (sid, end, start),
            ).fetchall()
            return [_block(twin, path, *row) for row in rows]

        return await self._read(read)

    async def series_paths(self, twin: str) -> list[str]:
        return sorted(self._twin_paths.get(twin, ()))

    async def series_watermark(self) -> int:
        def read(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT value FROM meta WHERE key='series_watermark'").fetchone()
            return int(row[0]) if row else 0

        return await self._read(read)

    async def series_marks(self) -> dict[tuple[str, str], int]:
        def read(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
            rows = conn.execute("SELECT twin, path, flushed_seq FROM series")
            return {(twin, path): seq for twin, path, seq in rows}

        return await self._read(read)

    async def prune_series(self, twin: str, path: str, before: float) -> int:
        def prune(conn: sqlite3.Connection) -> int:
            sid = self._series_ids.get((twin, path))
            if sid is None:
                return 0
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = conn.execute(
                    "SELECT id, numeric, times, vals FROM blocks WHERE series=? AND t0<?",
                    (sid, before),
                ).fetchall()
                dropped = 0
                for bid, numeric, times, vals in rows:
                    block = _block(twin, path, numeric, times, vals)
                    keep = [
                        i for i, t in enumerate(np.asarray(block.times).tolist()) if t >= before
                    ]
                    dropped += len(block.times) - len(keep)
                    conn.execute("DELETE FROM blocks WHERE id=?", (bid,))
                    if keep:
                        kept = Block(
                            twin,
                            path,
                            [float(block.times[i]) for i in keep],
                            [_plain(block.values[i]) for i in keep],
                        )
                        self._write_blocks(conn, [kept])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return dropped

        return await self._write(prune)

    # -- models ---------------------------------------------------------------------------
    async def save_models(self, documents: list[dict[str, Any]]) -> None:
        rows = [(d["@id"], orjson.dumps(d).decode()) for d in documents]

        def save(conn: sqlite3.Connection) -> None:
            with conn:
                conn.executemany("INSERT OR REPLACE INTO models(id, doc) VALUES (?,?)", rows)

        await self._write(save)

    async def delete_model(self, dtmi: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute("DELETE FROM models WHERE id=?", (dtmi,))

        await self._write(delete)

    async def load_models(self) -> list[dict[str, Any]]:
        return await self._read(
            lambda c: [orjson.loads(r[0]) for r in c.execute("SELECT doc FROM models ORDER BY id")]
        )

    async def load_detector_state(self, twin: str, name: str) -> bytes | None:
        def load(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(
                "SELECT state FROM detector_states WHERE twin=? AND name=?", (twin, name)
            ).fetchone()
            return None if row is None else bytes(row[0])

        return await self._read(load)

    async def load_detector_states(self, twins: Sequence[str], name: str) -> dict[str, bytes]:
        def load(conn: sqlite3.Connection) -> dict[str, bytes]:
            found: dict[str, bytes] = {}
            for start in range(0, len(twins), _IN_LIMIT):
                part = twins[start : start + _IN_LIMIT]
                marks = ",".join("?" * len(part))
                rows = conn.execute(
                    f"SELECT twin, state FROM detector_states WHERE name=? AND twin IN ({marks})",
                    (name, *part),
                )
                found.update((twin, bytes(state)) for twin, state in rows)
            return found

        return await self._read(load)


_IN_LIMIT = 500  # ids per IN (...) list: far below SQLite's limit on bound parameters


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _rel(source: str, rid: str, name: str, target: str, props: str) -> dict[str, Any]:
    return {
        "id": rid,
        "source": source,
        "name": name,
        "target": target,
        "properties": orjson.loads(props),
    }


def _event(body: bytes) -> Event:
    return Event.from_json(orjson.loads(body))


def _stamp(iso: str | None) -> float:
    return parse_time(iso).timestamp() if iso else 0.0


def _snapshot_body(state: TwinState) -> bytes:
    return orjson.dumps(
        {
            "document": state.document(),
            "relationships": list(state.relationships.values()),
            "exists": state.exists,
        }
    )


def _snapshot_state(body: bytes) -> TwinState:
    raw = orjson.loads(body)
    state = TwinState.from_document(raw["document"], raw["relationships"])
    if not raw["exists"]:
        state = replace(state, exists=False)
    return state


def _block(twin: str, path: str, numeric: int, times: bytes, vals: bytes) -> Block:
    # numeric blocks stay numpy arrays: history reads and downsampling run in numpy
    t: Any = np.frombuffer(times, dtype=np.float64)
    v: Any = np.frombuffer(vals, dtype=np.float64) if numeric else orjson.loads(vals)
    return Block(twin, path, t, v)
