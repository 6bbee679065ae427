"""Small DTDL documents the tests build on (written for these tests, not copied from the spec)."""

from __future__ import annotations

import copy
from typing import Any

V3 = "dtmi:dtdl:context;3"
V2 = "dtmi:dtdl:context;2"
QT = "dtmi:dtdl:extension:quantitativeTypes;1"


def interface(
    dtmi: Any = "dtmi:test:Pump;1",
    contents: Any = None,
    *,
    context: Any = V3,
    **extra: Any,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": context, "@id": dtmi, "@type": "Interface"}
    if contents is not None:
        doc["contents"] = contents
    doc.update(extra)
    return doc


def prop(name: Any = "speed", schema: Any = "double", **extra: Any) -> dict[str, Any]:
    return {"@type": "Property", "name": name, "schema": copy.deepcopy(schema), **extra}


def telemetry(name: str = "flow", schema: Any = "double", **extra: Any) -> dict[str, Any]:
    return {"@type": "Telemetry", "name": name, "schema": copy.deepcopy(schema), **extra}


def nested_arrays(levels: int) -> dict[str, Any]:
    schema: Any = "double"
    for _ in range(levels):
        schema = {"@type": "Array", "elementSchema": schema}
    return schema  # type: ignore[no-any-return]
