"""Expression indexes on the JSON paths that queries filter on, created the first time needed.

A filter such as ``T.temperature > 30`` compiles to
``json_extract(s0.doc, '$."reported"."temperature"') > :p0``; an index on that
exact expression turns the scan into a range walk. Each store gets at most
``MAX_INDEXES`` of them so writes do not pay for every path ever queried.
"""

from __future__ import annotations

import hashlib
import sqlite3
import weakref

from twinkit.storage.sqlite import SQLiteStore

MAX_INDEXES = 32
_made: weakref.WeakKeyDictionary[SQLiteStore, set[str]] = weakref.WeakKeyDictionary()


def index_name(path: str, with_model: bool = False) -> str:
    key = ("model|" if with_model else "") + path
    return "twins_q_" + hashlib.sha1(key.encode()).hexdigest()[:12]


async def ensure_path_indexes(store: SQLiteStore, paths: list[tuple[bool, str]]) -> None:
    """Create (once per store and path) an index on ``json_extract(doc, path)``.

    When the query also filters on the model, the index leads with ``model`` so a
    "this model and that property" filter is one index range.
    """
    made = _made.setdefault(store, set())
    wanted = [p for p in dict.fromkeys(paths) if index_name(p[1], p[0]) not in made]
    if not wanted or len(made) >= MAX_INDEXES:
        return

    def create(conn: sqlite3.Connection) -> None:
        for with_model, path in wanted[: MAX_INDEXES - len(made)]:
            quoted = path.replace("'", "''")
            name = index_name(path, with_model)
            columns = f"{'model, ' if with_model else ''}json_extract(doc, '{quoted}')"
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON twins({columns})")
                conn.execute(f"ANALYZE {name}")  # give the planner this index's statistics
            made.add(name)

    await store.read(create)
