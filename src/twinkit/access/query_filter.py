"""Queries for a principal whose policies narrow what it reads: run over a redacted graph.

Filtering the rows of an unrestricted run cannot be right: a projection (``T.temp``)
no longer says which twin it came from, and ``COUNT()`` and paging would count
what the principal may not see. So the query runs on the query package's
evaluator over the twin graph *as this principal sees it*: invisible twins are
absent, unreadable fields are removed before ``WHERE`` looks at them, and only
relationships it may read remain. Counts and continuations are then right by
construction. Principals that read every twin entirely skip this (the SQL path).

Until ``run_query`` takes a document filter (see docs/access.md) this reads the
store directly: the memory store's states, or the SQLite ``twins`` and
``relationships`` tables on the reader connection.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import orjson

from twinkit.model.errors import ValidationFailed
from twinkit.model.time import parse_time
from twinkit.query.evaluate import evaluate
from twinkit.query.graph import Graph, current_states, states_as_of
from twinkit.query.parser import parse_query
from twinkit.query.plan import plan_query
from twinkit.query.service import (
    DEFAULT_PAGE,
    MAX_PAGE,
    QueryResult,
    decode_continuation,
    encode_continuation,
)
from twinkit.storage.sqlite import SQLiteStore

if TYPE_CHECKING:
    from twinkit.platform import Platform

MAX_ANSWERS = 256  # cached answers per principal

# (document) -> the document as the principal may read it, or None when invisible
DocFilter = Callable[[dict[str, Any]], dict[str, Any] | None]
# (relationship) -> may the principal read it (on its source twin)?
RelFilter = Callable[[dict[str, Any]], bool]


async def run_filtered_query(
    platform: Platform,
    text: str,
    continuation: str | None,
    doc_filter: DocFilter,
    rel_filter: RelFilter,
    *,
    max_items: int = DEFAULT_PAGE,
    snapshot: Snapshot | None = None,
    graphs: dict[str, tuple[int, Any]] | None = None,
) -> QueryResult:
    """Run ``text`` over the graph as ``doc_filter``/``rel_filter`` let one principal see it.

    ``snapshot`` keeps documents between queries; ``graphs`` (one dict per principal)
    keeps the principal's redacted graph, and its answers to recent queries, until
    some twin, relationship or model changes: a dashboard polling the same queries
    over a quiet fleet then pays one ``PRAGMA data_version`` per query.
    """
    if not 1 <= max_items <= MAX_PAGE:
        raise ValidationFailed(f"max_items must be 1..{MAX_PAGE}", "/max_items")
    snapshot = snapshot or Snapshot()
    models = tuple(i.id for i in platform.registry)  # plans and IS_OF_MODEL depend on them
    answer_key = f"answer {hash(models)} {max_items} {continuation} {text}"
    if graphs is not None:
        docs, rels = await snapshot.refresh(platform)
        answered = graphs.get(answer_key)
        if answered is not None and answered[0] == snapshot.version:
            result: QueryResult = answered[1]
            return result
    plan = plan_query(parse_query(text), platform.registry)
    offset = decode_continuation(text, continuation)
    if plan.as_of is not None:
        states = await states_as_of(platform.store, parse_time(plan.as_of, "/query"))
        graph = redacted_graph(
            (s.document() for s in states),
            (r for s in states for r in s.relationships.values()),
            doc_filter,
            rel_filter,
        )
        return _page(evaluate(plan, graph), text, offset, max_items)
    if graphs is None:
        docs, rels = await snapshot.refresh(platform)
    cached = graphs.get("current") if graphs is not None else None
    if cached is not None and cached[0] == snapshot.version:
        graph = cached[1]
    else:
        memo: dict[str, tuple[dict[str, Any], Any]] = {}
        if graphs is not None:
            memo = graphs.get("inputs", (0, memo))[1]
        graph = redacted_graph(docs, rels, doc_filter, rel_filter, memo)
        if graphs is not None:
            graphs.clear()  # answers of older versions are dead
            graphs["current"] = (snapshot.version, graph)
            graphs["inputs"] = (snapshot.version, memo)
    result = _page(evaluate(plan, graph), text, offset, max_items)
    if graphs is not None:
        if len(graphs) > MAX_ANSWERS:
            kept: dict[str, tuple[int, Any]] = {
                k: graphs[k] for k in ("current", "inputs") if k in graphs
            }
            graphs.clear()
            graphs.update(kept)
        graphs[answer_key] = (snapshot.version, result)
    return result


def _page(rows: list[dict[str, Any]], text: str, offset: int, max_items: int) -> QueryResult:
    rows = rows[offset : offset + max_items + 1]
    more = len(rows) > max_items
    token = encode_continuation(text, offset + max_items) if more else None
    return QueryResult(rows[:max_items], token)


def redacted_graph(
    docs: Iterable[dict[str, Any]],
    rels: Iterable[dict[str, Any]],
    doc_filter: DocFilter,
    rel_filter: RelFilter,
    memo: dict[str, tuple[dict[str, Any], Any]] | None = None,
) -> Graph:
    """Like ``Graph.from_states``, but from (redacted) documents, which it cannot take.

    ``memo`` (twin id → (document, what ``doc_filter`` made of it)) is updated in
    place: a document that is the very object seen last time is not filtered again,
    so after one twin changed only that twin is (the snapshot keeps unchanged
    documents' identity).
    """
    twins: dict[str, dict[str, Any]] = {}
    previous = memo if memo is not None else {}
    current: dict[str, tuple[dict[str, Any], Any]] = {}
    for doc in docs:
        seen = previous.get(doc["id"])
        kept = seen[1] if seen is not None and seen[0] is doc else doc_filter(doc)
        current[doc["id"]] = (doc, kept)
        if kept is not None:
            twins[kept["id"]] = kept
    if memo is not None:
        memo.clear()
        memo.update(current)
    kept_rels = [r for r in rels if r["source"] in twins and r["target"] in twins and rel_filter(r)]
    kept_rels.sort(key=lambda r: (r["source"], r["id"]))
    outgoing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    incoming: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rel in kept_rels:
        outgoing[rel["source"]].append(rel)
        incoming[rel["target"]].append(rel)
    return Graph(twins, kept_rels, dict(outgoing), dict(incoming))


class Snapshot:
    """Every current twin document, refreshed incrementally by revision.

    A query re-reads only ``(id, revision)`` of every twin and the documents that
    changed since the last query, so a dashboard polling a quiet fleet pays for
    the evaluator, not for decoding every document again.
    """

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.rels: list[dict[str, Any]] = []
        self.version = 0  # bumped whenever a document or relationship changed
        # (reader connection, PRAGMA data_version) when last read: equal means no commit since
        self._seen: tuple[int, int] | None = None

    def _settle(
        self, docs: dict[str, dict[str, Any]], rels: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        changed = rels != self.rels or docs.keys() != self.docs.keys()
        changed = changed or any(self.docs[k] is not d for k, d in docs.items())
        if changed:
            self.version += 1
        self.docs, self.rels = docs, rels
        return list(docs.values()), rels

    async def refresh(
        self, platform: Platform
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        store = platform.store
        if isinstance(store, SQLiteStore):
            seen, before = self._seen, self.docs

            def read(conn: sqlite3.Connection) -> tuple[tuple[int, int], Any]:
                stamp = (id(conn), conn.execute("PRAGMA data_version").fetchone()[0])
                if stamp == seen:
                    return stamp, None
                known = {i: d["revision"] for i, d in before.items()}
                return stamp, _read_changes(conn, known, before)

            stamp, changes = await store.read(read)
            if changes is None:
                return list(self.docs.values()), self.rels
            self._seen = stamp
            return self._settle(*changes)
        docs: dict[str, dict[str, Any]] = {}
        rels: list[dict[str, Any]] = []
        for state in current_states(store):
            if not state.exists:
                continue
            old = self.docs.get(state.id)
            docs[state.id] = (
                old if old is not None and old["revision"] == state.revision else state.document()
            )
            rels.extend(state.relationships.values())
        rels.sort(key=lambda r: (r["source"], r["id"]))
        return self._settle(docs, rels)


def _read_changes(
    conn: sqlite3.Connection, known: dict[str, int], old: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    current = conn.execute("SELECT id, revision FROM twins").fetchall()
    stale = [twin for twin, revision in current if known.get(twin) != revision]
    fresh: dict[str, dict[str, Any]] = {}
    for start in range(0, len(stale), 500):
        chunk = stale[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for (doc,) in conn.execute(f"SELECT doc FROM twins WHERE id IN ({marks})", chunk):
            parsed = orjson.loads(doc)
            fresh[parsed["id"]] = parsed
    docs = {
        twin: fresh.get(twin) or old[twin] for twin, _ in current if twin in fresh or twin in old
    }
    return docs, _read_relationships(conn)


def _read_relationships(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [
        {
            "id": rid,
            "source": source,
            "name": name,
            "target": target,
            "properties": orjson.loads(props),
        }
        for source, rid, name, target, props in conn.execute(
            "SELECT source, id, name, target, properties FROM relationships ORDER BY source, id"
        )
    ]
