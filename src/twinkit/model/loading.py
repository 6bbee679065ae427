"""Turn DTDL JSON documents into :mod:`twinkit.model.interface` objects.

This is the shape-level loader: it assumes a document the validator in
:mod:`twinkit.dtdl` has accepted (or a hand-written one) and builds the model
objects, with a JSON pointer on anything it cannot make sense of.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twinkit.model.errors import ValidationFailed
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

_DTMI_PREFIX = "dtmi:dtdl:instance:Schema:"


def interfaces_from_json(document: Any, path: str = "") -> list[Interface]:
    """Load one DTDL document (an Interface, or an array of them) into Interfaces."""
    if isinstance(document, list):
        found: list[Interface] = []
        for index, item in enumerate(document):
            found.extend(interfaces_from_json(item, f"{path}/{index}"))
        return found
    if not isinstance(document, dict):
        raise ValidationFailed("a DTDL document must be an object or an array", path or "/")
    return [_interface(document, path)]


def _interface(doc: Mapping[str, Any], path: str) -> Interface:
    if _types(doc) and "Interface" not in _types(doc):
        raise ValidationFailed("top-level element must have @type Interface", f"{path}/@type")
    dtmi = doc.get("@id")
    if not isinstance(dtmi, str) or not dtmi.startswith("dtmi:"):
        raise ValidationFailed("an Interface needs an @id that is a DTMI", f"{path}/@id")
    named = _named_schemas(doc.get("schemas", []), f"{path}/schemas")
    extends_raw = doc.get("extends", [])
    extends_list = extends_raw if isinstance(extends_raw, list) else [extends_raw]
    extends: list[str] = []
    for index, base in enumerate(extends_list):
        if isinstance(base, dict):
            raise ValidationFailed(
                "inline extends is not supported here", f"{path}/extends/{index}"
            )
        if not isinstance(base, str):
            raise ValidationFailed("extends must name a DTMI", f"{path}/extends/{index}")
        extends.append(base)
    contents_raw = doc.get("contents", [])
    if not isinstance(contents_raw, list):
        raise ValidationFailed("contents must be an array", f"{path}/contents")
    contents = tuple(
        _content(item, f"{path}/contents/{i}", named) for i, item in enumerate(contents_raw)
    )
    return Interface(
        id=dtmi,
        contents=contents,
        extends=tuple(extends),
        display_name=_text(doc.get("displayName")),
        description=_text(doc.get("description")),
        source=doc,
    )


def _content(item: Any, path: str, named: Mapping[str, Schema]) -> Content:
    if not isinstance(item, dict):
        raise ValidationFailed("a content must be an object", path)
    types = _types(item)
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ValidationFailed("a content needs a name", f"{path}/name")
    common = {
        "display_name": _text(item.get("displayName")),
        "description": _text(item.get("description")),
    }
    semantic = tuple(t for t in types if t not in _CONTENT_KINDS)
    unit = item.get("unit") if isinstance(item.get("unit"), str) else None
    if "Property" in types:
        return Property(
            name,
            _schema(item.get("schema"), f"{path}/schema", named),
            writable=item.get("writable") is True,
            unit=unit,
            semantic_types=semantic,
            **common,
        )
    if "Telemetry" in types:
        schema = _schema(item.get("schema"), f"{path}/schema", named)
        return Telemetry(name, schema, unit=unit, semantic_types=semantic, **common)
    if "Command" in types:
        return Command(
            name,
            _payload(item.get("request"), f"{path}/request", named),
            _payload(item.get("response"), f"{path}/response", named),
            **common,
        )
    if "Relationship" in types:
        props = item.get("properties", [])
        properties = tuple(
            _content({**p, "@type": "Property"}, f"{path}/properties/{i}", named)
            for i, p in enumerate(props if isinstance(props, list) else [])
            if isinstance(p, dict)
        )
        return Relationship(
            name,
            target=item.get("target") if isinstance(item.get("target"), str) else None,
            max_multiplicity=_int(item.get("maxMultiplicity")),
            min_multiplicity=_int(item.get("minMultiplicity")),
            properties=tuple(p for p in properties if isinstance(p, Property)),
            writable=item.get("writable") is True,
            **common,
        )
    if "Component" in types:
        target = item.get("schema")
        if not isinstance(target, str):
            raise ValidationFailed("a Component's schema must name an Interface", f"{path}/schema")
        return Component(name, target, **common)
    raise ValidationFailed(f"unknown content type {types}", f"{path}/@type")


def _payload(raw: Any, path: str, named: Mapping[str, Schema]) -> CommandPayload | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ValidationFailed("a command payload needs a name and a schema", path)
    return CommandPayload(
        raw["name"],
        _schema(raw.get("schema"), f"{path}/schema", named),
        raw.get("nullable") is True,
    )


def _named_schemas(raw: Any, path: str) -> dict[str, Schema]:
    named: dict[str, Schema] = {}
    if not isinstance(raw, list):
        return named
    # Named schemas may refer to each other in any order: resolve until stable.
    pending = [(i, s) for i, s in enumerate(raw) if isinstance(s, dict) and "@id" in s]
    for _ in range(len(pending) + 1):
        unresolved = []
        for index, item in pending:
            try:
                named[item["@id"]] = _schema(item, f"{path}/{index}", named)
            except ValidationFailed:
                unresolved.append((index, item))
        if not unresolved or len(unresolved) == len(pending):
            break
        pending = unresolved
    return named


def _schema(raw: Any, path: str, named: Mapping[str, Schema]) -> Schema:
    if isinstance(raw, str):
        if raw.startswith(_DTMI_PREFIX):
            raw = raw[len(_DTMI_PREFIX) :]
        if raw in PRIMITIVES:
            return Primitive(raw)
        if raw in named:
            return named[raw]
        if raw.startswith("dtmi:") or raw in _GEOSPATIAL:
            return ANY
        raise ValidationFailed(f"unknown schema {raw!r}", path)
    if not isinstance(raw, dict):
        raise ValidationFailed("a schema must be a name or an object", path)
    kind = _types(raw)
    sid = raw.get("@id") if isinstance(raw.get("@id"), str) else None
    if "Object" in kind:
        fields = raw.get("fields", [])
        return ObjectSchema(
            tuple(
                Field(f["name"], _schema(f.get("schema"), f"{path}/fields/{i}/schema", named))
                for i, f in enumerate(fields if isinstance(fields, list) else [])
                if isinstance(f, dict) and isinstance(f.get("name"), str)
            ),
            sid,
        )
    if "Array" in kind:
        return ArraySchema(_schema(raw.get("elementSchema"), f"{path}/elementSchema", named), sid)
    if "Enum" in kind:
        values = raw.get("enumValues", [])
        return EnumSchema(
            str(raw.get("valueSchema", "string")),
            tuple(
                EnumValue(v["name"], v["enumValue"])
                for v in (values if isinstance(values, list) else [])
                if isinstance(v, dict) and "name" in v and "enumValue" in v
            ),
            sid,
        )
    if "Map" in kind:
        key = raw.get("mapKey", {})
        value = raw.get("mapValue", {})
        if not isinstance(key, dict) or not isinstance(value, dict):
            raise ValidationFailed("a Map needs mapKey and mapValue", path)
        return MapSchema(
            str(key.get("name", "key")),
            str(value.get("name", "value")),
            _schema(value.get("schema"), f"{path}/mapValue/schema", named),
            sid,
        )
    raise ValidationFailed(f"unknown schema type {kind}", f"{path}/@type")


def _types(doc: Mapping[str, Any]) -> list[str]:
    raw = doc.get("@type", [])
    return [raw] if isinstance(raw, str) else [t for t in raw if isinstance(t, str)]


def _text(raw: Any) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict) and raw:
        return str(raw.get("en", next(iter(raw.values()))))
    return None


def _int(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


_CONTENT_KINDS = frozenset({"Property", "Telemetry", "Command", "Relationship", "Component"})
_GEOSPATIAL = frozenset(
    {"point", "lineString", "polygon", "multiPoint", "multiLineString", "multiPolygon"}
)
