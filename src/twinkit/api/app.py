"""The HTTP app: every route of DESIGN.md under ``/api/v1``, plus health, metrics and OpenAPI.

>>> async with Platform.open("plant.db") as tk:          # doctest: +SKIP
...     app = create_app(tk)
...     await uvicorn.Server(uvicorn.Config(app, port=8000)).serve()
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from twinkit import __version__
from twinkit.api import commands as command_routes
from twinkit.api import feeds, history, models, ops, relationships, telemetry, twins
from twinkit.api import query as query_routes
from twinkit.api.commands import CommandSender
from twinkit.api.errors import RejectionLog, install_error_handlers
from twinkit.api.limits import BodyLimit
from twinkit.api.metrics import API_PREFIX, ApiMetrics, RequestMetrics
from twinkit.api.query import QueryRunner
from twinkit.api.wire import DEFAULT_MAX_BODY, JSONDoc
from twinkit.platform import Platform

_ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "path"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "path": {"type": "string", "description": "JSON pointer into the request"},
            },
        }
    },
}


def create_app(
    platform: Platform,
    *,
    commands: CommandSender | None = None,
    query: QueryRunner | None = None,
    metrics: ApiMetrics | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    feed_max_pending: int = 10_000,
    feed_keepalive: float = 15.0,
) -> FastAPI:
    """An ASGI app serving ``platform``.

    ``commands`` delivers commands to devices (``twinkit.dispatch``; without it the
    commands route answers 503); ``query`` runs the query language (default: the
    ``twinkit.query`` package, 501 while absent); ``metrics`` can be shared with
    the MQTT ingest so ``/metrics`` shows both.
    """
    app = FastAPI(
        title="twinkit",
        version=__version__,
        description="Digital twins: models, state, history, change feeds and commands.",
        default_response_class=JSONDoc,
        docs_url=None,  # Swagger UI loads from a CDN; twinkit works offline
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.commands = commands
    app.state.query = query
    app.state.metrics = metrics = metrics or ApiMetrics()
    app.state.max_body = max_body
    app.state.feed_max_pending = feed_max_pending
    app.state.feed_keepalive = feed_keepalive
    app.state.rejections = RejectionLog()
    install_error_handlers(app, metrics)
    # Routes are matched in order: the hot ingest paths go first.
    routers = (telemetry, twins, relationships, history, models, command_routes, query_routes)
    for module in (*routers, feeds):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(ops.router)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(BodyLimit, max_body=max_body)
    _document_errors(app)
    return app


def _any_json_body(responses: dict[str, Any]) -> None:
    """A route answering with a plain ``Response`` is documented by FastAPI as a JSON
    *string*; twinkit's routes answer with JSON objects, so say that instead."""
    for code, response in responses.items():
        media = response.get("content", {}).get("application/json")
        if code.startswith("2") and media is not None and media.get("schema") == {"type": "string"}:
            media["schema"] = {"type": "object"}


def _document_errors(app: FastAPI) -> None:
    """OpenAPI: every operation may answer with the error shape, 422 included."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Error"] = _ERROR_SCHEMA
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        error_response = {
            "description": "The error shape: a code, a message and a JSON pointer",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = error_response
                responses.setdefault("default", error_response)
                _any_json_body(responses)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
