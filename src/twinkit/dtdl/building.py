"""Turn validated elements into the frozen model objects the engine uses.

Built from the parsed elements rather than the raw JSON so that named schemas defined in
another Interface, inline ``extends`` and inline component schemas all come out right.
"""

from __future__ import annotations

from typing import Any

from twinkit.dtdl.elements import GEOSPATIAL, Element
from twinkit.model.interface import (
    Command,
    CommandPayload,
    Component,
    Content,
    Interface,
    Property,
    Relationship,
    Telemetry,
)
from twinkit.model.schema import (
    ANY,
    PRIMITIVES,
    ArraySchema,
    EnumSchema,
    EnumValue,
    Field,
    MapSchema,
    ObjectSchema,
    Primitive,
    Schema,
)

_MAX_SCHEMA_DEPTH = 64


def build_interfaces(roots: list[Element], by_id: dict[str, Element]) -> list[Interface]:
    """Every Interface defined in ``roots`` (top-level and inline), in document order."""
    builder = _Builder(by_id)
    found: list[Interface] = []
    seen: set[str] = set()
    stack = list(reversed(roots))
    while stack:
        element = stack.pop()
        if element.cls == "Interface" and element.id not in seen:
            seen.add(element.id)
            found.append(builder.interface(element))
        for children in reversed(list(element.children.values())):
            stack.extend(c for c in reversed(children) if isinstance(c, Element))
    return found


class _Builder:
    def __init__(self, by_id: dict[str, Element]) -> None:
        self.by_id = by_id

    def interface(self, element: Element) -> Interface:
        return Interface(
            id=element.id,
            contents=tuple(
                c for c in (self.content(e) for e in _elements(element, "contents")) if c
            ),
            extends=tuple(_ids(element, "extends")),
            display_name=_text(element.values.get("displayName")),
            description=_text(element.values.get("description")),
            source=element.raw,
        )

    def content(self, element: Element) -> Content | None:
        name = element.name() or ""
        common: dict[str, Any] = {
            "display_name": _text(element.values.get("displayName")),
            "description": _text(element.values.get("description")),
        }
        if element.cls == "Property":
            return self.property(element)
        if element.cls == "Telemetry":
            return Telemetry(
                name,
                self.schema_of(element, "schema"),
                unit=_unit(element),
                semantic_types=_semantic(element),
                **common,
            )
        if element.cls == "Command":
            return Command(
                name,
                self.payload(element, "request"),
                self.payload(element, "response"),
                **common,
            )
        if element.cls == "Relationship":
            targets = _ids(element, "target")
            return Relationship(
                name,
                target=targets[0] if targets else None,
                max_multiplicity=_int(element.values.get("maxMultiplicity")),
                min_multiplicity=_int(element.values.get("minMultiplicity")),
                properties=tuple(self.property(p) for p in _elements(element, "properties")),
                writable=element.values.get("writable") is True,
                **common,
            )
        if element.cls == "Component":
            schemas = _ids(element, "schema")
            return Component(name, schemas[0] if schemas else "", **common)
        return None

    def property(self, element: Element) -> Property:
        return Property(
            element.name() or "",
            self.schema_of(element, "schema"),
            writable=element.values.get("writable") is True,
            unit=_unit(element),
            semantic_types=_semantic(element),
            display_name=_text(element.values.get("displayName")),
            description=_text(element.values.get("description")),
        )

    def payload(self, element: Element, prop: str) -> CommandPayload | None:
        found = _elements(element, prop)
        if not found:
            return None
        payload = found[0]
        return CommandPayload(
            payload.name() or "",
            self.schema_of(payload, "schema"),
            payload.values.get("nullable") is True,
        )

    def schema_of(self, element: Element, prop: str, depth: int = 0) -> Schema:
        children = element.children.get(prop, [])
        if not children:
            return ANY
        return self.schema(children[0], depth)

    def schema(self, value: Element | str, depth: int) -> Schema:
        if depth > _MAX_SCHEMA_DEPTH:
            return ANY
        if isinstance(value, str):
            if value in PRIMITIVES:
                return Primitive(value)
            if value in GEOSPATIAL:
                return ANY
            target = self.by_id.get(value)
            return self.schema(target, depth + 1) if target is not None else ANY
        sid = value.id if value.explicit_id else None
        if value.cls == "Object":
            return ObjectSchema(
                tuple(
                    Field(f.name() or "", self.schema_of(f, "schema", depth + 1))
                    for f in _elements(value, "fields")
                ),
                sid,
            )
        if value.cls == "Array":
            return ArraySchema(self.schema_of(value, "elementSchema", depth + 1), sid)
        if value.cls == "Enum":
            value_schema = _ids(value, "valueSchema")
            return EnumSchema(
                value_schema[0] if value_schema else "string",
                tuple(
                    EnumValue(v.name() or "", v.values.get("enumValue", ""))
                    for v in _elements(value, "enumValues")
                ),
                sid,
            )
        if value.cls == "Map":
            keys = _elements(value, "mapKey")
            values = _elements(value, "mapValue")
            return MapSchema(
                (keys[0].name() or "key") if keys else "key",
                (values[0].name() or "value") if values else "value",
                self.schema_of(values[0], "schema", depth + 1) if values else ANY,
                sid,
            )
        return ANY


def _elements(element: Element, prop: str) -> list[Element]:
    return [c for c in element.children.get(prop, []) if isinstance(c, Element)]


def _ids(element: Element, prop: str) -> list[str]:
    return [c.id if isinstance(c, Element) else c for c in element.children.get(prop, [])]


def _unit(element: Element) -> str | None:
    units = element.children.get("unit", [])
    return units[0] if units and isinstance(units[0], str) else None


def _semantic(element: Element) -> tuple[str, ...]:
    """Cotypes the model can carry: semantic types (with their unit) and adjunct types
    that need no properties of their own (``Historized``). Types that need more
    (``ValueAnnotation`` needs ``annotates``) and undefined extension types are left out,
    so that exporting an Interface always gives valid DTDL again."""
    return tuple(c for c in element.cotypes if _self_contained(element, c))


def _self_contained(element: Element, cotype: str) -> bool:
    entry = element.language.classes.get(cotype)
    while entry is not None:
        for term, rule in entry["props"].items():
            if term != "unit" and rule.get("min", 0) >= 1:
                return False
        parent = entry.get("super")
        entry = element.language.classes.get(parent) if parent else None
    return True


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value:
        for code in ("en", "en-US"):
            if isinstance(value.get(code), str):
                return str(value[code])
        first = next(iter(value.values()))
        return first if isinstance(first, str) else None
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
