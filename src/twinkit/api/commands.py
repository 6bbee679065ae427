"""The route that sends a command to a twin's device and waits for its answer.

Delivery is not done here: ``create_app(commands=...)`` receives the dispatcher
(:mod:`twinkit.dispatch.commands`), and this route checks the request against the
twin's model and maps the outcome to HTTP: answered → 200 with the device's
answer, queued for an offline device → 202, timed out → 504.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from twinkit.api.wire import context_of, platform_of, respond
from twinkit.model.errors import TwinkitError, ValidationFailed
from twinkit.model.events import Context
from twinkit.model.interface import ResolvedInterface
from twinkit.model.schema import check

router = APIRouter(tags=["commands"])


class CommandOutcome(Protocol):
    """What the dispatcher reports: ``state`` is answered, queued or timed_out."""

    @property
    def state(self) -> str: ...
    @property
    def request_id(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def payload(self) -> Any: ...


class CommandSender(Protocol):
    async def send(
        self,
        twin: str,
        name: str,
        payload: Any,
        *,
        timeout: float,  # noqa: ASYNC109 - the device's deadline, not this call's
        ttl: float | None,
        context: Context,
    ) -> CommandOutcome: ...


class CommandsUnavailable(TwinkitError):
    code = "commands_unavailable"
    status = 503


class CommandBody(BaseModel):
    """A command request: its payload, how long to wait for the answer, how long to keep it."""

    payload: Any = None
    timeout: float = Field(default=10.0, gt=0, le=3600, description="seconds to wait")
    ttl: float | None = Field(
        default=None, gt=0, description="seconds to keep it for an offline device"
    )


def check_command(model: ResolvedInterface, name: str, payload: Any) -> None:
    """Refuse a command the twin's model does not declare, or a payload its schema refuses."""
    if not model.id:
        return
    command = model.commands.get(name)
    if command is None:
        known = ", ".join(sorted(model.commands)) or "none"
        raise ValidationFailed(f"{model.id} has no command {name!r} (known: {known})", "/name")
    request = command.request
    if request is None:
        if payload is not None:
            raise ValidationFailed(f"command {name!r} takes no payload", "/payload")
        return
    if payload is None:
        if not request.nullable:
            raise ValidationFailed(f"command {name!r} needs a payload {request.name!r}", "/payload")
        return
    check(payload, request.schema, "/payload")


@router.post("/twins/{twin_id}/commands/{name}")
async def send_command(twin_id: str, name: str, body: CommandBody, request: Request) -> Response:
    """Send a command: 200 with the device's answer, 202 queued, 504 timed out."""
    platform = platform_of(request)
    state = await platform.twins.get(twin_id)
    check_command(platform.twins.resolve_model(state), name, body.payload)
    commands: CommandSender | None = request.app.state.commands
    if commands is None:
        raise CommandsUnavailable(
            "commands need a device connection; start the server with MQTT enabled", ""
        )
    outcome = await commands.send(
        twin_id,
        name,
        body.payload,
        timeout=body.timeout,
        ttl=body.ttl,
        context=context_of(request),
    )
    if outcome.state == "answered":
        return respond(
            {"request_id": outcome.request_id, "status": outcome.status, "payload": outcome.payload}
        )
    if outcome.state == "queued":
        return respond({"request_id": outcome.request_id, "state": "queued"}, 202)
    message = f"no answer from {twin_id!r} within {body.timeout:g} s"
    return respond(
        {
            "error": {"code": "command_timed_out", "message": message, "path": ""},
            "request_id": outcome.request_id,
        },
        504,
    )
