"""DTDL Interfaces and their contents as frozen objects, and a registry that resolves ``extends``.

These are what the engine uses; the DTDL parser (``twinkit.dtdl``) produces them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from twinkit.model.errors import Conflict, NotFound, ValidationFailed
from twinkit.model.schema import ANY, ObjectSchema, Primitive, Schema


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    schema: Schema
    writable: bool = False
    unit: str | None = None
    semantic_types: tuple[str, ...] = ()
    display_name: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Telemetry:
    name: str
    schema: Schema
    unit: str | None = None
    semantic_types: tuple[str, ...] = ()
    display_name: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CommandPayload:
    name: str
    schema: Schema
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    request: CommandPayload | None = None
    response: CommandPayload | None = None
    display_name: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Relationship:
    name: str
    target: str | None = None
    max_multiplicity: int | None = None
    min_multiplicity: int | None = None
    properties: tuple[Property, ...] = ()
    writable: bool = False
    display_name: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    schema: str
    display_name: str | None = None
    description: str | None = None


Content: TypeAlias = Property | Telemetry | Command | Relationship | Component


@dataclass(frozen=True, slots=True)
class Interface:
    """One DTDL Interface. ``contents`` holds only what it declares itself, not what it extends."""

    id: str
    contents: tuple[Content, ...] = ()
    extends: tuple[str, ...] = ()
    display_name: str | None = None
    description: str | None = None
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class ResolvedInterface:
    """An Interface with every inherited content folded in, keyed by name."""

    id: str
    ancestors: frozenset[str]
    properties: Mapping[str, Property]
    telemetry: Mapping[str, Telemetry]
    commands: Mapping[str, Command]
    relationships: Mapping[str, Relationship]
    components: Mapping[str, Component]
    numeric_telemetry: frozenset[str] = frozenset()
    """Telemetry names whose schema is float or double: the ingest fast path."""

    def names(self) -> frozenset[str]:
        return frozenset(self.properties) | frozenset(self.components)

    def is_a(self, model: str) -> bool:
        return model == self.id or model in self.ancestors


class ModelRegistry:
    """The set of Interfaces a platform knows, with ``extends`` and components resolved."""

    def __init__(self, interfaces: Iterable[Interface] = ()) -> None:
        self._interfaces: dict[str, Interface] = {}
        self._resolved: dict[str, ResolvedInterface] = {}
        for interface in interfaces:
            self._interfaces[interface.id] = interface

    def __contains__(self, dtmi: object) -> bool:
        return dtmi in self._interfaces

    def __iter__(self) -> Iterator[Interface]:
        return iter(self._interfaces.values())

    def __len__(self) -> int:
        return len(self._interfaces)

    def get(self, dtmi: str) -> Interface:
        try:
            return self._interfaces[dtmi]
        except KeyError:
            raise NotFound(f"model {dtmi} is not known", "/model") from None

    def add(self, interfaces: Iterable[Interface]) -> None:
        """Add Interfaces all-or-nothing: every ``extends`` and component must resolve."""
        staged = dict(self._interfaces)
        for interface in interfaces:
            staged[interface.id] = interface
        trial = ModelRegistry(staged.values())
        for dtmi in staged:
            trial.resolve(dtmi)
        self._interfaces = staged
        self._resolved.clear()

    def remove(self, dtmi: str) -> None:
        self.get(dtmi)
        users = sorted(i.id for i in self._interfaces.values() if dtmi in _references(i))
        if users:
            raise Conflict(f"model {dtmi} is used by {', '.join(users)}", "/model")
        del self._interfaces[dtmi]
        self._resolved.clear()

    def descendants(self, dtmi: str) -> frozenset[str]:
        """Every known model that is ``dtmi`` or extends it, transitively."""
        return frozenset(i for i in self._interfaces if self.resolve(i).is_a(dtmi))

    def resolve(self, dtmi: str) -> ResolvedInterface:
        cached = self._resolved.get(dtmi)
        if cached is None:
            cached = self._resolved[dtmi] = self._build(dtmi, ())
        return cached

    def _build(self, dtmi: str, chain: tuple[str, ...]) -> ResolvedInterface:
        if dtmi in chain:
            raise ValidationFailed(f"extends cycle: {' -> '.join((*chain, dtmi))}", "/extends")
        interface = self._interfaces.get(dtmi)
        if interface is None:
            where = f" (needed by {chain[-1]})" if chain else ""
            raise ValidationFailed(f"model {dtmi} is not known{where}", "/extends")
        tables: dict[type, dict[str, Any]] = {k: {} for k in _KINDS}
        ancestors: set[str] = set()
        for base in interface.extends:
            parent = self._build(base, (*chain, dtmi))
            ancestors |= {parent.id, *parent.ancestors}
            for kind, attr in _KINDS.items():
                tables[kind].update(getattr(parent, attr))
        for content in interface.contents:
            tables[type(content)][content.name] = content
        for component in tables[Component].values():
            self._build(component.schema, (*chain, dtmi))
        numeric = frozenset(
            name
            for name, tele in tables[Telemetry].items()
            if isinstance(tele.schema, Primitive) and tele.schema.name in ("float", "double")
        )
        return ResolvedInterface(
            dtmi,
            frozenset(ancestors),
            properties=tables[Property],
            telemetry=tables[Telemetry],
            commands=tables[Command],
            relationships=tables[Relationship],
            components=tables[Component],
            numeric_telemetry=numeric,
        )

    def property_schema(self, model: ResolvedInterface, name: str) -> Schema | None:
        """The schema of a reported/desired top-level name: a Property or a Component."""
        prop = model.properties.get(name)
        if prop is not None:
            return prop.schema
        component = model.components.get(name)
        if component is None:
            return None
        inner = self.resolve(component.schema)
        return ObjectSchema(tuple(_field(p) for p in inner.properties.values()))


_KINDS: dict[type, str] = {
    Property: "properties",
    Telemetry: "telemetry",
    Command: "commands",
    Relationship: "relationships",
    Component: "components",
}


def _field(prop: Property) -> Any:
    from twinkit.model.schema import Field

    return Field(prop.name, prop.schema)


def _references(interface: Interface) -> set[str]:
    refs = set(interface.extends)
    refs |= {c.schema for c in interface.contents if isinstance(c, Component)}
    return refs


SCHEMALESS = ResolvedInterface("", frozenset(), {}, {}, {}, {}, {})
"""Stands for 'no model': every name is accepted with any value."""

__all__ = [
    "ANY",
    "SCHEMALESS",
    "Command",
    "CommandPayload",
    "Component",
    "Content",
    "Interface",
    "ModelRegistry",
    "Property",
    "Relationship",
    "ResolvedInterface",
    "Telemetry",
]
