"""Policies as Eclipse Ditto writes them: entries of subjects → resources → grant/revoke.

A policy applies to one twin, to every twin of a model, to a tenant, or to
everything (its *scope*). Each entry names subjects (``user:alice``,
``group:operators``, ``tenant:acme``, ``device:pump-1``, ``oidc:<sub>``) and, per
resource path, the permissions it grants and revokes::

    {"id": "acme-operators", "tenant": "acme",
     "entries": {"operators": {
         "subjects": ["group:operators"],
         "resources": {
             "twin:/": {"grant": ["READ"]},
             "twin:/desired": {"grant": ["WRITE"]},
             "twin:/reported/patient": {"revoke": ["READ"]},
             "command:/reboot": {"grant": ["EXECUTE"]}}}}}

This module is pure data: parsing, validation and serialisation. Evaluation lives
in :mod:`twinkit.access.evaluator`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from twinkit.model.errors import ValidationFailed, pointer


class Permission(enum.IntFlag):
    """What a subject may do on a resource; WRITE does not imply READ."""

    READ = 1
    WRITE = 2
    EXECUTE = 4

    @classmethod
    def parse(cls, raw: Any, path: str) -> Permission:
        if isinstance(raw, str) and raw.upper() in cls.__members__:
            return cls[raw.upper()]
        raise ValidationFailed(f"{raw!r} is not a permission (READ, WRITE or EXECUTE)", path)


# The resource types a path may start with. ``metrics`` guards /metrics.
RESOURCE_TYPES = frozenset({"twin", "command", "model", "history", "policy", "audit", "metrics"})


@dataclass(frozen=True, slots=True)
class Resource:
    """``twin:/reported/temperature`` → type ``twin``, segments ``("reported", "temperature")``."""

    type: str
    segments: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str, path: str = "") -> Resource:
        kind, sep, rest = raw.partition(":")
        if not sep or kind not in RESOURCE_TYPES or not rest.startswith("/"):
            known = ", ".join(f"{t}:/" for t in sorted(RESOURCE_TYPES))
            raise ValidationFailed(f"{raw!r} is not a resource path (one of {known}…)", path)
        return cls(kind, split_path(rest))

    def __str__(self) -> str:
        return f"{self.type}:{pointer(*self.segments) or '/'}"


def split_path(raw: str) -> tuple[str, ...]:
    """A JSON-pointer-like path as segments; empty segments (``//``, trailing ``/``) drop."""
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in raw.split("/") if p)


@dataclass(frozen=True, slots=True)
class Rule:
    """Grants and revokes on one resource path."""

    resource: Resource
    grant: Permission = Permission.READ & 0
    revoke: Permission = Permission.READ & 0


@dataclass(frozen=True, slots=True)
class Entry:
    label: str
    subjects: frozenset[str]
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Scope:
    """What a policy applies to: ``global``, one ``twin``, a ``model``'s twins, a ``tenant``."""

    kind: str = "global"
    value: str = ""

    def __str__(self) -> str:
        return self.kind if self.kind == "global" else f"{self.kind} {self.value}"


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    scope: Scope = Scope()
    entries: tuple[Entry, ...] = field(default_factory=tuple)

    @classmethod
    def from_json(cls, raw: Any, path: str = "") -> Policy:
        if not isinstance(raw, Mapping):
            raise ValidationFailed("a policy is an object with id, scope and entries", path)
        policy_id = raw.get("id")
        if not isinstance(policy_id, str) or not policy_id:
            raise ValidationFailed("a policy needs an id (a string)", path + "/id")
        scopes = [k for k in ("twin", "model", "tenant") if raw.get(k) is not None]
        if len(scopes) > 1:
            raise ValidationFailed(
                "a policy applies to one twin, one model or one tenant, not several", path
            )
        scope = Scope()
        if scopes:
            value = raw[scopes[0]]
            if not isinstance(value, str) or not value:
                raise ValidationFailed(f"{scopes[0]} must be a string", f"{path}/{scopes[0]}")
            scope = Scope(scopes[0], value)
        entries_raw = raw.get("entries", {})
        if not isinstance(entries_raw, Mapping):
            raise ValidationFailed("entries is an object: label -> entry", path + "/entries")
        entries = tuple(
            _entry(label, body, f"{path}/entries/{label}") for label, body in entries_raw.items()
        )
        return cls(policy_id, scope, entries)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.scope.kind != "global":
            out[self.scope.kind] = self.scope.value
        out["entries"] = {
            e.label: {
                "subjects": sorted(e.subjects),
                "resources": {str(r.resource): _rule_json(r) for r in e.rules},
            }
            for e in self.entries
        }
        return out


def _entry(label: str, raw: Any, path: str) -> Entry:
    if not isinstance(raw, Mapping):
        raise ValidationFailed("an entry is an object with subjects and resources", path)
    subjects = raw.get("subjects", [])
    if not isinstance(subjects, list) or not all(isinstance(s, str) and s for s in subjects):
        raise ValidationFailed("subjects is a list of strings", path + "/subjects")
    resources = raw.get("resources", {})
    if not isinstance(resources, Mapping):
        raise ValidationFailed("resources is an object: path -> grant/revoke", path + "/resources")
    rules = []
    for name, body in resources.items():
        where = f"{path}/resources/{pointer(name)[1:]}"
        resource = Resource.parse(name, where)
        if not isinstance(body, Mapping) or set(body) - {"grant", "revoke"}:
            raise ValidationFailed("a resource has grant and/or revoke lists", where)
        rules.append(
            Rule(
                resource,
                _permissions(body.get("grant", []), where + "/grant"),
                _permissions(body.get("revoke", []), where + "/revoke"),
            )
        )
    return Entry(label, frozenset(subjects), tuple(rules))


def _permissions(raw: Any, path: str) -> Permission:
    if not isinstance(raw, list):
        raise ValidationFailed("a list of permissions (READ, WRITE, EXECUTE)", path)
    result = Permission(0)
    for index, item in enumerate(raw):
        result |= Permission.parse(item, f"{path}/{index}")
    return result


def _rule_json(rule: Rule) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, perms in (("grant", rule.grant), ("revoke", rule.revoke)):
        if perms:
            out[key] = [p.name for p in Permission if p in perms and p.name]
    return out


def load_policies(raw: Iterable[Any], path: str = "/policies") -> list[Policy]:
    """Parse a list of policies; ids must be unique."""
    policies: list[Policy] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        policy = Policy.from_json(item, f"{path}/{index}")
        if policy.id in seen:
            raise ValidationFailed(f"policy id {policy.id!r} appears twice", f"{path}/{index}/id")
        seen.add(policy.id)
        policies.append(policy)
    return policies
