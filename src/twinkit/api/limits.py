"""A cap on request body size, enforced before any route reads the body.

A declared ``Content-Length`` over the cap is answered at once; a chunked body is
counted as it arrives and cut off the moment it crosses the cap, so an oversized
upload never sits in memory.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twinkit.api.wire import BodyTooLarge


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise self._error()
            return message

        await self.app(scope, counted, send)

    def _error(self) -> BodyTooLarge:
        return BodyTooLarge(f"the request body is larger than {self.max_body} bytes", "")

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(self._error().to_json())
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
