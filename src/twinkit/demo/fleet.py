"""Two small water-treatment sites: pumps feeding tanks, rooms with climate sensors.

``load_demo_fleet`` is idempotent: it adds what is missing and leaves the rest,
so ``twinkit demo`` can be restarted on the same database.
"""

from __future__ import annotations

from typing import Any

from twinkit.model.errors import NotFound
from twinkit.model.events import Context
from twinkit.platform import Platform

CONTEXT = ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"]
SITE = "dtmi:twinkit:demo:Site;1"
PUMP = "dtmi:twinkit:demo:Pump;1"
TANK = "dtmi:twinkit:demo:Tank;1"
ROOM = "dtmi:twinkit:demo:Room;1"


def _telemetry(name: str, unit_type: str | None = None, unit: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": "Telemetry", "name": name, "schema": "double"}
    if unit_type and unit:
        item["@type"] = ["Telemetry", unit_type]
        item["unit"] = unit
    return item


DEMO_MODELS: list[dict[str, Any]] = [
    {
        "@context": CONTEXT,
        "@id": SITE,
        "@type": "Interface",
        "displayName": "Site",
        "contents": [
            {"@type": "Property", "name": "city", "schema": "string"},
            {"@type": "Relationship", "name": "contains"},
        ],
    },
    {
        "@context": CONTEXT,
        "@id": TANK,
        "@type": "Interface",
        "displayName": "Tank",
        "contents": [
            _telemetry("level"),
            _telemetry("temperature", "Temperature", "degreeCelsius"),
            {"@type": "Property", "name": "capacity", "schema": "double"},
            {"@type": "Property", "name": "high_level", "schema": "double", "writable": True},
        ],
    },
    {
        "@context": CONTEXT,
        "@id": PUMP,
        "@type": "Interface",
        "displayName": "Pump",
        "contents": [
            _telemetry("flow"),
            _telemetry("pressure", "Pressure", "bar"),
            _telemetry("vibration"),
            _telemetry("temperature", "Temperature", "degreeCelsius"),
            {"@type": "Property", "name": "speed", "schema": "double", "writable": True},
            {"@type": "Property", "name": "running", "schema": "boolean", "writable": True},
            {"@type": "Property", "name": "firmware", "schema": "string"},
            {"@type": "Command", "name": "reboot"},
            {
                "@type": "Command",
                "name": "flush",
                "request": {"name": "seconds", "schema": "integer"},
            },
            {"@type": "Relationship", "name": "feeds", "target": TANK},
        ],
    },
    {
        "@context": CONTEXT,
        "@id": ROOM,
        "@type": "Interface",
        "displayName": "Room",
        "contents": [
            _telemetry("temperature", "Temperature", "degreeCelsius"),
            _telemetry("humidity"),
            _telemetry("co2"),
            {"@type": "Property", "name": "setpoint", "schema": "double", "writable": True},
        ],
    },
]

SITES = (("north", "Lyon"), ("south", "Marseille"))
PUMPS_PER_SITE = 6
TANKS_PER_SITE = 4
ROOMS_PER_SITE = 8


def demo_devices() -> list[tuple[str, str]]:
    """``(twin id, model)`` of every simulated device (sites have no device)."""
    devices: list[tuple[str, str]] = []
    for site, _ in SITES:
        devices += [(f"{site}-pump-{i}", PUMP) for i in range(1, PUMPS_PER_SITE + 1)]
        devices += [(f"{site}-tank-{i}", TANK) for i in range(1, TANKS_PER_SITE + 1)]
        devices += [(f"{site}-room-{i}", ROOM) for i in range(1, ROOMS_PER_SITE + 1)]
    return devices


async def load_demo_fleet(platform: Platform) -> int:
    """Add the demo models and twins that are missing; returns how many twins were added."""
    missing = [m for m in DEMO_MODELS if m["@id"] not in platform.registry]
    if missing:
        await platform.models.add(missing)
    context = Context(actor="demo")
    added = 0
    for site, city in SITES:
        added += await _ensure(platform, f"site-{site}", SITE, {"city": city}, {}, context)
        for index in range(1, TANKS_PER_SITE + 1):
            reported: dict[str, Any] = {"capacity": 50.0 + 10 * index}
            desired = {"high_level": 0.9}
            twin = f"{site}-tank-{index}"
            added += await _ensure(platform, twin, TANK, reported, desired, context)
            await _relate(platform, f"site-{site}", f"contains-{twin}", "contains", twin, context)
        for index in range(1, PUMPS_PER_SITE + 1):
            twin = f"{site}-pump-{index}"
            desired = {"speed": 1450.0, "running": True}
            reported = {"firmware": "1.4.2"}
            added += await _ensure(platform, twin, PUMP, reported, desired, context)
            await _relate(platform, f"site-{site}", f"contains-{twin}", "contains", twin, context)
            tank = f"{site}-tank-{(index - 1) % TANKS_PER_SITE + 1}"
            await _relate(platform, twin, f"feeds-{tank}", "feeds", tank, context)
        for index in range(1, ROOMS_PER_SITE + 1):
            twin = f"{site}-room-{index}"
            added += await _ensure(platform, twin, ROOM, {}, {"setpoint": 21.0}, context)
            await _relate(platform, f"site-{site}", f"contains-{twin}", "contains", twin, context)
    return added


async def _ensure(
    platform: Platform,
    twin: str,
    model: str,
    reported: dict[str, Any],
    desired: dict[str, Any],
    context: Context,
) -> int:
    if await platform.twins.exists(twin):
        return 0
    await platform.twins.put(twin, model=model, reported=reported, desired=desired, context=context)
    return 1


async def _relate(
    platform: Platform, source: str, rel_id: str, name: str, target: str, context: Context
) -> None:
    try:
        await platform.twins.get_relationship(source, rel_id)
    except NotFound:
        body = {"name": name, "target": target, "properties": {}}
        await platform.twins.put_relationship(source, rel_id, body, context=context)
