"""Every DTDL language the validator knows: the generated v2/v3 tables plus DTDL v4.

DTDL v4 is the v3 metamodel with a handful of changes (new primitive schemas, nullable
command payloads, deeper schema and ``extends`` limits, self-referencing schemas).  The
public v4 metamodel states those changes as supersedable v3 rules, so v4 is derived here
from the generated v3 table instead of being generated a second time: one source of truth
for everything the versions share.
"""

from __future__ import annotations

import copy
from typing import Any

from twinkit.dtdl.iotoperations_extension import iotoperations_language
from twinkit.dtdl.metamodel_tables import LANGUAGES as _GENERATED
from twinkit.dtdl.mqtt_extension import mqtt_language
from twinkit.dtdl.requirement_extension import requirement_language

V4_PRIMITIVES: dict[str, tuple[str, str]] = {
    # instance term: (class, superclass)
    "byte": ("Byte", "NumericSchema"),
    "short": ("Short", "NumericSchema"),
    "unsignedByte": ("UnsignedByte", "NumericSchema"),
    "unsignedShort": ("UnsignedShort", "NumericSchema"),
    "unsignedInteger": ("UnsignedInteger", "NumericSchema"),
    "unsignedLong": ("UnsignedLong", "NumericSchema"),
    "decimal": ("Decimal", "NumericSchema"),
    "bytes": ("Bytes", "PrimitiveSchema"),
    "uuid": ("Uuid", "PrimitiveSchema"),
}
"""Primitive schemas DTDL v4 adds to the v3 set."""

V4_SCHEMA_DEPTH = 8
"""v4 raises the nesting limit of complex schemas from 5 to 8 levels."""
V4_EXTENDS_DEPTH = 12
"""v4 raises the depth of ``extends`` chains from 10 to 12."""


def _retag(iri: str) -> str:
    """``dtmi:dtdl:class:Interface;3`` -> ``...;4`` (only DTDL's own core IRIs)."""
    if iri.endswith(";3") and (iri.startswith("dtmi:dtdl:") or iri.startswith("dtmi:standard:")):
        return iri[:-1] + "4"
    return iri


def _bump(node: Any) -> Any:
    """Version numbers inside a v3 class table, moved to v4 (references also admit v4)."""
    if isinstance(node, dict):
        out = {key: _bump(value) for key, value in node.items()}
        if out.get("version") == 3:
            out["version"] = 4
        versions = out.get("versions")
        if versions == [3]:
            out["versions"] = [4]  # a class of the defining language itself (sh:class "Field")
        elif isinstance(versions, list) and 3 in versions and 4 not in versions:
            out["versions"] = sorted([*versions, 4])  # any version's Schema, Content...
        if out.get("value") == 3 and out.get("datatype") == "integer":
            out["value"] = 4  # languageMajorVersion
        return out
    if isinstance(node, list):
        return [_bump(item) for item in node]
    return node


def _plain_class(superclass: str) -> dict[str, Any]:
    return {
        "abstract": False,
        "extensible": False,
        "material": True,
        "partition": False,
        "props": {},
        "super": superclass,
        "version": 4,
    }


def derive_v4(v3: dict[str, Any]) -> dict[str, Any]:
    """The DTDL v4 language table, from the v3 one and the changes the v4 spec lists."""
    table: dict[str, Any] = copy.deepcopy(v3)
    table["classes"] = _bump(table["classes"])
    table["terms"] = {term: _retag(iri) for term, iri in table["terms"].items()}
    classes: dict[str, Any] = table["classes"]
    terms: dict[str, str] = table["terms"]
    for instance, (cls, superclass) in V4_PRIMITIVES.items():
        classes[cls] = _plain_class(superclass)
        terms[cls] = f"dtmi:dtdl:class:{cls};4"
        terms[instance] = f"dtmi:dtdl:instance:Schema:{instance};4"
    # Command payloads may be declared nullable.
    classes["CommandPayload"]["props"]["nullable"] = {
        "datatype": "boolean",
        "kind": "literal",
        "max": 1,
    }
    terms["nullable"] = "dtmi:dtdl:property:nullable;4"
    for limit in classes["ComplexSchema"].get("descendants", []):
        if "maxDepth" in limit:
            limit["maxDepth"] = V4_SCHEMA_DEPTH
            limit["allowSelf"] = True
    for limit in classes["Interface"].get("descendants", []):
        if "importProperties" in limit:
            limit["maxDepth"] = V4_EXTENDS_DEPTH
        else:
            limit["allowSelf"] = True
    table["global"] = {**table["global"], "version": 4}
    return table


LANGUAGES: dict[str, Any] = {
    **_GENERATED,
    "v4": derive_v4(_GENERATED["v3"]),
    "mqtt3": mqtt_language(3),
    "mqtt4": mqtt_language(4),
    "iotoperations": iotoperations_language(),
    "requirement1": requirement_language(1),
    "requirement2": requirement_language(2),
}
"""Language tables by name: ``v2``, ``v3``, ``v4`` and the extensions."""


KNOWN_LIMITS: dict[str, dict[str, Any]] = {
    # limit extension: raised limits (from the published limit-extension metamodels)
    "onvif": {
        "schemaDepth": 24,
        "extendsDepth": 12,
        "interfaceIdLength": 256,
        "lengths": {"displayName": 512, "description": 4096, "comment": 512},
    },
    "aio": {"schemaDepth": 12, "extendsDepth": 12},
}
"""Limit extensions, named by their context ``dtmi:dtdl:limits:<name>;1``."""


def apply_limits(classes: dict[str, Any], name: str) -> dict[str, Any]:
    """The class table with the limits a limit extension raises (unknown names: unchanged)."""
    limits = KNOWN_LIMITS.get(name)
    if limits is None:
        return classes
    out = dict(classes)
    schema = copy.deepcopy(out["ComplexSchema"])
    for limit in schema.get("descendants", []):
        if "maxDepth" in limit and "schemaDepth" in limits:
            limit["maxDepth"] = limits["schemaDepth"]
    out["ComplexSchema"] = schema
    interface = copy.deepcopy(out["Interface"])
    for limit in interface.get("descendants", []):
        if "importProperties" in limit and "extendsDepth" in limits:
            limit["maxDepth"] = limits["extendsDepth"]
    if "interfaceIdLength" in limits:
        interface["idMaxLength"] = limits["interfaceIdLength"]
    out["Interface"] = interface
    entity = copy.deepcopy(out["Entity"])
    for prop, length in limits.get("lengths", {}).items():
        if prop in entity["props"]:
            entity["props"][prop]["maxLength"] = length
    out["Entity"] = entity
    return out


def _partner_properties() -> dict[str, frozenset[str]]:
    """For each class term of a partner extension (one outside ``dtmi:dtdl:``), the
    property terms that extension defines for it."""
    found: dict[str, set[str]] = {}
    for table in LANGUAGES.values():
        context = table.get("context")
        if (
            not context
            or context.startswith("dtmi:dtdl:")
            or context.startswith("dtmi:iotcentral:")
        ):
            continue
        for cls, entry in table["classes"].items():
            found.setdefault(cls, set()).update(p for p in entry["props"] if p != "schema")
    return {cls: frozenset(props) for cls, props in found.items()}


PARTNER_PROPERTIES: dict[str, frozenset[str]] = _partner_properties()
"""A partner type used without its context is reported once (``typeUndefinedTerm``): the
reference parser recognises its own properties and does not report them again."""
