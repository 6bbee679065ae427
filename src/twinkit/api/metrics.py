"""Prometheus metrics of one app, in a registry of its own.

Each app gets its own :class:`ApiMetrics` (tests and embedded uses create many
apps in one process; a global registry would mix their counts). The MQTT side
can share it: build one ``ApiMetrics`` and hand it to ``create_app`` and to the
ingest, and ``/metrics`` shows both.
"""

from __future__ import annotations

import re
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    """Counters for requests, rejected inputs, ingested values and live feeds."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "twinkit_http_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "twinkit_http_request_seconds",
            "HTTP request latency by route template (feeds excluded)",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=r,
        )
        self.twins = Gauge("twinkit_twins", "Twins stored, counted at scrape time", registry=r)
        self.rejections = Counter(
            "twinkit_rejected_inputs",
            "Inputs refused, by surface (http, mqtt) and reason (error code)",
            ["surface", "reason"],
            registry=r,
        )
        self.ingest_messages = Counter(
            "twinkit_ingest_messages",
            "Telemetry messages applied, by surface",
            ["surface"],
            registry=r,
        )
        self.ingest_values = Counter(
            "twinkit_ingest_values", "Telemetry values applied, by surface", ["surface"], registry=r
        )
        self.feed_clients = Gauge(
            "twinkit_feed_clients", "Open change feeds, by transport", ["transport"], registry=r
        )
        self._request_children: dict[tuple[str, str, int], Counter] = {}
        self._latency_children: dict[tuple[str, str], Histogram] = {}
        self.feed_overflows = Counter(
            "twinkit_feed_overflows",
            "Change-feed consumers cut off for falling behind",
            ["transport"],
            registry=r,
        )

    def observe_request(self, method: str, route: str, status: int, started: float) -> None:
        """Count one request; time it unless it is a long-lived feed.

        Labelled children are cached: ``labels()`` costs more than the increment itself.
        """
        key = (method, route, status)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._request_children[key] = self.requests.labels(method, route, str(status))
        counter.inc()
        if route not in _STREAMING:
            timer = self._latency_children.get((method, route))
            if timer is None:
                timer = self._latency_children[(method, route)] = self.latency.labels(method, route)
            timer.observe(time.perf_counter() - started)

    def rejected(self, surface: str, reason: str, count: int = 1) -> None:
        self.rejections.labels(surface, reason).inc(count)

    def ingested(self, surface: str, messages: int, values: int) -> None:
        self.ingest_messages.labels(surface).inc(messages)
        self.ingest_values.labels(surface).inc(values)

    def render(self) -> bytes:
        return generate_latest(self.registry)


_STREAMING = frozenset({"/api/v1/events", "/api/v1/ws"})
API_PREFIX = "/api/v1"
_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def route_template(scope: Scope) -> str:
    """The matched route's template (``/api/v1/twins/{twin_id}``), never the raw path.

    Included routers keep their own relative path, so the API prefix is put back;
    converters (``{path:path}``) are dropped so labels match ``/openapi.json``.
    """
    route = scope.get("route")
    template = getattr(route, "path", None) if isinstance(route, BaseRoute) else None
    if not isinstance(template, str) or not template:
        return "unmatched"
    template = _CONVERTER.sub(r"{\1}", template)
    if scope.get("path", "").startswith(API_PREFIX + "/") and not template.startswith(API_PREFIX):
        return API_PREFIX + template
    return template


class RequestMetrics:
    """ASGI middleware: count every request by its route template, time the non-streaming ones."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            self.metrics.observe_request(
                scope.get("method", ""), route_template(scope), status, started
            )
