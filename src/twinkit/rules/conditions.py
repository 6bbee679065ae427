"""Rule conditions: the query language's WHERE grammar plus window and related-twin functions.

TL;DR::

    condition = compile_rule_condition("avg(telemetry.temp, '5m') > 80 AND mode = 'eco'")
    condition.windows   # (WindowCall(func='avg', series='telemetry/temp', span=300.0), )
    condition.holds(doc, {"$rule_0": 83.5})

The text is parsed by the query package's lark grammar (which already reads function calls).
Every window call (``avg/min/max/sum/count/rate/delta(path, 'span')``), related-twin call
(``related('feeds', reported.level[, 'max'])``, ``incoming('contains', temp[, 'avg'])``) and
age call (``age(telemetry.temp) > '5m'``: seconds since the value last arrived) is
replaced by a synthetic path ``telemetry.$rule_<n>``; the rewritten expression is printed back as
plain predicate text and compiled by :func:`twinkit.query.compile_predicate`. So rule conditions
mean exactly what a query's WHERE means, and the rule engine only has to compute the values of
the calls and lay them into the document before asking the predicate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from twinkit.model.errors import ValidationFailed
from twinkit.model.time import parse_duration
from twinkit.query import ast, compile_predicate, parse_predicate

WINDOW_FUNCTIONS = ("avg", "min", "max", "sum", "count", "rate", "delta")
RELATED_FUNCTIONS = ("related", "incoming")
AGE_FUNCTION = "age"
RELATED_AGGREGATES = ("max", "min", "avg", "sum", "count")
SERIES_SECTIONS = ("telemetry", "reported", "desired", "analytics")
_DOC_SECTIONS = ("reported", "desired", "delta", "telemetry", "analytics")
SLOT_SECTION = "telemetry"  # where the computed values are laid into the document
_MISSING = object()


@dataclass(frozen=True, slots=True)
class WindowCall:
    """``func(path, 'span')`` over the points of one series in the last ``span`` seconds."""

    slot: str
    func: str
    series: str  # a history series path: "telemetry/temp"
    inner: tuple[str, ...]  # keys inside an object value (usually empty)
    span: float
    text: str


@dataclass(frozen=True, slots=True)
class RelatedCall:
    """An aggregate of one value over the twins at the end of a named relationship."""

    slot: str
    direction: str  # "out" (related) or "in" (incoming)
    relationship: str
    path: tuple[str, ...]  # a document path: ("reported", "level")
    agg: str
    text: str


@dataclass(frozen=True, slots=True)
class AgeCall:
    """``age(path)``: seconds since ``path`` (or, for a bare section, any of its values) last
    arrived, from the twin's metadata; ``thresholds`` are the constants it is compared with,
    the moments at which the passing of time alone flips the comparison."""

    slot: str
    path: tuple[str, ...]  # ("telemetry", "temp"), or ("telemetry",) for any telemetry value
    thresholds: tuple[float, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled rule condition; ``holds`` is pure and cheap."""

    text: str
    windows: tuple[WindowCall, ...]
    related: tuple[RelatedCall, ...]
    paths: tuple[tuple[str, ...], ...]  # plain document paths, reported as the cause's values
    predicate: Callable[[dict[str, Any]], bool]
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (slot, document path) copied as is
    ages: tuple[AgeCall, ...] = ()

    @property
    def longest_window(self) -> float:
        return max((w.span for w in self.windows), default=0.0)

    def holds(self, doc: dict[str, Any], computed: dict[str, Any]) -> bool:
        """The condition on ``doc``, with the computed call values by slot (absent: undefined)."""
        if self.aliases:
            computed = dict(computed)
            for slot, path in self.aliases:
                value = lookup(doc, path)
                if value is not _MISSING:
                    computed[slot] = value
        if computed:
            section = {**(doc.get(SLOT_SECTION) or {}), **computed}
            doc = {**doc, SLOT_SECTION: section}
        return self.predicate(doc)

    def values(self, doc: dict[str, Any], computed: dict[str, Any]) -> dict[str, Any]:
        """What the condition looked at, by its text: the cause of an alert."""
        out: dict[str, Any] = {}
        for path in self.paths:
            value = lookup(doc, path)
            if value is not _MISSING:
                out[".".join(path)] = value
        for call in calls(self):
            if call.slot in computed:
                out[call.text] = computed[call.slot]
        return out


def compile_rule_condition(text: str, where: str = "/when") -> Condition:
    """Parse and check ``text``; raises ValidationFailed (pointing at ``where``) when invalid."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("a rule needs a condition", where)
    try:
        expr = parse_predicate(text)
    except ValidationFailed as exc:
        raise ValidationFailed(str(exc.message), where) from None
    rewriter = _Rewriter(where)
    plain = rewriter.rewrite(expr)
    printed = to_text(plain)
    try:
        predicate = compile_predicate(printed)
        predicate({"id": "", "reported": {}, "desired": {}, "telemetry": {}})
    except ValidationFailed as exc:
        raise ValidationFailed(str(exc.message), where) from None
    return Condition(
        text,
        tuple(rewriter.windows),
        tuple(rewriter.related),
        tuple(rewriter.paths),
        predicate,
        tuple(rewriter.aliases.items()),
        rewriter.ages(),
    )


def document_path(parts: tuple[str, ...]) -> tuple[str, ...]:
    """A condition path as a path into the twin document (bare names mean ``reported``)."""
    if parts and parts[0] in _DOC_SECTIONS:
        return parts
    if parts and parts[0] in ("$dtId", "id"):
        return ("id",)
    return ("reported", *parts)


def lookup(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in ``doc``, or a private MISSING marker."""
    current: Any = doc
    for key in path:
        if not isinstance(current, dict) or key not in current:
            return _MISSING
        current = current[key]
    return current


def is_missing(value: Any) -> bool:
    return value is _MISSING


class _Rewriter:
    def __init__(self, where: str) -> None:
        self.where = where
        self.windows: list[WindowCall] = []
        self.related: list[RelatedCall] = []
        self.paths: list[tuple[str, ...]] = []
        self._slots: dict[ast.Call, str] = {}
        self.aliases: dict[str, tuple[str, ...]] = {}
        self._ages: dict[str, tuple[tuple[str, ...], str]] = {}  # slot → (path, text)
        self._thresholds: dict[str, set[float]] = {}

    def ages(self) -> tuple[AgeCall, ...]:
        return tuple(
            AgeCall(slot, path, tuple(sorted(self._thresholds.get(slot, ()))), text)
            for slot, (path, text) in self._ages.items()
        )

    def rewrite(self, expr: ast.Expr) -> ast.Expr:
        if isinstance(expr, ast.Call):
            name = expr.name.lower()
            if name in WINDOW_FUNCTIONS or name in RELATED_FUNCTIONS or name == AGE_FUNCTION:
                return ast.Path((SLOT_SECTION, self._slot(expr, name)))
            return ast.Call(expr.name, tuple(self.rewrite(a) for a in expr.args))
        if isinstance(expr, ast.Path):
            if expr.parts[0].startswith("$"):
                return expr
            path = document_path(expr.parts)
            if path not in self.paths:
                self.paths.append(path)
            if path[0] == "analytics":  # not a query section: read it from the document here
                slot = f"$rule_analytics_{'_'.join(path[1:])}"
                self.aliases[slot] = path
                return ast.Path((SLOT_SECTION, slot))
            return expr
        if isinstance(expr, ast.Compare):
            return self._age_compare(expr) or ast.Compare(
                expr.op, self.rewrite(expr.left), self.rewrite(expr.right)
            )
        if isinstance(expr, ast.InList):
            return ast.InList(self.rewrite(expr.operand), expr.values, expr.negated)
        if isinstance(expr, ast.And):
            return ast.And(tuple(self.rewrite(i) for i in expr.items))
        if isinstance(expr, ast.Or):
            return ast.Or(tuple(self.rewrite(i) for i in expr.items))
        if isinstance(expr, ast.Not):
            return ast.Not(self.rewrite(expr.item))
        return expr

    def _slot(self, call: ast.Call, name: str) -> str:
        key = ast.Call(call.name, call.args)  # positions do not take part in equality
        if key in self._slots:
            return self._slots[key]
        slot = f"$rule_{len(self._slots)}"
        self._slots[key] = slot
        text = f"{name}({', '.join(to_text(a) for a in call.args)})"
        if name in WINDOW_FUNCTIONS:
            self.windows.append(self._window(call, name, slot, text))
        elif name == AGE_FUNCTION:
            self._ages[slot] = (self._age_path(call), text)
        else:
            self.related.append(self._related(call, name, slot, text))
        return slot

    def _window(self, call: ast.Call, name: str, slot: str, text: str) -> WindowCall:
        if len(call.args) != 2:
            raise ValidationFailed(
                f"{name}() takes (path, 'duration'), as in {name}(temp, '5m')", self.where
            )
        _refuse_nested(call.args[0], name, self.where)
        path = document_path(_path_of(call.args[0], name, self.where))
        if path[0] not in SERIES_SECTIONS or len(path) < 2:
            raise ValidationFailed(
                f"{name}() reads a telemetry, reported, desired or analytics value", self.where
            )
        span = call.args[1]
        if not isinstance(span, ast.Literal) or not isinstance(span.value, str):
            raise ValidationFailed(f"{name}() needs a duration like '5m' second", self.where)
        seconds = parse_duration(span.value, self.where).total_seconds()
        return WindowCall(slot, name, f"{path[0]}/{path[1]}", path[2:], seconds, text)

    def _age_path(self, call: ast.Call) -> tuple[str, ...]:
        usage = "age() takes one value or section, as in age(telemetry.temp) or age(telemetry)"
        if len(call.args) != 1:
            raise ValidationFailed(usage, self.where)
        _refuse_nested(call.args[0], AGE_FUNCTION, self.where)
        path = document_path(_path_of(call.args[0], AGE_FUNCTION, self.where))
        if path[0] not in SERIES_SECTIONS:
            raise ValidationFailed(usage, self.where)
        return path[:2]  # metadata is kept per top-level value

    def _age_compare(self, expr: ast.Compare) -> ast.Expr | None:
        """``age(x) > '5m'`` → ``telemetry.$rule_n >= 300``, remembering 300 as a threshold.

        The constant may be a duration text or seconds. Ages grow continuously, so a
        comparison flips at the instant the age reaches the threshold: ``>`` is read as
        ``>=`` and ``<=`` as ``<``, and the engine can judge the rule again exactly then.
        """
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        call, other, op = expr.left, expr.right, expr.op
        if not _is_age(call):
            call, other, op = expr.right, expr.left, flipped.get(expr.op, expr.op)
        if not isinstance(call, ast.Call) or not _is_age(call):
            return None
        if not isinstance(other, ast.Literal):
            return None  # compared with another value: judged, but no timer can be derived
        if op not in flipped:
            raise ValidationFailed("age() is compared with <, <=, > or >=", self.where)
        value = other.value
        if isinstance(value, str):
            seconds = parse_duration(value, self.where).total_seconds()
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        else:
            usage = "age() compares with a duration like '5m' or seconds"
            raise ValidationFailed(usage, self.where)
        slot = self._slot(call, AGE_FUNCTION)
        self._thresholds.setdefault(slot, set()).add(seconds)
        op = {">": ">=", "<=": "<"}.get(op, op)
        return ast.Compare(op, ast.Path((SLOT_SECTION, slot)), ast.Literal(seconds))

    def _related(self, call: ast.Call, name: str, slot: str, text: str) -> RelatedCall:
        args = call.args
        usage = f"{name}('relationship', path[, 'max|min|avg|sum|count'])"
        if len(args) not in (2, 3):
            raise ValidationFailed(f"{name}() takes {usage}", self.where)
        rel = args[0]
        if not isinstance(rel, ast.Literal) or not isinstance(rel.value, str):
            raise ValidationFailed(f"{name}() takes {usage}", self.where)
        agg = "max"
        if len(args) == 3:
            third = args[2]
            if not isinstance(third, ast.Literal) or third.value not in RELATED_AGGREGATES:
                raise ValidationFailed(f"{name}() takes {usage}", self.where)
            agg = str(third.value)
        _refuse_nested(args[1], name, self.where)
        path = document_path(_path_of(args[1], name, self.where))
        direction = "out" if name == "related" else "in"
        return RelatedCall(slot, direction, rel.value, path, agg, text)


def _refuse_nested(arg: ast.Expr, outer: str, where: str) -> None:
    """Time over related twins is refused, not silently left untimed: the engine keeps
    windows and judges ``age()`` deadlines for a twin's *own* values only, so
    ``related('feeds', age(level))`` would never notice a related twin going silent and
    ``avg(related(...), '5m')`` has no series to average."""
    if not isinstance(arg, ast.Call):
        return
    inner = arg.name.lower()
    if outer in RELATED_FUNCTIONS and (inner == AGE_FUNCTION or inner in WINDOW_FUNCTIONS):
        raise ValidationFailed(
            f"{inner}() inside {outer}() cannot be timed: ages and windows are kept for a"
            f" twin's own values; write the {inner}() rule for the related twins' model instead",
            where,
        )
    if inner in RELATED_FUNCTIONS:
        raise ValidationFailed(
            f"{outer}() over {inner}() cannot be timed: {inner}() is a value read now, not a"
            f" series; give {outer}() one of the twin's own values",
            where,
        )


def _is_age(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Call) and expr.name.lower() == AGE_FUNCTION


def _path_of(expr: ast.Expr, name: str, where: str) -> tuple[str, ...]:
    if isinstance(expr, ast.Path):
        return expr.parts
    if isinstance(expr, ast.Literal) and isinstance(expr.value, str) and expr.value:
        return tuple(expr.value.replace("/", ".").split("."))
    raise ValidationFailed(f"{name}() needs a property path, like telemetry.temp", where)


def to_text(expr: ast.Expr) -> str:
    """Print an expression back in the predicate grammar (fully parenthesised)."""
    if isinstance(expr, ast.Literal):
        return _literal(expr.value)
    if isinstance(expr, ast.Path):
        return expr.text
    if isinstance(expr, ast.Call):
        return f"{expr.name}({', '.join(to_text(a) for a in expr.args)})"
    if isinstance(expr, ast.Compare):
        return f"({to_text(expr.left)} {expr.op} {to_text(expr.right)})"
    if isinstance(expr, ast.InList):
        values = ", ".join(_literal(v) for v in expr.values)
        return f"({to_text(expr.operand)} {'NIN' if expr.negated else 'IN'} [{values}])"
    if isinstance(expr, ast.And):
        return "(" + " AND ".join(to_text(i) for i in expr.items) + ")"
    if isinstance(expr, ast.Or):
        return "(" + " OR ".join(to_text(i) for i in expr.items) + ")"
    if isinstance(expr, ast.Not):
        return f"(NOT {to_text(expr.item)})"
    raise TypeError(f"cannot print {expr!r}")  # pragma: no cover - the AST has no other nodes


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationFailed(f"{value!r} is not a number a condition can hold", "/when")
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def calls(condition: Condition) -> Iterator[WindowCall | RelatedCall | AgeCall]:
    yield from condition.windows
    yield from condition.related
    yield from condition.ages
