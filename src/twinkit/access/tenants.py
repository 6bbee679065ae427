"""Tenants as namespaces: a twin id ``acme~pump-1`` and a model ``dtmi:acme:Pump;1`` belong to
tenant ``acme``.

Ids are stored and shown whole (no rewriting), so a tenant's users name twins
with their prefix and every surface (REST, query, feeds, MQTT topics
``twinkit/acme~pump-1/…``) carries the tenant in the id itself. Isolation then
follows from policies: a tenant-scoped policy only ever applies to that tenant's
twins and models, and nothing is granted by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

SEPARATOR = "~"


@dataclass(frozen=True, slots=True)
class Tenants:
    """The known tenants and the DTMI prefixes of their models (default ``dtmi:<name>:``)."""

    model_prefixes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, names: Iterable[str], models: Mapping[str, Iterable[str]] | None = None) -> Tenants:
        models = models or {}
        return cls({n: tuple(models.get(n) or (f"dtmi:{n}:",)) for n in names})

    def __contains__(self, name: object) -> bool:
        return name in self.model_prefixes

    def __iter__(self) -> Iterator[str]:
        return iter(self.model_prefixes)

    def of_twin(self, twin_id: str | None) -> str | None:
        """The tenant a twin id belongs to, or None for a shared (un-prefixed) twin."""
        if not twin_id or SEPARATOR not in twin_id:
            return None
        name = twin_id.split(SEPARATOR, 1)[0]
        return name if name in self.model_prefixes else None

    def of_model(self, dtmi: str | None) -> str | None:
        if not dtmi:
            return None
        for name, prefixes in self.model_prefixes.items():
            if dtmi.startswith(prefixes):
                return name
        return None

    def twin_id(self, tenant: str, local_id: str) -> str:
        return f"{tenant}{SEPARATOR}{local_id}"
