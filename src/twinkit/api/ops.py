"""Operations routes: liveness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from twinkit.api.metrics import ApiMetrics
from twinkit.api.wire import platform_of, respond

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> Response:
    """200 while the server answers; stays open when authentication is on."""
    return respond({"status": "ok"})


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> Response:
    """Prometheus text format: requests, latency, twins, rejected inputs, ingest, feeds."""
    counters: ApiMetrics = request.app.state.metrics
    counters.twins.set(await platform_of(request).store.count_twins())
    return Response(counters.render(), media_type=counters.content_type)
