"""Payload mappers: adapt devices that speak other topic layouts and formats.

A mapper is a plain callable ``(topic, payload: bytes) -> list[Signal]`` registered
for a topic filter (``+`` and ``#`` allowed). The first matching mapper wins; the
twinkit layout (``twinkit/{id}/telemetry|reported``) is the built-in fallback.

>>> mappers = Mappers()
>>> @mappers.register("plant/gateway/+/readings")
... def gateway(topic: str, payload: bytes) -> list[Signal]:
...     body = orjson.loads(payload)
...     return [Signal(d["id"], "telemetry", d["values"]) for d in body["devices"]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twinkit.ingest.signals import Signal, SignalKind, decode_json, read_signal
from twinkit.ingest.topics import ROOT, TopicFilter

Mapper = Callable[[str, bytes], list[Signal]]

TWIN_KINDS: dict[str, SignalKind] = {"telemetry": "telemetry", "reported": "reported"}


@dataclass(frozen=True, slots=True)
class MapperRoute:
    filter: TopicFilter
    mapper: Mapper


class Mappers:
    """The registered mappers, tried in registration order."""

    def __init__(self) -> None:
        self.routes: list[MapperRoute] = []

    def register(self, pattern: str, mapper: Mapper | None = None) -> Callable[[Mapper], Mapper]:
        """Register ``mapper`` for ``pattern``; usable as a decorator."""

        def add(fn: Mapper) -> Mapper:
            self.routes.append(MapperRoute(TopicFilter(pattern), fn))
            return fn

        if mapper is not None:
            add(mapper)
        return add

    @property
    def patterns(self) -> list[str]:
        return [route.filter.text for route in self.routes]

    def find(self, parts: list[str]) -> Mapper | None:
        for route in self.routes:
            if route.filter.match_levels(parts) is not None:
                return route.mapper
        return None


def twinkit_layout(parts: list[str], payload: bytes) -> list[Signal]:
    """The built-in mapper for ``twinkit/{id}/telemetry`` and ``twinkit/{id}/reported``."""
    kind = TWIN_KINDS[parts[2]]
    return [read_signal(parts[1], kind, decode_json(payload))]


def twin_of(parts: list[str]) -> str | None:
    """The twin a twinkit-layout topic is about, if it is one."""
    if len(parts) >= 3 and parts[0] == ROOT:
        return parts[1]
    return None
