"""Routes for telemetry: one message for one twin, or a batch across many twins.

A batch is not all-or-nothing: every valid item is applied (durably, in one or a
few group commits), and the answer lists the refused ones with their index and a
pointer into the batch (``/3/values/temp``). Status: 200 when every item was
applied, 207 when some were refused, 400 when none was applied.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from twinkit.api.errors import RejectionLog
from twinkit.api.metrics import ApiMetrics
from twinkit.api.wire import context_of, platform_of, read_json, read_time, respond
from twinkit.model.errors import TwinkitError, ValidationFailed, pointer
from twinkit.twins.state import TwinState

router = APIRouter(tags=["telemetry"])

# Exactly what parse_message accepts: no other fields, and ``"at": null`` means "now".
_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["values"],
    "additionalProperties": False,
    "properties": {
        "at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "source time (null or absent: when it arrives)",
        },
        "values": {"type": "object", "minProperties": 1},
    },
}
_ITEM: dict[str, Any] = {
    **_MESSAGE,
    "required": ["twin", "values"],
    "properties": {"twin": {"type": "string", "minLength": 1}, **_MESSAGE["properties"]},
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def parse_message(raw: Any, base: str = "") -> tuple[Any, datetime | None]:
    """The values and source time of one telemetry message (values are checked by the engine)."""
    if not isinstance(raw, dict):
        raise ValidationFailed('a telemetry message is an object {"at"?, "values"}', base or "")
    unknown = sorted(set(raw) - {"at", "values", "twin"})
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0]!r}", base + pointer(unknown[0]))
    if "values" not in raw:
        raise ValidationFailed("a telemetry message needs values", f"{base}/values")
    at = raw.get("at")
    if at is not None and not isinstance(at, str):
        raise ValidationFailed("at must be an ISO 8601 string", f"{base}/at")
    return raw["values"], read_time(at, f"{base}/at") if at is not None else None


@router.post("/twins/{twin_id}/telemetry", openapi_extra=_body(_MESSAGE))
async def post_telemetry(twin_id: str, request: Request) -> Response:
    """Record one telemetry message; answers once it is durable."""
    raw = await read_json(request)
    if isinstance(raw, dict) and "twin" in raw:
        raise ValidationFailed("the twin is named by the URL", "/twin")
    values, at = parse_message(raw)
    state = await platform_of(request).twins.telemetry(
        twin_id, values, at=at, context=context_of(request)
    )
    metrics: ApiMetrics = request.app.state.metrics
    metrics.ingested("http", 1, len(values))
    return respond(
        {"id": state.id, "revision": state.revision, "etag": state.etag}, etag=state.etag
    )


@router.post("/telemetry", openapi_extra=_body({"type": "array", "items": _ITEM}))
async def post_telemetry_batch(request: Request) -> Response:
    """Record telemetry for many twins; valid items are applied even when others are refused."""
    raw = await read_json(request)
    if not isinstance(raw, list):
        raise ValidationFailed('a batch is an array of {"twin", "at"?, "values"}', "")
    errors: list[dict[str, Any]] = []
    positions: list[int] = []  # batch index of each item handed to the engine
    items: list[tuple[str, Any, datetime | None]] = []
    for index, item in enumerate(raw):
        try:
            values, at = parse_message(item, f"/{index}")
            twin = item.get("twin")
            if not isinstance(twin, str) or not twin:
                raise ValidationFailed("each item needs the twin's id", f"/{index}/twin")
        except TwinkitError as exc:
            errors.append(_item_error(index, exc.code, exc.message, exc.path))
            continue
        positions.append(index)
        items.append((twin, values, at))
    outcomes = await platform_of(request).twins.telemetry_batch(items, context=context_of(request))
    revisions: dict[str, int] = {}
    applied = applied_values = 0
    for position, (index, (twin, values, _)) in enumerate(zip(positions, items, strict=True)):
        outcome = outcomes[position]
        if isinstance(outcome, TwinState):
            revisions[twin] = max(revisions.get(twin, 0), outcome.revision)
            applied += 1
            applied_values += len(values)
        else:
            path = _renumber(outcome.path, position, index)
            errors.append(_item_error(index, outcome.code, outcome.message, path))
    metrics: ApiMetrics = request.app.state.metrics
    metrics.ingested("http", applied, applied_values)
    rejections: RejectionLog = request.app.state.rejections
    for error in errors:
        metrics.rejected("http", error["code"])
        twin = raw[error["index"]].get("twin") if isinstance(raw[error["index"]], dict) else None
        rejections.note(str(twin), error["code"], f"{error['message']} (at {error['path']})")
    errors.sort(key=lambda e: int(e["index"]))
    accepted = len(raw) - len(errors)
    body = {"accepted": accepted, "rejected": len(errors), "errors": errors, "revisions": revisions}
    if not errors:
        return respond(body)
    if accepted == 0:
        first = errors[0]
        return respond({"error": {k: first[k] for k in ("code", "message", "path")}, **body}, 400)
    return respond(body, 207)


def _renumber(path: str, position: int, index: int) -> str:
    """The engine numbers items by their place in what it was given; clients, in the batch."""
    prefix = f"/{position}"
    if path == prefix or path.startswith(prefix + "/"):
        return f"/{index}{path[len(prefix) :]}"
    return f"/{index}{path}"


def _item_error(index: int, code: str, message: str, path: str) -> dict[str, Any]:
    return {"index": index, "code": code, "message": message, "path": path}
