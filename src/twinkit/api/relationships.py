"""Routes for relationships: typed, directed edges between twins, with their own properties."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from starlette.responses import Response

from twinkit.api.wire import context_of, platform_of, respond
from twinkit.model.errors import NotFound

router = APIRouter(tags=["relationships"])

# what the engine accepts as an id (twins.engine._check_id): no '/', '#', '+', NUL, and no
# whitespace at either end
NewId = Annotated[
    str,
    Path(
        pattern=r"^[^/#+\x00\s]([^/#+\x00]*[^/#+\x00\s])?$",
        max_length=256,
        description="the relationship's id: no '/', '#', '+' or NUL, no spaces at either end",
    ),
]


class RelationshipBody(BaseModel):
    """An edge from this twin: its name (declared by the model), target twin and properties."""

    name: str
    target: str
    properties: dict[str, Any] | None = None


@router.put("/twins/{twin_id}/relationships/{rel_id}", status_code=201)
async def put_relationship(
    twin_id: str, rel_id: NewId, body: RelationshipBody, request: Request
) -> Response:
    """Add (201) or replace (200) a relationship; the target must exist."""
    twins = platform_of(request).twins
    try:
        await twins.get_relationship(twin_id, rel_id)
        existed = True
    except NotFound:
        existed = False
    rel = await twins.put_relationship(
        twin_id, rel_id, body.model_dump(), context=context_of(request)
    )
    state = await twins.get(twin_id)
    return respond({**rel, "revision": state.revision}, 200 if existed else 201, etag=state.etag)


@router.get("/twins/{twin_id}/relationships/{rel_id}")
async def get_relationship(twin_id: str, rel_id: str, request: Request) -> Response:
    return respond(await platform_of(request).twins.get_relationship(twin_id, rel_id))


@router.delete("/twins/{twin_id}/relationships/{rel_id}")
async def delete_relationship(twin_id: str, rel_id: str, request: Request) -> Response:
    twins = platform_of(request).twins
    await twins.delete_relationship(twin_id, rel_id, context=context_of(request))
    state = await twins.get(twin_id)
    return respond(
        {"id": rel_id, "source": twin_id, "deleted": True, "revision": state.revision},
        etag=state.etag,
    )


@router.get("/twins/{twin_id}/relationships")
async def list_relationships(twin_id: str, request: Request) -> Response:
    """Outgoing relationships of a twin, by id."""
    return respond({"items": await platform_of(request).twins.relationships(twin_id)})


@router.get("/twins/{twin_id}/incoming")
async def list_incoming(twin_id: str, request: Request) -> Response:
    """Relationships of other twins that point at this one."""
    return respond({"items": await platform_of(request).twins.incoming(twin_id)})
