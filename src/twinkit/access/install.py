"""Switching access control on for an app: ``install_access(app, platform, config)``.

It adds the :class:`AccessMiddleware` (outermost, so it sees every request
first), the ``GET /api/v1/audit`` route and the ``/api/v1/policies`` routes,
and keeps the :class:`Guard` on ``app.state.access`` (tests and ``twinkit serve``
reload it after ``twinkit auth`` changes the file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.routing import BaseRoute, Mount

from twinkit.access.audit import AuditLog, audit_path_for
from twinkit.access.config import AuthConfig
from twinkit.access.guard import Guard
from twinkit.access.middleware import AccessMiddleware
from twinkit.access.policy import Permission
from twinkit.access.policy_api import policy_router
from twinkit.access.principal import Principal

if TYPE_CHECKING:
    from twinkit.platform import Platform


def install_access(
    app: FastAPI,
    platform: Platform,
    config: AuthConfig,
    *,
    audit: AuditLog | None = None,
    authorize: bool = True,
) -> Guard:
    """Require authentication and enforce ``config``'s policies on every route of ``app``.

    The audit log goes next to the platform's SQLite file (``<db>.audit.jsonl``),
    or to ``config.audit_file``, or stays in memory for an in-memory platform.
    ``authorize=False`` keeps authentication and audit but skips policy checks
    (only the benchmark's baseline uses it).
    """
    if audit is None:
        path = config.audit_file or audit_path_for(getattr(platform.store, "path", None))
        audit = AuditLog(path)
    guard = Guard(platform, config, audit, authorize)
    app.state.access = guard
    app.include_router(audit_router(), prefix="/api/v1")
    app.include_router(policy_router(), prefix="/api/v1")
    _catch_alls_last(app)
    app.openapi_schema = None
    max_body = getattr(app.state, "max_body", 1 << 20)
    app.add_middleware(AccessMiddleware, guard=guard, max_body=max_body)
    return guard


def _catch_alls_last(app: FastAPI) -> None:
    """Keep a dashboard mounted at ``/`` behind the audit route just added."""
    routes = app.router.routes
    catch_alls: list[BaseRoute] = [r for r in routes if isinstance(r, Mount) and r.path == ""]
    routes[:] = [r for r in routes if r not in catch_alls] + catch_alls


def audit_router() -> APIRouter:
    router = APIRouter(tags=["access"])

    @router.get("/audit")
    async def list_audit(
        request: Request,
        subject: Annotated[str | None, Query(description="only this principal")] = None,
        since: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
        outcome: Annotated[str | None, Query(description="allowed, denied or failed")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    ) -> dict[str, Any]:
        """Audit entries, newest first: every write and every denied attempt."""
        guard: Guard = request.app.state.access
        principal: Principal = request.state.principal
        evaluator = guard.evaluator
        entries = guard.audit.list(subject=subject, since=since, outcome=outcome, limit=limit * 4)
        visible = [
            e
            for e in entries
            if not guard.authorize
            or evaluator.can(principal, Permission.READ, "audit:/", tenant=e.get("tenant"))
        ]
        return {"items": visible[:limit]}

    return router
