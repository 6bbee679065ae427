"""The few JSON endpoints the dashboard needs beyond the public API, under /api/v1/dashboard.

Everything else the UI shows comes from the public API; these exist because the UI needs
condensed or resolved views (fleet rows, model cards, open alerts) that would otherwise cost
one request per twin.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from twinkit.dashboard.alerts import AlertBoard
from twinkit.dashboard.fleet import (
    FleetQuery,
    PresenceOf,
    fleet_page,
    model_counts,
    model_of,
    no_presence,
    summarize,
)
from twinkit.dashboard.graph import first_twins, neighbourhood
from twinkit.dashboard.models_view import interface_json, resolved_json
from twinkit.dashboard.series import downsampled
from twinkit.model.errors import NotFound, TwinkitError, ValidationFailed
from twinkit.model.time import parse_duration, parse_time
from twinkit.platform import Platform

PREFIX = "/api/v1/dashboard"


def platform_of(request: Request) -> Platform:
    """The platform the app serves: given to ``mount`` or left on ``app.state`` by the API."""
    state = request.app.state
    platform = getattr(state, "dashboard_platform", None) or getattr(state, "platform", None)
    if platform is None:
        raise NotFound("this server has no platform attached", "")
    return platform  # type: ignore[no-any-return]


async def board_of(request: Request) -> AlertBoard:
    """One alert board per app, started on first use."""
    state = request.app.state
    board: AlertBoard | None = getattr(state, "dashboard_alerts", None)
    if board is None:
        board = state.dashboard_alerts = AlertBoard(platform_of(request))
    await board.start()
    return board


def presence_of(request: Request) -> PresenceOf:
    """The MQTT side's view of device connections, when the server has one."""
    presence = getattr(getattr(request.app.state, "commands", None), "presence", None)
    if presence is None or not hasattr(presence, "is_online"):
        return no_presence

    def online(twin: str) -> bool | None:
        if presence.last_seen(twin) is None:
            return None
        return bool(presence.is_online(twin))

    return online


def error_response(error: TwinkitError) -> JSONResponse:
    return JSONResponse(error.to_json(), status_code=error.status)


def build_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["dashboard"])

    @router.get("/fleet")
    async def fleet(
        request: Request,
        model: str | None = None,
        q: str = "",
        after: str = "",
        limit: int = Query(50, ge=1, le=500),
    ) -> Any:
        """A page of fleet rows: status, last seen, key values with units, open alerts."""
        try:
            query = FleetQuery(model=model or None, search=q.strip(), after=after, limit=limit)
            return await fleet_page(platform_of(request), query, presence_of(request))
        except TwinkitError as error:
            return error_response(error)

    @router.get("/models")
    async def models(request: Request) -> Any:
        """Every model as a card, with how many twins use it."""
        try:
            platform = platform_of(request)
            counts = {c["model"]: c["twins"] for c in await model_counts(platform)}
            cards = [interface_json(i, counts.get(i.id, 0)) for i in platform.models.list()]
            unmodelled = counts.get(None, 0)
            return {"items": cards, "unmodelled_twins": unmodelled}
        except TwinkitError as error:
            return error_response(error)

    @router.get("/twins/{twin}/model")
    async def twin_model(request: Request, twin: str) -> Any:
        """The twin's model resolved (``extends`` folded in), for forms and units."""
        try:
            platform = platform_of(request)
            state = await platform.twins.get(twin)
            if not state.model:
                return {"id": None, "ancestors": [], "properties": [], "telemetry": [],
                        "commands": [], "relationships": [], "components": []}  # fmt: skip
            return resolved_json(platform.registry.resolve(state.model))
        except TwinkitError as error:
            return error_response(error)

    @router.get("/twins/{twin}/summary")
    async def twin_summary(request: Request, twin: str) -> Any:
        """The twin's fleet row: online status (broker presence first), last seen, alerts."""
        try:
            platform = platform_of(request)
            state = await platform.twins.get(twin)
            model = model_of(platform, state)
            now = platform.clock.now().astimezone(UTC)
            return summarize(state, model, now, presence_of(request))
        except TwinkitError as error:
            return error_response(error)

    @router.get("/twins/{twin}/series/{path:path}")
    async def series(
        request: Request,
        twin: str,
        path: str,
        start: str,
        end: str,
        every: str,
        agg: str = "mean",
    ) -> Any:
        """A chart's downsampled points ``{"points": [[epoch seconds, value], ...]}``."""
        try:
            points = await downsampled(
                platform_of(request),
                twin,
                path,
                parse_time(start, "/start"),
                parse_time(end, "/end"),
                parse_duration(every, "/every").total_seconds(),
                agg,
            )
            return {"points": points}
        except TwinkitError as error:
            return error_response(error)

    @router.get("/alerts")
    async def alerts(
        request: Request,
        twin: str | None = None,
        state: str | None = None,
        limit: int = Query(200, ge=1, le=5000),
    ) -> Any:
        """Recent alerts, newest first; ``state`` is open, raised, acknowledged or cleared."""
        try:
            board = await board_of(request)
            return {"items": board.list(twin=twin, state=state, limit=limit)}
        except TwinkitError as error:
            return error_response(error)

    @router.get("/graph")
    async def graph(
        request: Request,
        twin: Annotated[list[str] | None, Query()] = None,
        depth: int = Query(2, ge=0, le=6),
        limit: int = Query(120, ge=1, le=1000),
    ) -> Any:
        """The graph around ``twin`` (repeatable) up to ``depth`` hops; no twin: the first ones."""
        try:
            platform = platform_of(request)
            roots = twin or await first_twins(platform, limit)
            hops = depth if twin else 0
            return await neighbourhood(
                platform, roots, hops, max(limit, len(roots)), presence_of(request)
            )
        except TwinkitError as error:
            return error_response(error)

    @router.post("/graph")
    async def graph_of(request: Request) -> Any:
        """The graph among twins named in the body (a query's result): ``{"twins": [...]}``."""
        try:
            body = await request.json()
            twins = [t for t in body.get("twins", []) if isinstance(t, str)][:1000]
            depth = int(body.get("depth", 0))
            return await neighbourhood(
                platform_of(request), twins, min(max(depth, 0), 3), presence=presence_of(request)
            )
        except TwinkitError as error:
            return error_response(error)
        except (ValueError, AttributeError):
            return error_response(ValidationFailed('expected {"twins": [ids], "depth": n}', ""))

    return router
