"""The Azure IoT Operations extension: adjunct types, their literals and value conformance."""

from __future__ import annotations

from typing import Any

import pytest

from twinkit.dtdl import parse

from .cases import interface, telemetry

CONTEXT = ["dtmi:dtdl:context;4", "dtmi:iotoperations:context;4"]


def model(contents: Any = None, **extra: Any) -> Any:
    return interface(context=CONTEXT, contents=contents or [], **extra)


def typed(base: dict[str, Any], *cotypes: str, **extra: Any) -> dict[str, Any]:
    return {**base, "@type": [base["@type"], *cotypes], **extra}


def relationship(*cotypes: str) -> dict[str, Any]:
    return {"@type": ["Relationship", *cotypes], "name": "rel"}


VALID: dict[str, list[Any]] = {
    "composite interface": [model(**{"@type": ["Interface", "Composite"], "ontology": "Onto"})],
    "event interface": [model(**{"@type": ["Interface", "Event"]})],
    "limited float with integer bound": [
        model([typed(telemetry("t", "float"), "Limited", minimum=2, maximum=9.5)])
    ],
    "scaled integer": [
        model([typed(telemetry("t", "integer"), "ScaledStatically", scaleFactor=2)])
    ],
    "precise": [model([typed(telemetry("t", "double"), "Precise", decimalPlaces=2)])],
    "group member": [
        model([{"@type": ["Command", "GroupMember"], "name": "go", "group": "myGroup"}])
    ],
    "capability relationship": [model([relationship("HasCapability")])],
    "detail with subject": [
        model(
            schemas=[
                {
                    "@id": "dtmi:test:D;1",
                    "@type": ["Object", "Detail"],
                    "fields": [{"@type": ["Field", "Subject"], "name": "s", "schema": "double"}],
                }
            ]
        )
    ],
}

INVALID: dict[str, tuple[list[Any], str]] = {
    "composite without ontology": (
        [model(**{"@type": ["Interface", "Composite"]})],
        "missingSupplementalLiteralProperty",
    ),
    "composite and event": (
        [model(**{"@type": ["Interface", "Composite", "Event"], "ontology": "O"})],
        "disallowedCocotype",
    ),
    "ontology too long": (
        [model(**{"@type": ["Interface", "Composite"], "ontology": "o" * 129})],
        "stringTooLong",
    ),
    "bad group name": (
        [model([{"@type": ["Command", "GroupMember"], "name": "go", "group": "#bad"}])],
        "stringInvalid",
    ),
    "event telemetry": ([model([typed(telemetry(), "Event")])], "invalidCotype"),
    "bound is not a number": (
        [model([typed(telemetry("t", "integer"), "Limited", maximum="ten")])],
        "numericNotNumeric",
    ),
    "fractional bound on an integer": (
        [model([typed(telemetry("t", "integer"), "Limited", maximum=9.9)])],
        "nonConformantPropertyValue",
    ),
    "limited boolean": (
        [model([typed(telemetry("t", "boolean"), "Limited")])],
        "notRequiredType",
    ),
    "fractional decimal places": (
        [model([typed(telemetry("t", "float"), "Precise", decimalPlaces=3.3)])],
        "integerNotInteger",
    ),
    "capability and component": (
        [model([relationship("HasCapability", "HasComponent")])],
        "disallowedCocotype",
    ),
    "reserved identifier": (
        [interface("dtmi:iotoperations:Thing;1", context=CONTEXT)],
        "reservedId",
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_iotoperations_models_are_accepted(name: str) -> None:
    assert parse(VALID[name]).errors == []


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_iotoperations_models_are_rejected_with_their_id(name: str) -> None:
    documents, expected = INVALID[name]
    ids = {e.short_name() for e in parse(documents).errors}
    assert expected in ids, ids


def test_without_the_context_the_types_are_undefined() -> None:
    doc = interface(context="dtmi:dtdl:context;4", **{"@type": ["Interface", "Event"]})
    ids = {e.short_name() for e in parse([doc]).errors}
    assert "typeUndefinedTerm" in ids
