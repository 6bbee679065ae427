"""Routes for the past: a series' points (optionally downsampled) and a twin's journal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import WithJsonSchema
from starlette.responses import Response

from twinkit.api.wire import QueryTime, platform_of, query_time, respond
from twinkit.history.aggregation import AGGREGATES
from twinkit.model.errors import NotFound, ValidationFailed
from twinkit.model.time import format_time, parse_duration

router = APIRouter(tags=["history"])

# A positive bucket size: a number (at most 8 digits before the point and 3 after, so
# it is never zero, finer than a microsecond or beyond timedelta) and an optional unit.
EVERY_PATTERN = (
    r"^([1-9][0-9]{0,7}(\.[0-9]{1,3})?|0?\.(00[1-9]|0[1-9][0-9]?|[1-9][0-9]{0,2}))"
    r"(ms|s|m|h|d|w)?$"
)
_EVERY = re.compile(EVERY_PATTERN)

Every = Annotated[str | None, WithJsonSchema({"type": "string", "pattern": EVERY_PATTERN})]
Aggregate = Annotated[str, WithJsonSchema({"type": "string", "enum": list(AGGREGATES)})]


def bucket_size(raw: str) -> timedelta:
    """``?every``: exactly what ``EVERY_PATTERN`` (and so the OpenAPI document) admits."""
    if _EVERY.search(raw) is None:
        raise ValidationFailed(
            f"{raw!r} is not a bucket size like 500ms, 10s, 1.5m, 1h, 1d or 1w", "/every"
        )
    return parse_duration(raw, "/every")


TIME_FORMS = "RFC 3339 (2026-01-31T12:00:00Z); other ISO 8601 forms with a zone are read too"
EVERY = (
    "bucket size: a number, up to 3 decimals, and a unit ms, s (the default), m, h, d or w:"
    " 500ms, 10s, 1.5m, 1h"
)


@router.get("/twins/{twin_id}/history")
async def list_series(twin_id: str, request: Request) -> Response:
    """The series a twin has history for (``telemetry/x``, ``reported/y``, ``desired/z``)."""
    return respond({"paths": await platform_of(request).history.paths(twin_id)})


@router.get("/twins/{twin_id}/history/{path:path}")
async def read_history(
    twin_id: str,
    path: str,
    request: Request,
    start: Annotated[QueryTime, Query(description=f"inclusive; {TIME_FORMS}")] = None,
    end: Annotated[
        QueryTime, Query(description=f"inclusive, not before start; {TIME_FORMS}")
    ] = None,
    every: Annotated[Every, Query(description=EVERY)] = None,
    agg: Annotated[Aggregate, Query(description="how a bucket's values are combined")] = "mean",
    limit: Annotated[int | None, Query(ge=1, description="only the last N points")] = None,
) -> Response:
    """Points ``[[time, value], ...]`` of one series; ``every`` downsamples into buckets."""
    if agg not in AGGREGATES:
        raise ValidationFailed(f"agg must be one of {', '.join(AGGREGATES)}", "/agg")
    points = await platform_of(request).history.read(
        twin_id,
        path,
        start=query_time(start, "/start") if start is not None else None,
        end=query_time(end, "/end") if end is not None else None,
        every=bucket_size(every) if every is not None else None,
        agg=agg,
        limit=limit,
    )
    stamp = datetime.fromtimestamp
    return respond({"points": [[format_time(stamp(t, UTC)), v] for t, v in points]})


@router.get("/twins/{twin_id}/events")
async def read_journal(
    twin_id: str,
    request: Request,
    after_revision: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """A twin's journal after a revision; ``next_revision`` continues when more remain."""
    platform = platform_of(request)
    if await platform.store.last_revision(twin_id) == 0:
        raise NotFound(f"twin {twin_id!r} has no journal", "/id")
    events = await platform.journal.events(twin_id, after_revision=after_revision, limit=limit)
    more = events[-1].revision if len(events) == limit else None
    return respond({"items": [e.to_json() for e in events], "next_revision": more})
