"""Running a query against a platform: choose the executor, page, and hand back rows.

SQLite stores run the compiled SQL on the reader connection (a committed write is
visible to it, so every acknowledged write is seen); the in-memory store and
``AS OF`` queries run the evaluator over a graph of documents. The continuation
token is the next offset, tied to the query text so it cannot be replayed on
another query.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from twinkit.model.errors import ValidationFailed
from twinkit.model.time import parse_time
from twinkit.query.evaluate import evaluate
from twinkit.query.graph import (
    Graph,
    changed_since,
    current_states,
    sqlite_graph_as_of,
    states_as_of,
)
from twinkit.query.indexes import ensure_path_indexes
from twinkit.query.parser import parse_exactly, parse_query
from twinkit.query.plan import plan_query
from twinkit.query.scope import TwinScope
from twinkit.query.sql import compile_plan
from twinkit.storage.sqlite import SQLiteStore

if TYPE_CHECKING:
    from twinkit.platform import Platform

DEFAULT_PAGE = 100
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class QueryResult:
    items: list[dict[str, Any]]
    continuation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"items": self.items, "continuation": self.continuation}


@dataclass(slots=True)
class Query:
    """The query service of one platform (what the HTTP route and the CLI call)."""

    platform: Platform
    page_size: int = DEFAULT_PAGE

    async def run(
        self, text: str, continuation: str | None = None, max_items: int | None = None
    ) -> QueryResult:
        return await run_query(
            self.platform, text, continuation, max_items=max_items or self.page_size
        )

    async def all(self, text: str) -> list[dict[str, Any]]:
        """Every row, following continuations."""
        rows: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = await self.run(text, token, MAX_PAGE)
            rows.extend(page.items)
            token = page.continuation
            if token is None:
                return rows


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_continuation(text: str, offset: int) -> str:
    raw = orjson.dumps({"o": offset, "q": _fingerprint(text)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continuation(text: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, owner = raw["o"], raw["q"]
    except (ValueError, KeyError, TypeError):
        raise ValidationFailed("the continuation token is not valid", "/continuation") from None
    if owner != _fingerprint(text) or not isinstance(offset, int) or offset < 0:
        raise ValidationFailed("the continuation token belongs to another query", "/continuation")
    return offset


async def run_query(
    platform: Platform,
    text: str,
    continuation: str | None = None,
    *,
    max_items: int = DEFAULT_PAGE,
    visible: TwinScope | None = None,
) -> QueryResult:
    """Run ``text``; return up to ``max_items`` rows and a token for the next page (or None).

    ``visible`` runs it over the graph as one caller may see it (twins, fields and
    relationships it may not read are absent, before ``WHERE``; see
    :mod:`twinkit.query.scope`). On SQLite this raises
    :class:`~twinkit.query.scope.ScopeUnsupported` when the statement cannot honour
    the scope for this query; the caller then evaluates over its redacted graph.
    """
    if not isinstance(max_items, int) or not 1 <= max_items <= MAX_PAGE:
        raise ValidationFailed(f"max_items must be 1..{MAX_PAGE}", "/max_items")
    try:
        plan = plan_query(parse_query(text), platform.registry)
    except ValidationFailed:
        # the cached parse shares positions across literals; re-plan for exact ones
        plan_query(parse_exactly(text), platform.registry)
        raise
    offset = decode_continuation(text, continuation)
    store = platform.store
    moment = parse_time(plan.as_of, "/query") if plan.as_of is not None else None
    if isinstance(store, SQLiteStore) and (
        moment is None or not await changed_since(store, moment)
    ):
        statement = compile_plan(plan, max_items + 1, offset, visible)
        if statement.indexed_paths:
            await ensure_path_indexes(store, statement.indexed_paths)
        raw = await store.read(
            lambda conn: conn.execute(statement.sql, statement.params).fetchall()
        )
        rows = [statement.decode(r) for r in raw]
    else:
        if moment is None:
            graph = Graph.from_states(current_states(store))
        elif isinstance(store, SQLiteStore):
            graph = await sqlite_graph_as_of(store, platform.journal, moment)
        else:
            graph = Graph.from_states(await states_as_of(store, moment))
        if visible is not None:
            graph = visible.restrict(graph.twins.values(), graph.relationships)
        rows = evaluate(plan, graph)[offset : offset + max_items + 1]
    more = len(rows) > max_items
    items = rows[:max_items]
    token = encode_continuation(text, offset + max_items) if more else None
    return QueryResult(items, token)
