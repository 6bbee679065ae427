"""JSON on the wire: orjson responses, body parsing and the caller's context.

Bodies are parsed here rather than by FastAPI for the routes whose body is not one
fixed shape (DTDL documents, patches, telemetry batches), so malformed JSON gets
the same error everywhere; :class:`~twinkit.api.limits.BodyLimit` caps their size.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import uuid4

import orjson
from fastapi import Request
from pydantic import WithJsonSchema
from starlette.responses import Response

from twinkit.model.errors import TwinkitError, ValidationFailed
from twinkit.model.events import Context
from twinkit.model.time import parse_time
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


# What ``?flag=`` accepts, exactly: the words in lower, Title and UPPER case (``True`` is
# what ``str(True)`` sends), 1/0, and an empty value (a bare ``?cascade``) meaning true.
_FLAGS = {
    **{word: True for word in ("true", "True", "TRUE", "yes", "Yes", "YES", "1", "")},
    **{word: False for word in ("false", "False", "FALSE", "no", "No", "NO", "0")},
}

QueryFlag = Annotated[str | None, WithJsonSchema({"type": "string", "enum": list(_FLAGS)})]
"""A boolean query parameter; its OpenAPI enum is the set :func:`query_flag` accepts."""

QueryTime = Annotated[str | None, WithJsonSchema({"type": "string", "format": "date-time"})]
"""A time query parameter, read by :func:`query_time`."""


def query_flag(raw: str | None, path: str) -> bool:
    """A boolean query parameter: true/false, yes/no, 1/0 (see ``_FLAGS``); absent is false."""
    if raw is None:
        return False
    flag = _FLAGS.get(raw)
    if flag is None:
        raise ValidationFailed(f"{raw!r} is not a boolean (use true or false)", path)
    return flag


class TimeOutOfRange(ValidationFailed):
    """A well-formed time whose UTC instant lies before year 1 or after year 9999.

    Valid RFC 3339 (``0001-01-01T00:00:00+05:00``), so its own code: a limit of the
    server, not a mistake a schema could have caught.
    """

    code = "time_out_of_range"

    def __init__(self, message: str, path: str, bound: datetime) -> None:
        super().__init__(message, path)
        self.bound = bound


EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
# A leap second in the extended form: "…T23:59:60Z". Anchored so an offset is never read.
_LEAP_SECOND = re.compile(r"^(\d{4}-\d{2}-\d{2}.\d{2}:\d{2}:)60(?![0-9])")


def read_time(text: str, path: str) -> datetime:
    """An ISO 8601 time with a zone, as :func:`~twinkit.model.time.parse_time` reads it, and
    the RFC 3339 ``date-time`` values Python's datetime cannot hold as written.

    Those are a leap second (read as the next second, as POSIX time counts it) and a local
    time on 0001-01-01 or 9999-12-31 whose UTC instant falls outside the years 1-9999
    (refused as :class:`TimeOutOfRange`, which names the nearest bound, rather than
    failing with a 500). Both are valid ``format: date-time``.
    """
    leap = _LEAP_SECOND.match(text)
    try:
        if leap is not None:
            minute = parse_time(f"{leap.group(1)}59{text[leap.end() :]}", path)
            return minute + timedelta(seconds=1)
        return parse_time(text, path)
    except OverflowError:
        bound = EARLIEST if text.startswith("0001") else LATEST
        raise TimeOutOfRange(f"{text!r} is outside the years 1-9999 in UTC", path, bound) from None


def query_time(text: str, path: str) -> datetime:
    """A time from a query parameter (``?at``, ``?start``, ``?end``): :func:`read_time`, except
    that a time beyond year 1 or 9999 in UTC reads as that bound, because "as of before
    anything existed" and "up to after everything" are meaningful questions with exact answers.
    """
    try:
        return read_time(text, path)
    except TimeOutOfRange as beyond:
        return beyond.bound
