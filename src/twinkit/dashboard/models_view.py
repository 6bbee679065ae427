"""DTDL interfaces as plain JSON the UI can render as cards and turn into forms.

The public ``GET /api/v1/models`` returns the DTDL documents as uploaded; the dashboard also
needs them resolved (``extends`` flattened) with every schema spelled out, so a command's form
and a desired-value editor can be generated and validated in the browser.
"""

from __future__ import annotations

from typing import Any

from twinkit.model.interface import (
    Command,
    CommandPayload,
    Component,
    Interface,
    Property,
    Relationship,
    ResolvedInterface,
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


def schema_json(schema: Schema | None) -> dict[str, Any]:
    """One schema as ``{"type": …}`` with its parts (fields, element, enum values, map value)."""
    if schema is None or isinstance(schema, AnySchema):
        return {"type": "any"}
    if isinstance(schema, Primitive):
        return {"type": schema.name}
    if isinstance(schema, ObjectSchema):
        return {
            "type": "object",
            "fields": [{"name": f.name, "schema": schema_json(f.schema)} for f in schema.fields],
        }
    if isinstance(schema, ArraySchema):
        return {"type": "array", "element": schema_json(schema.element)}
    if isinstance(schema, EnumSchema):
        return {
            "type": "enum",
            "value_schema": schema.value_schema,
            "values": [{"name": v.name, "value": v.value} for v in schema.values],
        }
    if isinstance(schema, MapSchema):
        return {"type": "map", "key": schema.key_name, "value": schema_json(schema.value)}
    return {"type": "any"}


def _common(element: Any) -> dict[str, Any]:
    return {
        "name": element.name,
        "display_name": element.display_name,
        "description": element.description,
    }


def property_json(prop: Property) -> dict[str, Any]:
    return {
        "kind": "Property",
        **_common(prop),
        "schema": schema_json(prop.schema),
        "unit": prop.unit,
        "writable": prop.writable,
        "semantic_types": list(prop.semantic_types),
    }


def telemetry_json(tel: Telemetry) -> dict[str, Any]:
    return {
        "kind": "Telemetry",
        **_common(tel),
        "schema": schema_json(tel.schema),
        "unit": tel.unit,
        "semantic_types": list(tel.semantic_types),
    }


def _payload(payload: CommandPayload | None) -> dict[str, Any] | None:
    if payload is None:
        return None
    return {
        "name": payload.name,
        "schema": schema_json(payload.schema),
        "nullable": payload.nullable,
    }


def command_json(command: Command) -> dict[str, Any]:
    return {
        "kind": "Command",
        **_common(command),
        "request": _payload(command.request),
        "response": _payload(command.response),
    }


def relationship_json(rel: Relationship) -> dict[str, Any]:
    return {
        "kind": "Relationship",
        **_common(rel),
        "target": rel.target,
        "min_multiplicity": rel.min_multiplicity,
        "max_multiplicity": rel.max_multiplicity,
        "writable": rel.writable,
        "properties": [property_json(p) for p in rel.properties],
    }


def component_json(component: Component) -> dict[str, Any]:
    return {"kind": "Component", **_common(component), "schema": component.schema}


def content_json(content: Any) -> dict[str, Any]:
    if isinstance(content, Property):
        return property_json(content)
    if isinstance(content, Telemetry):
        return telemetry_json(content)
    if isinstance(content, Command):
        return command_json(content)
    if isinstance(content, Relationship):
        return relationship_json(content)
    if isinstance(content, Component):
        return component_json(content)
    return {"kind": type(content).__name__, "name": getattr(content, "name", "?")}


def interface_json(interface: Interface, twins: int | None = None) -> dict[str, Any]:
    """A model card: its own contents (not inherited ones), what it extends, its source."""
    return {
        "id": interface.id,
        "display_name": interface.display_name,
        "description": interface.description,
        "extends": list(interface.extends),
        "contents": [content_json(c) for c in interface.contents],
        "twins": twins,
        "source": dict(interface.source),
    }


def resolved_json(model: ResolvedInterface) -> dict[str, Any]:
    """Everything a twin of ``model`` has, inherited contents included."""
    return {
        "id": model.id,
        "ancestors": sorted(model.ancestors),
        "properties": [property_json(p) for p in model.properties.values()],
        "telemetry": [telemetry_json(t) for t in model.telemetry.values()],
        "commands": [command_json(c) for c in model.commands.values()],
        "relationships": [relationship_json(r) for r in model.relationships.values()],
        "components": [component_json(c) for c in model.components.values()],
    }
