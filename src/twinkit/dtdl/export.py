"""Export model objects back to DTDL v3 JSON, so that ``parse(to_json(x))`` gives ``x`` again.

Schemas that carry an ``@id`` are written once under the Interface's ``schemas`` and
referenced by that id everywhere else (writing them inline twice would define them twice).
Extension contexts are added for the semantic types and adjunct types the Interface uses.
"""

from __future__ import annotations

from typing import Any

from twinkit.dtdl.metamodel_tables import LANGUAGES
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
    AnySchema,
    ArraySchema,
    EnumSchema,
    MapSchema,
    ObjectSchema,
    Primitive,
    Schema,
)

DTDL_V3 = "dtmi:dtdl:context;3"
DTDL_V2 = "dtmi:dtdl:context;2"
IOTCENTRAL = "dtmi:iotcentral:context;2"
_EXTENSION_ORDER = ("quantitativeTypes", "historization", "annotation", "overriding", "mqtt")


class ExportError(ValueError):
    """The model holds something DTDL JSON cannot express (e.g. a schema of unknown shape)."""


def to_json(interface: Interface) -> dict[str, Any]:
    """The DTDL v3 JSON document for one Interface."""
    writer = _Writer()
    contents = [writer.content(c) for c in interface.contents]
    doc: dict[str, Any] = {
        "@context": writer.context(),
        "@id": interface.id,
        "@type": "Interface",
    }
    if interface.display_name is not None:
        doc["displayName"] = interface.display_name
    if interface.description is not None:
        doc["description"] = interface.description
    if interface.extends:
        doc["extends"] = list(interface.extends)
    if contents:
        doc["contents"] = contents
    if writer.schemas:
        doc["schemas"] = list(writer.schemas.values())
    return doc


class _Writer:
    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}
        self.extensions: set[str] = set()

    def context(self) -> str | list[str]:
        if "iotcentral" in self.extensions:
            if len(self.extensions) > 1:
                raise ExportError("IoT Central types (DTDL v2) cannot mix with v3 extensions")
            return [DTDL_V2, IOTCENTRAL]
        used = [f"dtmi:dtdl:extension:{e};1" for e in _EXTENSION_ORDER if e in self.extensions]
        return [DTDL_V3, *used] if used else DTDL_V3

    def content(self, content: Content) -> dict[str, Any]:
        if isinstance(content, Property):
            return self.property(content)
        doc: dict[str, Any]
        if isinstance(content, Telemetry):
            doc = {
                "@type": self.types("Telemetry", content.semantic_types),
                "name": content.name,
                "schema": self.schema(content.schema),
            }
            if content.unit is not None:
                doc["unit"] = content.unit
        elif isinstance(content, Command):
            doc = {"@type": "Command", "name": content.name}
            if content.request is not None:
                doc["request"] = self.payload(content.request)
            if content.response is not None:
                doc["response"] = self.payload(content.response)
        elif isinstance(content, Relationship):
            doc = {"@type": "Relationship", "name": content.name}
            if content.target is not None:
                doc["target"] = content.target
            if content.max_multiplicity is not None:
                doc["maxMultiplicity"] = content.max_multiplicity
            if content.min_multiplicity is not None:
                doc["minMultiplicity"] = content.min_multiplicity
            if content.properties:
                doc["properties"] = [self.property(p) for p in content.properties]
            if content.writable:
                doc["writable"] = True
        elif isinstance(content, Component):
            doc = {"@type": "Component", "name": content.name, "schema": content.schema}
        else:  # pragma: no cover - Content is a closed union
            raise ExportError(f"unknown content {content!r}")
        return _documented(doc, content.display_name, content.description)

    def property(self, prop: Property) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "@type": self.types("Property", prop.semantic_types),
            "name": prop.name,
            "schema": self.schema(prop.schema),
        }
        if prop.unit is not None:
            doc["unit"] = prop.unit
        if prop.writable:
            doc["writable"] = True
        return _documented(doc, prop.display_name, prop.description)

    def payload(self, payload: CommandPayload) -> dict[str, Any]:
        if payload.nullable:
            raise ExportError(f"payload {payload.name!r}: nullable is not DTDL v3")
        return {"name": payload.name, "schema": self.schema(payload.schema)}

    def types(self, material: str, cotypes: tuple[str, ...]) -> str | list[str]:
        for cotype in cotypes:
            extension = _extension_of(cotype)
            if extension is not None:
                self.extensions.add(extension)
        return [material, *cotypes] if cotypes else material

    def schema(self, schema: Schema) -> Any:
        sid = getattr(schema, "id", None)
        if sid is not None:
            if sid not in self.schemas:
                self.schemas[sid] = {}  # reserve first: a schema may refer to itself
                self.schemas[sid] = {"@id": sid, **self.shape(schema)}
            return sid
        if isinstance(schema, Primitive):
            return schema.name
        return self.shape(schema)

    def shape(self, schema: Schema) -> dict[str, Any]:
        if isinstance(schema, ObjectSchema):
            return {
                "@type": "Object",
                "fields": [
                    {"name": f.name, "schema": self.schema(f.schema)} for f in schema.fields
                ],
            }
        if isinstance(schema, ArraySchema):
            return {"@type": "Array", "elementSchema": self.schema(schema.element)}
        if isinstance(schema, EnumSchema):
            return {
                "@type": "Enum",
                "valueSchema": schema.value_schema,
                "enumValues": [{"name": v.name, "enumValue": v.value} for v in schema.values],
            }
        if isinstance(schema, MapSchema):
            return {
                "@type": "Map",
                "mapKey": {"name": schema.key_name, "schema": "string"},
                "mapValue": {"name": schema.value_name, "schema": self.schema(schema.value)},
            }
        if isinstance(schema, AnySchema):
            raise ExportError("a schema of unknown shape cannot be written as DTDL")
        raise ExportError(f"cannot export schema {schema!r}")


def _documented(
    doc: dict[str, Any], display: str | None, description: str | None
) -> dict[str, Any]:
    if display is not None:
        doc["displayName"] = display
    if description is not None:
        doc["description"] = description
    return doc


def _extension_of(cotype: str) -> str | None:
    for name in _EXTENSION_ORDER:
        if cotype in LANGUAGES[name]["terms"]:
            return name
    if cotype in LANGUAGES["iotcentral"]["terms"]:
        return "iotcentral"  # IoT Central's semantic types exist only in DTDL v2
    return None
