"""The twin graph as plain documents, for the in-memory evaluator.

Built from the memory store's current states, or from the journal as it was at
a moment (``AS OF``): every event recorded at or before the moment is folded in,
the same fold the engine uses, so the graph is exactly the past one.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from twinkit.history.journal import Journal
from twinkit.model.errors import NotFound
from twinkit.model.events import Event
from twinkit.storage.memory import MemoryStore
from twinkit.storage.ports import Store
from twinkit.storage.sqlite import SQLiteStore
from twinkit.twins.state import TwinState, apply


@dataclass(slots=True)
class Graph:
    twins: dict[str, dict[str, Any]]
    relationships: list[dict[str, Any]]
    outgoing: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    incoming: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def from_states(cls, states: Iterable[TwinState]) -> Graph:
        twins: dict[str, dict[str, Any]] = {}
        rels: list[dict[str, Any]] = []
        for state in states:
            if not state.exists:
                continue
            twins[state.id] = state.document()
            rels.extend(state.relationships.values())
        return cls.from_parts(twins, rels)

    @classmethod
    def from_parts(cls, twins: dict[str, dict[str, Any]], rels: list[dict[str, Any]]) -> Graph:
        """Twin documents by id and relationships (those to a missing twin are dropped)."""
        rels = [r for r in rels if r["target"] in twins]
        rels.sort(key=lambda r: (r["source"], r["id"]))
        outgoing: dict[str, list[dict[str, Any]]] = defaultdict(list)
        incoming: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rel in rels:
            outgoing[rel["source"]].append(rel)
            incoming[rel["target"]].append(rel)
        return cls(twins, rels, dict(outgoing), dict(incoming))


def current_states(store: Store) -> Iterable[TwinState]:
    """Every live twin of an in-memory store."""
    if isinstance(store, MemoryStore):
        return store.states()
    return []


async def _events_until(store: Store, moment: datetime, seq: int) -> list[Event]:
    """The next journal events after ``seq``; on SQLite only those recorded by ``moment``."""
    if isinstance(store, SQLiteStore):
        stamp = moment.timestamp()

        def read(conn: sqlite3.Connection) -> list[Event]:
            rows = conn.execute(
                "SELECT body FROM events WHERE seq > ? AND at <= ? ORDER BY seq LIMIT 10000",
                (seq, stamp),
            )
            return [Event.from_json(orjson.loads(body)) for (body,) in rows]

        return await store.read(read)
    return await store.events_since(seq, limit=10_000)


async def states_as_of(store: Store, moment: datetime) -> list[TwinState]:
    """Fold every journal event recorded at or before ``moment``, per twin."""
    states: dict[str, TwinState] = {}
    closed: set[str] = set()
    seq = 0
    while True:
        events = await _events_until(store, moment, seq)
        if not events:
            break
        for event in events:
            seq = event.seq
            if event.twin in closed:
                continue
            if event.at > moment:
                closed.add(event.twin)
                continue
            state = states.get(event.twin) or TwinState(event.twin)
            if event.revision != state.revision + 1:
                closed.add(event.twin)  # a gap (pruned journal): stop at what is known
                continue
            states[event.twin] = apply(state, event)
    return [s for s in states.values() if s.exists]


async def sqlite_graph_as_of(store: SQLiteStore, journal: Journal, moment: datetime) -> Graph:
    """The graph at ``moment`` on SQLite: twins untouched since then are read as they are
    now; only the twins with a later event are rebuilt from their journal (with snapshots).
    """
    stamp = moment.timestamp()

    def read(conn: sqlite3.Connection) -> tuple[set[str], list[str], list[tuple[Any, ...]]]:
        later = conn.execute("SELECT DISTINCT twin FROM events WHERE at > ?", (stamp,))
        changed = {t for (t,) in later}
        docs = [d for (d,) in conn.execute("SELECT doc FROM twins")]
        rels = conn.execute("SELECT source, id, name, target, properties FROM relationships")
        return changed, docs, rels.fetchall()

    changed, docs, rel_rows = await store.read(read)
    twins: dict[str, dict[str, Any]] = {}
    for text in docs:
        doc = orjson.loads(text)
        if doc["id"] not in changed:
            twins[doc["id"]] = doc
    rels = [
        {"id": rid, "source": src, "name": name, "target": dst, "properties": orjson.loads(props)}
        for src, rid, name, dst, props in rel_rows
        if src not in changed
    ]
    for twin in sorted(changed):
        try:
            state = await journal.as_of(twin, at=moment)
        except NotFound:
            continue  # created later, or deleted by then
        twins[twin] = state.document()
        rels.extend(state.relationships.values())
    return Graph.from_parts(twins, rels)


async def changed_since(store: SQLiteStore, moment: datetime) -> bool:
    """Whether any event was recorded after ``moment`` (if not, the graph is as it is now)."""
    stamp = moment.timestamp()
    row = await store.read(
        lambda c: c.execute("SELECT 1 FROM events WHERE at > ? LIMIT 1", (stamp,)).fetchone()
    )
    return row is not None
