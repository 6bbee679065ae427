"""The MQTT feature extension at versions 3 and 4 (``dtmi:dtdl:extension:mqtt;3`` / ``;4``).

The generated tables hold version 1.  Version 3 adds service-group ids, ``Transparent``
payloads and the ``Result``/``Error`` object family; version 4 adds property topics,
``PropertyResult`` objects and field roles (``ErrorCode``, ``ErrorInfo``, ``ReadError``...).
Besides the usual keys, field roles use three rules the semantics pass checks:
``parentCotypes`` (the enclosing Object must carry one of them: ``parentMissingCotype``),
``onlyOne`` (at most one such field per Object: ``siblingDuplicatesCotype``) and
``schemaCotypes`` (the schema must carry one of them, e.g. an ``Error`` Object); and on
the Object side ``fieldCotypes`` (every field of a ``Result`` must play one of these roles:
``notRequiredType``).
"""

from __future__ import annotations

from typing import Any

_TOPIC = (
    r"^(?:(?:[!%-*,-.0-z|~][!$-*,-.0-z|~]*)|(?:{(?:[A-Za-z]+:)?[A-Za-z]+}))"
    r"(?:\/(?:(?:[!$-*,-.0-z|~]+)|(?:{(?:[A-Za-z]+:)?[A-Za-z]+})))*$"
)
_GROUP_ID = r"^[!$-*,-.0-z|~]+$"


def _string(pattern: str | None = None, *, required: bool = False) -> dict[str, Any]:
    rule: dict[str, Any] = {"datatype": "string", "kind": "literal", "max": 1}
    if pattern:
        rule["pattern"] = pattern
    if required:
        rule["min"] = 1
    return rule


def _schema(*classes: str, cotypes: tuple[str, ...] = ()) -> dict[str, Any]:
    rule: dict[str, Any] = {"classes": list(classes), "kind": "node", "versions": [2, 3, 4]}
    if cotypes:
        rule["schemaCotypes"] = list(cotypes)
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


def _field_role(parents: list[str], schema: dict[str, Any] | None = None, **extra: Any) -> Any:
    props = {"schema": schema} if schema else {}
    return _adjunct(["Field"], props, parentCotypes=parents, onlyOne=True, **extra)


def _mqtt_props(version: int) -> dict[str, Any]:
    props = {
        "telemetryTopic": _string(_TOPIC),
        "commandTopic": _string(_TOPIC),
        "payloadFormat": _string(required=True),
        "telemServiceGroupId": _string(_GROUP_ID),
        "cmdServiceGroupId": _string(_GROUP_ID),
    }
    if version >= 4:
        props["propertyTopic"] = _string(_TOPIC)
    return props


def _classes(version: int) -> dict[str, Any]:
    indexed_on = ["EnumValue", "Field", "Telemetry"] + (["Property"] if version >= 4 else [])
    classes: dict[str, Any] = {
        "Mqtt": _adjunct(["Interface"], _mqtt_props(version)),
        "Transparent": _adjunct(["CommandPayload"], {"schema": _schema("Object")}),
        "Idempotent": _adjunct(["Command"]),
        "Cacheable": _adjunct(
            ["Command"],
            {"ttl": {"datatype": "duration", "kind": "literal", "max": 1, "min": 1}},
            requiresCotype=["Idempotent"],
        ),
        "Indexed": _adjunct(
            indexed_on,
            {
                "index": {
                    "datatype": "integer",
                    "kind": "literal",
                    "max": 1,
                    "min": 1,
                    "minInclusive": 1,
                    "uniqueValue": True,
                }
            },
        ),
        "Result": _adjunct(
            ["Object"],
            fieldCotypes=["NormalResult", "ErrorResult"]
            + (["ErrorCode", "ErrorInfo"] if version >= 4 else []),
        ),
        "Error": _adjunct(["Object"]),
        "NormalResult": _field_role(["Result"], excludesCotype=["Required"]),
        "ErrorResult": _field_role(
            ["Result"], _schema("Object", cotypes=("Error",)), excludesCotype=["Required"]
        ),
        "ErrorMessage": _field_role(["Error"], _schema("String")),
    }
    if version >= 4:
        classes.update(
            {
                "PropertyResult": _adjunct(
                    ["Object"], fieldCotypes=["PropertyValue", "ReadError", "WriteError"]
                ),
                "ErrorCode": _field_role(["Error", "Result"], _schema("Enum")),
                "ErrorInfo": _field_role(["Error", "Result"], _schema("Object")),
                "PropertyValue": _field_role(["PropertyResult"]),
                "ReadError": _field_role(["PropertyResult"], _schema("Object", cotypes=("Error",))),
                "WriteError": _field_role(
                    ["PropertyResult"], _schema("Object", cotypes=("Error",))
                ),
                "Fragmented": _adjunct(["PropertyValue"], {"schema": _schema("Object", "Map")}),
                "Indirect": _adjunct(["Field"], excludesCotype=["Required"]),
            }
        )
    return classes


def _terms(version: int, classes: dict[str, Any]) -> dict[str, str]:
    base = f"dtmi:dtdl:extension:mqtt:v{version}"
    terms: dict[str, str] = {}
    for cls, entry in classes.items():
        terms[cls] = f"{base}:{cls}"
        for prop in entry["props"]:
            if prop != "schema":
                terms[prop] = f"{base}:{cls}:{prop}"
    return terms


def mqtt_language(version: int) -> dict[str, Any]:
    """The language table of MQTT extension ``version`` (3 or 4)."""
    classes = _classes(version)
    return {
        "context": f"dtmi:dtdl:extension:mqtt;{version}",
        "classes": classes,
        "global": {},
        "terms": _terms(version, classes),
    }
