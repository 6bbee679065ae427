"""JSON on the wire: orjson responses, body parsing and the caller's context.

Bodies are parsed here rather than by FastAPI for the routes whose body is not one
fixed shape (DTDL documents, patches, telemetry batches), so malformed JSON gets
the same error everywhere; :class:`~twinkit.api.limits.BodyLimit` caps their size.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import orjson
from fastapi import Request
from starlette.responses import Response

from twinkit.model.errors import TwinkitError, ValidationFailed
from twinkit.model.events import Context
from twinkit.platform import Platform
from twinkit.twins.state import TwinState

DEFAULT_MAX_BODY = 1 << 20


class JSONDoc(Response):
    """A JSON response rendered by orjson (FastAPI's own ORJSONResponse is deprecated)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class BodyTooLarge(TwinkitError):
    code = "payload_too_large"
    status = 413


class MalformedJSON(TwinkitError):
    code = "malformed_json"


def respond(
    content: Any,
    status: int = 200,
    *,
    etag: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONDoc:
    extra = dict(headers or {})
    if etag is not None:
        extra["ETag"] = etag
    return JSONDoc(content, status_code=status, headers=extra)


def twin_response(state: TwinState, status: int = 200) -> JSONDoc:
    """The twin document, with its revision's ETag both in the body and the header."""
    return respond(state.document(), status, etag=state.etag)


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def context_of(request: Request) -> Context:
    """Who caused a change: the HTTP caller, and its correlation id when it sent one."""
    correlation = request.headers.get("x-correlation-id") or request.headers.get("x-request-id")
    return Context(actor="http", correlation_id=correlation or uuid4().hex)


async def read_json(request: Request) -> Any:
    """The request body parsed as JSON (the size limit is enforced by :class:`BodyLimit`)."""
    raw = await request.body()
    if not raw.strip():
        raise MalformedJSON("the request needs a JSON body", "")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedJSON(f"the body is not valid JSON: {exc}", "") from None


def query_flag(raw: str | None, path: str) -> bool:
    """A boolean query parameter: true/false, 1/0, yes/no."""
    if raw is None:
        return False
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes", ""):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValidationFailed(f"{raw!r} is not a boolean (use true or false)", path)
