"""The corpus's fixture graph: a small building (RealEstateCore-like) and a process plant.

    site-1 ─hasPart→ floor-1..3 ─hasPart→ rooms ─hasPoint→ sensors
    room-302 (plant room) ─hasPart→ pump-2, pump-3
    pump-1 → tank-1 → pump-2 → tank-2 → pump-1   (a 4-cycle of `feeds`)
    tank-1 → pump-3 → tank-1                      (a 2-cycle)

Every write happens at a known time (a frozen clock, one second apart) so that
documents are identical across adapters and ``AS OF`` has fixed answers: the
graph is complete at ``BUILT`` and three changes follow at ``CHANGED``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from twinkit import Platform
from twinkit.testing import FrozenClock

START = datetime(2026, 1, 1, tzinfo=UTC)
BUILT = "2026-01-01T06:00:00Z"  # after the build, before the changes
CHANGED = datetime(2026, 1, 1, 12, tzinfo=UTC)

REC = "dtmi:twinkit:rec:"
PLANT = "dtmi:twinkit:plant:"


def _prop(name: str, schema: Any, writable: bool = False) -> dict[str, Any]:
    return {"@type": "Property", "name": name, "schema": schema, "writable": writable}


def _rel(name: str, target: str | None = None, props: list[Any] | None = None) -> dict[str, Any]:
    rel: dict[str, Any] = {"@type": "Relationship", "name": name}
    if target:
        rel["target"] = target
    if props:
        rel["properties"] = props
    return rel


def _interface(dtmi: str, contents: list[Any], extends: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": "dtmi:dtdl:context;3",
        "@id": dtmi,
        "@type": "Interface",
        "contents": contents,
    }
    if extends:
        doc["extends"] = extends
    return doc


LOCATION = {
    "@type": "Object",
    "fields": [{"name": "floor", "schema": "integer"}, {"name": "zone", "schema": "string"}],
}

MODELS: list[dict[str, Any]] = [
    _interface(
        REC + "Space;1",
        [_prop("name", "string"), _prop("area", "double"), _rel("hasPart"), _rel("hasPoint")],
    ),
    _interface(REC + "Site;1", [], REC + "Space;1"),
    _interface(REC + "Level;1", [_prop("level", "integer")], REC + "Space;1"),
    _interface(
        REC + "Room;1",
        [_prop("roomType", "string"), _prop("occupied", "boolean")],
        REC + "Space;1",
    ),
    _interface(REC + "Office;1", [], REC + "Room;1"),
    _interface(REC + "ConferenceRoom;1", [_prop("seats", "integer")], REC + "Room;1"),
    _interface(REC + "Point;1", [_prop("unit", "string"), _prop("name", "string")]),
    _interface(
        REC + "TemperatureSensor;1",
        [
            _prop("temperature", "double"),
            _prop("setpoint", "double", writable=True),
            {"@type": "Telemetry", "name": "reading", "schema": "double"},
        ],
        REC + "Point;1",
    ),
    _interface(REC + "Co2Sensor;1", [_prop("co2", "integer")], REC + "Point;1"),
    _interface(
        PLANT + "Asset;1",
        [
            _prop("name", "string"),
            _prop("location", LOCATION),
            _prop("tags", {"@type": "Array", "elementSchema": "string"}),
        ],
    ),
    _interface(
        PLANT + "Pump;1",
        [
            _prop("rpm", "integer", writable=True),
            _prop("vibration", "double"),
            _prop("running", "boolean"),
            {"@type": "Telemetry", "name": "flow", "schema": "double"},
            _rel("feeds", PLANT + "Tank;1", [_prop("flow", "double")]),
        ],
        PLANT + "Asset;1",
    ),
    _interface(
        PLANT + "Tank;1",
        [
            _prop("level", "double"),
            _prop("capacity", "double"),
            _prop("fluid", "string"),
            _rel("feeds", PLANT + "Pump;1", [_prop("flow", "double")]),
        ],
        PLANT + "Asset;1",
    ),
]

# id -> (model, reported)
TWINS: dict[str, tuple[str | None, dict[str, Any]]] = {
    "site-1": (REC + "Site;1", {"name": "HQ", "area": 5000.0}),
    "floor-1": (REC + "Level;1", {"name": "Floor 1", "level": 1, "area": 1500.0}),
    "floor-2": (REC + "Level;1", {"name": "Floor 2", "level": 2, "area": 1500.0}),
    "floor-3": (REC + "Level;1", {"name": "Floor 3", "level": 3, "area": 1200.0}),
    "room-101": (
        REC + "Office;1",
        {"name": "Office 101", "area": 20.0, "roomType": "office", "occupied": True},
    ),
    "room-102": (
        REC + "ConferenceRoom;1",
        {"name": "Boardroom", "area": 40.0, "roomType": "meeting", "occupied": False, "seats": 12},
    ),
    "room-201": (
        REC + "Office;1",
        {"name": "Office 201", "area": 25.0, "roomType": "office", "occupied": False},
    ),
    "room-202": (
        REC + "ConferenceRoom;1",
        {"name": "Huddle 202", "area": 60.0, "roomType": "meeting", "occupied": True, "seats": 4},
    ),
    "room-301": (REC + "Office;1", {"name": "Office 301", "area": 30.0, "roomType": "office"}),
    "room-302": (
        REC + "Room;1",
        {"name": "Plant room", "area": 15.0, "roomType": "plant", "occupied": False},
    ),
    "temp-101": (REC + "TemperatureSensor;1", {"name": "T101", "unit": "C", "temperature": 21.5}),
    "co2-101": (REC + "Co2Sensor;1", {"name": "CO2 101", "unit": "ppm", "co2": 600}),
    "temp-102": (REC + "TemperatureSensor;1", {"name": "T102", "unit": "C", "temperature": 22.0}),
    "temp-201": (REC + "TemperatureSensor;1", {"name": "T201", "unit": "C", "temperature": 23.5}),
    "temp-202": (REC + "TemperatureSensor;1", {"name": "T202", "unit": "C", "temperature": 19.0}),
    "co2-202": (REC + "Co2Sensor;1", {"name": "CO2 202", "unit": "ppm", "co2": 1200}),
    "temp-301": (REC + "TemperatureSensor;1", {"name": "T301", "unit": "C", "temperature": 26.0}),
    "temp-302": (REC + "TemperatureSensor;1", {"name": "T302", "unit": "F"}),
    "pump-1": (
        PLANT + "Pump;1",
        {
            "name": "Feed pump",
            "rpm": 1500,
            "vibration": 3.25,
            "running": True,
            "location": {"floor": 1, "zone": "A"},
            "tags": ["feed", "critical"],
        },
    ),
    "pump-2": (
        PLANT + "Pump;1",
        {
            "name": "Transfer pump",
            "rpm": 1200,
            "vibration": 7.5,
            "running": True,
            "location": {"floor": 3, "zone": "B"},
        },
    ),
    "pump-3": (
        PLANT + "Pump;1",
        {
            "name": "Standby pump",
            "rpm": 0,
            "vibration": 0.0,
            "running": False,
            "location": {"floor": 3, "zone": "B"},
        },
    ),
    "tank-1": (
        PLANT + "Tank;1",
        {"name": "Water tank", "level": 75.0, "capacity": 100.0, "fluid": "water"},
    ),
    "tank-2": (
        PLANT + "Tank;1",
        {"name": "Glycol tank", "level": 20.5, "capacity": 50.0, "fluid": "glycol"},
    ),
    "note-1": (
        None,
        {"label": "loose note", "n": "5", "meta": {"owner": None, "size": 3, "tags": ["a"]}},
    ),
}

# (source, relationship id, name, target, properties)
RELATIONSHIPS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("site-1", "part-floor-1", "hasPart", "floor-1", {}),
    ("site-1", "part-floor-2", "hasPart", "floor-2", {}),
    ("site-1", "part-floor-3", "hasPart", "floor-3", {}),
    ("floor-1", "part-room-101", "hasPart", "room-101", {}),
    ("floor-1", "part-room-102", "hasPart", "room-102", {}),
    ("floor-2", "part-room-201", "hasPart", "room-201", {}),
    ("floor-2", "part-room-202", "hasPart", "room-202", {}),
    ("floor-3", "part-room-301", "hasPart", "room-301", {}),
    ("floor-3", "part-room-302", "hasPart", "room-302", {}),
    ("room-101", "point-temp-101", "hasPoint", "temp-101", {}),
    ("room-101", "point-co2-101", "hasPoint", "co2-101", {}),
    ("room-102", "point-temp-102", "hasPoint", "temp-102", {}),
    ("room-201", "point-temp-201", "hasPoint", "temp-201", {}),
    ("room-202", "point-temp-202", "hasPoint", "temp-202", {}),
    ("room-202", "point-co2-202", "hasPoint", "co2-202", {}),
    ("room-301", "point-temp-301", "hasPoint", "temp-301", {}),
    ("room-302", "point-temp-302", "hasPoint", "temp-302", {}),
    ("room-302", "part-pump-2", "hasPart", "pump-2", {}),
    ("room-302", "part-pump-3", "hasPart", "pump-3", {}),
    ("pump-1", "feeds-tank-1", "feeds", "tank-1", {"flow": 10.5}),
    ("tank-1", "feeds-pump-2", "feeds", "pump-2", {"flow": 8.0}),
    ("pump-2", "feeds-tank-2", "feeds", "tank-2", {"flow": 4.5}),
    ("tank-2", "feeds-pump-1", "feeds", "pump-1", {"flow": 2.0}),
    ("tank-1", "feeds-pump-3", "feeds", "pump-3", {"flow": 0.0}),
    ("pump-3", "returns-tank-1", "feeds", "tank-1", {}),
]


async def build(platform: Platform, clock: FrozenClock) -> None:
    """Write the fixture graph, one second per write, then the later changes."""
    await platform.models.add(MODELS)
    for twin, (model, reported) in TWINS.items():
        clock.advance()
        await platform.twins.put(twin, model=model, reported=reported)
    for source, rel_id, name, target, props in RELATIONSHIPS:
        clock.advance()
        body = {"name": name, "target": target, "properties": props}
        await platform.twins.put_relationship(source, rel_id, body)
    clock.advance()
    await platform.twins.patch("pump-1", "desired", {"rpm": 1600})
    clock.advance()
    await platform.twins.patch("pump-2", "desired", {"rpm": 1200})
    clock.advance()
    await platform.twins.patch("temp-101", "desired", {"setpoint": 22.5})
    clock.advance()
    await platform.twins.telemetry("pump-1", {"flow": 9.75})
    clock.advance()
    await platform.twins.telemetry("temp-201", {"reading": 23.25})
    # later changes, for AS OF
    clock.set(CHANGED)
    await platform.twins.patch("pump-2", "reported", {"vibration": 9.0})
    clock.advance()
    await platform.twins.delete_relationship("tank-1", "feeds-pump-3")
    clock.advance()
    await platform.twins.put(
        "pump-4", model=PLANT + "Pump;1", reported={"name": "New pump", "rpm": 900}
    )
    clock.advance()
    await platform.flush()
