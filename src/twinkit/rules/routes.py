"""HTTP routes for rules and alerts: ``app.include_router(rules_router(engine))``.

* ``POST /api/v1/rules`` — one rule, a list or ``{"rules": [...]}``, as JSON or YAML
  (``Content-Type: application/yaml``); all or nothing; 201 with the rules.
* ``GET /api/v1/rules`` · ``GET /api/v1/rules/{id}`` · ``DELETE /api/v1/rules/{id}`` (204)
* ``POST /api/v1/rules/{id}/dry-run`` ``{"twin": id, "start"?: iso, "end"?: iso}`` — when the
  rule would have fired on that twin's history; ``POST /api/v1/rules/dry-run`` does the same
  for a rule given in the body (``{"rule": {...}, "twin": ...}``) before it is saved.
* ``GET /api/v1/alerts?twin&state&severity&source`` — open alerts, newest first.
* ``POST /api/v1/twins/{id}/alerts/{alert_id}/acknowledge`` and ``…/clear``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from twinkit.model.errors import ValidationFailed
from twinkit.model.events import Context
from twinkit.model.time import parse_time
from twinkit.rules.dry_run import dry_run
from twinkit.rules.engine import RuleEngine
from twinkit.rules.loading import parse_rules, read_document
from twinkit.rules.rule import parse_rule

PREFIX = "/api/v1"
_MAX_BODY = 1 << 20


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise ValidationFailed("the body is larger than 1 MiB", "")
    if not raw.strip():
        raise ValidationFailed("the request needs a body", "")
    content_type = request.headers.get("content-type", "")
    if "yaml" in content_type:
        return read_document(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(f"the body is not valid JSON: {exc}", "") from None


def _actor(request: Request) -> Context:
    return Context(actor=request.headers.get("x-actor", "http"))


def rules_router(engine: RuleEngine) -> APIRouter:
    """The routes above, bound to ``engine`` (include without a prefix)."""
    router = APIRouter(prefix=PREFIX, tags=["rules"])

    @router.post("/rules", status_code=201)
    async def add_rules(request: Request) -> Response:
        rules = parse_rules(await _body(request))
        await engine.add_many(rules)
        return _json({"rules": [r.describe() for r in rules]}, 201)

    @router.get("/rules")
    async def list_rules() -> Response:
        return _json({"rules": [r.describe() for r in engine.list()]})

    @router.post("/rules/dry-run")
    async def dry_run_draft(request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict):
            raise ValidationFailed("expected {rule, twin, start?, end?}", "")
        rule = parse_rule(body.get("rule"), "/rule")
        return await _dry_run(engine, rule, body)

    @router.get("/rules/{rule_id}")
    async def get_rule(rule_id: str) -> Response:
        return _json(engine.get(rule_id).describe())

    @router.delete("/rules/{rule_id}", status_code=204)
    async def delete_rule(rule_id: str) -> Response:
        await engine.remove(rule_id)
        return Response(status_code=204)

    @router.post("/rules/{rule_id}/dry-run")
    async def dry_run_rule(rule_id: str, request: Request) -> Response:
        rule = engine.get(rule_id)
        body = await _body(request)
        if not isinstance(body, dict):
            raise ValidationFailed("expected {twin, start?, end?}", "")
        return await _dry_run(engine, rule, body)

    @router.get("/alerts")
    async def list_alerts(
        twin: str | None = None,
        state: str | None = None,
        severity: str | None = None,
        source: str | None = None,
    ) -> Response:
        alerts = engine.alerts.list(twin=twin, state=state, severity=severity, source=source)
        return _json({"alerts": alerts})

    @router.post("/twins/{twin}/alerts/{alert_id}/acknowledge")
    async def acknowledge(twin: str, alert_id: str, request: Request) -> Response:
        return _json(await engine.alerts.acknowledge(twin, alert_id, context=_actor(request)))

    @router.post("/twins/{twin}/alerts/{alert_id}/clear")
    async def clear(twin: str, alert_id: str, request: Request) -> Response:
        return _json(await engine.alerts.clear(twin, alert_id, context=_actor(request)))

    return router


async def _dry_run(engine: RuleEngine, rule: Any, body: dict[str, Any]) -> Response:
    twin = body.get("twin")
    if not isinstance(twin, str) or not twin:
        raise ValidationFailed("dry-run needs the id of a twin to replay", "/twin")
    start = parse_time(body["start"], "/start") if body.get("start") else None
    end = parse_time(body["end"], "/end") if body.get("end") else None
    report = await dry_run(engine.platform, rule, twin, start=start, end=end)
    return _json(report.to_json())
