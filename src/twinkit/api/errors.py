"""Every failure a client can cause, rendered one way: ``{"error": {code, message, path}}``.

``path`` is a JSON pointer into the request body (or the name of the query or
path parameter), so a client can always find what to fix. Bad input never
becomes a 500.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount

from twinkit.api.metrics import ApiMetrics
from twinkit.api.wire import respond
from twinkit.model.errors import TwinkitError, pointer

log = logging.getLogger(__name__)

_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def error_body(code: str, message: str, path: str = "") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "path": path}}


def validation_pointer(loc: Sequence[Any]) -> str:
    """A pydantic error location as a JSON pointer, without FastAPI's body/query prefix."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return pointer(*(p for p in parts if isinstance(p, str | int)))


class RejectionLog:
    """Logs refused input once per (twin, reason) per ``quiet`` seconds.

    A misbehaving client repeating one mistake thousands of times a second gets one
    line a minute (with how many were not logged), not a log that hides everything else.
    """

    def __init__(self, quiet: float = 60.0, most: int = 10_000) -> None:
        self.quiet = quiet
        self._most = most
        self._last: dict[tuple[str, str], float] = {}
        self._unlogged: dict[tuple[str, str], int] = {}

    def note(self, twin: str, reason: str, message: str) -> None:
        key = (twin, reason)
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.quiet:
            self._unlogged[key] = self._unlogged.get(key, 0) + 1
            return
        if len(self._last) >= self._most:  # bounded: forget, at worst log again
            self._last.clear()
            self._unlogged.clear()
        self._last[key] = now
        more = self._unlogged.pop(key, 0)
        tail = f" (and {more} more like it since the last line)" if more else ""
        log.info("refused HTTP input for twin %r [%s]: %s%s", twin, reason, message, tail)


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path, not only the first route's.

    Starlette's 405 names the methods of the first route whose path matched, so
    ``OPTIONS /twins/x`` said ``Allow: PUT`` although GET and DELETE work there too.
    Each method is asked of the routes (``BaseRoute.matches``) rather than read off
    them, because FastAPI nests included routers.
    """
    # a Mount (the dashboard at "/") matches every method of every path below it
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI, metrics: ApiMetrics) -> None:
    rejections: RejectionLog = app.state.rejections

    async def twinkit_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TwinkitError)
        metrics.rejected("http", exc.code)
        twin = request.path_params.get("twin_id")
        if exc.status < 500 and isinstance(twin, str):
            rejections.note(twin, exc.code, str(exc))
        return respond(exc.to_json(), exc.status)

    async def request_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors: list[dict[str, Any]] = [dict(e) for e in exc.errors()]
        first: dict[str, Any] = errors[0] if errors else {"loc": (), "msg": "invalid"}
        if first.get("type") == "json_invalid":
            metrics.rejected("http", "malformed_json")
            detail = first.get("ctx", {}).get("error", "JSON decode error")
            message = f"the body is not valid JSON: {detail} at character {first['loc'][-1]}"
            return respond(error_body("malformed_json", message, ""), 400)
        metrics.rejected("http", "invalid_request")
        path = validation_pointer(first.get("loc", ()))
        message = f"{first.get('msg', 'invalid')}" + (f" (at {path})" if path else "")
        body = error_body("invalid_request", message, path)
        body["error"]["details"] = [
            {"path": validation_pointer(e.get("loc", ())), "message": e.get("msg", "")}
            for e in errors
        ]
        return respond(body, 422)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        cause = exc.__cause__
        if isinstance(cause, TwinkitError):  # e.g. the body limit tripped while FastAPI read it
            return await twinkit_error(request, cause)
        code = _HTTP_CODES.get(exc.status_code, "error")
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
            exc.headers = {**(exc.headers or {}), "Allow": allowed_methods(request)}
        else:
            message = str(exc.detail)
        metrics.rejected("http", code)
        return respond(error_body(code, message), exc.status_code, headers=dict(exc.headers or {}))

    async def internal_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(error_body("internal", "internal error; see the server log"), 500)

    app.add_exception_handler(TwinkitError, twinkit_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)
