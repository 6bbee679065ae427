"""Routes for the past: a series' points (optionally downsampled) and a twin's journal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from twinkit.api.wire import platform_of, respond
from twinkit.history.aggregation import AGGREGATES
from twinkit.model.errors import NotFound, ValidationFailed
from twinkit.model.time import format_time, parse_duration, parse_time

router = APIRouter(tags=["history"])


@router.get("/twins/{twin_id}/history")
async def list_series(twin_id: str, request: Request) -> Response:
    """The series a twin has history for (``telemetry/x``, ``reported/y``, ``desired/z``)."""
    return respond({"paths": await platform_of(request).history.paths(twin_id)})


@router.get("/twins/{twin_id}/history/{path:path}")
async def read_history(
    twin_id: str,
    path: str,
    request: Request,
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    every: Annotated[str | None, Query(description="bucket size: 10s, 5m, 1h")] = None,
    agg: Annotated[str, Query(description=f"one of {', '.join(AGGREGATES)}")] = "mean",
    limit: Annotated[int | None, Query(ge=1, description="only the last N points")] = None,
) -> Response:
    """Points ``[[time, value], ...]`` of one series; ``every`` downsamples into buckets."""
    if agg not in AGGREGATES:
        raise ValidationFailed(f"agg must be one of {', '.join(AGGREGATES)}", "/agg")
    points = await platform_of(request).history.read(
        twin_id,
        path,
        start=parse_time(start, "/start") if start is not None else None,
        end=parse_time(end, "/end") if end is not None else None,
        every=parse_duration(every, "/every") if every is not None else None,
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
