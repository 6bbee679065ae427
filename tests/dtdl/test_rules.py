"""One small case per rule family: each valid case is accepted, each invalid one is rejected
with the reference parser's validation ID."""

from __future__ import annotations

from typing import Any

import pytest

from twinkit.dtdl import ParseOptions, parse

from .cases import QT, V2, V3, interface, nested_arrays, prop, telemetry

MQTT = "dtmi:dtdl:extension:mqtt;1"
HISTORIZATION = "dtmi:dtdl:extension:historization;1"
ANNOTATION = "dtmi:dtdl:extension:annotation;1"
OVERRIDING = "dtmi:dtdl:extension:overriding;1"

VALID: dict[str, list[dict[str, Any]]] = {
    "v2 minimal": [interface(context=V2, contents=[prop()])],
    "v3 unversioned nested id": [
        interface(
            contents=[
                prop(
                    "speed",
                    {"@id": "dtmi:test:Speeds", "@type": "Array", "elementSchema": "double"},
                )
            ]
        )
    ],
    "single object instead of array": [interface(contents=prop())],
    "value objects": [interface(contents=[prop(name={"@value": "speed"})])],
    "language map": [interface(displayName={"en": "Pump", "de-DE": "Pumpe"})],
    "array of language values": [interface(description=[{"@value": "a pump", "@language": "en"}])],
    "extends across documents": [
        interface("dtmi:test:Base;1", [prop("serial", "string")]),
        interface(extends="dtmi:test:Pump;2", **{"@id": "dtmi:test:Pump;1"}),
        interface("dtmi:test:Pump;2", extends=["dtmi:test:Base;1"]),
    ],
    "inline extends": [
        interface(
            extends={
                "@id": "dtmi:test:Base;1",
                "@type": "Interface",
                "contents": [prop("serial", "string")],
            }
        )
    ],
    "component": [
        interface(
            contents=[{"@type": "Component", "name": "motor", "schema": "dtmi:test:Motor;1"}]
        ),
        interface("dtmi:test:Motor;1", [prop("rpm", "integer")]),
    ],
    "five nested arrays": [interface(contents=[telemetry("t", nested_arrays(5))])],
    "enum of integers": [
        interface(
            contents=[
                prop(
                    "mode",
                    {
                        "@type": "Enum",
                        "valueSchema": "integer",
                        "enumValues": [
                            {"name": "off", "enumValue": 0},
                            {"name": "on", "enumValue": 1},
                        ],
                    },
                )
            ]
        )
    ],
    "v2 semantic type with unit": [
        interface(
            context=V2,
            contents=[
                {
                    "@type": ["Telemetry", "Temperature"],
                    "name": "t",
                    "schema": "double",
                    "unit": "degreeCelsius",
                }
            ],
        )
    ],
    "v3 quantitative type": [
        interface(
            context=[V3, QT],
            contents=[
                {
                    "@type": ["Property", "Pressure"],
                    "name": "p",
                    "schema": "float",
                    "unit": "kilopascal",
                }
            ],
        )
    ],
    "historized telemetry": [
        interface(
            context=[V3, HISTORIZATION],
            contents=[{"@type": ["Telemetry", "Historized"], "name": "t", "schema": "double"}],
        )
    ],
    "inherited annotation": [
        interface(
            "dtmi:test:Base;1",
            [
                {
                    "@type": ["Property", "ValueAnnotation"],
                    "name": "note",
                    "annotates": "speed",
                    "schema": "string",
                }
            ],
            context=[V3, ANNOTATION],
        ),
        interface(contents=[prop("speed")], extends="dtmi:test:Base;1"),
    ],
    "mqtt interface": [
        interface(
            context=[V3, MQTT],
            payloadFormat="Json/ecma/404",
            telemetryTopic="plant/{modelId}/telemetry",
            **{"@type": ["Interface", "Mqtt"]},
        )
    ],
    "annotation and override": [
        interface(
            context=[V3, QT, ANNOTATION, OVERRIDING],
            contents=[
                {
                    "@type": ["Property", "Temperature"],
                    "name": "target",
                    "schema": "double",
                    "unit": "degreeCelsius",
                    "writable": True,
                },
                {
                    "@type": ["Property", "ValueAnnotation", "Override"],
                    "name": "targetUnit",
                    "annotates": "target",
                    "overrides": "unit",
                    "schema": "TemperatureUnit",
                    "writable": True,
                },
            ],
        )
    ],
}

INVALID: dict[str, tuple[list[Any], str]] = {
    "no context": ([{"@id": "dtmi:test:Pump;1", "@type": "Interface"}], "missingContext"),
    "local context": ([interface(context=[V3, {"foo": "dtmi:foo;1"}])], "disallowedLocalContext"),
    "unknown DTDL version": (
        [interface(context="dtmi:dtdl:context;9")],
        "unrecognizedContextVersion",
    ),
    "context is not a DTMI": (
        [interface(context="http://example.com/ctx")],
        "nonDtmiContextSpecifier",
    ),
    "undefined extension in v3": (
        [interface(context=[V3, "dtmi:acme:ext;1"])],
        "unresolvableContextSpecifier",
    ),
    "bad DTMI": ([interface("dtmi:test:_bad;1")], "invalidId"),
    "v2 DTMI needs a version": ([interface("dtmi:test:Pump", context=V2)], "invalidId"),
    "reserved prefix": ([interface("dtmi:dtdl:Pump;1")], "reservedId"),
    "interface id too long": ([interface("dtmi:test:" + "a" * 130 + ";1")], "idTooLongForType"),
    "not rootable": (
        [{"@context": V3, "@id": "dtmi:test:A;1", "@type": "Array", "elementSchema": "double"}],
        "typeNotRootable",
    ),
    "two material types": (
        [
            interface(
                contents=[{"@type": ["Property", "Telemetry"], "name": "x", "schema": "double"}]
            )
        ],
        "multipleMaterialTypes",
    ),
    "undefined type term": (
        [interface(contents=[{"@type": ["Property", "Fancy"], "name": "x", "schema": "double"}])],
        "typeUndefinedTerm",
    ),
    "undefined property": ([interface(contents=[prop(color="red")])], "propertyUndefinedTerm"),
    "property of another class": (
        [interface(contents=[prop(target="dtmi:test:Pump;1")])],
        "propertyIrrelevantDtmiOrTerm",
    ),
    "keyword in v3": ([interface(contents=[prop(**{"@language": "en"})])], "keywordDisallowed"),
    "bad name": ([interface(contents=[prop("2fast")])], "stringInvalid"),
    "name too long": ([interface(contents=[prop("a" * 513)])], "stringTooLong"),
    "writable not boolean": ([interface(contents=[prop(writable="yes")])], "booleanNotBoolean"),
    "description too long": ([interface(description="x" * 513)], "langStringValueTooLong"),
    "bad language code": ([interface(displayName={"EN_us": "Pump"})], "langStringInvalidCode"),
    "duplicate names": (
        [interface(contents=[prop("a"), telemetry("a")])],
        "nonUniquePropertyValue",
    ),
    "duplicate definition": (
        [
            interface(
                contents=[
                    prop("a", **{"@id": "dtmi:test:x;1"}),
                    prop("b", **{"@id": "dtmi:test:x;1"}),
                ]
            )
        ],
        "duplicateDefinition",
    ),
    "unknown schema term": ([interface(contents=[prop("a", "decimal128")])], "badDtmiOrTerm"),
    "schema of wrong class": (
        [interface(contents=[prop("a", "dtmi:test:Pump;1")])],
        "notRequiredType",
    ),
    "missing required": (
        [interface(contents=[{"@type": "Telemetry", "name": "t"}])],
        "missingObjectProperty",
    ),
    "enum value type": (
        [
            interface(
                contents=[
                    prop(
                        "m",
                        {
                            "@type": "Enum",
                            "valueSchema": "integer",
                            "enumValues": [{"name": "a", "enumValue": "x"}],
                        },
                    )
                ]
            )
        ],
        "nonConformantDatatype",
    ),
    "six nested arrays": (
        [interface(contents=[telemetry("t", nested_arrays(6))])],
        "excessiveDepthWide",
    ),
    "extends cycle": (
        [
            interface("dtmi:test:A;1", extends="dtmi:test:B;1"),
            interface("dtmi:test:B;1", extends="dtmi:test:A;1"),
        ],
        "recursiveStructureNarrow",
    ),
    "extends too deep": (
        [interface(f"dtmi:test:I{i};1", extends=f"dtmi:test:I{i + 1};1") for i in range(11)]
        + [interface("dtmi:test:I11;1")],
        "excessiveDepthNarrow",
    ),
    "inherited name collision": (
        [
            interface("dtmi:test:A;1", [prop("x")], extends="dtmi:test:B;1"),
            interface("dtmi:test:B;1", [prop("x")]),
        ],
        "nonUniqueImportedPropertyValue",
    ),
    "component inside component": (
        [
            interface(
                "dtmi:test:A;1", [{"@type": "Component", "name": "b", "schema": "dtmi:test:B;1"}]
            ),
            interface(
                "dtmi:test:B;1", [{"@type": "Component", "name": "c", "schema": "dtmi:test:C;1"}]
            ),
            interface("dtmi:test:C;1"),
        ],
        "excludedType",
    ),
    "v2 array in property": (
        [interface(context=V2, contents=[prop("a", nested_arrays(1))])],
        "excludedType",
    ),
    "max multiplicity below 1": (
        [interface(contents=[{"@type": "Relationship", "name": "r", "maxMultiplicity": 0}])],
        "valueBelowMin",
    ),
    "unit of the wrong quantity": (
        [
            interface(
                context=[V3, QT],
                contents=[
                    {
                        "@type": ["Telemetry", "Temperature"],
                        "name": "t",
                        "schema": "double",
                        "unit": "metre",
                    }
                ],
            )
        ],
        "wrongParent",
    ),
    "semantic type needs a number": (
        [
            interface(
                context=[V3, QT],
                contents=[
                    {
                        "@type": ["Telemetry", "Temperature"],
                        "name": "t",
                        "schema": "string",
                        "unit": "degreeCelsius",
                    }
                ],
            )
        ],
        "notRequiredType",
    ),
    "semantic type on a command": (
        [
            interface(
                context=[V3, QT], contents=[{"@type": ["Command", "Temperature"], "name": "c"}]
            )
        ],
        "invalidCotype",
    ),
    "cacheable without idempotent": (
        [
            interface(
                context=[V3, MQTT],
                contents=[{"@type": ["Command", "Cacheable"], "name": "c", "ttl": "PT5M"}],
            )
        ],
        "missingCocotype",
    ),
    "mqtt without payload format": (
        [interface(context=[V3, MQTT], **{"@type": ["Interface", "Mqtt"]})],
        "missingSupplementalLiteralProperty",
    ),
    "override of a non-supplemental property": (
        [
            interface(
                context=[V3, QT, ANNOTATION, OVERRIDING],
                contents=[
                    {
                        "@type": ["Property", "Temperature"],
                        "name": "target",
                        "schema": "double",
                        "unit": "degreeCelsius",
                    },
                    {
                        "@type": ["Property", "ValueAnnotation", "Override"],
                        "name": "s",
                        "annotates": "target",
                        "overrides": "schema",
                        "schema": "string",
                    },
                ],
            )
        ],
        "matchingPropertyNotSupplemental",
    ),
    "local term definition": (
        [interface(context=[V3, {"foo": "http:no-slashes"}])],
        "localTermDefinitionInvalidUri",
    ),
    "v3 element inside v2": (
        [interface(context=V2, contents=[prop(**{"@context": V3})])],
        "disallowedVersionDefinition",
    ),
    "unknown extension version": (
        [interface(context=[V3, "dtmi:dtdl:extension:historization;99"])],
        "unresolvableContextVersion",
    ),
    "annotation of an annotation": (
        [
            interface(
                context=[V3, ANNOTATION],
                contents=[
                    prop("a"),
                    {
                        "@type": ["Property", "ValueAnnotation"],
                        "name": "b",
                        "annotates": "a",
                        "schema": "string",
                    },
                    {
                        "@type": ["Property", "ValueAnnotation"],
                        "name": "c",
                        "annotates": "b",
                        "schema": "string",
                    },
                ],
            )
        ],
        "disallowedType",
    ),
    "annotation of a command": (
        [
            interface(
                context=[V3, ANNOTATION],
                contents=[
                    {"@type": "Command", "name": "go"},
                    {
                        "@type": ["Property", "ValueAnnotation"],
                        "name": "note",
                        "annotates": "go",
                        "schema": "string",
                    },
                ],
            )
        ],
        "notSiblingRequiredType",
    ),
    "override with the wrong unit enum": (
        [
            interface(
                context=[V3, QT, ANNOTATION, OVERRIDING],
                contents=[
                    {
                        "@type": ["Property", "Temperature"],
                        "name": "t",
                        "schema": "double",
                        "unit": "degreeCelsius",
                    },
                    {
                        "@type": ["Property", "ValueAnnotation", "Override"],
                        "name": "u",
                        "annotates": "t",
                        "overrides": "unit",
                        "schema": "LengthUnit",
                    },
                ],
            )
        ],
        "siblingPropertyMismatch",
    ),
    "two overrides of one property": (
        [
            interface(
                context=[V3, QT, ANNOTATION, OVERRIDING],
                contents=[
                    {
                        "@type": ["Property", "Temperature"],
                        "name": "t",
                        "schema": "double",
                        "unit": "degreeCelsius",
                    },
                    {
                        "@type": ["Property", "ValueAnnotation", "Override"],
                        "name": "u1",
                        "annotates": "t",
                        "overrides": "unit",
                        "schema": "TemperatureUnit",
                    },
                    {
                        "@type": ["Property", "ValueAnnotation", "Override"],
                        "name": "u2",
                        "annotates": "t",
                        "overrides": "unit",
                        "schema": "TemperatureUnit",
                    },
                ],
            )
        ],
        "multipleReference",
    ),
    "duplicate mqtt index": (
        [
            interface(
                context=[V3, MQTT],
                contents=[
                    {
                        "@type": ["Telemetry", "Indexed"],
                        "name": "a",
                        "schema": "double",
                        "index": 1,
                    },
                    {
                        "@type": ["Telemetry", "Indexed"],
                        "name": "b",
                        "schema": "double",
                        "index": 1,
                    },
                ],
            )
        ],
        "nonUniquePropertyValue",
    ),
    "cross-partition reference": (
        [
            interface("dtmi:test:A;1", [prop("a", "dtmi:test:Arr;1")]),
            interface(
                "dtmi:test:B;1",
                schemas=[{"@id": "dtmi:test:Arr;1", "@type": "Array", "elementSchema": "double"}],
            ),
        ],
        "crossPartitionReference",
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_documents_are_accepted(name: str) -> None:
    result = parse(VALID[name])
    assert result.ok, [f"{e.short_name()} {e.path} {e.message}" for e in result.errors]
    assert result.interfaces


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_documents_are_rejected_with_their_id(name: str) -> None:
    documents, expected = INVALID[name]
    result = parse(documents)
    assert not result.ok
    assert expected in {e.short_name() for e in result.errors}, [
        f"{e.short_name()} {e.path}" for e in result.errors
    ]


def test_unresolved_reference_is_reported() -> None:
    result = parse([interface(extends="dtmi:test:Missing;1")])
    assert result.unresolved == ["dtmi:test:Missing;1"]
    assert result.errors[0].validation_id == "dtmi:dtdl:resolutionError:unresolvedReference"


def test_resolver_fetches_missing_models() -> None:
    asked: list[list[str]] = []

    def resolver(dtmis: list[str]) -> list[Any]:
        asked.append(dtmis)
        return [interface(dtmi, [prop("serial", "string")]) for dtmi in dtmis]

    result = parse([interface(extends="dtmi:test:Base;1")], resolver=resolver)
    assert result.ok, result.errors
    assert asked == [["dtmi:test:Base;1"]]
    assert [i.id for i in result.interfaces] == ["dtmi:test:Pump;1"]


def test_undefined_extension_allowed_when_asked() -> None:
    doc = interface(
        context=[V3, "dtmi:acme:ext;1"],
        contents=[
            {"@type": ["Property", "Fancy"], "name": "x", "schema": "double", "fanciness": 3}
        ],
    )
    assert parse([doc], options=ParseOptions(allow_undefined_extensions=True)).ok
    assert not parse([doc]).ok


def test_max_dtdl_version_option() -> None:
    result = parse([interface()], options=ParseOptions(max_dtdl_version=2))
    assert [e.short_name() for e in result.errors] == ["disallowedContextVersion"]


def test_historized_object_field_is_a_later_version_feature() -> None:
    field = {"@type": ["Field", "Historized"], "name": "v", "schema": "double"}
    doc = interface(
        context=[V3, "dtmi:dtdl:extension:historization;2"],
        schemas=[{"@id": "dtmi:test:Motion;1", "@type": "Object", "fields": [field]}],
    )
    names = {e.short_name() for e in parse([doc]).errors}
    assert names == {"invalidCotype", "invalidCotypeVersion"}
