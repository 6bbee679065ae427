"""The SQL compiler: a :class:`Plan` → one SQLite statement over the store's tables.

Values come out of ``twins.doc`` with ``json_extract``/``json_type``; the rules
of :mod:`twinkit.query.values` (typed comparison, undefined on a type mismatch,
three-valued logic, the sort order) are spelled out with ``json_type``, so the
statement returns exactly what the in-memory evaluator returns. Traversals are
joins on ``relationships``; variable-length hops are recursive CTEs.

With a :class:`~twinkit.query.scope.TwinScope` the statement runs over the graph as
one caller sees it: the scope's tests join every twin and relationship it reads, and
each document field is read through the scope (:mod:`twinkit.query.scope_sql`).

Positive top-level conditions also get a plain ``json_extract(...) op value``
twin, which is implied by the exact test and lets SQLite use an expression index
on that path (see :mod:`twinkit.query.indexes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from twinkit.query import ast
from twinkit.query import values as v
from twinkit.query.evaluate import rel_output, twin_output
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
from twinkit.query.scope import TwinScope, glob_prefix
from twinkit.query.scope_sql import ScopeSql, Value, json_path

_NUMBER_TYPES = "('integer','real')"
_BOOL_TYPES = "('true','false')"
_CLASS = (
    "CASE {t} WHEN 'integer' THEN 'n' WHEN 'real' THEN 'n' WHEN 'text' THEN 's'"
    " WHEN 'true' THEN 'b' WHEN 'false' THEN 'b' WHEN 'null' THEN 'z' ELSE 'o' END"
)
_RANK = (
    "CASE {t} WHEN 'null' THEN 1 WHEN 'true' THEN 2 WHEN 'false' THEN 2 WHEN 'integer' THEN 3"
    " WHEN 'real' THEN 3 WHEN 'text' THEN 4 WHEN 'array' THEN 5 WHEN 'object' THEN 5 ELSE 0 END"
)
_TYPE_SETS = {
    "IS_BOOL": _BOOL_TYPES,
    "IS_NUMBER": _NUMBER_TYPES,
    "IS_STRING": "('text')",
    "IS_PRIMITIVE": "('integer','real','text','true','false','null')",
    "IS_OBJECT": "('object')",
    "IS_ARRAY": "('array')",
    "IS_NULL": "('null')",
}


@dataclass(frozen=True, slots=True)
class SqlValue:
    """How to read one field: its SQL value, its json_type, its JSON text."""

    value: str
    types: str  # a json_type() expression (NULL when missing)
    json: str
    static: str | None = None  # "text": always a string; "text?": a string or null
    path: str | None = None  # the JSON path, for doc/props fields
    group: str = ""


@dataclass(slots=True)
class Statement:
    sql: str
    params: dict[str, Any]
    decode: Callable[[tuple[Any, ...]], dict[str, Any]]
    indexed_paths: list[tuple[bool, str]] = field(default_factory=list)


class _Compiler:
    def __init__(self, plan: Plan, scope: TwinScope | None = None) -> None:
        self.plan = plan
        self.params: dict[str, Any] = {}
        # the caller's view of the graph (None: everything), see twinkit.query.scope
        self.scope = ScopeSql(scope, self.param) if scope is not None else None
        self.indexed_paths: list[tuple[bool, str]] = []  # (with model, JSON path)
        self.model_slots = {c.slot for c in _conjuncts(plan.where) if isinstance(c, ModelTest)}
        # how to name each twin slot's id: its own column, or the relationship end that led
        # there (a relationship's target always exists, so a twin whose document is never
        # read needs no join)
        self.ids: dict[int, str] = {}
        self.documents = _document_slots(plan)
        self.filters: list[str] = []

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = int(value) if isinstance(value, bool) else value
        return f":{name}"

    # -- fields -------------------------------------------------------------------------------
    def field(self, fld: Field) -> SqlValue:
        alias = f"s{fld.slot}"
        column = fld.column
        if column is not None:
            ref = self.ids.get(fld.slot, f"{alias}.id") if column == "id" else f"{alias}.{column}"
            if column == "model":
                types = f"CASE WHEN {ref} IS NULL THEN 'null' ELSE 'text' END"
                return SqlValue(ref, types, f"json_quote({ref})", "text?", group=ref)
            return SqlValue(ref, "'text'", f"json_quote({ref})", "text", group=ref)
        source = f"{alias}.doc" if fld.loc[0] == "doc" else f"{alias}.properties"
        path = json_path(fld.loc[1:])
        plain = Value(
            f"json_extract({source}, '{path}')",
            f"json_type({source}, '{path}')",
            f"({source} -> '{path}')",
        )
        stored = True
        if self.scope is not None and fld.loc[0] == "doc":
            plain, stored = self.scope.field(
                f"{alias}.id", f"{alias}.model", source, fld.loc[1:], plain
            )
        return SqlValue(
            plain.value,
            plain.types,
            plain.json,
            path=path if fld.loc[0] == "doc" and stored else None,
            group=plain.json,
        )

    # -- conditions ---------------------------------------------------------------------------
    def compare(self, op: str, left: Any, right: Any) -> str:
        if isinstance(left, ast.Literal) and isinstance(right, ast.Literal):
            return _truth_sql(v.compare(op, left.value, right.value))
        if isinstance(left, ast.Literal):
            return self.compare(_FLIP[op], right, left)
        lhs = self.field(left)
        if isinstance(right, ast.Literal):
            return self._compare_literal(op, lhs, right.value)
        rhs = self.field(right)
        c1, c2 = _CLASS.format(t=lhs.types), _CLASS.format(t=rhs.types)
        allowed = "('n','s','b')" if op in ("=", "!=") else "('n','s')"
        same = (
            f"WHEN {c1} = {c2} AND {c1} = 'z' THEN {int(op == '=')} " if op in ("=", "!=") else ""
        )
        return (
            f"(CASE WHEN {c1} = {c2} AND {c1} IN {allowed} THEN {lhs.value} {op} {rhs.value} "
            f"{same}END)"
        )

    def _compare_literal(self, op: str, lhs: SqlValue, value: Any) -> str:
        k = v.kind(value)
        ordering = op not in ("=", "!=")
        if k == "s" and lhs.static is not None:
            return f"({lhs.value} {op} {self.param(value)})"
        if k == "z":
            if ordering:
                return "NULL"
            return f"(CASE WHEN {lhs.types} = 'null' THEN {int(op == '=')} END)"
        if k == "b" and ordering:
            return "NULL"
        if lhs.static == "text":
            return "NULL"
        guard = {"n": _NUMBER_TYPES, "s": "('text')", "b": _BOOL_TYPES}[k or "o"]
        return f"(CASE WHEN {lhs.types} IN {guard} THEN {lhs.value} {op} {self.param(value)} END)"

    def in_list(self, cond: InList) -> str:
        if isinstance(cond.operand, ast.Literal):
            found = v.is_in(cond.operand.value, cond.values)
            return _truth_sql(v.negate(found) if cond.negated else found)
        lhs = self.field(cond.operand)
        strings = [x for x in cond.values if isinstance(x, str)]
        if lhs.static == "text":
            test = f"({lhs.value} IN ({', '.join(self.param(s) for s in strings)}))"
        else:
            tests = [self._compare_literal("=", lhs, x) for x in cond.values]
            body = " OR ".join(tests) if tests else "0"
            test = f"(CASE WHEN {lhs.types} IS NULL THEN NULL WHEN {body} THEN 1 ELSE 0 END)"
        return f"(NOT {test})" if cond.negated else test

    def type_test(self, cond: TypeTest) -> str:
        val = self.field(cond.operand)
        if cond.name == "IS_DEFINED":
            return "1" if val.static else f"({val.types} IS NOT NULL)"
        return f"coalesce({val.types} IN {_TYPE_SETS[cond.name]}, 0)"

    def string_test(self, cond: StringTest) -> str:
        if isinstance(cond.operand, ast.Literal):
            return _truth_sql(v.string_test(cond.name, cond.operand.value, cond.needle))
        val = self.field(cond.operand)
        needle = cond.needle
        if cond.name == "STARTSWITH" and val.static == "text":
            return f"({val.value} GLOB {self.param(glob_prefix(needle))})"
        if cond.name == "STARTSWITH":
            test = f"substr({val.value}, 1, {len(needle)}) = {self.param(needle)}"
        elif cond.name == "ENDSWITH":
            test = f"substr({val.value}, -{len(needle)}) = {self.param(needle)}" if needle else "1"
        else:
            test = f"instr({val.value}, {self.param(needle)}) > 0"
        if val.static == "text":
            return f"({test})"
        return f"(CASE WHEN {val.types} = 'text' THEN {test} END)"

    def condition(self, cond: Any) -> str:
        if isinstance(cond, Compare):
            return self.compare(cond.op, cond.left, cond.right)
        if isinstance(cond, ast.And):
            return "(" + " AND ".join(self.condition(i) for i in cond.items) + ")"
        if isinstance(cond, ast.Or):
            return "(" + " OR ".join(self.condition(i) for i in cond.items) + ")"
        if isinstance(cond, ast.Not):
            return f"(NOT {self.condition(cond.item)})"
        if isinstance(cond, InList):
            return self.in_list(cond)
        if isinstance(cond, TypeTest):
            return self.type_test(cond)
        if isinstance(cond, StringTest):
            return self.string_test(cond)
        if isinstance(cond, ModelTest):
            models = ", ".join(self.param(m) for m in sorted(cond.models))
            return f"(s{cond.slot}.model IN ({models}))"
        if isinstance(cond, ast.Literal):
            return "1" if cond.value else "0"
        raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover

    def hint(self, cond: Any) -> str | None:
        """A plain, index-friendly test implied by a positive top-level ``cond``."""
        if isinstance(cond, Compare):
            left, right, op = cond.left, cond.right, cond.op
            if isinstance(left, ast.Literal):
                left, right, op = right, left, _FLIP[op]
            if not isinstance(left, Field) or not isinstance(right, ast.Literal):
                return None
            lhs = self.field(left)
            if lhs.path is None or v.kind(right.value) not in ("n", "s") or op == "!=":
                return None
            self.indexed_paths.append((left.slot in self.model_slots, lhs.path))
            return f"{lhs.value} {op} {self.param(right.value)}"
        if isinstance(cond, InList) and not cond.negated and isinstance(cond.operand, Field):
            lhs = self.field(cond.operand)
            plain = [x for x in cond.values if v.kind(x) in ("n", "s")]
            if lhs.path is None or len(plain) != len(cond.values) or not plain:
                return None
            self.indexed_paths.append((cond.operand.slot in self.model_slots, lhs.path))
            return f"{lhs.value} IN ({', '.join(self.param(x) for x in plain)})"
        return None

    # -- the statement ------------------------------------------------------------------------
    def anchors(self) -> dict[int, list[str]]:
        """Twin ids fixed by ``X.$dtId = '…'`` / ``IN`` at the top level of WHERE."""
        found: dict[int, list[str]] = {}
        for cond in _conjuncts(self.plan.where):
            if isinstance(cond, Compare) and cond.op == "=":
                fld, lit = cond.left, cond.right
                if isinstance(fld, ast.Literal):
                    fld, lit = lit, fld
                if (
                    isinstance(fld, Field)
                    and fld.column == "id"
                    and isinstance(lit, ast.Literal)
                    and isinstance(lit.value, str)
                    and self.plan.slots[fld.slot].kind != REL
                ):
                    found[fld.slot] = [lit.value]
            elif isinstance(cond, InList) and not cond.negated:
                fld = cond.operand
                if (
                    isinstance(fld, Field)
                    and fld.column == "id"
                    and self.plan.slots[fld.slot].kind != REL
                ):
                    found[fld.slot] = [x for x in cond.values if isinstance(x, str)]
        return found

    def sources(self) -> tuple[list[str], str]:
        ctes: list[str] = []
        parts: list[str] = []
        anchors = self.anchors()
        from_edge = self._starts_at_edge()
        for number, step in enumerate(self.plan.steps):
            if isinstance(step, Scan):
                if from_edge:
                    continue
                table = "relationships" if self.plan.slots[step.slot].kind == REL else "twins"
                parts.append(f"{table} AS s{step.slot}")
                self.ids[step.slot] = f"s{step.slot}.id"
                if self.scope is not None:
                    s = f"s{step.slot}"
                    self.filters.append(
                        self.scope.relationship(s)
                        if table == "relationships"
                        else self.scope.twin(f"{s}.id", f"{s}.model")
                    )
                continue
            src, tgt = self.ids.get(step.source, ""), f"s{step.target}"
            names = (
                f" AND {{r}}.name IN ({', '.join(self.param(n) for n in step.names)})"
                if step.names
                else ""
            )
            if from_edge and number == 1:
                # the root twin is only named by id: start from its relationships instead
                # (every relationship's source and target exist), which lets SQLite pick
                # the relationship index rather than scanning every twin document
                r = f"s{step.rel}"
                ends = ("source", "target") if step.direction == "out" else ("target", "source")
                self.ids[step.source] = f"{r}.{ends[0]}"
                other = f"{r}.{ends[1]}"
                parts.append(f"relationships AS {r}")
                if step.names:
                    self.filters.append(names.format(r=r)[len(" AND ") :])
                if self.scope is not None:  # both ends visible: so is the root twin
                    self.filters.append(self.scope.relationship(r))
            elif step.rel is not None:
                r = f"s{step.rel}"
                on, other = _edge(step.direction, r, src)
                join = f"JOIN relationships AS {r} ON {on}{names.format(r=r)}"
                if self.scope is not None:  # the target is visible too
                    join += f" AND {self.scope.relationship(r)}"
                parts.append(
                    f"{join} AND {self.ids[step.target]} = {other}" if step.bound else join
                )
            else:
                walk, reach = f"w{number}", f"x{number}"
                on, step_other = _edge(step.direction, "r", "w.node")
                seeds = anchors.get(step.source)
                seed_tests = (
                    [f"id IN ({', '.join(self.param(s) for s in seeds)})"]
                    if seeds is not None
                    else []
                )
                hop = ""
                if self.scope is not None:  # walks pass through visible twins only
                    seed_tests.append(self.scope.twin("twins.id", "twins.model"))
                    hop = f" AND {self.scope.relationship('r')}"
                seed_filter = f" WHERE {' AND '.join(seed_tests)}" if seed_tests else ""
                ctes.append(
                    f"{walk}(start, node, depth) AS (SELECT id, id, 0 FROM twins{seed_filter}"
                    f" UNION SELECT w.start, {step_other}, w.depth + 1 FROM {walk} AS w"
                    f" JOIN relationships AS r ON {on}{names.format(r='r')}{hop}"
                    f" WHERE w.depth < {step.max_hops})"
                )
                join = (
                    f"JOIN (SELECT DISTINCT start, node FROM {walk} WHERE depth >= {step.min_hops})"
                    f" AS {reach} ON {reach}.start = {src}"
                )
                other = f"{reach}.node"
                parts.append(
                    f"{join} AND {self.ids[step.target]} = {other}" if step.bound else join
                )
            if step.bound:
                continue
            if step.target in self.documents:
                parts.append(f"JOIN twins AS {tgt} ON {tgt}.id = {other}")
                self.ids[step.target] = f"{tgt}.id"
            else:
                self.ids[step.target] = other
        return ctes, "FROM " + " ".join(parts)

    def _starts_at_edge(self) -> bool:
        steps = self.plan.steps
        if len(steps) < 2 or not isinstance(steps[0], Scan) or not isinstance(steps[1], Expand):
            return False
        root, first = steps[0].slot, steps[1]
        return (
            self.plan.slots[root].kind != REL
            and root not in self.documents
            and first.source == root
            and first.rel is not None
            and first.direction in ("out", "in")
            and not first.bound
        )

    def where(self) -> str:
        tests: list[str] = list(self.filters)
        if self.plan.where is None:
            return " WHERE " + " AND ".join(tests) if tests else ""
        for cond in _conjuncts(self.plan.where):
            hint = self.hint(cond)
            if hint is not None:
                tests.append(hint)
            tests.append(self.condition(cond))
        return " WHERE " + " AND ".join(tests)

    def sort_terms(self, fld: Field, descending: bool) -> list[str]:
        val = self.field(fld)
        direction = " DESC" if descending else ""
        if val.static == "text":
            return [val.value + direction]
        if val.static == "text?":
            return [f"({val.value} IS NOT NULL){direction}", val.value + direction]
        rank = _RANK.format(t=val.types)
        scalar = "('true','false','integer','real','text')"
        plain = f"(CASE WHEN {val.types} IN {scalar} THEN {val.value} END)"
        return [f"({rank}){direction}", plain + direction]

    def identity(self) -> list[str]:
        terms: list[str] = []
        for index, slot in enumerate(self.plan.slots):
            if slot.kind == REL:
                terms.extend((f"s{index}.source", f"s{index}.id"))
            else:
                terms.append(self.ids[index])
        return terms


def _edge(direction: str, rel: str, node: str) -> tuple[str, str]:
    if direction == "out":
        return f"{rel}.source = {node}", f"{rel}.target"
    if direction == "in":
        return f"{rel}.target = {node}", f"{rel}.source"
    return (
        f"({rel}.source = {node} OR {rel}.target = {node})",
        f"(CASE WHEN {rel}.source = {node} THEN {rel}.target ELSE {rel}.source END)",
    )


def _document_slots(plan: Plan) -> set[int]:
    """Twin slots whose document or model the query reads (they need a join on ``twins``)."""
    slots = {f.slot for f in plan.fields if f.column != "id"}
    slots |= {c.expr.slot for c in plan.columns if isinstance(c.expr, Entity)}
    pending = [plan.where]
    while pending:
        cond = pending.pop()
        if isinstance(cond, ModelTest):
            slots.add(cond.slot)
        elif isinstance(cond, ast.And | ast.Or):
            pending.extend(cond.items)
        elif isinstance(cond, ast.Not):
            pending.append(cond.item)
    return slots


def _conjuncts(cond: Any) -> list[Any]:
    if cond is None:
        return []
    if isinstance(cond, ast.And):
        return [c for item in cond.items for c in _conjuncts(item)]
    return [cond]


def _truth_sql(value: bool | None) -> str:
    return "NULL" if value is None else str(int(value))


_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _load(text: Any) -> Any:
    return v.MISSING if text is None else orjson.loads(text)


def compile_plan(
    plan: Plan, limit: int | None, offset: int = 0, scope: TwinScope | None = None
) -> Statement:
    """The statement for rows ``offset .. offset+limit`` of the query's result, over the
    graph as ``scope`` lets its caller see it (raises ScopeUnsupported when SQL cannot)."""
    c = _Compiler(plan, scope)
    redact = scope.redact if scope is not None else None
    ctes, sources = c.sources()
    where = c.where()
    select: list[str] = []
    readers: list[Callable[[tuple[Any, ...]], Any]] = []
    for column in plan.columns:
        expr = column.expr
        at = len(select)
        if isinstance(expr, Entity):
            s = f"s{expr.slot}"
            if plan.slots[expr.slot].kind == REL:
                select.extend(
                    (f"{s}.source", f"{s}.id", f"{s}.name", f"{s}.target", f"{s}.properties")
                )
                readers.append(_rel_reader(at))
            else:
                select.append(f"{s}.doc")
                readers.append(_twin_reader(at, redact))
        elif isinstance(expr, Field):
            val = c.field(expr)
            if val.static is not None:  # a plain column: its SQL value is the JSON value
                select.append(val.value)
                readers.append(_reader(at, "raw"))
            else:
                select.append(val.json)
                readers.append(_reader(at, "json"))
        else:
            select.append(_aggregate_sql(c, expr))
            readers.append(_reader(at, "aggregate"))
    group = ""
    order: list[str] = []
    if plan.grouped:
        if plan.group_keys:
            group = " GROUP BY " + ", ".join(c.field(k).group for k in plan.group_keys)
        for key in plan.order:
            assert key.column is not None
            expr = plan.columns[key.column].expr
            if isinstance(expr, Aggregate):
                agg = _aggregate_sql(c, expr)
                direction = " DESC" if key.descending else ""
                order.extend((f"({agg} IS NOT NULL){direction}", agg + direction))
            else:
                assert isinstance(expr, Field)
                order.extend(c.sort_terms(expr, key.descending))
        for k in plan.group_keys:
            order.extend(c.sort_terms(k, False))
        order.extend(c.field(k).group for k in plan.group_keys)
    else:
        for key in plan.order:
            assert key.field is not None
            order.extend(c.sort_terms(key.field, key.descending))
        order.extend(c.identity())
    total = plan.top
    bounded = limit if total is None else min(total - offset, limit if limit is not None else total)
    sql = ""
    if ctes:
        sql = "WITH RECURSIVE " + ", ".join(ctes) + " "
    sql += f"SELECT {', '.join(select)} {sources}{where}{group}"
    if order:
        sql += " ORDER BY " + ", ".join(order)
    if bounded is not None:
        sql += f" LIMIT {max(bounded, 0)} OFFSET {offset}"
    elif offset:
        sql += f" LIMIT -1 OFFSET {offset}"
    names = [col.name for col in plan.columns]
    if plan.unwrap:
        only = readers[0]

        def decode(raw: tuple[Any, ...]) -> dict[str, Any]:
            out: dict[str, Any] = only(raw)
            return out

    else:
        pairs = list(zip(names, readers, strict=True))

        def decode(raw: tuple[Any, ...]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, read in pairs:
                value = read(raw)
                if value is not v.MISSING:
                    out[name] = value
            return out

    return Statement(sql, c.params, decode, c.indexed_paths)


def _aggregate_sql(c: _Compiler, agg: Aggregate) -> str:
    if agg.name == "COUNT":
        return "count(*)"
    assert agg.operand is not None
    val = c.field(agg.operand)
    if val.static is not None:
        return "NULL"
    return f"{agg.name.lower()}(CASE WHEN {val.types} IN {_NUMBER_TYPES} THEN {val.value} END)"


def _reader(at: int, kind: str) -> Callable[[tuple[Any, ...]], Any]:
    """Read one output value from column ``at`` of a result row."""
    if kind == "raw":
        return lambda row: row[at]
    if kind == "json":
        return lambda row: _load(row[at])
    return lambda row: v.MISSING if row[at] is None else row[at]


def _twin_reader(
    at: int, redact: Callable[[dict[str, Any]], dict[str, Any] | None] | None
) -> Callable[[tuple[Any, ...]], Any]:
    if redact is None:
        return lambda row: twin_output(orjson.loads(row[at]))

    def read(row: tuple[Any, ...]) -> Any:
        shown = redact(orjson.loads(row[at]))
        assert shown is not None, "the statement returned a twin its caller cannot see"
        return twin_output(shown)

    return read


def _rel_reader(at: int) -> Callable[[tuple[Any, ...]], Any]:
    def read(row: tuple[Any, ...]) -> Any:
        source, rid, name, target, props = row[at : at + 5]
        rel = {"id": rid, "source": source, "name": name, "target": target}
        return rel_output({**rel, "properties": orjson.loads(props)})

    return read
