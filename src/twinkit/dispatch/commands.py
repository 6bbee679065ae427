"""Commands to devices, with a request id, a timeout and a time-to-live.

``send`` publishes ``{"payload": …}`` to ``twinkit/{id}/commands/{name}/{request_id}``
(QoS 1) and waits for the device's answer on ``…/{request_id}/response``
(``{"status": int, "payload": …}``). Three outcomes, as the HTTP route maps them:

* ``answered`` (200) — the device replied within ``timeout``;
* ``timed_out`` (504) — it did not;
* ``queued`` (202) — the device is offline and the caller gave a ``ttl``: the command
  is stored durably and delivered when the device is next seen, until ``ttl`` runs out.

Every command (``CommandSent``) and every answer or timeout (``CommandAnswered``)
is in the twin's journal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from uuid import uuid4

import orjson

from twinkit.dispatch.outbox import MemoryOutbox, Outbox, QueuedCommand
from twinkit.dispatch.presence import Presence
from twinkit.ingest.publish_packets import Message
from twinkit.ingest.rejections import Publish
from twinkit.ingest.topics import command_topic
from twinkit.model.errors import NotFound, TwinkitError, ValidationFailed
from twinkit.model.events import Context, EventKind
from twinkit.platform import Platform

log = logging.getLogger(__name__)

OutcomeState = Literal["answered", "queued", "timed_out"]

RESPONSE_PATTERN = "twinkit/+/commands/+/+/response"


class DeviceUnreachable(TwinkitError):
    """No MQTT connection to send the command over, and no ttl to queue it with."""

    code = "device_unreachable"
    status = 503


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    state: OutcomeState
    request_id: str
    status: int | None = None
    payload: Any = None


@dataclass(slots=True)
class _Waiting:
    twin: str
    name: str
    future: asyncio.Future[tuple[int, Any]]


class Commands:
    def __init__(
        self,
        platform: Platform,
        publish: Publish | None,
        presence: Presence,
        outbox: Outbox | None = None,
        ack: Callable[[Message], None] | None = None,
    ) -> None:
        self._platform = platform
        self._ack = ack
        self._publish = publish
        self.presence = presence
        self.outbox = outbox or MemoryOutbox()
        self._waiting: dict[str, _Waiting] = {}
        self._delivering: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe = presence.on_online(self._came_online)
        # Counters for the API's /metrics; the MQTT connector installs its own.
        self.metrics: Callable[[], dict[str, int]] = dict

    async def send(
        self,
        twin: str,
        name: str,
        payload: Any = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the command's own deadline, sent along
        ttl: float | None = None,
        context: Context | None = None,
    ) -> CommandOutcome:
        """Send command ``name`` to ``twin``'s device; see the module text for outcomes."""
        _check_name(name)
        if timeout <= 0:
            raise ValidationFailed("timeout must be positive", "/timeout")
        if ttl is not None and ttl <= 0:
            raise ValidationFailed("ttl must be positive", "/ttl")
        state = await self._platform.twins.get(twin)
        model = self._platform.twins.resolve_model(state)
        if model.id and name not in model.commands:
            known = ", ".join(sorted(model.commands)) or "none"
            raise ValidationFailed(f"{model.id} has no command {name!r} (known: {known})", "/name")
        context = context or Context()
        request_id = uuid4().hex
        online = self._publish is not None and self.presence.is_online(twin)
        if not online and ttl is not None:
            now = time.time()
            command = QueuedCommand(
                request_id, twin, name, payload, now, now + ttl, context.to_json()
            )
            await self.outbox.add(command)
            await self._journal_sent(twin, name, request_id, payload, "queued", ttl, context)
            return CommandOutcome("queued", request_id)
        if self._publish is None:
            raise DeviceUnreachable("MQTT is off: commands can only be queued (give a ttl)", "")
        await self._journal_sent(twin, name, request_id, payload, "sent", ttl, context)
        answer = await self._exchange(twin, name, request_id, payload, timeout)
        if answer is None:
            await self._journal_answer(twin, name, request_id, None, None, "timed_out", context)
            return CommandOutcome("timed_out", request_id)
        status, body = answer
        return CommandOutcome("answered", request_id, status, body)

    async def close(self) -> None:
        self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for waiting in self._waiting.values():
            waiting.future.cancel()

    # -- the device's answer ----------------------------------------------------------------
    def receive_response(self, message: Message, parts: list[str]) -> None:
        """A message on ``twinkit/{id}/commands/{name}/{request_id}/response``."""
        twin, name, request_id = parts[1], parts[3], parts[4]
        self.presence.seen(twin)
        status, body = _read_response(message.payload)
        waiting = self._waiting.get(request_id)
        # only the device of the twin the command went to can answer it
        if waiting is not None and waiting.twin == twin and not waiting.future.done():
            del self._waiting[request_id]
            waiting.future.set_result((status, body))
        task = asyncio.create_task(self._answered(twin, name, request_id, status, body, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answered(
        self, twin: str, name: str, request_id: str, status: int, body: Any, message: Message
    ) -> None:
        try:
            await self.outbox.remove(request_id, twin)
            context = Context(actor=f"device:{twin}", cause=request_id)
            await self._journal_answer(twin, name, request_id, status, body, "answered", context)
        except NotFound:
            pass
        except Exception:
            log.exception("recording the answer to command %s failed", request_id)
        if self._ack is not None:
            self._ack(message)

    # -- sending ----------------------------------------------------------------------------
    async def _exchange(
        self, twin: str, name: str, request_id: str, payload: Any, seconds: float
    ) -> tuple[int, Any] | None:
        assert self._publish is not None
        future: asyncio.Future[tuple[int, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = _Waiting(twin, name, future)
        body = orjson.dumps({"payload": payload, "timeout": seconds})
        self._publish(command_topic(twin, name, request_id), body, 1, False)
        try:
            return await asyncio.wait_for(future, seconds)
        except TimeoutError:
            return None
        finally:
            self._waiting.pop(request_id, None)

    def _came_online(self, twin: str) -> None:
        if self._publish is None or twin in self._delivering:
            return
        task = asyncio.create_task(self._deliver_queued(twin))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_queued(self, twin: str) -> None:
        """Publish the twin's queued commands; they stay queued until answered or expired."""
        assert self._publish is not None
        self._delivering.add(twin)
        try:
            for command in await self.outbox.pending(twin, time.time()):
                body = orjson.dumps({"payload": command.payload, "queued": True})
                topic = command_topic(twin, command.name, command.request_id)
                self._publish(topic, body, 1, False)
                await self._platform.twins.record(
                    twin,
                    EventKind.COMMAND_SENT,
                    {"name": command.name, "request_id": command.request_id, "state": "delivered"},
                    context=Context.from_json(command.context),
                )
        except NotFound:
            pass
        except Exception:
            log.exception("delivering queued commands to %s failed", twin)
        finally:
            self._delivering.discard(twin)

    async def expire(self) -> int:
        """Drop queued commands whose ttl ran out, journaling each as timed out."""
        gone = await self.outbox.expire(time.time())
        for command in gone:
            try:
                await self._journal_answer(
                    command.twin,
                    command.name,
                    command.request_id,
                    None,
                    None,
                    "expired",
                    Context.from_json(command.context),
                )
            except NotFound:
                continue
        return len(gone)

    async def _journal_sent(
        self,
        twin: str,
        name: str,
        request_id: str,
        payload: Any,
        state: str,
        ttl: float | None,
        context: Context,
    ) -> None:
        data = {"name": name, "request_id": request_id, "payload": payload, "state": state}
        if ttl is not None:
            data["ttl"] = ttl
        await self._platform.twins.record(twin, EventKind.COMMAND_SENT, data, context=context)

    async def _journal_answer(
        self,
        twin: str,
        name: str,
        request_id: str,
        status: int | None,
        payload: Any,
        outcome: str,
        context: Context,
    ) -> None:
        data = {
            "name": name,
            "request_id": request_id,
            "status": status,
            "payload": payload,
            "outcome": outcome,
        }
        await self._platform.twins.record(twin, EventKind.COMMAND_ANSWERED, data, context=context)


def _check_name(name: str) -> None:
    if not name or any(c in name for c in "/#+\x00"):
        raise ValidationFailed("a command name may not be empty or contain '/', '#', '+'", "/name")


def _read_response(payload: bytes) -> tuple[int, Any]:
    """``{"status": int, "payload": …}``; anything else is kept as the payload with status 200."""
    try:
        body = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return 400, {"error": "the device answered with malformed JSON"}
    if isinstance(body, dict) and isinstance(body.get("status"), int):
        return body["status"], body.get("payload")
    return 200, body
