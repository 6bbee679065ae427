"""The twin graph around a twin, or among a set of twins, in one request for the graph page.

Walking the graph from the browser would cost two requests per twin (outgoing and incoming);
here it is a breadth-first walk over the engine's relationship reads, bounded by depth and by
a node budget so a dense neighbourhood still answers quickly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from twinkit.dashboard.fleet import PresenceOf, is_online, last_seen, no_presence
from twinkit.model.errors import NotFound
from twinkit.platform import Platform

MAX_NODES = 300


async def neighbourhood(
    platform: Platform,
    roots: Iterable[str],
    depth: int,
    max_nodes: int = MAX_NODES,
    presence: PresenceOf = no_presence,
) -> dict[str, Any]:
    """Nodes within ``depth`` hops of ``roots`` (both directions) and the edges between them."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    frontier = list(dict.fromkeys(roots))
    truncated = False
    now = platform.clock.now().astimezone(UTC)
    for hop in range(depth + 1):
        next_frontier: list[str] = []
        for twin in frontier:
            if twin in nodes:
                continue
            if len(nodes) >= max_nodes:
                truncated = True
                break
            try:
                state = await platform.twins.get(twin)
            except NotFound:
                continue
            seen = last_seen(state)
            nodes[twin] = {
                "id": twin,
                "model": state.model,
                "online": is_online(state, seen, now, presence),
                "hop": hop,
            }
            outgoing = await platform.twins.relationships(twin)
            incoming = await platform.twins.incoming(twin)
            for rel in [*outgoing, *incoming]:
                edges[(rel["source"], rel["id"])] = {
                    "id": rel["id"],
                    "source": rel["source"],
                    "target": rel["target"],
                    "name": rel["name"],
                }
                other = rel["target"] if rel["source"] == twin else rel["source"]
                if other not in nodes:
                    next_frontier.append(other)
        frontier = next_frontier
        if not frontier:
            break
    # an edge to a twin outside the budget is dropped rather than drawn to nowhere
    kept = [e for e in edges.values() if e["source"] in nodes and e["target"] in nodes]
    return {
        "nodes": list(nodes.values()),
        "edges": kept,
        "truncated": truncated,
        "more_beyond_depth": bool(set(frontier) - set(nodes)),
    }


async def first_twins(platform: Platform, limit: int) -> list[str]:
    """The fleet's first twins by id: the graph page's starting view."""
    return await platform.store.twin_ids(limit=limit)
