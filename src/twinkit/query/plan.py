"""The planner: a checked, resolved form of a query that both executors (SQL, in-memory) follow.

Here every path is tied to a *slot* (a twin or relationship the query binds),
every function is checked (name, argument count and types), ``IS_OF_MODEL``
names are resolved through the model registry (so ``extends`` is honoured), and
the output columns, grouping and ordering are fixed. The executors then only
translate; the rules about *what* a query means live in this one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from twinkit.model.errors import ValidationFailed
from twinkit.model.interface import ModelRegistry
from twinkit.query import ast

TWIN = "twin"
REL = "rel"
SECTIONS = ("reported", "desired", "delta", "telemetry")
TYPE_TESTS = (
    "IS_DEFINED",
    "IS_NULL",
    "IS_BOOL",
    "IS_NUMBER",
    "IS_STRING",
    "IS_PRIMITIVE",
    "IS_OBJECT",
    "IS_ARRAY",
)
STRING_TESTS = ("STARTSWITH", "ENDSWITH", "CONTAINS")
AGGREGATES = ("COUNT", "SUM", "AVG", "MIN", "MAX")
_REL_COLUMNS = {
    "$relationshipId": "id",
    "$sourceId": "source",
    "$targetId": "target",
    "$relationshipName": "name",
}


@dataclass(frozen=True, slots=True)
class Slot:
    """A twin or relationship bound by the query (``hidden`` when the query gave it no name)."""

    name: str
    kind: str
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """A value inside a slot: ``loc`` is a column name, or ("doc"|"props", key, ...)."""

    slot: int
    loc: tuple[str, ...]

    @property
    def column(self) -> str | None:
        return self.loc[0] if len(self.loc) == 1 else None


@dataclass(frozen=True, slots=True)
class Entity:
    slot: int


@dataclass(frozen=True, slots=True)
class TypeTest:
    name: str
    operand: Field


@dataclass(frozen=True, slots=True)
class StringTest:
    name: str
    operand: Field | ast.Literal
    needle: str


@dataclass(frozen=True, slots=True)
class ModelTest:
    slot: int
    models: frozenset[str]


@dataclass(frozen=True, slots=True)
class Aggregate:
    name: str
    operand: Field | None = None


Operand: TypeAlias = Field | ast.Literal


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class InList:
    operand: Operand
    values: tuple[Any, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Scan:
    slot: int


@dataclass(frozen=True, slots=True)
class Expand:
    """Follow relationships from ``source`` to ``target`` (``bound``: target already chosen)."""

    source: int
    target: int
    rel: int | None
    direction: str
    names: tuple[str, ...]
    min_hops: int = 1
    max_hops: int = 1
    bound: bool = False


Step: TypeAlias = Scan | Expand


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    expr: Entity | Field | Aggregate


@dataclass(frozen=True, slots=True)
class OrderKey:
    """Sort by a field (plain queries) or by an output column (grouped queries)."""

    descending: bool
    field: Field | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    slots: tuple[Slot, ...]
    steps: tuple[Step, ...]
    where: Any
    columns: tuple[Column, ...]
    unwrap: bool  # SELECT * over one collection: rows are the documents themselves
    grouped: bool
    group_keys: tuple[Field, ...]
    order: tuple[OrderKey, ...]
    top: int | None
    as_of: str | None
    collection: str
    fields: frozenset[Field] = field(default_factory=frozenset)


class Planner:
    """Turns a syntax tree into a :class:`Plan`, raising ValidationFailed on any misuse."""

    def __init__(self, registry: ModelRegistry | None = None) -> None:
        self._registry = registry
        self._slots: list[Slot] = []
        self._names: dict[str, int] = {}
        self._implicit: int | None = None
        self._fields: set[Field] = set()

    # -- slots and sources --------------------------------------------------------------------
    def _slot(self, name: str | None, kind: str, prefix: str) -> int:
        if name is not None and name in self._names:
            raise ValidationFailed(f"alias {name!r} is used twice", "/query")
        index = len(self._slots)
        self._slots.append(Slot(name or f"{prefix}{index}", kind, hidden=name is None))
        if name is not None:
            self._names[name] = index
        return index

    def _sources(self, query: ast.Query) -> list[Step]:
        if query.collection == "relationships":
            slot = self._slot(query.alias, REL, "_r")
            if query.alias is None:
                self._implicit = slot
            return [Scan(slot)]
        if query.pattern is not None:
            if query.alias is not None or query.joins:
                raise ValidationFailed(
                    "MATCH replaces the twin alias and JOINs: write FROM DIGITALTWINS MATCH (a)-..",
                    "/query",
                )
            return self._pattern(query.pattern)
        root = self._slot(query.alias, TWIN, "_t")
        if query.alias is None:
            if query.joins:
                raise ValidationFailed(
                    "a JOIN needs an alias: FROM DIGITALTWINS T JOIN ...", "/query"
                )
            self._implicit = root
        steps: list[Step] = [Scan(root)]
        for join in query.joins:
            if join.source not in self._names or self._slots[self._names[join.source]].kind != TWIN:
                raise ValidationFailed(
                    f"JOIN {join.alias} RELATED {join.source}.{join.relationship}:"
                    f" {join.source!r} is not a twin alias",
                    "/query",
                )
            source = self._names[join.source]
            rel = self._slot(join.relationship_alias, REL, "_r")
            target = self._slot(join.alias, TWIN, "_t")
            steps.append(Expand(source, target, rel, "out", (join.relationship,)))
        return steps

    def _pattern(self, pattern: ast.Pattern) -> list[Step]:
        def node(alias: str | None) -> tuple[int, bool]:
            if alias is not None and alias in self._names:
                index = self._names[alias]
                if self._slots[index].kind != TWIN:
                    raise ValidationFailed(f"{alias!r} is a relationship, not a twin", "/query")
                return index, True
            return self._slot(alias, TWIN, "_n"), False

        first, _ = node(pattern.nodes[0].alias)
        steps: list[Step] = [Scan(first)]
        previous = first
        for edge, target_node in zip(pattern.edges, pattern.nodes[1:], strict=True):
            if edge.min_hops > edge.max_hops:
                raise ValidationFailed(
                    f"hops {edge.min_hops}..{edge.max_hops}: the lower bound is above the upper",
                    "/query",
                )
            single = edge.min_hops == edge.max_hops == 1
            if edge.alias is not None and not single:
                raise ValidationFailed(
                    f"relationship variable {edge.alias!r} needs exactly one hop"
                    " (drop the variable or the *n..m)",
                    "/query",
                )
            rel = self._slot(edge.alias, REL, "_e") if single else None
            target, bound = node(target_node.alias)
            steps.append(
                Expand(
                    previous,
                    target,
                    rel,
                    edge.direction,
                    edge.names,
                    edge.min_hops,
                    edge.max_hops,
                    bound,
                )
            )
            previous = target
        return steps

    # -- paths ----------------------------------------------------------------------------------
    def _resolve(self, path: ast.Path) -> Field | Entity:
        parts = path.parts
        if parts[0] in self._names:
            slot, rest = self._names[parts[0]], parts[1:]
        elif self._implicit is not None:
            slot, rest = self._implicit, parts
        else:
            known = ", ".join(sorted(self._names)) or "none"
            raise ValidationFailed(
                f"unknown alias {parts[0]!r} in {path.text!r} (aliases: {known})", "/query"
            )
        if not rest:
            return Entity(slot)
        kind = self._slots[slot].kind
        resolved = Field(slot, _twin_loc(rest, path) if kind == TWIN else _rel_loc(rest, path))
        self._fields.add(resolved)
        return resolved

    def _field(self, expr: ast.Expr, where: str) -> Field:
        if isinstance(expr, ast.Path):
            resolved = self._resolve(expr)
            if isinstance(resolved, Field):
                return resolved
            raise ValidationFailed(
                f"{where} needs a property path, not the alias {expr.text!r}", "/query"
            )
        if isinstance(expr, ast.Call) and expr.name in AGGREGATES:
            raise ValidationFailed(
                f"{expr.name}() can only be used in SELECT or ORDER BY", "/query"
            )
        if isinstance(expr, ast.Call):
            raise ValidationFailed(
                f"{expr.name}() is a condition, not a value: {where} needs a property path",
                "/query",
            )
        raise ValidationFailed(f"{where} needs a property path", "/query")

    def _operand(self, expr: ast.Expr, where: str) -> Operand:
        if isinstance(expr, ast.Literal):
            return expr
        return self._field(expr, where)

    # -- conditions -----------------------------------------------------------------------------
    def condition(self, expr: ast.Expr) -> Any:
        if isinstance(expr, ast.And):
            return ast.And(tuple(self.condition(i) for i in expr.items))
        if isinstance(expr, ast.Or):
            return ast.Or(tuple(self.condition(i) for i in expr.items))
        if isinstance(expr, ast.Not):
            return ast.Not(self.condition(expr.item))
        if isinstance(expr, ast.Compare):
            where = f"comparison {expr.op}"
            return Compare(
                expr.op, self._operand(expr.left, where), self._operand(expr.right, where)
            )
        if isinstance(expr, ast.InList):
            return InList(self._operand(expr.operand, "IN"), expr.values, expr.negated)
        if isinstance(expr, ast.Call):
            return self._call(expr)
        if isinstance(expr, ast.Literal):
            if isinstance(expr.value, bool):
                return expr
            raise ValidationFailed(f"{expr.value!r} is not a condition", "/query")
        raise ValidationFailed(
            f"{ast_text(expr)!r} is not a condition (compare it, or use IS_DEFINED)", "/query"
        )

    def _call(self, call: ast.Call) -> Any:
        name, args = call.name, call.args
        if name in TYPE_TESTS:
            _arity(call, 1)
            return TypeTest(name, self._field(args[0], f"{name}()"))
        if name in STRING_TESTS:
            _arity(call, 2)
            needle = args[1]
            if not isinstance(needle, ast.Literal) or not isinstance(needle.value, str):
                raise ValidationFailed(f"{name}() needs a string as its second argument", "/query")
            return StringTest(name, self._operand(args[0], f"{name}()"), needle.value)
        if name == "IS_OF_MODEL":
            return self._model_test(call)
        if name in AGGREGATES:
            raise ValidationFailed(f"{name}() can only be used in SELECT or ORDER BY", "/query")
        raise _unknown_function(call)

    def _model_test(self, call: ast.Call) -> ModelTest:
        args = list(call.args)
        slot: int | None = None
        if args and isinstance(args[0], ast.Path):
            target = self._resolve(args[0])
            if not isinstance(target, Entity) or self._slots[target.slot].kind != TWIN:
                raise ValidationFailed(
                    "IS_OF_MODEL(T, 'dtmi:…') needs a twin alias first", "/query"
                )
            slot = target.slot
            args.pop(0)
        twins = [i for i, s in enumerate(self._slots) if s.kind == TWIN]
        if slot is None and self._implicit is None and len(twins) == 1:
            slot = twins[0]
        if slot is None:
            if self._implicit is None or self._slots[self._implicit].kind != TWIN:
                raise ValidationFailed(
                    "name the twin: IS_OF_MODEL(T, 'dtmi:…') when the query has aliases", "/query"
                )
            slot = self._implicit
        exact = False
        if len(args) == 2 and isinstance(args[1], ast.Path) and args[1].text.lower() == "exact":
            exact = True
            args.pop()
        if (
            len(args) != 1
            or not isinstance(args[0], ast.Literal)
            or not isinstance(args[0].value, str)
        ):
            raise ValidationFailed("IS_OF_MODEL takes ([alias,] 'dtmi:…;1' [, exact])", "/query")
        return ModelTest(slot, self._models(args[0].value, exact))

    def _models(self, dtmi: str, exact: bool) -> frozenset[str]:
        if self._registry is None:
            return frozenset({dtmi})
        if dtmi not in self._registry:
            raise ValidationFailed(f"unknown model {dtmi!r} in IS_OF_MODEL", "/query")
        return frozenset({dtmi}) if exact else self._registry.descendants(dtmi)

    # -- the whole query ------------------------------------------------------------------------
    def plan(self, query: ast.Query) -> Plan:
        steps = self._sources(query)
        where = self.condition(query.where) if query.where is not None else None
        columns, unwrap = self._columns(query)
        group_keys = tuple(self._field(g, "GROUP BY") for g in query.group_by)
        grouped = bool(group_keys) or any(isinstance(c.expr, Aggregate) for c in columns)
        if grouped:
            for column in columns:
                if isinstance(column.expr, Entity) or (
                    isinstance(column.expr, Field) and column.expr not in group_keys
                ):
                    raise ValidationFailed(
                        f"column {column.name!r} must be in GROUP BY or be an aggregate", "/query"
                    )
        order = tuple(self._order(item, columns, grouped) for item in query.order_by)
        if query.top is not None and query.top < 0:
            raise ValidationFailed("TOP needs a positive number", "/query")
        return Plan(
            slots=tuple(self._slots),
            steps=tuple(steps),
            where=where,
            columns=columns,
            unwrap=unwrap,
            grouped=grouped,
            group_keys=group_keys,
            order=order,
            top=query.top,
            as_of=query.as_of,
            collection=query.collection,
            fields=frozenset(self._fields),
        )

    def _columns(self, query: ast.Query) -> tuple[tuple[Column, ...], bool]:
        if not query.items:
            visible = [i for i, s in enumerate(self._slots) if not s.hidden]
            if self._implicit is not None or len(visible) == 1:
                slot = self._implicit if self._implicit is not None else visible[0]
                return (Column(self._slots[slot].name, Entity(slot)),), True
            return tuple(Column(self._slots[i].name, Entity(i)) for i in visible), False
        columns: list[Column] = []
        for item in query.items:
            expr = item.expr
            if isinstance(expr, ast.Call):
                column_expr: Entity | Field | Aggregate = self._aggregate(expr)
                default = expr.name
            elif isinstance(expr, ast.Path):
                column_expr = self._resolve(expr)
                default = expr.parts[-1]
            else:
                raise ValidationFailed(
                    "SELECT takes aliases, property paths or aggregates", "/query"
                )
            name = item.name or default
            if any(c.name == name for c in columns):
                raise ValidationFailed(
                    f"two columns are named {name!r}; rename one with AS", "/query"
                )
            columns.append(Column(name, column_expr))
        return tuple(columns), False

    def _aggregate(self, call: ast.Call) -> Aggregate:
        if call.name == "COUNT":
            if call.args:
                raise ValidationFailed("COUNT() takes no arguments", "/query")
            return Aggregate("COUNT")
        if call.name in AGGREGATES:
            _arity(call, 1)
            return Aggregate(call.name, self._field(call.args[0], f"{call.name}()"))
        if call.name in TYPE_TESTS or call.name in STRING_TESTS or call.name == "IS_OF_MODEL":
            raise ValidationFailed(f"{call.name}() is a condition: use it in WHERE", "/query")
        raise _unknown_function(call)

    def _order(self, item: ast.OrderItem, columns: tuple[Column, ...], grouped: bool) -> OrderKey:
        expr = item.expr
        if isinstance(expr, ast.Path) and len(expr.parts) == 1:
            for index, column in enumerate(columns):
                if column.name == expr.parts[0] and (grouped or isinstance(column.expr, Field)):
                    if grouped:
                        return OrderKey(item.descending, column=index)
                    assert isinstance(column.expr, Field)
                    return OrderKey(item.descending, field=column.expr)
        if not grouped:
            return OrderKey(item.descending, field=self._field(expr, "ORDER BY"))
        wanted: Field | Aggregate = (
            self._aggregate(expr) if isinstance(expr, ast.Call) else self._field(expr, "ORDER BY")
        )
        for index, column in enumerate(columns):
            if column.expr == wanted:
                return OrderKey(item.descending, column=index)
        raise ValidationFailed(
            "ORDER BY in a grouped query must name a selected column or aggregate", "/query"
        )


def _twin_loc(rest: tuple[str, ...], path: ast.Path) -> tuple[str, ...]:
    head = rest[0]
    if head == "$dtId" and len(rest) == 1:
        return ("id",)
    if head == "$etag" and len(rest) == 1:
        return ("doc", "etag")
    if head == "$metadata":
        if rest[1:] == ("$model",):
            return ("model",)
        if rest[1:] == ("$lastUpdateTime",):
            return ("doc", "updated_at")
        if len(rest) == 3 and rest[2] == "lastUpdateTime":
            return ("doc", "metadata", "reported", rest[1], "updated_at")
    if head.startswith("$"):
        raise ValidationFailed(f"unknown system property {path.text!r}", "/query")
    if head in SECTIONS:
        return ("doc", *rest)
    return ("doc", "reported", *rest)


def _rel_loc(rest: tuple[str, ...], path: ast.Path) -> tuple[str, ...]:
    column = _REL_COLUMNS.get(rest[0])
    if column is not None and len(rest) == 1:
        return (column,)
    if rest[0].startswith("$"):
        raise ValidationFailed(f"unknown relationship property {path.text!r}", "/query")
    return ("props", *rest)


def _arity(call: ast.Call, count: int) -> None:
    if len(call.args) != count:
        plural = "s" if count != 1 else ""
        raise ValidationFailed(
            f"{call.name}() takes {count} argument{plural}, got {len(call.args)}", "/query"
        )


def _unknown_function(call: ast.Call) -> ValidationFailed:
    known = ", ".join((*TYPE_TESTS, *STRING_TESTS, "IS_OF_MODEL", *AGGREGATES))
    return ValidationFailed(
        f"unknown function {call.name} at line {call.line}, column {call.column} (known: {known})",
        "/query",
    )


def ast_text(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Path):
        return expr.text
    if isinstance(expr, ast.Literal):
        return repr(expr.value)
    if isinstance(expr, ast.Call):
        return f"{expr.name}(...)"
    return type(expr).__name__


def plan_query(query: ast.Query, registry: ModelRegistry | None = None) -> Plan:
    return Planner(registry).plan(query)


def plan_predicate(expr: ast.Expr, registry: ModelRegistry | None = None) -> Any:
    """A condition over one twin document (the implicit slot 0)."""
    planner = Planner(registry)
    planner._sources(ast.Query(items=(), collection="twins"))
    return planner.condition(expr)


def fields_of(items: Iterable[Any]) -> list[Field]:
    return [i for i in items if isinstance(i, Field)]
