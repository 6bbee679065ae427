"""The parsed form of a DTDL element, before it becomes a :mod:`twinkit.model` object.

The walker (:mod:`twinkit.dtdl.walker`) produces one :class:`Element` per JSON object;
later passes (:mod:`twinkit.dtdl.semantics`) check rules that span elements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from twinkit.dtdl.context import Language

DTMI = re.compile(
    r"^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*"
    r";[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,5})?$"
)
DTMI_UNVERSIONED = re.compile(
    r"^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*$"
)
"""Any DTMI-shaped string (used to tell 'invalid DTMI' from 'not a DTMI at all')."""

PRIMITIVE_CLASSES: dict[str, str] = {
    "boolean": "Boolean",
    "date": "Date",
    "dateTime": "DateTime",
    "double": "Double",
    "duration": "Duration",
    "float": "Float",
    "integer": "Integer",
    "long": "Long",
    "string": "String",
    "time": "Time",
    # DTDL v4 primitives
    "byte": "Byte",
    "bytes": "Bytes",
    "decimal": "Decimal",
    "short": "Short",
    "unsignedByte": "UnsignedByte",
    "unsignedInteger": "UnsignedInteger",
    "unsignedLong": "UnsignedLong",
    "unsignedShort": "UnsignedShort",
    "uuid": "Uuid",
    "asynchronous": "CommandType",
    "synchronous": "CommandType",
}
GEOSPATIAL = frozenset(
    {"point", "multiPoint", "lineString", "multiLineString", "polygon", "multiPolygon"}
)


@dataclass(slots=True)
class Reference:
    """A DTMI-valued property that names another element (checked once all are parsed)."""

    target: str
    classes: list[str]
    source: Element
    prop: str
    path: str
    versions: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Element:
    """One DTDL element: its identity, its types and its (validated) property values."""

    id: str
    cls: str
    language: Language
    document: int | str
    path: str
    cotypes: list[str] = field(default_factory=list)
    undefined_cotypes: list[str] = field(default_factory=list)
    rejected_cotypes: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    """term -> literal value(s) (strings, numbers, language maps)."""
    children: dict[str, list[Element | str]] = field(default_factory=dict)
    """term -> inline elements or referenced identifiers (DTMIs or metamodel terms)."""
    raw: dict[str, Any] = field(default_factory=dict)
    parent: Element | None = None
    explicit_id: bool = True
    present: set[str] = field(default_factory=set)
    """Terms the element gives (even with invalid values): required ones are checked later."""
    site_rule: dict[str, Any] = field(default_factory=dict)
    """The rule of the property this element is the value of (segment and key rules)."""
    layer_cotypes: set[str] = field(default_factory=set)
    own_present: set[str] | None = None
    """What this element gave itself, before other layers were merged into it."""
    layer: str | None = None
    """The layer fragment (``#foo``) this element came from, when models are layered."""

    def is_a(self, target: str) -> bool:
        return is_subclass(self.language, self.cls, target)

    def name(self) -> str | None:
        value = self.values.get("name")
        return value if isinstance(value, str) else None


def is_subclass(language: Language, cls: str, target: str) -> bool:
    key = (id(language), cls, target)
    found = _SUBCLASS.get(key)
    if found is None:
        found = _SUBCLASS[key] = _walk_supers(language, cls, target)
    return found


_SUBCLASS: dict[tuple[int, str, str], bool] = {}
"""Languages live for the process, so (language id, class, target) is a stable key."""


def _walk_supers(language: Language, cls: str, target: str) -> bool:
    seen = 0
    current: str | None = cls
    while current is not None and seen < 32:
        if current == target:
            return True
        entry = language.classes.get(current)
        current = entry.get("super") if entry else None
        seen += 1
    return False


def instance_class(term: str) -> str | None:
    """The metamodel class of a predefined instance term (``boolean`` -> ``Boolean``)."""
    if term in PRIMITIVE_CLASSES:
        return PRIMITIVE_CLASSES[term]
    if term in GEOSPATIAL or term in ("vector", "geopoint"):
        return "Object"
    return None
