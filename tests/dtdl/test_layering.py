"""Layered models: ``X#layer`` documents are reported (their ids are not DTMIs) and merged
into ``X``, so disagreements between layers are reported too."""

from __future__ import annotations

from typing import Any

from twinkit.dtdl import ParseOptions, parse

from .cases import V3

LAYERING = "dtmi:dtdl:extension:layering;1"
LENIENT = ParseOptions(allow_undefined_extensions=True)


def _layer(contents: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": [V3, LAYERING],
        "@id": "dtmi:test:Pump;1#docs",
        "@type": ["Interface", "Layer"],
        "contents": contents,
    }


def _base(contents: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": V3, "@id": "dtmi:test:Pump;1", "@type": "Interface", "contents": contents}


def _names(documents: list[Any]) -> set[str]:
    return {e.short_name() for e in parse(documents, options=LENIENT).errors}


def test_a_layer_is_reported_but_merged_quietly_when_consistent() -> None:
    telemetry = {"@type": "Telemetry", "name": "flow", "schema": "double"}
    layer = _layer([{**telemetry, "description": "litres per second"}])
    assert _names([_base([telemetry]), layer]) == {"invalidId"}


def test_layers_that_disagree_are_reported() -> None:
    base = _base([{"@type": "Telemetry", "name": "flow", "schema": "double", "comment": "a"}])
    layer = _layer([{"@type": "Telemetry", "name": "flow", "schema": "double", "comment": "b"}])
    assert _names([base, layer]) == {"invalidId", "inconsistentStringValues"}


def test_a_layer_may_supply_what_the_base_lacks() -> None:
    base = _base([{"@type": "Telemetry", "name": "flow"}])
    layer = _layer([{"@type": "Telemetry", "name": "flow", "schema": "double"}])
    assert _names([base, layer]) == {"invalidId"}


def test_elements_of_another_layer_cannot_nest() -> None:
    layer = _layer(
        [{"@id": "dtmi:test:flow;1", "@type": "Telemetry", "name": "flow", "schema": "double"}]
    )
    assert "mismatchedLayers" in _names([_base([]), layer])


def test_a_layer_stating_a_semantic_type_supplies_its_unit() -> None:
    qt = "dtmi:dtdl:extension:quantitativeTypes;1"
    base = _base([{"@type": ["Telemetry", "Velocity"], "name": "speed", "schema": "double"}])
    base["@context"] = [V3, qt]
    layer = _layer(
        [
            {
                "@type": ["Telemetry", "Velocity"],
                "name": "speed",
                "schema": "double",
                "unit": "metrePerSecond",
            }
        ]
    )
    layer["@context"] = [V3, qt, LAYERING]
    assert _names([base, layer]) == {"invalidId", "missingSupplementalObjectProperty"}
