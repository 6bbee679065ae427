"""DTDL schemas as frozen objects, and checking JSON values against them.

A schema never does I/O. ``check(value, schema, path)`` raises
:class:`~twinkit.model.errors.ValidationFailed` naming the JSON pointer of the
first offending value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, TypeAlias

from twinkit.model.errors import ValidationFailed

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "unsignedByte": (0, 2**8 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedInteger": (0, 2**32 - 1),
    "unsignedLong": (0, 2**64 - 1),
}
FLOATING = frozenset({"float", "double", "decimal"})
TEXTUAL = frozenset({"string", "date", "dateTime", "time", "duration", "uuid", "bytes"})
PRIMITIVES = frozenset({"boolean", *INTEGER_RANGES, *FLOATING, *TEXTUAL})

_DURATION = re.compile(
    r"^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True, slots=True)
class Primitive:
    name: str


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    schema: Schema


@dataclass(frozen=True, slots=True)
class ObjectSchema:
    fields: tuple[Field, ...]
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ArraySchema:
    element: Schema
    id: str | None = None


@dataclass(frozen=True, slots=True)
class EnumValue:
    name: str
    value: int | str


@dataclass(frozen=True, slots=True)
class EnumSchema:
    value_schema: str
    values: tuple[EnumValue, ...]
    id: str | None = None


@dataclass(frozen=True, slots=True)
class MapSchema:
    key_name: str
    value_name: str
    value: Schema
    id: str | None = None


@dataclass(frozen=True, slots=True)
class AnySchema:
    """Accepts any JSON value: used for twins without a model and for unknown schemas."""

    reason: str = field(default="")


Schema: TypeAlias = Primitive | ObjectSchema | ArraySchema | EnumSchema | MapSchema | AnySchema

ANY = AnySchema()


def check(value: Any, schema: Schema, path: str) -> None:
    """Raise ValidationFailed if ``value`` does not conform to ``schema``."""
    match schema:
        case AnySchema():
            return
        case Primitive(name):
            _check_primitive(value, name, path)
        case ObjectSchema(fields):
            if not isinstance(value, dict):
                raise ValidationFailed(f"expected an object, got {_kind(value)}", path)
            known = {f.name: f.schema for f in fields}
            for key, item in value.items():
                if key not in known:
                    raise ValidationFailed(f"unknown field {key!r}", f"{path}/{_esc(key)}")
                if item is not None:
                    check(item, known[key], f"{path}/{_esc(key)}")
        case ArraySchema(element):
            if not isinstance(value, list):
                raise ValidationFailed(f"expected an array, got {_kind(value)}", path)
            for index, item in enumerate(value):
                check(item, element, f"{path}/{index}")
        case EnumSchema(value_schema, values):
            allowed = [v.value for v in values]
            if isinstance(value, bool) or value not in allowed:
                raise ValidationFailed(f"expected one of {allowed}, got {value!r}", path)
        case MapSchema(_, _, value_schema):
            if not isinstance(value, dict):
                raise ValidationFailed(f"expected a map (object), got {_kind(value)}", path)
            for key, item in value.items():
                if item is not None:
                    check(item, value_schema, f"{path}/{_esc(key)}")


def _check_primitive(value: Any, name: str, path: str) -> None:
    if name == "boolean":
        if not isinstance(value, bool):
            raise ValidationFailed(f"expected a boolean, got {_kind(value)}", path)
    elif name in INTEGER_RANGES:
        low, high = INTEGER_RANGES[name]
        is_integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not is_integral:
            raise ValidationFailed(f"expected an integer ({name}), got {_kind(value)}", path)
        if not low <= value <= high:
            raise ValidationFailed(f"{value} is out of range for {name}", path)
    elif name in FLOATING:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationFailed(f"expected a number ({name}), got {_kind(value)}", path)
    elif name in TEXTUAL:
        if not isinstance(value, str):
            raise ValidationFailed(f"expected a string ({name}), got {_kind(value)}", path)
        _check_text_format(value, name, path)


def _check_text_format(value: str, name: str, path: str) -> None:
    try:
        if name == "date":
            date.fromisoformat(value)
        elif name == "dateTime":
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError("no time zone")
        elif name == "time":
            time.fromisoformat(value)
        elif name == "duration" and not _DURATION.match(value):
            raise ValueError("not an ISO 8601 duration")
        elif name == "uuid" and not _UUID.match(value):
            raise ValueError("not a UUID")
    except ValueError as exc:
        raise ValidationFailed(f"{value!r} is not a valid {name}: {exc}", path) from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
