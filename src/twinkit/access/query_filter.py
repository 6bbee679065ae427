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
) -> QueryResult:
    if not 1 <= max_items <= MAX_PAGE:
        raise ValidationFailed(f"max_items must be 1..{MAX_PAGE}", "/max_items")
    plan = plan_query(parse_query(text), platform.registry)
    offset = decode_continuation(text, continuation)
    store = platform.store
    docs: Iterable[dict[str, Any]]
    rels: Iterable[dict[str, Any]]
    if plan.as_of is not None:
        states = await states_as_of(store, parse_time(plan.as_of, "/query"))
        docs = (s.document() for s in states)
        rels = (r for s in states for r in s.relationships.values())
    elif isinstance(store, SQLiteStore):
        docs, rels = await store.read(_read_graph)
    else:
        states = [s for s in current_states(store) if s.exists]
        docs = (s.document() for s in states)
        rels = (r for s in states for r in s.relationships.values())
    graph = redacted_graph(docs, rels, doc_filter, rel_filter)
    rows = evaluate(plan, graph)[offset : offset + max_items + 1]
    more = len(rows) > max_items
    token = encode_continuation(text, offset + max_items) if more else None
    return QueryResult(rows[:max_items], token)


def redacted_graph(
    docs: Iterable[dict[str, Any]],
    rels: Iterable[dict[str, Any]],
    doc_filter: DocFilter,
    rel_filter: RelFilter,
) -> Graph:
    twins: dict[str, dict[str, Any]] = {}
    for doc in docs:
        kept = doc_filter(doc)
        if kept is not None:
            twins[kept["id"]] = kept
    kept_rels = [r for r in rels if r["source"] in twins and r["target"] in twins and rel_filter(r)]
    kept_rels.sort(key=lambda r: (r["source"], r["id"]))
    outgoing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    incoming: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rel in kept_rels:
        outgoing[rel["source"]].append(rel)
        incoming[rel["target"]].append(rel)
    return Graph(twins, kept_rels, dict(outgoing), dict(incoming))


def _read_graph(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    docs = [orjson.loads(doc) for (doc,) in conn.execute("SELECT doc FROM twins")]
    rels = [
        {
            "id": rid,
            "source": source,
            "name": name,
            "target": target,
            "properties": orjson.loads(props),
        }
        for source, rid, name, target, props in conn.execute(
            "SELECT source, id, name, target, properties FROM relationships"
        )
    ]
    return docs, rels
