"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from twinkit import Platform
from twinkit.testing import FrozenClock

PUMP: dict[str, Any] = {
    "@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"],
    "@id": "dtmi:acme:Pump;1",
    "@type": "Interface",
    "displayName": "Pump",
    "contents": [
        {"@type": "Property", "name": "serial", "schema": "string"},
        {"@type": "Property", "name": "rpm", "schema": "double", "writable": True},
        {
            "@type": "Property",
            "name": "mode",
            "writable": True,
            "schema": {
                "@type": "Enum",
                "valueSchema": "string",
                "enumValues": [
                    {"name": "eco", "enumValue": "eco"},
                    {"name": "boost", "enumValue": "boost"},
                ],
            },
        },
        {
            "@type": "Property",
            "name": "limits",
            "writable": True,
            "schema": {
                "@type": "Object",
                "fields": [
                    {"name": "low", "schema": "double"},
                    {"name": "high", "schema": "double"},
                ],
            },
        },
        {
            "@type": ["Telemetry", "Temperature"],
            "name": "temperature",
            "schema": "double",
            "unit": "degreeCelsius",
        },
        {"@type": "Telemetry", "name": "vibration", "schema": "double"},
        {"@type": "Command", "name": "reboot", "request": {"name": "delay", "schema": "integer"}},
        {
            "@type": "Relationship",
            "name": "feeds",
            "target": "dtmi:acme:Tank;1",
            "maxMultiplicity": 2,
            "properties": [{"@type": "Property", "name": "valve", "schema": "string"}],
        },
    ],
}
TANK: dict[str, Any] = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:acme:Tank;1",
    "@type": "Interface",
    "contents": [
        {"@type": "Property", "name": "level", "schema": "double"},
        {"@type": "Relationship", "name": "drains", "target": "dtmi:acme:Pump;1"},
    ],
}
BIG_TANK: dict[str, Any] = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:acme:BigTank;1",
    "@type": "Interface",
    "extends": "dtmi:acme:Tank;1",
    "contents": [{"@type": "Property", "name": "volume", "schema": "double"}],
}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(params=["memory", "sqlite"])
async def tk(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Platform]:
    """The same tests run against every storage adapter (the contract suite)."""
    path = None if request.param == "memory" else tmp_path / "twins.db"
    async with Platform.open(path, clock=clock) as tk:
        await tk.models.add([PUMP, TANK, BIG_TANK])
        yield tk
