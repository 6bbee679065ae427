"""The public surface of twinkit.dtdl: names, results, error lines."""

from __future__ import annotations

import twinkit.dtdl as dtdl
from twinkit.dtdl import ParseOptions, ParsingError, format_error, parse
from twinkit.model.interface import Command, Component, Property, Relationship, Telemetry
from twinkit.model.schema import ArraySchema, EnumSchema, MapSchema, ObjectSchema, Primitive

from .cases import V2, interface, prop, telemetry


def test_public_names_are_pinned() -> None:
    assert sorted(dtdl.__all__) == [
        "ExportError",
        "ModelInvalid",
        "ParseOptions",
        "ParseResult",
        "ParsingError",
        "Resolver",
        "format_error",
        "interfaces",
        "load_paths",
        "parse",
        "to_json",
    ]


def test_valid_interface_becomes_model_objects() -> None:
    doc = interface(
        contents=[
            prop("speed", writable=True),
            telemetry("flow"),
            {
                "@type": "Command",
                "name": "start",
                "request": {"name": "mode", "schema": "string"},
                "response": {"name": "ok", "schema": "boolean"},
            },
            {
                "@type": "Relationship",
                "name": "feeds",
                "target": "dtmi:test:Pump;1",
                "maxMultiplicity": 3,
            },
            {"@type": "Component", "name": "motor", "schema": "dtmi:test:Motor;1"},
        ],
        displayName={"en": "Pump", "de": "Pumpe"},
    )
    motor = interface("dtmi:test:Motor;1", [prop("rpm", "integer")])
    result = parse([doc, motor])
    assert result.ok, result.errors
    pump = result.interfaces[0]
    assert pump.id == "dtmi:test:Pump;1"
    assert pump.display_name == "Pump"
    kinds = [type(c) for c in pump.contents]
    assert kinds == [Property, Telemetry, Command, Relationship, Component]
    speed = pump.contents[0]
    assert isinstance(speed, Property) and speed.writable and speed.schema == Primitive("double")
    feeds = pump.contents[3]
    assert isinstance(feeds, Relationship) and feeds.max_multiplicity == 3


def test_complex_schemas_are_built() -> None:
    doc = interface(
        contents=[
            prop("reading", "dtmi:test:Reading;1"),
            prop(
                "tags",
                {
                    "@type": "Map",
                    "mapKey": {"name": "k", "schema": "string"},
                    "mapValue": {"name": "v", "schema": "integer"},
                },
            ),
            telemetry("samples", {"@type": "Array", "elementSchema": "double"}),
        ],
        schemas=[
            {
                "@id": "dtmi:test:Reading;1",
                "@type": "Object",
                "fields": [
                    {"name": "value", "schema": "double"},
                    {
                        "name": "quality",
                        "schema": {
                            "@type": "Enum",
                            "valueSchema": "string",
                            "enumValues": [{"name": "good", "enumValue": "good"}],
                        },
                    },
                ],
            }
        ],
    )
    result = parse([doc])
    assert result.ok, result.errors
    reading, tags, samples = result.interfaces[0].contents
    assert isinstance(reading, Property) and isinstance(reading.schema, ObjectSchema)
    assert reading.schema.id == "dtmi:test:Reading;1"
    assert isinstance(reading.schema.fields[1].schema, EnumSchema)
    assert isinstance(tags, Property) and isinstance(tags.schema, MapSchema)
    assert isinstance(samples, Telemetry) and samples.schema == ArraySchema(Primitive("double"))


def test_error_carries_id_location_and_formats_as_one_line() -> None:
    content = {"@id": "dtmi:test:speed;1", "@type": "Property", "schema": "double"}
    result = parse([interface(contents=[content])])
    assert not result.ok and result.interfaces == []
    assert [e.short_name() for e in result.errors] == ["missingLiteralProperty"]
    error = result.errors[0]
    assert isinstance(error, ParsingError)
    assert error.validation_id == "dtmi:dtdl:parsingError:missingLiteralProperty"
    assert error.property == "name"
    assert error.primary_id == "dtmi:test:speed;1"
    assert error.path == "/contents/0"
    assert error.short_name() == "missingLiteralProperty"
    assert format_error(error) == (
        "dtmi:dtdl:parsingError:missingLiteralProperty 0#/contents/0: "
        "Property requires property 'name'"
    )


def test_documents_can_be_named() -> None:
    result = parse([interface(contents=[prop("bad name")])], names=["pump.json"])
    assert result.errors[0].document == "pump.json"
    assert format_error(result.errors[0]).startswith(
        "dtmi:dtdl:parsingError:stringInvalid pump.json#/contents/0/name:"
    )


def test_undefined_extensions_follow_the_option() -> None:
    doc = interface(context=[V2, "dtmi:acme:context;1"], contents=[prop()])
    assert parse([doc]).ok  # DTDL v2 allows undefined extensions by default
    strict = parse([doc], options=ParseOptions(allow_undefined_extensions=False))
    assert [e.short_name() for e in strict.errors] == ["unresolvableContextSpecifier"]
    flags = ParseOptions.from_flags(["DisallowUndefinedExtensions"])
    assert flags.allow_undefined_extensions is False


def test_interfaces_raises_one_error_listing_every_problem() -> None:
    import pytest

    good = interface(contents=[prop("speed")])
    bad = interface("dtmi:test:Bad;1", contents=[{"@type": "Property", "name": "x"}])
    assert [i.contents[0].name for i in dtdl.interfaces(good)] == ["speed"]
    with pytest.raises(dtdl.ModelInvalid) as caught:
        dtdl.interfaces([good, bad])
    assert caught.value.path.startswith("/1/contents/0")
    assert caught.value.to_json()["error"]["errors"][0]["validationID"].startswith("dtmi:dtdl:")
