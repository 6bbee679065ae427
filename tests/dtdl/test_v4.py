"""DTDL v4 rules: new primitive schemas, nullable payloads, raised limits, limit contexts."""

from __future__ import annotations

from typing import Any

import pytest

from twinkit.dtdl import parse

from .cases import interface, nested_arrays, prop, telemetry

V4 = "dtmi:dtdl:context;4"
LIMITLESS = "dtmi:dtdl:context;4#limitless"
ONVIF = "dtmi:dtdl:limits:onvif;1"
AIO = "dtmi:dtdl:limits:aio;1"


def v4(contents: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    extra.setdefault("context", V4)
    return interface(contents=contents, **extra)


def chain(length: int, context: Any = V4) -> list[dict[str, Any]]:
    """``length`` Interfaces, each extending the next."""
    docs = []
    for i in range(length + 1):
        extra: dict[str, Any] = {"extends": f"dtmi:test:Base{i + 1};1"} if i < length else {}
        docs.append(interface(f"dtmi:test:Base{i};1", context=context, **extra))
    return docs


def self_map() -> dict[str, Any]:
    return {
        "@id": "dtmi:test:Tree;1",
        "@type": "Map",
        "mapKey": {"name": "k", "schema": "string"},
        "mapValue": {"name": "v", "schema": "dtmi:test:Tree;1"},
    }


VALID: dict[str, list[dict[str, Any]]] = {
    "byte array": [
        v4(schemas=[{"@id": "dtmi:test:B;1", "@type": "Array", "elementSchema": "byte"}])
    ],
    "new primitives": [
        v4(
            [
                prop(f"p{i}", s)
                for i, s in enumerate(
                    [
                        "bytes",
                        "uuid",
                        "decimal",
                        "short",
                        "unsignedByte",
                        "unsignedShort",
                        "unsignedInteger",
                        "unsignedLong",
                    ]
                )
            ]
        )
    ],
    "nullable request": [
        v4(
            [
                {
                    "@type": "Command",
                    "name": "go",
                    "request": {"name": "arg", "schema": "double", "nullable": True},
                    "response": {"name": "out", "schema": "string", "nullable": False},
                }
            ]
        )
    ],
    "eight nested arrays": [v4([telemetry("t", nested_arrays(8))])],
    "extends chain of 12": chain(12),
    "self-referencing map": [v4([prop("tree", "dtmi:test:Tree;1")], schemas=[self_map()])],
    "onvif limits": [v4([telemetry("t", nested_arrays(24))], context=[LIMITLESS, ONVIF])],
    "onvif long description": [
        v4([telemetry("t", description="d" * 4096)], context=[LIMITLESS, ONVIF])
    ],
    "aio limits": [v4([telemetry("t", nested_arrays(12))], context=[LIMITLESS, AIO])],
    "core limits spelled out": [v4([telemetry()], context=[LIMITLESS, f"{V4}#limits"])],
    "core limits, plain context": [v4([telemetry()], context=[LIMITLESS, V4])],
}

INVALID: dict[str, tuple[list[dict[str, Any]], str]] = {
    "byte in v3": (
        [interface(contents=[prop("b", "byte")])],
        "dtmi:dtdl:parsingError:badDtmiOrTerm",
    ),
    "nullable is not boolean": (
        [
            v4(
                [
                    {
                        "@type": "Command",
                        "name": "go",
                        "request": {"name": "arg", "schema": "double", "nullable": "yes"},
                    }
                ]
            )
        ],
        "dtmi:dtdl:parsingError:booleanNotBoolean",
    ),
    "nine nested arrays": (
        [v4([telemetry("t", nested_arrays(9))])],
        "dtmi:dtdl:parsingError:excessiveDepthWide",
    ),
    "extends chain of 13": (chain(13), "dtmi:dtdl:parsingError:excessiveDepthNarrow"),
    "onvif too deep": (
        [v4([telemetry("t", nested_arrays(25))], context=[LIMITLESS, ONVIF])],
        "dtmi:dtdl:parsingError:excessiveDepthWide",
    ),
    "onvif description too long": (
        [v4([telemetry("t", description="d" * 4097)], context=[LIMITLESS, ONVIF])],
        "dtmi:dtdl:parsingError:langStringValueTooLong",
    ),
    "unknown fragment": (
        [v4([telemetry()], context=f"{V4}#bogus")],
        "dtmi:dtdl:parsingError:invalidContextFragment",
    ),
    "limitless last": (
        [v4([telemetry()], context=[LIMITLESS])],
        "dtmi:dtdl:parsingError:missingLimitContext",
    ),
    "limitless then feature": (
        [v4([telemetry()], context=[LIMITLESS, "dtmi:dtdl:extension:historization;2", ONVIF])],
        "dtmi:dtdl:parsingError:missingLimitContext",
    ),
    "limits without limitless": (
        [v4([telemetry()], context=[V4, f"{V4}#limits"])],
        "dtmi:dtdl:parsingError:misplacedLimitContext",
    ),
    "limit with fragment": (
        [v4([telemetry()], context=[LIMITLESS, f"{ONVIF}#limits"])],
        "dtmi:dtdl:parsingError:invalidContextSpecifier",
    ),
    "v2 element inside v4": (
        [
            v4(
                schemas=[
                    {
                        "@context": "dtmi:dtdl:context;2",
                        "@id": "dtmi:test:A;1",
                        "@type": "Array",
                        "elementSchema": "double",
                    }
                ]
            )
        ],
        "dtmi:dtdl:parsingError:disallowedVersionDefinition",
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_v4_documents_are_accepted(name: str) -> None:
    result = parse(VALID[name])
    assert result.errors == []


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_v4_documents_are_rejected_with_their_id(name: str) -> None:
    documents, expected = INVALID[name]
    ids = {e.validation_id for e in parse(documents).errors}
    assert expected in ids


def test_self_referencing_map_is_recursive_in_v3() -> None:
    doc = interface(contents=[prop("tree", "dtmi:test:Tree;1")], schemas=[self_map()])
    ids = {e.validation_id for e in parse([doc]).errors}
    assert "dtmi:dtdl:parsingError:recursiveStructureWide" in ids


def test_plural_value_object_type_is_not_singular_in_v4() -> None:
    doc = v4([prop(writable={"@value": True, "@type": ["xsd:boolean", "xsd:boolean"]})])
    ids = {e.short_name() for e in parse([doc]).errors}
    assert ids == {"literalTypeNotSingular"}


def test_partner_type_without_its_context_is_reported_once() -> None:
    command = {"@type": ["Command", "GroupMember"], "name": "go", "group": "g"}
    ids = {e.short_name() for e in parse([v4([command])]).errors}
    assert ids == {"typeUndefinedTerm"}


def test_unknown_type_properties_are_still_reported() -> None:
    ids = {e.short_name() for e in parse([v4([typed_telemetry()])]).errors}
    assert ids == {"typeUndefinedTerm", "propertyUndefinedTerm"}


def typed_telemetry() -> dict[str, Any]:
    return {**telemetry(), "@type": ["Telemetry", "Foobar"], "foo": 1}


def ids_of(documents: list[dict[str, Any]]) -> set[str]:
    return {e.short_name() for e in parse(documents).errors}


def test_inline_relationship_target_is_not_an_identifier() -> None:
    rel = {"@type": "Relationship", "name": "r", "target": {"@type": "Interface"}}
    assert "identifierNotString" in ids_of([v4([rel])])


def test_unversioned_nested_dtdl_context_in_v4() -> None:
    nested = {**telemetry(), "@context": "dtmi:dtdl:context"}
    assert {"invalidContextSpecifierForVersion", "missingContextVersion"} <= ids_of([v4([nested])])


def test_slash_type_is_an_undefined_term_in_v4() -> None:
    odd = {**telemetry(), "@type": ["Telemetry", "Semantic/Thing"]}
    assert "typeUndefinedTerm" in ids_of([v4([odd])])
    assert "typeNotDtmiNorTerm" in ids_of([interface(contents=[odd])])


def test_unit_of_the_wrong_quantity_in_v4() -> None:
    speed = {**telemetry(), "@type": ["Telemetry", "Velocity"], "unit": "kilometre"}
    doc = v4([speed], context=[V4, "dtmi:dtdl:extension:quantitativeTypes;2"])
    assert {"wrongParent", "badType"} <= ids_of([doc])


def test_reference_to_the_wrong_class_in_v4() -> None:
    command = {"@id": "dtmi:test:cmd;1", "@type": "Command", "name": "cmd"}
    doc = v4([command, prop("p", "dtmi:test:cmd;1")])
    assert {"badType", "propertyCountBelowMin"} <= ids_of([doc])


def test_enum_value_schema_outside_the_allowed_set_in_v4() -> None:
    enum = {
        "@id": "dtmi:test:E;1",
        "@type": "Enum",
        "valueSchema": "double",
        "enumValues": [{"name": "a", "enumValue": 1}],
    }
    assert ids_of([v4(schemas=[enum])]) == {"incorrectPropertyValue"}


def test_local_contexts_in_v4() -> None:
    first = {**telemetry(), "@context": [{"Alt": "dtmi:x:y;1"}, V4]}
    assert {"disallowedLocalContext", "localContextNotLast"} <= ids_of([v4([first])])
    scheme = v4([telemetry()], context=[V4, {"dtmi": "dtmi:x:y;1"}])
    assert "localTermSchemePrefix" in ids_of([scheme])


def test_fragment_identifier_without_layer_in_v4() -> None:
    doc = interface("dtmi:test:Pump;1#part", context=V4)
    assert {"invalidId", "disallowedIdFragment"} <= ids_of([doc])


def test_v4_own_classes_only_admit_v4_definitions() -> None:
    embedded = {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:test:A;1",
        "@type": "Array",
        "elementSchema": "double",
    }
    assert "disallowedVersionDefinition" in ids_of([v4(schemas=[embedded])])
    content = {**telemetry(), "@context": "dtmi:dtdl:context;3"}
    assert parse([v4([content])]).errors == []  # contents admit any version's Content
