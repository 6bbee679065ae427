"""The query route: the twin graph asked in the query language, a page at a time.

The engine lives in :mod:`twinkit.query`; it is imported on first use so the API
runs (answering 501) before that package exists.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from twinkit.api.wire import platform_of, respond
from twinkit.model.errors import TwinkitError

router = APIRouter(tags=["query"])

QueryRunner = Callable[..., Any]


class QueryUnavailable(TwinkitError):
    code = "not_implemented"
    status = 501


class QueryBody(BaseModel):
    query: str = Field(min_length=1, description="SELECT … FROM DIGITALTWINS …")
    continuation: str | None = Field(default=None, description="from the previous page")


def load_runner() -> QueryRunner:
    """``twinkit.query.run_query``, or 501 when the query package is not installed yet."""
    try:
        module = importlib.import_module("twinkit.query")
        runner: QueryRunner = module.run_query
    except (ImportError, AttributeError):
        raise QueryUnavailable("the query language is not available in this build", "") from None
    return runner


@router.post("/query")
async def run_query(body: QueryBody, request: Request) -> Response:
    """Run a query; ``continuation`` in the answer fetches the next page."""
    runner: QueryRunner | None = request.app.state.query
    if runner is None:
        runner = load_runner()
    result = runner(platform_of(request), body.query, body.continuation)
    if inspect.isawaitable(result):
        result = await result
    return respond({"items": list(result.items), "continuation": result.continuation})
