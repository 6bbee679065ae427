"""DTDL schemas: values are checked with errors that carry a JSON pointer."""

from __future__ import annotations

from typing import Any

import pytest

from twinkit import ValidationFailed
from twinkit.dtdl import interfaces as interfaces_from_json
from twinkit.model.interface import ModelRegistry
from twinkit.model.schema import (
    ArraySchema,
    EnumSchema,
    EnumValue,
    Field,
    MapSchema,
    ObjectSchema,
    Primitive,
    check,
)


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ("boolean", True, 1),
        ("integer", 7, 2**31),
        ("integer", 7.0, 7.5),
        ("long", -(2**63), 2**63),
        ("double", 1, "1"),
        ("float", 1.5, True),
        ("string", "x", 5),
        ("date", "2026-11-25", "2026-13-01"),
        ("dateTime", "2026-11-25T10:00:00Z", "2026-11-25T10:00:00"),
        ("time", "10:30:00", "25:00:00"),
        ("duration", "P1DT2H", "1 day"),
        ("duration", "PT0.5S", "P"),
    ],
)
def test_primitives(schema: str, good: Any, bad: Any) -> None:
    check(good, Primitive(schema), "/v")
    with pytest.raises(ValidationFailed) as caught:
        check(bad, Primitive(schema), "/v")
    assert caught.value.path == "/v"


def test_complex_schemas_point_at_the_offending_element() -> None:
    point = ObjectSchema((Field("x", Primitive("double")), Field("y", Primitive("double"))))
    path_schema = ArraySchema(point)
    check([{"x": 1, "y": 2}], path_schema, "")
    with pytest.raises(ValidationFailed) as caught:
        check([{"x": 1}, {"x": "a"}], path_schema, "/track")
    assert caught.value.path == "/track/1/x"
    names = MapSchema("sensor", "reading", Primitive("integer"))
    with pytest.raises(ValidationFailed) as caught:
        check({"a/b": 1, "c": "x"}, names, "/m")
    assert caught.value.path == "/m/c"
    colour = EnumSchema("integer", (EnumValue("red", 1), EnumValue("green", 2)))
    check(2, colour, "")
    with pytest.raises(ValidationFailed):
        check(True, colour, "")


def test_loader_resolves_named_schemas_extends_and_components() -> None:
    documents = [
        {
            "@context": "dtmi:dtdl:context;3",
            "@id": "dtmi:x:Base;1",
            "@type": "Interface",
            "contents": [{"@type": "Property", "name": "serial", "schema": "string"}],
        },
        {
            "@context": "dtmi:dtdl:context;3",
            "@id": "dtmi:x:Thermostat;1",
            "@type": "Interface",
            "contents": [
                {"@type": "Property", "name": "target", "schema": "double", "writable": True}
            ],
        },
        {
            "@context": "dtmi:dtdl:context;3",
            "@id": "dtmi:x:Room;1",
            "@type": "Interface",
            "extends": ["dtmi:x:Base;1"],
            "schemas": [
                {
                    "@id": "dtmi:x:Mode;1",
                    "@type": "Enum",
                    "valueSchema": "string",
                    "enumValues": [{"name": "on", "enumValue": "on"}],
                }
            ],
            "contents": [
                {"@type": "Property", "name": "mode", "schema": "dtmi:x:Mode;1"},
                {"@type": "Component", "name": "thermostat", "schema": "dtmi:x:Thermostat;1"},
                {
                    "@type": "Command",
                    "name": "reset",
                    "request": {"name": "hard", "schema": "boolean"},
                },
            ],
        },
    ]
    registry = ModelRegistry(interfaces_from_json(documents))
    room = registry.resolve("dtmi:x:Room;1")
    assert room.is_a("dtmi:x:Base;1")
    assert set(room.properties) == {"serial", "mode"}
    assert room.commands["reset"].request is not None
    schema = registry.property_schema(room, "thermostat")
    assert schema is not None
    check({"target": 21.5}, schema, "/thermostat")
    with pytest.raises(ValidationFailed) as caught:
        check({"target": "warm"}, schema, "/thermostat")
    assert caught.value.path == "/thermostat/target"
    assert registry.descendants("dtmi:x:Base;1") == {"dtmi:x:Base;1", "dtmi:x:Room;1"}


def test_registry_refuses_unknown_bases_and_cycles_all_or_nothing() -> None:
    from twinkit.model.interface import Interface

    registry = ModelRegistry()
    loop = [
        Interface("dtmi:x:A;1", extends=("dtmi:x:B;1",)),
        Interface("dtmi:x:B;1", extends=("dtmi:x:A;1",)),
    ]
    with pytest.raises(ValidationFailed, match="cycle"):
        registry.add(loop)
    with pytest.raises(ValidationFailed, match="not known"):
        registry.add([Interface("dtmi:x:C;1", extends=("dtmi:x:Nope;1",))])
    assert len(registry) == 0
