"""Rules for the surfaces that are not one twin: the query route, the change feeds and the
dashboard's condensed views (fleet rows, graph, alerts, model cards)."""

from __future__ import annotations

from typing import Any

from twinkit.access.evaluator import READ, redact_document
from twinkit.access.guard import Forbidden
from twinkit.access.policy import split_path
from twinkit.access.query_filter import run_filtered_query
from twinkit.access.routes import API, Call, Plan, gate, readable_models, route, visible_twin
from twinkit.model.errors import ValidationFailed
from twinkit.query import ScopeUnsupported, run_query
from twinkit.storage.sqlite import SQLiteStore

DASH = f"{API}/dashboard"


@route("POST", f"{API}/query", body=True)
async def query(call: Call) -> Plan:
    """Readers of every twin take the normal path; everyone else the same query run in their
    scope (SQL narrowed to the twins they see, revoked fields absent), or, when SQL cannot
    say what they see, the query evaluated over their redacted graph."""
    gate(call, READ, "twin")
    guard, principal = call.guard, call.principal
    if not guard.authorize or guard.evaluator.reads_every_twin(principal):
        return Plan()
    body = call.json()
    if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"]:
        return Plan()  # the route itself answers 422
    continuation = body.get("continuation")
    if continuation is not None and not isinstance(continuation, str):
        raise ValidationFailed("continuation is a string", "/continuation")
    evaluator = guard.evaluator
    scope = guard.scope(principal)
    cache = guard.redactions(principal)

    def doc_filter(doc: dict[str, Any]) -> dict[str, Any] | None:
        twin, revision = doc["id"], doc["revision"]
        cached = cache.get(twin)
        if cached is not None and cached[0] == revision:
            kept: dict[str, Any] | None = cached[1]
            return kept
        decisions = evaluator.decisions(principal, twin=twin, model=doc.get("model"))
        kept = redact_document(doc, decisions)
        cache[twin] = (revision, kept)
        return kept

    def rel_filter(rel: dict[str, Any]) -> bool:
        # the source is in the graph, so its redacted document (which keeps "model") is
        # cached, whether doc_filter saw it in this query or an earlier one
        source = cache.get(rel["source"])
        model = source[1].get("model") if source is not None and source[1] else None
        decisions = evaluator.decisions(principal, twin=rel["source"], model=model)
        return decisions.can(READ, "twin", ("relationships", rel["id"]))

    async def answer() -> Any:
        # on SQLite the query runs as SQL in the caller's scope; the in-memory store has no
        # SQL, and its Python path keeps the redacted graph between queries
        if scope is not None and isinstance(guard.platform.store, SQLiteStore):
            try:
                done = await run_query(guard.platform, body["query"], continuation, visible=scope)
                return {"items": list(done.items), "continuation": done.continuation}
            except ScopeUnsupported:
                pass
        result = await run_filtered_query(
            guard.platform,
            body["query"],
            continuation,
            doc_filter,
            rel_filter,
            snapshot=guard.snapshot,
            graphs=guard.graph_cache(principal),
        )
        return {"items": list(result.items), "continuation": result.continuation}

    return Plan(answer=answer)


@route("GET", f"{API}/events")
async def sse(call: Call) -> Plan:
    gate(call, READ, "twin")
    return Plan(stream="sse")


@route("WS", f"{API}/ws")
async def websocket(call: Call) -> Plan:
    gate(call, READ, "twin")
    return Plan(stream="ws")


# -- dashboard -------------------------------------------------------------------------------


def _row(call: Call, row: dict[str, Any], model: str | None) -> dict[str, Any] | None:
    """A fleet row or graph node: dropped when invisible, stripped unless fully readable."""
    if not call.guard.authorize:
        return row
    decisions = call.guard.evaluator.decisions(call.principal, twin=row["id"], model=model)
    if not decisions.can_any(READ, "twin"):
        return None
    if decisions.can_all(READ, "twin"):
        return row
    stripped: dict[str, Any] = {
        k: row[k] for k in ("id", "model", "revision", "online", "last_seen") if k in row
    }
    for key in ("values", "delta", "alerts"):
        if key in row:
            stripped[key] = [] if isinstance(row[key], list) else {}
    # the live values and open deltas it may read stay: a revoked field hides only itself
    if isinstance(row.get("values"), list):
        stripped["values"] = [
            v
            for v in row["values"]
            if isinstance(v, dict)
            and decisions.can(READ, "twin", (str(v.get("source")), str(v.get("name"))))
        ]
    if isinstance(row.get("delta"), list):
        stripped["delta"] = [k for k in row["delta"] if decisions.can(READ, "twin", ("desired", k))]
    return stripped


@route("GET", f"{DASH}/fleet")
async def fleet(call: Call) -> Plan:
    gate(call, READ, "twin")

    async def keep(body: Any) -> Any:
        rows = [_row(call, r, r.get("model")) for r in body.get("items", [])]
        total = body.get("total")
        if call.guard.authorize and not call.guard.evaluator.reads_every_twin(call.principal):
            total = None  # a count over the whole fleet would tell what is hidden
        return {**body, "items": [r for r in rows if r is not None], "total": total}

    return Plan(filter=keep)


@route("GET", f"{DASH}/models")
async def dashboard_models(call: Call) -> Plan:
    gate(call, READ, "model")

    async def keep(body: Any) -> Any:
        items = readable_models(call, body.get("items", []))
        if call.guard.authorize and not call.guard.evaluator.reads_every_twin(call.principal):
            return {**body, "items": items, "unmodelled_twins": None}
        return {**body, "items": items}

    return Plan(filter=keep)


@route("GET", f"{DASH}/twins/{{twin}}/model")
async def twin_model(call: Call) -> Plan:
    await visible_twin(call, call.params["twin"])
    return Plan()


@route("GET", f"{DASH}/twins/{{twin}}/summary")
async def twin_summary(call: Call) -> Plan:
    await visible_twin(call, call.params["twin"])

    async def keep(body: Any) -> Any:
        if not isinstance(body, dict) or "id" not in body:
            return body
        row = _row(call, body, await call.guard.model_of(body["id"]))
        if row is None:
            raise Forbidden("READ on twin:/ is not granted to you", "")
        return row

    return Plan(filter=keep)


@route("GET", f"{DASH}/twins/{{twin}}/series/{{path}}")
async def twin_series(call: Call) -> Plan:
    """A chart's points are history: READ on ``history:/<path>``."""
    decisions = await call.guard.twin(call.principal, call.params["twin"])
    path = split_path(call.params["path"])
    call.guard.require(decisions.can(READ, "history", path), READ, "history:/" + "/".join(path))
    return Plan()


@route("GET", f"{DASH}/alerts")
async def alerts(call: Call) -> Plan:
    gate(call, READ, "twin")

    async def keep(body: Any) -> Any:
        items = []
        for alert in body.get("items", []):
            decisions = await call.guard.twin(call.principal, str(alert.get("twin")))
            alert_id = str(alert.get("id", ""))
            if not call.guard.authorize or decisions.can(READ, "twin", ("alerts", alert_id)):
                items.append(alert)
        return {**body, "items": items}

    return Plan(filter=keep)


async def _graph(call: Call) -> Plan:
    gate(call, READ, "twin")

    async def keep(body: Any) -> Any:
        nodes = []
        for node in body.get("nodes", []):
            kept = _row(call, node, node.get("model"))
            if kept is not None:
                nodes.append(kept)
        ids = {n["id"] for n in nodes}
        edges = []
        for edge in body.get("edges", []):
            source, target = edge.get("source"), edge.get("target")
            if source in ids and target in ids:
                decisions = await call.guard.twin(call.principal, str(source))
                rel = str(edge.get("id", ""))
                if not call.guard.authorize or decisions.can(READ, "twin", ("relationships", rel)):
                    edges.append(edge)
        return {**body, "nodes": nodes, "edges": edges}

    return Plan(filter=keep)


@route("GET", f"{DASH}/graph")
async def graph(call: Call) -> Plan:
    return await _graph(call)


@route("POST", f"{DASH}/graph", body=True)
async def graph_of(call: Call) -> Plan:
    return await _graph(call)
