"""What the HTTP layer needs from access control, bound to one platform and one auth file.

A :class:`Guard` answers the middleware's questions: who is calling, in which
context a twin is (its model and tenant, looked up from the engine's cache), and
whether a principal holds a permission anywhere at all (the gate for list and
query routes, so a subject with no grant gets 403 rather than an empty list).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt

from twinkit.access.audit import AuditEntry, AuditLog, now_iso
from twinkit.access.config import AuthConfig
from twinkit.access.evaluator import Decisions, Evaluator
from twinkit.access.policy import Permission, Resource
from twinkit.access.principal import Principal
from twinkit.access.query_filter import Snapshot
from twinkit.access.ratelimit import RateLimiter
from twinkit.access.visibility import twin_scope
from twinkit.model.errors import NotFound, TwinkitError
from twinkit.query.scope import TwinScope

if TYPE_CHECKING:
    from twinkit.platform import Platform


class Unauthenticated(TwinkitError):
    code = "unauthorized"
    status = 401


class Forbidden(TwinkitError):
    code = "forbidden"
    status = 403


class TooManyRequests(TwinkitError):
    code = "too_many_requests"
    status = 429


@dataclass(slots=True)
class Guard:
    platform: Platform
    config: AuthConfig
    audit: AuditLog
    authorize: bool = True  # False: authenticate and audit only (the bench's baseline)
    evaluator: Evaluator = field(init=False)
    limiter: RateLimiter | None = field(init=False)
    _gates: dict[tuple[frozenset[str], int, str], bool] = field(init=False, default_factory=dict)
    _jwts: dict[str, tuple[Principal, float]] = field(init=False, default_factory=dict)
    # for queries of restricted principals: current documents, and per principal the
    # redacted ones by (twin, revision) — see twinkit.access.query_filter
    snapshot: Snapshot = field(init=False, default_factory=Snapshot)
    redacted: dict[frozenset[str], dict[str, tuple[int, Any]]] = field(
        init=False, default_factory=dict
    )
    graphs: dict[frozenset[str], dict[str, tuple[int, Any]]] = field(
        init=False, default_factory=dict
    )
    # per principal and set of models: the scope its queries run in (see access.visibility)
    scopes: dict[tuple[frozenset[str], tuple[int, ...]], TwinScope | None] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self.evaluator = self.config.evaluator(self.platform.registry)
        rate = self.config.rate
        self.limiter = RateLimiter(rate, self.config.burst or rate) if rate else None

    def reload(self, config: AuthConfig) -> None:
        """Swap in a changed auth file (new tokens, policies) without restarting."""
        self.config = config
        self.__post_init__()
        self._gates.clear()
        self._jwts.clear()
        self.redacted.clear()
        self.graphs.clear()
        self.scopes.clear()

    # -- who -------------------------------------------------------------------------------

    async def authenticate(self, credential: str | None) -> Principal:
        """The caller of a bearer credential, or 401.

        API tokens are checked inline (a hash). JWTs are verified in a thread — a
        JWKS URL may need fetching — and the result is kept until the token expires.
        """
        if not credential:
            raise Unauthenticated("this endpoint needs a bearer token (Authorization header)")
        principal: Principal | None
        if self.config.oidc is not None and credential.count(".") == 2:
            cached = self._jwts.get(credential)
            if cached is not None and cached[1] > time.time():
                return cached[0]
            principal = await asyncio.to_thread(self.config.authenticate, credential)
            if principal is not None:
                if len(self._jwts) >= 10_000:
                    self._jwts.clear()
                expires = jwt.decode(credential, options={"verify_signature": False}).get("exp")
                self._jwts[credential] = (principal, float(expires or 0))
        else:
            principal = self.config.authenticate(credential)
        if principal is None:
            raise Unauthenticated("the bearer token is not valid (unknown, expired or revoked)")
        return principal

    def spend(self, principal: Principal) -> float:
        """Seconds to wait when over the rate limit, 0.0 when the request may go on."""
        if self.limiter is None and principal.rate is None:
            return 0.0
        if self.limiter is None:
            self.limiter = RateLimiter(principal.rate or 1.0, principal.burst or 1.0)
        return self.limiter.take(principal.id, principal.rate, principal.burst)

    # -- where -----------------------------------------------------------------------------

    async def model_of(self, twin: str) -> str | None:
        try:
            return (await self.platform.twins.get(twin)).model
        except NotFound:
            return None

    async def twin(self, principal: Principal, twin: str, model: str | None = None) -> Decisions:
        """The principal's decisions on one twin (its stored model unless ``model`` is given)."""
        if model is None:
            model = await self.model_of(twin)
        return self.evaluator.decisions(principal, twin=twin, model=model)

    def model(self, principal: Principal, dtmi: str | None) -> Decisions:
        return self.evaluator.for_model(principal, dtmi)

    def everywhere(self, principal: Principal) -> Decisions:
        return self.evaluator.decisions(principal)

    def holds_anywhere(self, principal: Principal, permission: Permission, kind: str) -> bool:
        """Does any policy (of any scope) grant this principal ``permission`` on ``kind``?"""
        key = (principal.subjects, int(permission), kind)
        known = self._gates.get(key)
        if known is None:
            known = any(
                rule.grant & permission
                for policy in self.evaluator.policies
                for entry in policy.entries
                if entry.subjects & principal.subjects
                for rule in entry.rules
                if rule.resource.type == kind
            )
            self._gates[key] = known
        return known

    def redactions(self, principal: Principal) -> dict[str, tuple[int, Any]]:
        """This principal's cache of redacted documents (a few principals are kept)."""
        return _per_principal(self.redacted, principal)

    def graph_cache(self, principal: Principal) -> dict[str, tuple[int, Any]]:
        """This principal's redacted query graph, valid while nothing changed."""
        return _per_principal(self.graphs, principal)

    def scope(self, principal: Principal) -> TwinScope | None:
        """What of the twin graph ``principal``'s queries see (None: too complex for SQL).

        Model scopes follow ``extends``, so the answer is kept per set of models: adding
        or replacing a model (a new interface object) computes it again.
        """
        key = (principal.subjects, tuple(map(id, self.platform.registry)))
        if key not in self.scopes:
            if len(self.scopes) >= 256:
                self.scopes.clear()
            self.scopes[key] = twin_scope(self.evaluator, principal)
        return self.scopes[key]

    def require(self, allowed: bool, permission: Permission, resource: str | Resource) -> None:
        if not allowed and self.authorize:
            raise Forbidden(f"{permission.name} on {resource} is not granted to you", "")

    # -- audit -----------------------------------------------------------------------------

    def record(
        self,
        principal: Principal | None,
        action: str,
        outcome: str,
        status: int,
        *,
        resource: str = "",
        twin: str | None = None,
        client: str | None = None,
        reason: str = "",
    ) -> None:
        tenant = principal.tenant if principal is not None else None
        if twin is not None:
            tenant = self.config.tenants.of_twin(twin) or tenant
        self.audit.record(
            AuditEntry(
                now_iso(),
                principal.id if principal is not None else "anonymous",
                action,
                outcome,
                status,
                resource,
                twin,
                tenant,
                client,
                reason,
            )
        )


def _per_principal(
    caches: dict[frozenset[str], dict[str, tuple[int, Any]]], principal: Principal
) -> dict[str, tuple[int, Any]]:
    found = caches.get(principal.subjects)
    if found is None:
        if len(caches) >= 32:
            caches.pop(next(iter(caches)))
        found = caches[principal.subjects] = {}
    return found


def client_of(scope: MutableMapping[str, Any]) -> str | None:
    client = scope.get("client")
    if not client:
        return None
    return f"{client[0]}:{client[1]}"
