"""MQTT extension versions 3 and 4 on DTDL v4: topics, payload roles and field roles."""

from __future__ import annotations

from typing import Any

import pytest

from twinkit.dtdl import parse

from .cases import interface

CONTEXT = ["dtmi:dtdl:context;4", "dtmi:dtdl:extension:mqtt;4"]
MQTT = {"@type": ["Interface", "Mqtt"], "payloadFormat": "Json/ecma/404"}


def model(schemas: list[Any] | None = None, contents: list[Any] | None = None, **mqtt: Any) -> Any:
    doc = interface(context=CONTEXT, contents=contents or [], **{**MQTT, **mqtt})
    if schemas:
        doc["schemas"] = schemas
    return doc


def obj(dtmi: str, cotypes: list[str], *fields: dict[str, Any]) -> dict[str, Any]:
    return {"@id": dtmi, "@type": ["Object", *cotypes], "fields": list(fields)}


def field(name: str, schema: Any, *cotypes: str) -> dict[str, Any]:
    return {"@type": ["Field", *cotypes], "name": name, "schema": schema}


ERROR = obj("dtmi:test:Err;1", ["Error"], field("message", "string", "ErrorMessage"))
CODES = {
    "@type": "Enum",
    "valueSchema": "string",
    "enumValues": [{"name": "bad", "enumValue": "bad"}],
}

VALID: dict[str, list[Any]] = {
    "topics and group ids": [
        model(
            telemetryTopic="site/{modelId}/telemetry",
            propertyTopic="site/{modelId}/property",
            telemServiceGroupId="group1",
        )
    ],
    "result with roles": [
        model(
            [
                ERROR,
                obj(
                    "dtmi:test:Res;1",
                    ["Result"],
                    field("value", "double", "NormalResult"),
                    field("error", "dtmi:test:Err;1", "ErrorResult"),
                    field("code", CODES, "ErrorCode"),
                ),
            ]
        )
    ],
    "property result": [
        model(
            [
                ERROR,
                obj(
                    "dtmi:test:PR;1",
                    ["PropertyResult"],
                    field("value", "double", "PropertyValue"),
                    field("readError", "dtmi:test:Err;1", "ReadError"),
                ),
            ]
        )
    ],
    "transparent request": [
        model(
            contents=[
                {
                    "@type": "Command",
                    "name": "go",
                    "request": {
                        "@type": ["CommandRequest", "Transparent"],
                        "name": "arg",
                        "schema": {"@type": "Object", "fields": [field("a", "double")]},
                    },
                }
            ]
        )
    ],
}

INVALID: dict[str, tuple[list[Any], str]] = {
    "empty group id": ([model(cmdServiceGroupId="")], "stringInvalid"),
    "topic with empty level": ([model(propertyTopic="a//b")], "stringInvalid"),
    "no payload format": (
        [interface(context=CONTEXT, **{"@type": ["Interface", "Mqtt"]})],
        "missingSupplementalLiteralProperty",
    ),
    "two error messages": (
        [
            model(
                [
                    obj(
                        "dtmi:test:Err;1",
                        ["Error"],
                        field("a", "string", "ErrorMessage"),
                        field("b", "string", "ErrorMessage"),
                    )
                ]
            )
        ],
        "siblingDuplicatesCotype",
    ),
    "role outside its object": (
        [model([obj("dtmi:test:O;1", [], field("code", CODES, "ErrorCode"))])],
        "parentMissingCotype",
    ),
    "read error that is not an Error": (
        [
            model(
                [
                    obj(
                        "dtmi:test:PR;1",
                        ["PropertyResult"],
                        field("e", {"@type": "Object", "fields": []}, "ReadError"),
                    )
                ]
            )
        ],
        "notRequiredType",
    ),
    "error code that is not an Enum": (
        [model([obj("dtmi:test:E;1", ["Error"], field("code", "string", "ErrorCode"))])],
        "notRequiredType",
    ),
    "result field without a role": (
        [model([obj("dtmi:test:R;1", ["Result"], field("x", "double"))])],
        "notRequiredType",
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_mqtt_models_are_accepted(name: str) -> None:
    assert parse(VALID[name]).errors == []


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_mqtt_models_are_rejected_with_their_id(name: str) -> None:
    documents, expected = INVALID[name]
    ids = {e.short_name() for e in parse(documents).errors}
    assert expected in ids, ids


def test_mqtt_v3_knows_results_but_not_property_topics() -> None:
    doc = model(propertyTopic="a/b")
    doc["@context"] = ["dtmi:dtdl:context;4", "dtmi:dtdl:extension:mqtt;3"]
    ids = {e.short_name() for e in parse([doc]).errors}
    assert "propertyUndefinedTerm" in ids


def _required_field(context: list[str], base: str, *cotypes: str) -> Any:
    member = {"@type": [base, *cotypes], "name": "x", "schema": "double"}
    if base == "Field":
        return interface(
            context=context,
            schemas=[{"@id": "dtmi:test:O;1", "@type": "Object", "fields": [member]}],
        )
    return interface(context=context, contents=[member])


def test_requirement_marks_fields_and_in_v2_properties() -> None:
    v1 = ["dtmi:dtdl:context;4", "dtmi:dtdl:extension:requirement;1"]
    v2 = ["dtmi:dtdl:context;4", "dtmi:dtdl:extension:requirement;2"]
    assert parse([_required_field(v1, "Field", "Required")]).errors == []
    assert parse([_required_field(v2, "Property", "Required")]).errors == []
    ids = {e.short_name() for e in parse([_required_field(v1, "Property", "Required")]).errors}
    assert "invalidCotype" in ids


def test_indirect_fields_cannot_be_required() -> None:
    context = [*CONTEXT, "dtmi:dtdl:extension:requirement;1"]
    ids = {
        e.short_name()
        for e in parse([_required_field(context, "Field", "Indirect", "Required")]).errors
    }
    assert "disallowedCocotype" in ids
