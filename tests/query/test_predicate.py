"""The WHERE grammar as the engine's conditional-write language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from twinkit import Platform, PreconditionFailed, ValidationFailed
from twinkit.query import install
from twinkit.query.predicate import predicate_for

DOC: dict[str, Any] = {
    "id": "pump-1",
    "model": "dtmi:acme:Pump;1",
    "reported": {"temp": 7, "mode": "eco", "limits": {"high": 9.5}, "on": True},
    "desired": {"temp": 5},
    "delta": {"temp": 5},
    "telemetry": {"flow": 1.5},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("temp > 5", True),
        ("reported.temp > 5", True),
        ("temp > 5 AND mode = 'eco'", True),
        ("temp > 9 OR mode = 'boost'", False),
        ("NOT temp > 9", True),
        ("NOT missing > 9", False),
        ("limits.high >= 9.5", True),
        ("desired.temp < reported.temp", True),
        ("delta.temp = 5", True),
        ("telemetry.flow = 1.5", True),
        ("$dtId = 'pump-1'", True),
        ("STARTSWITH($dtId, 'pump')", True),
        ("$metadata.$model = 'dtmi:acme:Pump;1'", True),
        ("IS_OF_MODEL('dtmi:acme:Pump;1')", True),
        ("mode IN ['eco', 'boost']", True),
        ("mode NIN ['eco']", False),
        ("on = true", True),
        ("IS_DEFINED(missing)", False),
        ("temp = '7'", False),
    ],
)
def test_predicates_on_one_document(text: str, expected: bool) -> None:
    assert predicate_for(text, None)(DOC) is expected


def test_bad_predicates_are_400s() -> None:
    with pytest.raises(ValidationFailed, match="line 1, column 7"):
        predicate_for("temp >", None)
    with pytest.raises(ValidationFailed, match="unknown function"):
        predicate_for("NOPE(temp)", None)


@pytest.fixture
def installed() -> Iterator[None]:
    yield
    install(None)


MODELS = [
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:t:Base;1",
        "@type": "Interface",
        "contents": [{"@type": "Property", "name": "temp", "schema": "double"}],
    },
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:t:Pump;1",
        "@type": "Interface",
        "extends": "dtmi:t:Base;1",
        "contents": [],
    },
]


async def test_install_makes_conditional_writes_use_the_query_grammar(installed: None) -> None:
    async with Platform.open(None) as tk:
        install(tk.registry)
        await tk.models.add(MODELS)
        await tk.twins.put("p", model="dtmi:t:Pump;1", reported={"temp": 3.0})
        with pytest.raises(PreconditionFailed):
            await tk.twins.patch("p", "reported", {"temp": 4.0}, condition="temp > 3")
        state = await tk.twins.patch(
            "p",
            "reported",
            {"temp": 4.0},
            condition="IS_OF_MODEL('dtmi:t:Base;1') AND NOT STARTSWITH($dtId, 'x')",
        )
        assert state.reported["temp"] == 4.0
        with pytest.raises(PreconditionFailed):
            await tk.twins.patch(
                "p", "reported", {"temp": 5.0}, condition="IS_OF_MODEL('dtmi:t:Base;1', exact)"
            )


async def test_conditions_see_models_added_after_they_were_first_compiled() -> None:
    async with Platform.open(None) as tk:
        await tk.models.add(MODELS)
        await tk.twins.put("p", model="dtmi:t:Pump;1", reported={"temp": 1.0})
        condition = "IS_OF_MODEL('dtmi:t:Base;1')"
        await tk.twins.patch("p", "reported", {"temp": 2.0}, condition=condition)
        late = {
            "@context": "dtmi:dtdl:context;3",
            "@id": "dtmi:t:Late;1",
            "@type": "Interface",
            "extends": "dtmi:t:Base;1",
        }
        await tk.models.add(late)
        await tk.twins.put("q", model="dtmi:t:Late;1", reported={"temp": 1.0})
        state = await tk.twins.patch("q", "reported", {"temp": 2.0}, condition=condition)
        assert state.reported["temp"] == 2.0
