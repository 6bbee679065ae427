"""Who is asking: an authenticated identity and the policy subjects it speaks for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    ``subjects`` are the policy subject ids it matches: its own (``user:alice``,
    ``service:ingest``, ``device:pump-1``, ``oidc:<sub>``), its groups
    (``group:operators``) and its tenant (``tenant:acme``). ``id`` is the own one,
    written to the audit log and used for rate limits.
    """

    id: str
    subjects: frozenset[str]
    tenant: str | None = None
    rate: float | None = None  # requests per second, None: the configured default
    burst: float | None = None

    @classmethod
    def of(cls, id: str, *, groups: tuple[str, ...] = (), tenant: str | None = None) -> Principal:
        subjects = {id, *(f"group:{g}" for g in groups)}
        if tenant:
            subjects.add(f"tenant:{tenant}")
        return cls(id, frozenset(subjects), tenant)


ANONYMOUS = Principal("anonymous", frozenset({"anonymous"}))
