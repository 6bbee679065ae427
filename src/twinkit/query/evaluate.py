"""The in-memory executor: follows a :class:`Plan` over a :class:`Graph` of documents.

It is the reference semantics: the SQL compiler must return exactly what this
returns (a shared corpus and property tests check it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twinkit.query import ast
from twinkit.query import values as v
from twinkit.query.graph import Graph
from twinkit.query.plan import (
    REL,
    Aggregate,
    Compare,
    Entity,
    Expand,
    Field,
    InList,
    ModelTest,
    Plan,
    Scan,
    StringTest,
    TypeTest,
)

Binding = tuple[Any, ...]


def twin_output(doc: dict[str, Any]) -> dict[str, Any]:
    """A twin as queries return it: our document plus the ADT system keys."""
    return {
        **doc,
        "$dtId": doc["id"],
        "$etag": doc.get("etag"),
        "$metadata": {"$model": doc.get("model")},
    }


def rel_output(rel: dict[str, Any]) -> dict[str, Any]:
    """A relationship in ADT's shape."""
    return {
        "$relationshipId": rel["id"],
        "$sourceId": rel["source"],
        "$targetId": rel["target"],
        "$relationshipName": rel["name"],
        **rel.get("properties", {}),
    }


def field_value(entity: Any, fld: Field) -> Any:
    loc = fld.loc
    if len(loc) == 1:
        return entity.get(loc[0]) if loc[0] != "id" else entity["id"]
    current: Any = entity["properties"] if loc[0] == "props" else entity
    for key in loc[1:]:
        if not isinstance(current, dict) or key not in current:
            return v.MISSING
        current = current[key]
    return current


def _operand(binding: Binding, operand: Field | ast.Literal) -> Any:
    if isinstance(operand, ast.Literal):
        return operand.value
    return field_value(binding[operand.slot], operand)


def truth(cond: Any, binding: Binding) -> bool | None:
    """Three-valued truth of a planned condition on one binding."""
    if isinstance(cond, Compare):
        return v.compare(cond.op, _operand(binding, cond.left), _operand(binding, cond.right))
    if isinstance(cond, ast.And):
        return v.all_of([truth(i, binding) for i in cond.items])
    if isinstance(cond, ast.Or):
        return v.any_of([truth(i, binding) for i in cond.items])
    if isinstance(cond, ast.Not):
        return v.negate(truth(cond.item, binding))
    if isinstance(cond, InList):
        found = v.is_in(_operand(binding, cond.operand), cond.values)
        return v.negate(found) if cond.negated else found
    if isinstance(cond, TypeTest):
        return v.type_test(cond.name, _operand(binding, cond.operand))
    if isinstance(cond, StringTest):
        return v.string_test(cond.name, _operand(binding, cond.operand), cond.needle)
    if isinstance(cond, ModelTest):
        return binding[cond.slot].get("model") in cond.models
    if isinstance(cond, ast.Literal):
        return bool(cond.value)
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover - planner guarantees


def _neighbours(graph: Graph, twin: str, step: Expand) -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    if step.direction in ("out", "any"):
        found.extend((r, r["target"]) for r in graph.outgoing.get(twin, ()))
    if step.direction in ("in", "any"):
        found.extend(
            (r, r["source"])
            for r in graph.incoming.get(twin, ())
            if not (step.direction == "any" and r["source"] == twin)  # a self-loop counts once
        )
    if step.names:
        found = [(r, other) for r, other in found if r["name"] in step.names]
    return found


def _reachable(graph: Graph, twin: str, step: Expand) -> set[str]:
    """Twins at a walk of length min..max from ``twin``."""
    level = {twin}
    reached = {twin} if step.min_hops == 0 else set()
    for depth in range(1, step.max_hops + 1):
        level = {other for t in level for _, other in _neighbours(graph, t, step)}
        if depth >= step.min_hops:
            reached |= level
        if not level:
            break
    return reached


def bindings(plan: Plan, graph: Graph) -> list[Binding]:
    rows: list[list[Any]] = []
    width = len(plan.slots)
    for step in plan.steps:
        if isinstance(step, Scan):
            source = (
                graph.relationships if plan.slots[step.slot].kind == REL else graph.twins.values()
            )
            rows = [[None] * width for _ in source]
            for row, entity in zip(rows, source, strict=True):
                row[step.slot] = entity
            continue
        grown: list[list[Any]] = []
        for row in rows:
            start = row[step.source]["id"]
            if step.rel is not None:
                pairs: list[tuple[dict[str, Any] | None, str]] = list(
                    _neighbours(graph, start, step)
                )
            else:
                pairs = [(None, t) for t in _reachable(graph, start, step)]
            for rel, other in pairs:
                doc = graph.twins.get(other)
                if doc is None or (step.bound and row[step.target]["id"] != other):
                    continue
                new = list(row)
                new[step.target] = doc
                if step.rel is not None:
                    new[step.rel] = rel
                grown.append(new)
        rows = grown
    return [tuple(r) for r in rows]


def _identity(plan: Plan) -> Callable[[Binding], tuple[Any, ...]]:
    kinds = [s.kind for s in plan.slots]

    def key(binding: Binding) -> tuple[Any, ...]:
        out: list[Any] = []
        for kind, entity in zip(kinds, binding, strict=True):
            if kind == REL:
                out.extend((entity["source"], entity["id"]))
            else:
                out.append(entity["id"])
        return tuple(out)

    return key


def _project(plan: Plan, binding: Binding) -> dict[str, Any]:
    if plan.unwrap:
        entity = binding[plan.columns[0].expr.slot]  # type: ignore[union-attr]
        kind = plan.slots[plan.columns[0].expr.slot].kind  # type: ignore[union-attr]
        return rel_output(entity) if kind == REL else twin_output(entity)
    row: dict[str, Any] = {}
    for column in plan.columns:
        expr = column.expr
        if isinstance(expr, Entity):
            entity = binding[expr.slot]
            row[column.name] = (
                rel_output(entity) if plan.slots[expr.slot].kind == REL else twin_output(entity)
            )
        elif isinstance(expr, Field):
            value = field_value(binding[expr.slot], expr)
            if value is not v.MISSING:
                row[column.name] = value
    return row


def aggregate(agg: Aggregate, group: list[Binding]) -> Any:
    if agg.name == "COUNT":
        return len(group)
    assert agg.operand is not None
    numbers = [
        x
        for x in (field_value(b[agg.operand.slot], agg.operand) for b in group)
        if v.kind(x) == "n"
    ]
    if not numbers:
        return v.MISSING
    if agg.name == "SUM":
        return sum(numbers)
    if agg.name == "AVG":
        return float(sum(numbers)) / len(numbers)
    return min(numbers) if agg.name == "MIN" else max(numbers)


def _grouped(plan: Plan, rows: list[Binding]) -> list[dict[str, Any]]:
    groups: dict[tuple[str | None, ...], list[Binding]] = {}
    for binding in rows:
        token = tuple(v.group_token(field_value(binding[k.slot], k)) for k in plan.group_keys)
        groups.setdefault(token, []).append(binding)
    if not plan.group_keys and not groups:
        groups[()] = []
    results: list[tuple[list[Any], dict[str, Any]]] = []
    for token, group in groups.items():
        first = group[0] if group else None
        values: list[Any] = []
        for column in plan.columns:
            expr = column.expr
            if isinstance(expr, Aggregate):
                values.append(aggregate(expr, group))
            else:
                assert isinstance(expr, Field) and first is not None
                values.append(field_value(first[expr.slot], expr))
        keys = [
            field_value(first[k.slot], k) if first is not None else v.MISSING
            for k in plan.group_keys
        ]
        row = {c.name: x for c, x in zip(plan.columns, values, strict=True) if x is not v.MISSING}
        results.append(([*keys, token, values], row))
    results.sort(key=lambda r: (*[v.sort_key(k) for k in r[0][:-2]], r[0][-2]))
    for key in reversed(plan.order):
        assert key.column is not None
        results.sort(key=_column_key(key.column), reverse=key.descending)
    return [row for _, row in results]


def _column_key(index: int) -> Callable[[tuple[list[Any], dict[str, Any]]], tuple[int, Any]]:
    return lambda result: v.sort_key(result[0][-1][index])


def _field_key(fld: Field) -> Callable[[Binding], tuple[int, Any]]:
    return lambda binding: v.sort_key(field_value(binding[fld.slot], fld))


def evaluate(plan: Plan, graph: Graph) -> list[dict[str, Any]]:
    """Every result row of the query, in order (the caller pages)."""
    rows = [b for b in bindings(plan, graph) if plan.where is None or truth(plan.where, b) is True]
    if plan.grouped:
        out = _grouped(plan, rows)
    else:
        rows.sort(key=_identity(plan))
        for key in reversed(plan.order):
            fld = key.field
            assert fld is not None
            rows.sort(key=_field_key(fld), reverse=key.descending)
        out = [_project(plan, b) for b in rows]
    return out if plan.top is None else out[: plan.top]
