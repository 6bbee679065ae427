"""Policy management over HTTP: ``GET/PUT/DELETE /api/v1/policies[/{policy_id}]``.

The ``policy:/`` resource guards it, and only a *global* grant counts: a policy can
reach any tenant (or none), so a tenant-scoped ``policy:/`` grant must not let a
tenant's member write a policy for another tenant. ``READ`` lists and shows
policies, ``WRITE`` adds, replaces and deletes them (WRITE does not imply READ).

A change is written to the auth file (when the config came from one, atomically, as
``twinkit auth policy set`` does) and takes effect at once: the :class:`Guard`
reloads, which also drops every cached decision, redaction and query answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response

from twinkit.access.evaluator import READ, WRITE
from twinkit.access.guard import Guard
from twinkit.access.policy import Permission, Policy
from twinkit.access.routes import API, Call, Plan, route
from twinkit.api.wire import read_json, respond
from twinkit.model.errors import NotFound, ValidationFailed

POLICY_OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "entries"],
    "properties": {
        "id": {"type": "string"},
        "twin": {"type": "string"},
        "model": {"type": "string"},
        "tenant": {"type": "string"},
        "entries": {"type": "object"},
    },
}
_ONE = {200: {"content": {"application/json": {"schema": POLICY_OBJECT}}}}
_LIST = {
    200: {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["items"],
                    "properties": {"items": {"type": "array", "items": POLICY_OBJECT}},
                }
            }
        }
    }
}
# a body may leave out its id: it takes the path's
POLICY_BODY: dict[str, Any] = {**POLICY_OBJECT, "required": ["entries"]}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": POLICY_BODY}},
    }
}


def policy_router() -> APIRouter:
    router = APIRouter(tags=["access"])

    @router.get("/policies", responses=_LIST)  # type: ignore[arg-type]
    async def list_policies(request: Request) -> Response:
        """Every policy, in the order of the auth file."""
        return respond({"items": [p.to_json() for p in _guard(request).config.policies]})

    @router.get("/policies/{policy_id}", responses=_ONE)  # type: ignore[arg-type]
    async def get_policy(policy_id: str, request: Request) -> Response:
        """One policy by id."""
        return respond(_find(_guard(request), policy_id).to_json())

    @router.put(
        "/policies/{policy_id}",
        responses={**_ONE, 201: _ONE[200]},  # type: ignore[dict-item]
        openapi_extra=_BODY,
    )
    async def put_policy(policy_id: str, request: Request) -> Response:
        """Add (201) or replace (200) the policy ``policy_id``; the body's id may be omitted."""
        raw = await read_json(request)
        if not isinstance(raw, dict):
            raise ValidationFailed("a policy is an object with entries", "")
        if "entries" not in raw:
            raise ValidationFailed("a policy needs its entries (an object)", "/entries")
        if raw.setdefault("id", policy_id) != policy_id:
            raise ValidationFailed(f"the body's id is not {policy_id!r}", "/id")
        policy = Policy.from_json(raw)
        guard = _guard(request)
        policies = list(guard.config.policies)
        index = next((i for i, p in enumerate(policies) if p.id == policy_id), None)
        if index is None:
            policies.append(policy)
        else:
            policies[index] = policy
        await _apply(guard, policies)
        return respond(policy.to_json(), 201 if index is None else 200)

    @router.delete("/policies/{policy_id}", status_code=204)
    async def delete_policy(policy_id: str, request: Request) -> Response:
        """Remove the policy ``policy_id``."""
        guard = _guard(request)
        _find(guard, policy_id)
        await _apply(guard, [p for p in guard.config.policies if p.id != policy_id])
        return Response(status_code=204)

    return router


def _guard(request: Request) -> Guard:
    guard: Guard = request.app.state.access
    return guard


def _find(guard: Guard, policy_id: str) -> Policy:
    for policy in guard.config.policies:
        if policy.id == policy_id:
            return policy
    raise NotFound(f"no policy {policy_id!r}", "/policy_id")


async def _apply(guard: Guard, policies: list[Policy]) -> None:
    """Save (when the config has a file) and reload, so the next request sees the change."""
    config = replace(guard.config, policies=policies)
    if config.path is not None:
        await asyncio.to_thread(config.save)
    guard.reload(config)


# -- access rules ----------------------------------------------------------------------------


def _require_global(call: Call, permission: Permission) -> None:
    everywhere = call.guard.everywhere(call.principal)
    call.guard.require(everywhere.can(permission, "policy"), permission, "policy:/")


@route("GET", f"{API}/policies")
async def list_rule(call: Call) -> Plan:
    _require_global(call, READ)
    return Plan()


@route("GET", f"{API}/policies/{{policy_id}}")
async def get_rule(call: Call) -> Plan:
    _require_global(call, READ)
    return Plan()


@route("PUT", f"{API}/policies/{{policy_id}}", body=True)
async def put_rule(call: Call) -> Plan:
    _require_global(call, WRITE)
    return Plan(write=True, resource="policy:/")


@route("DELETE", f"{API}/policies/{{policy_id}}")
async def delete_rule(call: Call) -> Plan:
    _require_global(call, WRITE)
    return Plan(write=True, resource="policy:/")
