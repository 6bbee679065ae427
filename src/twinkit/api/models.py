"""Routes for DTDL models: upload one document or an array, list, read, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from twinkit.api.wire import platform_of, read_json, respond
from twinkit.model.interface import Interface

router = APIRouter(tags=["models"])

_DTDL_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "object", "description": "one DTDL Interface"},
                        {"type": "array", "items": {"type": "object"}},
                    ]
                }
            }
        },
    }
}


def model_summary(interface: Interface) -> dict[str, Any]:
    """A model as the API lists it: its identity, and the DTDL document it came from."""
    return {
        "id": interface.id,
        "display_name": interface.display_name,
        "description": interface.description,
        "extends": list(interface.extends),
        "model": dict(interface.source),
    }


@router.post("/models", status_code=201, openapi_extra=_DTDL_BODY)
async def add_models(request: Request) -> Response:
    """Add one DTDL document or an array of them, all-or-nothing."""
    document = await read_json(request)
    added = await platform_of(request).models.add(document)
    return respond({"items": [model_summary(i) for i in added]}, 201)


@router.get("/models")
async def list_models(request: Request) -> Response:
    models = platform_of(request).models.list()
    return respond({"items": [model_summary(i) for i in models]})


@router.get("/models/{dtmi}")
async def get_model(dtmi: str, request: Request) -> Response:
    return respond(model_summary(platform_of(request).models.get(dtmi)))


@router.delete("/models/{dtmi}", status_code=204)
async def delete_model(dtmi: str, request: Request) -> Response:
    """Delete a model no twin and no other model uses (409 otherwise)."""
    await platform_of(request).models.delete(dtmi)
    return Response(status_code=204)
