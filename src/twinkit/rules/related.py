"""Rules over related twins: the value a ``related()``/``incoming()`` call reads now, and
which twins must be judged again when a twin they read changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twinkit.model.errors import NotFound, TwinkitError
from twinkit.platform import Platform
from twinkit.rules.conditions import RelatedCall, is_missing, lookup
from twinkit.rules.rule import Rule
from twinkit.rules.windows import aggregate
from twinkit.twins.state import TwinState


@dataclass(slots=True)
class RelatedChange:
    """``twin``, which related rules read, changed: first at ``first``, last at ``last`` (clock
    time). The engine queues one per changed twin, in order with the twins' own values, and
    judges the twins reading it once for a burst of changes."""

    twin: str
    first: float
    last: float = 0.0


async def related_value(
    platform: Platform, state: TwinState, call: RelatedCall, then: float | None = None
) -> Any:
    """``call``'s aggregate over the twins at the end of its relationship, as they are now
    or, given ``then`` (clock time), as they were then (as-of reads; who points at the twin
    is today's ``incoming``, which is not indexed by time)."""
    if call.direction == "out":
        others = [
            r["target"] for r in state.relationships.values() if r["name"] == call.relationship
        ]
    else:
        try:
            incoming = await platform.twins.incoming(state.id)
        except NotFound:
            incoming = []
        others = [r["source"] for r in incoming if r["name"] == call.relationship]
    values = []
    moment = datetime.fromtimestamp(then, UTC) if then is not None else None
    for other in others:
        try:
            if moment is None:
                doc = (await platform.twins.get(other)).document()
            else:
                doc = (await platform.journal.as_of(other, at=moment)).document()
        except TwinkitError:
            continue
        value = lookup(doc, call.path)
        if not is_missing(value):
            values.append(value)
    return aggregate(call.agg, values)


def related_inputs(rules: Iterable[Rule]) -> tuple[bool, frozenset[str]]:
    """Whether any of ``rules`` reads related twins, and which of their values (``section/name``)
    must change for the twins reading them to be judged again."""
    calls = [c for r in rules if r.condition for c in r.condition.related]
    return bool(calls), frozenset(f"{c.path[0]}/{c.path[1]}" for c in calls if len(c.path) > 1)


async def dependents(platform: Platform, rules: Iterable[Rule], twin: str) -> set[str]:
    """Twins whose ``related()``/``incoming()`` read ``twin``."""
    calls = [c for r in rules if r.condition for c in r.condition.related]
    out_names = {c.relationship for c in calls if c.direction == "out"}
    in_names = {c.relationship for c in calls if c.direction == "in"}
    found: set[str] = set()
    try:
        if out_names:
            found |= {
                r["source"] for r in await platform.twins.incoming(twin) if r["name"] in out_names
            }
        if in_names:
            state = await platform.twins.get(twin)
            found |= {r["target"] for r in state.relationships.values() if r["name"] in in_names}
    except NotFound:
        pass
    found.discard(twin)
    return found
