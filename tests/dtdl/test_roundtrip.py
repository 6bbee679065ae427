"""Export round-trips: parse(to_json(x)) gives back an equal Interface."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinkit.dtdl import ExportError, parse, to_json
from twinkit.model.interface import (
    Command,
    CommandPayload,
    Component,
    Content,
    Interface,
    Property,
    Relationship,
    Telemetry,
)
from twinkit.model.schema import (
    ANY,
    ArraySchema,
    EnumSchema,
    EnumValue,
    Field,
    MapSchema,
    ObjectSchema,
    Primitive,
    Schema,
)

NAMES = st.from_regex(r"\A[a-z][a-zA-Z0-9]{0,10}\Z")
TEXT = st.none() | st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
PRIMITIVE = st.sampled_from(
    [
        "boolean",
        "date",
        "dateTime",
        "double",
        "duration",
        "float",
        "integer",
        "long",
        "string",
        "time",
    ]
).map(Primitive)


def _unique(items: list[tuple[str, Schema]]) -> tuple[Field, ...]:
    seen: dict[str, Field] = {}
    for name, schema in items:
        seen.setdefault(name, Field(name, schema))
    return tuple(seen.values())


SCHEMA: st.SearchStrategy[Schema] = st.recursive(
    PRIMITIVE,
    lambda inner: st.one_of(
        inner.map(ArraySchema),
        st.lists(st.tuples(NAMES, inner), min_size=1, max_size=3).map(
            lambda items: ObjectSchema(_unique(items))
        ),
        st.builds(MapSchema, NAMES, NAMES, inner),
        st.lists(NAMES, min_size=1, max_size=3, unique=True).map(
            lambda names: EnumSchema("string", tuple(EnumValue(n, n) for n in names))
        ),
    ),
    max_leaves=4,
)


def _content(kind: str, name: str, schema: Schema, label: str | None) -> Content:
    if kind == "property":
        return Property(name, schema, writable=True, display_name=label)
    if kind == "telemetry":
        return Telemetry(name, schema, description=label)
    if kind == "command":
        return Command(name, CommandPayload("input", schema), CommandPayload("output", schema))
    if kind == "relationship":
        return Relationship(
            name,
            "dtmi:test:Other;1",
            max_multiplicity=2,
            properties=(Property("since", Primitive("dateTime")),),
        )
    return Component(name, "dtmi:test:Other;1")


CONTENTS = st.lists(
    st.tuples(
        st.sampled_from(["property", "telemetry", "command", "relationship", "component"]),
        NAMES,
        SCHEMA,
        TEXT,
    ),
    max_size=5,
    unique_by=lambda item: item[1],
)


@settings(max_examples=60, deadline=None)
@given(contents=CONTENTS, label=TEXT)
def test_export_round_trips(
    contents: list[tuple[str, str, Schema, str | None]], label: str | None
) -> None:
    pump = Interface(
        "dtmi:test:Pump;1",
        tuple(_content(*item) for item in contents),
        display_name=label,
    )
    other = Interface("dtmi:test:Other;1", (Property("rpm", Primitive("integer")),))
    result = parse([to_json(pump), to_json(other)])
    assert result.ok, [(e.short_name(), e.path, e.message) for e in result.errors]
    assert result.interfaces == [pump, other]


def test_named_schemas_are_written_once_and_referenced() -> None:
    reading = ObjectSchema((Field("value", Primitive("double")),), id="dtmi:test:Reading;1")
    pump = Interface(
        "dtmi:test:Pump;1",
        (Telemetry("now", reading), Telemetry("history", ArraySchema(reading))),
    )
    doc = to_json(pump)
    assert [s["@id"] for s in doc["schemas"]] == ["dtmi:test:Reading;1"]
    assert doc["contents"][0]["schema"] == "dtmi:test:Reading;1"
    assert parse([doc]).interfaces == [pump]


def test_semantic_types_bring_their_extension_context() -> None:
    pump = Interface(
        "dtmi:test:Pump;1",
        (
            Property(
                "temp", Primitive("double"), unit="degreeCelsius", semantic_types=("Temperature",)
            ),
        ),
        extends=("dtmi:test:Base;1",),
    )
    base = Interface("dtmi:test:Base;1")
    doc = to_json(pump)
    assert doc["@context"] == ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"]
    assert parse([doc, to_json(base)]).interfaces == [pump, base]


def test_unknown_schema_shape_cannot_be_exported() -> None:
    with pytest.raises(ExportError):
        to_json(Interface("dtmi:test:Pump;1", (Property("where", ANY),)))


def test_only_self_contained_cotypes_reach_the_model() -> None:
    doc = {
        "@context": [
            "dtmi:dtdl:context;3",
            "dtmi:dtdl:extension:historization;1",
            "dtmi:dtdl:extension:annotation;1",
        ],
        "@id": "dtmi:test:Pump;1",
        "@type": "Interface",
        "contents": [
            {"@type": ["Telemetry", "Historized"], "name": "flow", "schema": "double"},
            {
                "@type": ["Property", "ValueAnnotation"],
                "name": "note",
                "annotates": "flow",
                "schema": "string",
            },
        ],
    }
    pump = parse([doc]).interfaces[0]
    flow, note = pump.contents
    assert isinstance(flow, Telemetry) and flow.semantic_types == ("Historized",)
    assert isinstance(note, Property) and note.semantic_types == ()
    assert parse([to_json(pump)]).interfaces == [pump]


def test_iot_central_types_export_as_dtdl_v2() -> None:
    doc = {
        "@context": ["dtmi:dtdl:context;2", "dtmi:iotcentral:context;2"],
        "@id": "dtmi:test:Pump;1",
        "@type": "Interface",
        "contents": [{"@type": ["Telemetry", "Event"], "name": "alarm", "schema": "string"}],
    }
    pump = parse([doc]).interfaces[0]
    exported = to_json(pump)
    assert exported["@context"] == ["dtmi:dtdl:context;2", "dtmi:iotcentral:context;2"]
    assert parse([exported]).interfaces == [pump]
