"""Routes for twins: create or replace, read (now or as of a revision or time), list,
patch reported and desired, delete.

Every write answers with the new revision in the body and as the ``ETag`` header,
and honours ``If-Match`` (412 when stale).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from twinkit.api.wire import (
    QueryFlag,
    QueryTime,
    context_of,
    platform_of,
    query_flag,
    query_time,
    read_json,
    respond,
    twin_response,
)
from twinkit.model.errors import TwinkitError, ValidationFailed, pointer
from twinkit.twins.state import TwinState

router = APIRouter(tags=["twins"])

# Fields of the twin document a client may send back unchanged: PUT ignores them.
_READ_ONLY = frozenset(TwinState("_").document()) - {"model", "reported", "desired"}

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"

_PATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            MERGE_PATCH: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
            JSON_PATCH: {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["op", "path"],
                        "properties": {
                            "op": {
                                "type": "string",
                                "enum": ["add", "remove", "replace", "move", "copy", "test"],
                            },
                            "path": {"type": "string"},
                            "from": {"type": "string"},
                            "value": {},
                        },
                    },
                }
            },
        },
    }
}


TWIN_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "revision", "etag", "reported", "desired", "delta", "telemetry"],
    "properties": {
        "id": {"type": "string"},
        "model": {"type": ["string", "null"]},
        "revision": {"type": "integer", "minimum": 1},
        "etag": {"type": "string"},
        "reported": {"type": "object"},
        "desired": {"type": "object"},
        "delta": {"type": "object", "description": "desired values not yet reported"},
        "telemetry": {"type": "object", "description": "latest value of each telemetry"},
        "metadata": {"type": "object", "description": "changed_at, updated_at, at per value"},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def _answers(status: int, description: str, schema: dict[str, Any]) -> dict[int | str, Any]:
    return {
        status: {"description": description, "content": {"application/json": {"schema": schema}}}
    }


_TWIN = _answers(200, "The twin document; its ETag is in the header too", TWIN_DOCUMENT)


class UnsupportedMediaType(TwinkitError):
    code = "unsupported_media_type"
    status = 415


class TwinBody(BaseModel):
    """A twin to create or replace: its model and its reported and desired sections."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    reported: dict[str, Any] | None = None
    desired: dict[str, Any] | None = None


IfMatch = Annotated[str | None, Header(description="ETag the twin must still have")]

AS_OF_TIME = (
    "read as of this time: RFC 3339 (2026-01-31T12:00:00Z); other ISO 8601 forms with a zone"
    " (2026-01-31T12:00+01:00) are read too. Not together with revision."
)
CASCADE = (
    "also remove its relationships: true or false (also yes/no, 1/0, Title or UPPER case;"
    " empty means true)"
)


@router.put(
    "/twins/{twin_id}",
    status_code=201,
    responses={**_answers(201, "Created", TWIN_DOCUMENT), **_TWIN},
)
async def put_twin(
    twin_id: str, body: TwinBody, request: Request, if_match: IfMatch = None
) -> Response:
    """Create (201) or replace (200) a twin."""
    unknown = sorted(set(body.model_extra or {}) - _READ_ONLY)
    if unknown:
        raise ValidationFailed(
            f"unknown field {unknown[0]!r}; a twin has model, reported and desired",
            pointer(unknown[0]),
        )
    state, created = await platform_of(request).twins.put(
        twin_id,
        model=body.model,
        reported=body.reported,
        desired=body.desired,
        if_match=if_match,
        context=context_of(request),
    )
    return twin_response(state, 201 if created else 200)


@router.get("/twins/{twin_id}", responses=_TWIN)
async def get_twin(
    twin_id: str,
    request: Request,
    revision: Annotated[int | None, Query(ge=1, description="read as of this revision")] = None,
    at: Annotated[QueryTime, Query(description=AS_OF_TIME)] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The twin document; ``?revision=N`` or ``?at=ISO8601`` reads it exactly as it was."""
    platform = platform_of(request)
    if revision is not None and at is not None:
        raise ValidationFailed("give either revision or at, not both", "/at")
    if revision is not None or at is not None:
        moment = query_time(at, "/at") if at is not None else None
        past = await platform.journal.as_of(twin_id, revision=revision, at=moment)
        return respond(past.document())
    state = await platform.twins.get(twin_id)
    if if_none_match is not None and state.etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": state.etag})
    return twin_response(state)


@router.get(
    "/twins",
    responses=_answers(
        200,
        "A page of twins",
        {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": TWIN_DOCUMENT},
                "next": {"type": ["string", "null"], "description": "pass as after"},
            },
        },
    ),
)
async def list_twins(
    request: Request,
    model: Annotated[str | None, Query(description="only twins of this model")] = None,
    after: Annotated[str, Query(description="the id to continue after (paging)")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """Twins in id order, a page at a time: pass ``next`` back as ``after``."""
    states = await platform_of(request).twins.page(model=model, after=after, limit=limit)
    next_after = states[-1].id if len(states) == limit else None
    return respond({"items": [s.document() for s in states], "next": next_after})


@router.patch("/twins/{twin_id}/reported", openapi_extra=_PATCH_BODY, responses=_TWIN)
async def patch_reported(
    twin_id: str,
    request: Request,
    if_match: IfMatch = None,
    condition: Annotated[str | None, Query(description="predicate that must hold")] = None,
) -> Response:
    """Merge patch (RFC 7396) or JSON Patch (RFC 6902) on what the device reports."""
    return await _patch(twin_id, "reported", request, if_match, condition)


@router.patch("/twins/{twin_id}/desired", openapi_extra=_PATCH_BODY, responses=_TWIN)
async def patch_desired(
    twin_id: str,
    request: Request,
    if_match: IfMatch = None,
    condition: Annotated[str | None, Query(description="predicate that must hold")] = None,
) -> Response:
    """Merge patch (RFC 7396) or JSON Patch (RFC 6902) on what the platform wants."""
    return await _patch(twin_id, "desired", request, if_match, condition)


async def _patch(
    twin_id: str, section: str, request: Request, if_match: str | None, condition: str | None
) -> Response:
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in (JSON_PATCH, MERGE_PATCH, "application/json"):
        raise UnsupportedMediaType(
            f"Content-Type {media!r} is not a patch; use {MERGE_PATCH} or {JSON_PATCH}", ""
        )
    patch = await read_json(request)
    state = await platform_of(request).twins.patch(
        twin_id,
        section,
        patch,
        json_patch=media == JSON_PATCH,
        if_match=if_match,
        condition=condition,
        context=context_of(request),
    )
    return twin_response(state)


@router.delete("/twins/{twin_id}")
async def delete_twin(
    twin_id: str,
    request: Request,
    cascade: Annotated[QueryFlag, Query(description=CASCADE)] = None,
    if_match: IfMatch = None,
) -> Response:
    """Delete a twin; one with relationships needs ``?cascade=true`` (409 otherwise)."""
    platform = platform_of(request)
    await platform.twins.delete(
        twin_id,
        cascade=query_flag(cascade, "/cascade"),
        if_match=if_match,
        context=context_of(request),
    )
    revision = await platform.store.last_revision(twin_id)
    return respond({"id": twin_id, "deleted": True, "revision": revision}, etag=f'"{revision}"')
