"""The ASGI layer that puts access control in front of every route, without touching them.

For each request: authenticate (bearer API token or JWT; ``?access_token=`` for
the SSE and WebSocket feeds, which browsers cannot give headers), spend from the
caller's rate bucket, find the route's rule (``routes.py``), let it decide
(403 and an audit entry when denied), then pass the request on and filter the
answer: JSON bodies through the rule's filter, SSE frames and WebSocket
messages event by event. Writes are audited with their final status.

``/healthz``, ``/openapi.json`` and the dashboard's static files stay open; every
other ``/api/`` path that has no rule is refused unless the app says 404/405.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twinkit.access import surfaces  # noqa: F401 - registers the query, feed and dashboard rules
from twinkit.access.guard import Forbidden, Guard, TooManyRequests, client_of
from twinkit.access.principal import Principal
from twinkit.access.ratelimit import retry_after
from twinkit.access.routes import Call, Plan, match
from twinkit.model.errors import TwinkitError

OPEN_PATHS = frozenset({"/healthz", "/openapi.json"})
DEFAULT_MAX_BODY = 1 << 20
WS_UNAUTHORIZED = 4401
WS_FORBIDDEN = 4403


class AccessMiddleware:
    def __init__(self, app: ASGIApp, guard: Guard, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.guard = guard
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        path: str = scope.get("path", "")
        if kind not in ("http", "websocket") or not _guarded(path):
            await self.app(scope, receive, send)
            return
        method = "WS" if kind == "websocket" else scope["method"]
        client = client_of(scope)
        guard = self.guard
        principal: Principal | None = None
        wait = 0.0
        try:
            principal = await guard.authenticate(_credential(scope))
            wait = guard.spend(principal)
            if wait > 0:
                raise TooManyRequests(f"rate limit of {principal.id} exceeded; retry later", "")
        except TwinkitError as error:
            if error.status == 401:
                guard.record(
                    None, f"{method} {path}", "denied", 401, client=client, reason=error.message
                )
            headers = {"Retry-After": retry_after(wait)} if error.status == 429 else {}
            await _refuse(kind, send, error, headers)
            return
        scope.setdefault("state", {})["principal"] = principal
        found = match(method, path)
        if found is None:
            await self.app(scope, receive, _only_not_found(send))
            return
        target, params = found
        action = f"{method} {target.template}"
        body: bytes | None = None
        if target.needs_body:
            body, receive = await _buffer(receive, self.max_body)
        call = Call(
            method,
            target.template,
            params,
            QueryParams(scope.get("query_string", b"")),
            principal,
            guard,
            body,
            _header(scope, b"content-type"),
        )
        try:
            plan = await target.rule(call)
        except TwinkitError as error:
            if error.status == 403:
                twin = params.get("twin_id") or params.get("twin")
                guard.record(
                    principal, action, "denied", 403, twin=twin, client=client, reason=error.message
                )
            await _refuse(kind, send, error)
            return
        if plan.answer is not None:
            try:
                await _send_json(send, 200, await plan.answer())
            except TwinkitError as error:
                await _send_json(send, error.status, error.to_json())
            return
        status = [0]
        out = self._wrap(send, plan, principal, status)
        try:
            await self.app(scope, receive, out)
        finally:
            if plan.write:
                outcome = "allowed" if 0 < status[0] < 400 else "failed"
                guard.record(
                    principal,
                    action,
                    outcome,
                    status[0],
                    resource=plan.resource,
                    twin=plan.twin or params.get("twin_id"),
                    client=client,
                )

    def _wrap(self, send: Send, plan: Plan, principal: Principal, status: list[int]) -> Send:
        if plan.stream == "sse":
            return _sse_filter(send, self.guard, principal, status)
        if plan.stream == "ws":
            return _ws_filter(send, self.guard, principal)
        if plan.filter is not None:
            return _json_filter(send, plan.filter, status)

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        return observed


def _guarded(path: str) -> bool:
    if path in OPEN_PATHS:
        return False
    return path.startswith("/api/") or path == "/metrics"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _credential(scope: Scope) -> str | None:
    auth = _header(scope, b"authorization")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    if scope["type"] == "websocket" or scope.get("path", "").endswith("/events"):
        tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("access_token")
        return tokens[0] if tokens else None
    return None


async def _buffer(receive: Receive, max_body: int) -> tuple[bytes, Receive]:
    """Read the whole body (to authorize what it writes) and replay it to the app."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:  # leave it to the app's body limit to answer 413
            chunks.append(chunk)
            break
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _send_json(
    send: Send, status: int, content: Any, headers: dict[str, str] | None = None
) -> None:
    body = orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse(
    kind: str, send: Send, error: TwinkitError, headers: dict[str, str] | None = None
) -> None:
    if kind == "websocket":
        code = WS_UNAUTHORIZED if error.status == 401 else WS_FORBIDDEN
        await send({"type": "websocket.close", "code": code, "reason": error.message[:120]})
        return
    if error.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="twinkit"'}
    await _send_json(send, error.status, error.to_json(), headers)


def _only_not_found(send: Send) -> Send:
    """For paths without a rule: let the app's 404/405 through, refuse anything else."""
    refused = [False]

    async def guarded(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] not in (404, 405):
            refused[0] = True
            error = Forbidden("no access rule covers this route", "")
            await _send_json(send, 403, error.to_json())
            return
        if refused[0]:
            return
        await send(message)

    return guarded


def _json_filter(send: Send, redact: Callable[[Any], Awaitable[Any]], status: list[int]) -> Send:
    start: Message | None = None
    chunks: list[bytes] = []

    async def filtered(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            status[0] = message["status"]
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        if 200 <= status[0] < 300 and body:
            try:
                content = orjson.loads(body)
            except orjson.JSONDecodeError:
                content = None
            if content is not None:
                try:
                    body = orjson.dumps(await redact(content), option=orjson.OPT_NON_STR_KEYS)
                except TwinkitError as error:
                    start = {**start, "status": error.status}
                    body = orjson.dumps(error.to_json())
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return filtered


def _sse_filter(send: Send, guard: Guard, principal: Principal, status: list[int]) -> Send:
    """Filter a Server-Sent Events stream frame by frame (one event per frame)."""

    async def filtered(message: Message) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]
        if message["type"] != "http.response.body" or not guard.authorize:
            await send(message)
            return
        chunk: bytes = message.get("body", b"")
        if not chunk.startswith(b"id: "):
            await send(message)
            return
        frames = []
        for frame in chunk.split(b"\n\n"):
            if not frame.strip():
                continue
            lines = frame.split(b"\n")
            data = [line[6:] for line in lines if line.startswith(b"data: ")]
            if not data:
                frames.append(frame)
                continue
            event = guard.evaluator.redact_event(orjson.loads(b"\n".join(data)), principal)
            if event is None:
                continue
            head = [line for line in lines if not line.startswith(b"data: ")]
            frames.append(b"\n".join([*head, b"data: " + orjson.dumps(event)]))
        body = b"".join(f + b"\n\n" for f in frames)
        if body or not message.get("more_body", False):
            await send({**message, "body": body})

    return filtered


def _ws_filter(send: Send, guard: Guard, principal: Principal) -> Send:
    async def filtered(message: Message) -> None:
        if message["type"] == "websocket.send" and message.get("text") and guard.authorize:
            content = orjson.loads(message["text"])
            if isinstance(content, dict) and "kind" in content and "twin" in content:
                event = guard.evaluator.redact_event(content, principal)
                if event is None:
                    return
                message = {**message, "text": orjson.dumps(event).decode()}
        await send(message)

    return filtered
