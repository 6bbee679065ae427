"""Conditional writes: a predicate over the twin document that must hold for a write to land.

The query language plugs its full WHERE grammar in through :func:`use_compiler`;
until then (and as a fallback) a small grammar covers comparisons joined by
AND / OR: ``reported.temperature > 20 AND desired.mode = 'eco'``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lark import Lark, Transformer, UnexpectedInput

from twinkit.model.errors import ValidationFailed

Predicate = Callable[[dict[str, Any]], bool]
Compiler = Callable[[str], Predicate]

_GRAMMAR = r"""
?start: disj
?disj: conj ("OR"i conj)*        -> any_of
?conj: cmp ("AND"i cmp)*         -> all_of
cmp: path OP value
path: NAME ("." NAME)*
?value: ESCAPED_STRING -> string
      | SINGLE_STRING  -> string
      | SIGNED_NUMBER  -> number
      | "true"i        -> true
      | "false"i       -> false
      | "null"i        -> null
OP: "<=" | ">=" | "!=" | "<>" | "=" | "<" | ">"
SINGLE_STRING: /'[^']*'/
NAME: /\$?[A-Za-z_][A-Za-z0-9_]*/
%import common.ESCAPED_STRING
%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
"""

_SECTIONS = {"reported", "desired", "delta", "telemetry", "metadata"}
_MISSING = object()


class _Build(Transformer[Any, Predicate]):
    def string(self, items: list[Any]) -> str:
        return str(items[0])[1:-1]

    def number(self, items: list[Any]) -> float:
        return float(items[0])

    def true(self, _: list[Any]) -> bool:
        return True

    def false(self, _: list[Any]) -> bool:
        return False

    def null(self, _: list[Any]) -> None:
        return None

    def path(self, items: list[Any]) -> list[str]:
        parts = [str(i) for i in items]
        if parts[0] not in _SECTIONS and parts[0] not in ("id", "model", "revision"):
            parts = ["reported", *parts]
        return parts

    def cmp(self, items: list[Any]) -> Predicate:
        path, op, expected = items[0], str(items[1]), items[2]
        test = _OPS[op]

        def predicate(doc: dict[str, Any]) -> bool:
            actual: Any = doc
            for part in path:
                actual = actual.get(part, _MISSING) if isinstance(actual, dict) else _MISSING
            if actual is _MISSING:
                return False
            try:
                return bool(test(actual, expected))
            except TypeError:
                return False

        return predicate

    def all_of(self, items: list[Predicate]) -> Predicate:
        return lambda doc: all(p(doc) for p in items)

    def any_of(self, items: list[Predicate]) -> Predicate:
        return lambda doc: any(p(doc) for p in items)


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

_parser = Lark(_GRAMMAR, parser="lalr")


def simple_compiler(text: str) -> Predicate:
    try:
        tree = _parser.parse(text)
    except UnexpectedInput as exc:
        raise ValidationFailed(
            f"condition is not valid at line {exc.line}, column {exc.column}", "/condition"
        ) from None
    return _Build().transform(tree)


_compiler: Compiler = simple_compiler


def use_compiler(compiler: Compiler) -> None:
    """Replace the predicate language (the query package installs its WHERE grammar)."""
    global _compiler
    _compiler = compiler


def compile_condition(text: str) -> Predicate:
    return _compiler(text)
