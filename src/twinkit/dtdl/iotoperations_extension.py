"""The Azure IoT Operations partner extension (``dtmi:iotoperations:context;4``).

Its adjunct types describe AIO asset models: composite and event Interfaces, command
groups, numeric presentation (``Precise``, ``Limited``, ``ScaledStatically``), qualified
names and capability/component Relationships.  Rules use the same keys as the generated
tables plus ``conformsToSchema`` (a literal such as ``minimum`` must be a value of the
element's own schema: ``nonConformantPropertyValue``) and the field-role keys described in
:mod:`twinkit.dtdl.mqtt_extension`.
"""

from __future__ import annotations

from typing import Any

CONTEXT = "dtmi:iotoperations:context;4"
_NAME = r"^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$"
_NUMERIC_SCHEMA = {"classes": ["NumericSchema"], "kind": "node", "versions": [2, 3, 4]}


def _string(max_length: int, *, required: bool = False, pattern: str | None = None) -> Any:
    rule: dict[str, Any] = {
        "datatype": "string",
        "kind": "literal",
        "max": 1,
        "maxLength": max_length,
    }
    if required:
        rule["min"] = 1
    if pattern:
        rule["pattern"] = pattern
    return rule


def _number(*, required: bool = False) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "datatype": "double",
        "kind": "literal",
        "max": 1,
        "conformsToSchema": True,
    }
    if required:
        rule["min"] = 1
    return rule


def _adjunct(applies_to: list[str], props: dict[str, Any] | None = None, **extra: Any) -> Any:
    entry: dict[str, Any] = {
        "abstract": False,
        "appliesTo": applies_to,
        "appliesToVersioned": False,
        "extensible": False,
        "material": False,
        "partition": False,
        "props": props or {},
        "super": "AdjunctType",
        "version": 4,
    }
    entry.update(extra)
    return entry


_VALUED = ["Field", "Property", "Telemetry"]
"""Elements with a schema whose values the numeric adjuncts describe."""


def _classes() -> dict[str, Any]:
    return {
        "Composite": _adjunct(
            ["Interface"], {"ontology": _string(128, required=True)}, excludesCotype=["Event"]
        ),
        "Event": _adjunct(["Interface"], excludesCotype=["Composite"]),
        "Congruence": _adjunct(["Interface", "Object"], {"typeRef": _string(128, required=True)}),
        "GroupMember": _adjunct(["Command"], {"group": _string(128, required=True, pattern=_NAME)}),
        "Detail": _adjunct(["Object"]),
        "Subject": _adjunct(["Field"], parentCotypes=["Detail"], onlyOne=True),
        "Qualified": _adjunct(_VALUED, {"namespace": _string(128)}),
        "Precise": _adjunct(
            _VALUED,
            {
                "decimalPlaces": {
                    "datatype": "integer",
                    "kind": "literal",
                    "max": 1,
                    "min": 1,
                    "minInclusive": 0,
                }
            },
        ),
        "Limited": _adjunct(
            _VALUED,
            {"schema": _NUMERIC_SCHEMA, "minimum": _number(), "maximum": _number()},
        ),
        "ScaledStatically": _adjunct(
            _VALUED, {"schema": _NUMERIC_SCHEMA, "scaleFactor": _number(required=True)}
        ),
        "HasCapability": _adjunct(["Relationship"], excludesCotype=["HasComponent"]),
        "HasComponent": _adjunct(["Relationship"], excludesCotype=["HasCapability"]),
    }


def iotoperations_language() -> dict[str, Any]:
    """The language table of the IoT Operations extension."""
    classes = _classes()
    terms: dict[str, str] = {}
    for cls, entry in classes.items():
        terms[cls] = f"dtmi:iotoperations:class:{cls};4"
        for prop in entry["props"]:
            if prop != "schema":
                terms[prop] = f"dtmi:iotoperations:property:{prop};4"
    return {
        "context": CONTEXT,
        "classes": classes,
        "global": {"reservedPrefix": ["dtmi:iotoperations:"]},
        "terms": terms,
    }
