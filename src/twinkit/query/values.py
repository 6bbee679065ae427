"""Value semantics shared by both executors: types, comparison, three-valued logic, sort order.

A comparison between values of different types (or with a missing value) is
*undefined* (``None``), as in ADT: it is not true, and ``NOT`` of it is not true
either. The SQL compiler emits exactly these rules with ``json_type``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

# class letters: n number, s string, b boolean, z null, o object/array
ORDERED = ("n", "s")
EQUATABLE = ("n", "s", "b", "z")


def kind(value: Any) -> str | None:
    if value is MISSING:
        return None
    if value is None:
        return "z"
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int | float):
        return "n"
    if isinstance(value, str):
        return "s"
    return "o"


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def compare(op: str, left: Any, right: Any) -> bool | None:
    """``left op right`` or None when the two are not comparable."""
    lk, rk = kind(left), kind(right)
    if lk is None or lk != rk:
        return None
    if op in ("=", "!="):
        if lk not in EQUATABLE:
            return None
        if lk == "z":
            return op == "="
        return _OPS[op](left, right)
    if lk not in ORDERED:
        return None
    return _OPS[op](left, right)


def is_in(value: Any, values: tuple[Any, ...]) -> bool | None:
    if value is MISSING:
        return None
    return any(compare("=", value, v) is True for v in values)


def type_test(name: str, value: Any) -> bool:
    k = kind(value)
    return {
        "IS_DEFINED": k is not None,
        "IS_NULL": k == "z",
        "IS_BOOL": k == "b",
        "IS_NUMBER": k == "n",
        "IS_STRING": k == "s",
        "IS_PRIMITIVE": k in ("n", "s", "b", "z"),
        "IS_OBJECT": isinstance(value, dict),
        "IS_ARRAY": isinstance(value, list),
    }[name]


def string_test(name: str, value: Any, needle: str) -> bool | None:
    if not isinstance(value, str):
        return None
    if name == "STARTSWITH":
        return value.startswith(needle)
    if name == "ENDSWITH":
        return value.endswith(needle)
    return needle in value


def all_of(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def any_of(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def negate(value: bool | None) -> bool | None:
    return None if value is None else not value


RANKS = {None: 0, "z": 1, "b": 2, "n": 3, "s": 4, "o": 5}


def sort_key(value: Any) -> tuple[int, Any]:
    """Missing < null < booleans < numbers < strings < objects; the SQL ORDER BY is the same."""
    k = kind(value)
    rank = RANKS[k]
    if k == "b":
        return rank, int(value)
    if k in ("n", "s"):
        return rank, value
    return rank, 0


def group_token(value: Any) -> str | None:
    """The grouping identity of a value: its JSON text (None when missing)."""
    return None if value is MISSING else orjson.dumps(value).decode()
