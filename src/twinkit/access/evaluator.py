"""Deciding and redacting: the pure heart of access control (no I/O).

Policies are compiled, per principal and per scope context (twin, model,
tenant), into a trie of resource path segments; each node holds the permissions
granted and revoked exactly there. A question walks the trie along the path and
the deepest node with a decision answers (most specific wins); at one node a
revoke beats a grant. Compiled tries are cached, so the steady-state cost of a
check is a dict lookup plus a walk of a few segments.

    ev = Evaluator(policies, tenants)
    ev.can(alice, Permission.READ, "twin:/reported/temperature", twin="acme~pump-1",
           model="dtmi:acme:Pump;1")
    ev.redact_twin(document, alice)     # the document without what alice may not read
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from twinkit.access.policy import Entry, Permission, Policy, Resource
from twinkit.access.principal import Principal
from twinkit.access.tenants import Tenants
from twinkit.model.errors import TwinkitError
from twinkit.model.interface import ModelRegistry

READ: Final = Permission.READ
WRITE: Final = Permission.WRITE
_R: Final = 1  # READ as a plain int: IntFlag arithmetic is ~10x slower on the hot path
MISSING: Final = object()
CACHE_SIZE = 65_536

# Twin document fields that say which twin it is, not what it holds: shown when any part is.
IDENTITY_FIELDS = frozenset({"id", "model", "revision", "etag", "created_at", "updated_at"})
# Standard sections kept (possibly empty) so a redacted document keeps its shape.
SECTIONS = ("reported", "desired", "delta", "telemetry", "alerts", "analytics")


class Node:
    __slots__ = ("children", "grant", "grant_below", "revoke", "revoke_below")

    def __init__(self) -> None:
        self.children: dict[str, Node] = {}
        self.grant = 0
        self.revoke = 0
        self.grant_below = 0  # effective grants here or anywhere below
        self.revoke_below = 0  # revokes strictly below

    def decide(self, permission: int, inherited: bool) -> bool:
        if self.revoke & permission:
            return False
        if self.grant & permission:
            return True
        return inherited

    def seal(self) -> tuple[int, int]:
        grant, revoke = self.grant & ~self.revoke, 0
        for child in self.children.values():
            g, r = child.seal()
            grant |= g
            revoke |= r | child.revoke
        self.grant_below, self.revoke_below = grant, revoke
        return grant, revoke


class Decisions:
    """The compiled rules of one principal in one context: a trie per resource type."""

    __slots__ = ("roots",)

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.roots: dict[str, Node] = {}
        for entry in entries:
            for rule in entry.rules:
                node = self.roots.setdefault(rule.resource.type, Node())
                for segment in rule.resource.segments:
                    node = node.children.setdefault(segment, Node())
                node.grant |= int(rule.grant)
                node.revoke |= int(rule.revoke)
        for root in self.roots.values():
            root.seal()

    def walk(self, permission: int, kind: str, segments: Iterable[str]) -> tuple[Node | None, bool]:
        """The node at the path (None past the trie's end) and the decision there."""
        permission = int(permission)
        node = self.roots.get(kind)
        if node is None:
            return None, False
        allowed = node.decide(permission, False)
        for segment in segments:
            child = node.children.get(segment)
            if child is None:
                return None, allowed
            node = child
            allowed = node.decide(permission, allowed)
        return node, allowed

    def can(self, permission: int, kind: str, segments: Iterable[str] = ()) -> bool:
        return self.walk(permission, kind, segments)[1]

    def can_all(self, permission: int, kind: str, segments: Iterable[str] = ()) -> bool:
        """Allowed at the path and not revoked anywhere below it (whole-subtree writes)."""
        node, allowed = self.walk(permission, kind, segments)
        return allowed and (node is None or not node.revoke_below & int(permission))

    def can_any(self, permission: int, kind: str, segments: Iterable[str] = ()) -> bool:
        """Allowed at the path or somewhere below it (is any part visible?)."""
        node, allowed = self.walk(permission, kind, segments)
        return allowed or (node is not None and bool(node.grant_below & int(permission)))

    def filter(self, value: Any, kind: str, segments: Iterable[str], permission: int = READ) -> Any:
        """``value`` (found at the path) without what is not allowed; MISSING when none is."""
        node, allowed = self.walk(permission, kind, segments)
        return _filter(value, node, allowed, int(permission))


def _filter(value: Any, node: Node | None, allowed: bool, permission: int) -> Any:
    if node is None or not node.children:
        return value if allowed else MISSING
    if not isinstance(value, dict):
        return value if allowed else MISSING
    out: dict[str, Any] = {}
    children = node.children
    for key, item in value.items():
        child = children.get(key)
        if child is None:
            if allowed:
                out[key] = item
            continue
        kept = _filter(item, child, child.decide(permission, allowed), permission)
        if kept is not MISSING:
            out[key] = kept
    if not out and not allowed:
        return MISSING
    return out


class Evaluator:
    """Policies indexed by scope, compiled on demand per (principal, context) and cached."""

    def __init__(
        self,
        policies: Iterable[Policy] = (),
        tenants: Tenants | None = None,
        registry: ModelRegistry | None = None,
    ) -> None:
        self.tenants = tenants or Tenants()
        self.registry = registry
        self.policies = list(policies)
        self._global: list[Entry] = []
        self._scoped: dict[tuple[str, str], list[Entry]] = {}
        for policy in self.policies:
            if policy.scope.kind == "global":
                self._global.extend(policy.entries)
            else:
                key = (policy.scope.kind, policy.scope.value)
                self._scoped.setdefault(key, []).extend(policy.entries)
        self._model_scopes = tuple(v for k, v in self._scoped if k == "model")
        self._cache: dict[tuple[Any, ...], Decisions] = {}
        self._full_readers: dict[frozenset[str], bool] = {}

    # -- compiling -------------------------------------------------------------------------

    def decisions(
        self,
        principal: Principal,
        *,
        twin: str | None = None,
        model: str | None = None,
        tenant: str | None = None,
    ) -> Decisions:
        if tenant is None and twin is not None:
            tenant = self.tenants.of_twin(twin)
        scoped = self._scoped
        key = (
            principal.subjects,
            twin if ("twin", twin) in scoped else None,
            self.model_scopes(model),
            tenant if ("tenant", tenant) in scoped else None,
        )
        found = self._cache.get(key)
        if found is None:
            subjects = principal.subjects
            entries = [e for e in self._global if e.subjects & subjects]
            contexts = [("twin", key[1]), *(("model", m) for m in key[2]), ("tenant", key[3])]
            for kind, value in contexts:
                if value is not None:
                    entries.extend(e for e in scoped[(kind, value)] if e.subjects & subjects)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            found = self._cache[key] = Decisions(entries)
        return found

    def model_scopes(self, model: str | None) -> tuple[str, ...]:
        """The model scopes of policies that cover ``model``: its own and its ancestors'.

        A policy for every twin of ``dtmi:acme:Pump;1`` also covers twins of a model that
        ``extends`` it (DTDL's is-a), looked up in the platform's registry; a model the
        registry does not know only matches its own id.
        """
        if model is None or not self._model_scopes:
            return ()
        registry = self.registry
        if registry is None or model not in registry:
            return (model,) if ("model", model) in self._scoped else ()
        try:
            resolved = registry.resolve(model)
        except TwinkitError:
            return (model,) if ("model", model) in self._scoped else ()
        return tuple(m for m in self._model_scopes if resolved.is_a(m))

    def for_model(self, principal: Principal, model: str | None) -> Decisions:
        return self.decisions(principal, model=model, tenant=self.tenants.of_model(model))

    # -- questions -------------------------------------------------------------------------

    def can(
        self,
        principal: Principal,
        permission: Permission,
        resource: str | Resource,
        *,
        twin: str | None = None,
        model: str | None = None,
        tenant: str | None = None,
    ) -> bool:
        """May ``principal`` do ``permission`` on ``resource`` (``twin:/reported/x``) here?"""
        res = resource if isinstance(resource, Resource) else Resource.parse(resource)
        if tenant is None and model is not None and twin is None:
            tenant = self.tenants.of_model(model)
        found = self.decisions(principal, twin=twin, model=model, tenant=tenant)
        return found.can(permission, res.type, res.segments)

    def scopes_naming(self, principal: Principal, kind: str) -> list[tuple[str, str]]:
        """The scopes (``("tenant", "acme")``, …) with an entry naming ``principal`` that has
        rules on ``kind`` resources: the only scopes that can change its decisions there."""
        return [
            scope
            for scope, entries in self._scoped.items()
            if any(
                entry.subjects & principal.subjects
                and any(rule.resource.type == kind for rule in entry.rules)
                for entry in entries
            )
        ]

    def reads_every_twin(self, principal: Principal) -> bool:
        """True when no scoped policy can narrow what this principal reads of any twin.

        It reads ``twin:/`` entirely by a global policy and no scoped entry of it
        revokes READ: the fast path for queries (no per-row filtering needed).
        """
        known = self._full_readers.get(principal.subjects)
        if known is None:
            everywhere = self.decisions(principal).can_all(READ, "twin")
            narrowed = any(
                rule.revoke & READ
                for entries in self._scoped.values()
                for entry in entries
                if entry.subjects & principal.subjects
                for rule in entry.rules
                if rule.resource.type == "twin"
            )
            known = self._full_readers[principal.subjects] = everywhere and not narrowed
        return known

    # -- redacting -------------------------------------------------------------------------

    def redact_twin(
        self, document: Mapping[str, Any], principal: Principal, decisions: Decisions | None = None
    ) -> dict[str, Any] | None:
        """The twin document without every field the principal may not READ; None if nothing.

        reported/desired/telemetry/alerts/analytics/relationships map to
        ``twin:/<section>/…``; ``delta`` follows ``desired`` (it shows desired values);
        ``metadata`` keeps the timestamps of the values that remain.
        """
        if decisions is None:
            decisions = self.decisions(
                principal, twin=document.get("id"), model=document.get("model")
            )
        return redact_document(document, decisions)

    def redact_event(
        self, event: Mapping[str, Any], principal: Principal, decisions: Decisions | None = None
    ) -> dict[str, Any] | None:
        """An event (``Event.to_json()``) reduced to what the principal may read, or None."""
        if decisions is None:
            decisions = self.decisions(principal, twin=event.get("twin"), model=event.get("model"))
        return redact_event(event, decisions)


def redact_document(document: Mapping[str, Any], decisions: Decisions) -> dict[str, Any] | None:
    root = decisions.roots.get("twin")
    if root is None or not root.grant_below & _R:
        return None
    whole = root.decide(_R, False)
    if whole and not root.revoke_below & _R:
        return dict(document)
    out: dict[str, Any] = {}
    for key, value in document.items():
        if key in IDENTITY_FIELDS:
            out[key] = value
        elif key == "metadata":
            continue
        else:
            child = root.children.get("desired" if key == "delta" else key)
            kept = _filter(value, child, whole if child is None else child.decide(_R, whole), _R)
            if kept is not MISSING:
                out[key] = kept
            elif key in SECTIONS:
                out[key] = {}
    metadata = document.get("metadata")
    if isinstance(metadata, dict):
        out["metadata"] = {
            section: {k: v for k, v in stamps.items() if k in out.get(section, ())}
            for section, stamps in metadata.items()
            if isinstance(stamps, dict)
        }
    return out


_SECTION_OF = {
    "ReportedChanged": "reported",
    "DesiredChanged": "desired",
    "TelemetryReceived": "telemetry",
    "AnalyticsUpdated": "analytics",
}


def redact_event(event: Mapping[str, Any], decisions: Decisions) -> dict[str, Any] | None:
    root = decisions.roots.get("twin")
    visible = root is not None and bool(root.grant_below & _R)
    kind = event.get("kind", "")
    data = event.get("data") or {}
    if kind.startswith("Command"):
        name = data.get("name") or data.get("command") or ""
        return dict(event) if visible and decisions.can(READ, "command", (str(name),)) else None
    if not visible:
        return None
    if kind == "TwinDeleted":
        return dict(event)
    if kind in ("TwinCreated", "TwinReplaced"):
        body = dict(data)
        for part in ("reported", "desired"):
            if isinstance(body.get(part), dict):
                kept = decisions.filter(body[part], "twin", (part,))
                body[part] = {} if kept is MISSING else kept
        return {**event, "data": body}
    section = _SECTION_OF.get(kind)
    if section is not None:
        field = "values" if kind in ("TelemetryReceived", "AnalyticsUpdated") else "set"
        values = data.get(field)
        kept = decisions.filter(values, "twin", (section,)) if isinstance(values, dict) else {}
        kept = {} if kept is MISSING else kept
        removed = [
            k for k in data.get("removed", ()) if decisions.can(READ, "twin", (section, str(k)))
        ]
        if not kept and not removed:
            return None
        body = {**data, field: kept}
        if "removed" in data:
            body["removed"] = removed
        return {**event, "data": body}
    if kind.startswith("Relationship"):
        rel = data.get("relationship") or {}
        rel_id = (rel.get("id") if isinstance(rel, dict) else None) or data.get("id") or ""
        return dict(event) if decisions.can(READ, "twin", ("relationships", str(rel_id))) else None
    if kind.startswith("Alert"):
        alert = data.get("alert") or {}
        alert_id = (alert.get("id") if isinstance(alert, dict) else None) or data.get("id") or ""
        return dict(event) if decisions.can(READ, "twin", ("alerts", str(alert_id))) else None
    return dict(event) if decisions.can_all(READ, "twin") else None
