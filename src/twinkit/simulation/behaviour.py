"""Plausible readings for simulated devices: a level, a daily cycle, a slow trend, noise,
and now and then a fault (a spike or a drift) that lasts a little while.

The level and spread are guessed from the telemetry's name (temperature, pressure,
humidity, …) so any DTDL model gives believable numbers without configuration.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from twinkit.model.schema import EnumSchema, Primitive, Schema

# name fragment -> (typical level, spread)
TYPICAL: tuple[tuple[str, float, float], ...] = (
    ("temperature", 22.0, 3.0),
    ("temp", 22.0, 3.0),
    ("humidity", 45.0, 8.0),
    ("co2", 600.0, 150.0),
    ("pressure", 3.2, 0.3),
    ("flow", 120.0, 15.0),
    ("level", 0.6, 0.15),
    ("vibration", 2.0, 0.4),
    ("speed", 1450.0, 40.0),
    ("rpm", 1450.0, 40.0),
    ("voltage", 230.0, 4.0),
    ("current", 12.0, 2.0),
    ("power", 2.5, 0.5),
)

DAY = 86_400.0


@dataclass(slots=True)
class Reading:
    """One simulated quantity."""

    level: float
    spread: float
    integer: bool = False
    phase: float = field(default_factory=lambda: random.uniform(0, DAY))
    trend: float = field(default_factory=lambda: random.uniform(-1e-5, 1e-5))
    fault_left: int = 0
    fault_kind: str = ""

    def sample(self, now: float, rng: random.Random, fault_rate: float = 0.001) -> float:
        daily = math.sin(2 * math.pi * ((now + self.phase) % DAY) / DAY)
        value = self.level + self.spread * (0.6 * daily + 0.25 * rng.gauss(0, 1))
        value += self.trend * self.level * (now % DAY)
        if self.fault_left == 0 and rng.random() < fault_rate:
            self.fault_left = rng.randint(10, 60)
            self.fault_kind = rng.choice(("spike", "drift"))
        if self.fault_left > 0:
            self.fault_left -= 1
            if self.fault_kind == "spike":
                value += self.spread * rng.uniform(4, 8)
            else:
                value += self.spread * 0.2 * (60 - self.fault_left)
        return float(round(value)) if self.integer else round(value, 3)


def reading_for(name: str, schema: Schema) -> Reading | None:
    """A generator for a numeric telemetry, or None when the schema is not numeric."""
    if not isinstance(schema, Primitive) or schema.name not in NUMERIC:
        return None
    lowered = name.lower()
    for fragment, level, spread in TYPICAL:
        if fragment in lowered:
            return Reading(level, spread, integer=schema.name in INTEGERS)
    return Reading(50.0, 5.0, integer=schema.name in INTEGERS)


def value_for(schema: Schema, rng: random.Random) -> object | None:
    """A plausible value for a non-numeric telemetry (booleans, enums, strings)."""
    if isinstance(schema, Primitive):
        if schema.name == "boolean":
            return rng.random() < 0.95
        if schema.name == "string":
            return rng.choice(("ok", "ok", "ok", "warning"))
    if isinstance(schema, EnumSchema) and schema.values:
        return rng.choice(schema.values).value
    return None


INTEGERS = frozenset({"integer", "long", "short", "byte", "unsignedInteger", "unsignedLong"})
NUMERIC = INTEGERS | {"double", "float", "decimal"}
