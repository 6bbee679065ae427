"""Live change feeds: Server-Sent Events at ``/api/v1/events`` and a WebSocket at ``/api/v1/ws``.

Both are filtered by twin, model (including models that extend it) and event
kind, and both resume without gaps or duplicates: the feed subscribes to the bus
*first*, then replays the journal after the client's cursor (``Last-Event-ID`` or
``?after=seq``), then continues with the live events it buffered meanwhile,
dropping those the replay already sent. Every event carries its global ``seq``,
which is the cursor to resume from.

A consumer that falls more than ``max_pending`` events behind is cut off with a
reason (SSE: a final ``event: overflow`` message; WebSocket: close code 4008)
instead of letting the server's memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, WebSocket
from starlette.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect

from twinkit.api.metrics import ApiMetrics
from twinkit.bus import FeedOverflow, Filter
from twinkit.model.errors import TwinkitError, ValidationFailed
from twinkit.model.events import Event, EventKind
from twinkit.platform import Platform

router = APIRouter(tags=["feeds"])

REPLAY_PAGE = 1000
OVERFLOW_CLOSE = 4008
INVALID_CLOSE = 4400
_KINDS = frozenset(k.value for k in EventKind)


def feed_filter(
    platform: Platform, twins: Iterable[str], models: Iterable[str], kinds: Iterable[str]
) -> Filter:
    """A bus filter from repeatable or comma-separated query values.

    A model also selects twins of every known model that extends it.
    """
    twin_ids = _split(twins)
    kind_names = _split(kinds)
    for kind in kind_names:
        if kind not in _KINDS:
            raise ValidationFailed(
                f"unknown event kind {kind!r} (known: {', '.join(sorted(_KINDS))})", "/kind"
            )
    model_ids: set[str] = set()
    for model in _split(models):
        model_ids.add(model)
        if model in platform.registry:
            model_ids |= platform.registry.descendants(model)
    return Filter.of(twins=twin_ids, models=model_ids, kinds=kind_names)


def feed_cursor(raw: str | None, path: str) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        seq = int(raw.strip())
    except ValueError:
        raise ValidationFailed(f"{raw!r} is not an event seq (an integer)", path) from None
    if seq < 0:
        raise ValidationFailed("an event seq is 0 or more", path)
    return seq


async def changes(
    platform: Platform, where: Filter, after: int | None, max_pending: int
) -> AsyncIterator[Event]:
    """Matching events after ``after`` from the journal, then live ones, each exactly once.

    Raises :class:`FeedOverflow` when the consumer falls ``max_pending`` events behind.
    """
    feed = platform.bus.feed(where, max_pending)  # subscribe before reading the journal
    try:
        last = after
        if last is not None:
            while True:
                page = await platform.journal.since(last, limit=REPLAY_PAGE)
                for event in page:
                    last = event.seq
                    if where.matches(event):
                        yield event
                if len(page) < REPLAY_PAGE:
                    break
        async for event in feed:
            if last is not None and event.seq <= last:
                continue  # already sent by the replay
            yield event
    finally:
        feed.close()


class Paced:
    """Wraps an event iterator so a waiting consumer wakes every ``keepalive`` seconds.

    The pending ``__anext__`` is kept across wake-ups (never cancelled), so no event
    is lost to a timeout.
    """

    def __init__(self, events: AsyncIterator[Event], keepalive: float) -> None:
        self._events = events
        self._keepalive = keepalive
        self._next: asyncio.Task[Event] | None = None

    async def next(self) -> Event | None:
        """The next event, or None when ``keepalive`` passed without one."""
        if self._next is None:
            self._next = asyncio.create_task(_anext(self._events))
        done, _ = await asyncio.wait({self._next}, timeout=self._keepalive)
        if not done:
            return None
        task, self._next = self._next, None
        return task.result()

    async def close(self) -> None:
        if self._next is not None:
            self._next.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, FeedOverflow):
                await self._next
        aclose = getattr(self._events, "aclose", None)
        if aclose is not None:
            await aclose()


async def _anext(events: AsyncIterator[Event]) -> Event:
    return await events.__anext__()


def _split(values: Iterable[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _overflow_error(max_pending: int, last: int | None) -> dict[str, Any]:
    resume = f"; resume after seq {last}" if last is not None else ""
    return {
        "error": {
            "code": "feed_overflow",
            "message": f"the consumer fell more than {max_pending} events behind{resume}",
            "path": "",
        },
        "last_seq": last,
    }


FilterValues = Annotated[
    list[str] | None, Query(description="repeatable or comma-separated; any of them matches")
]


def _settings(request: Request | WebSocket) -> tuple[Platform, ApiMetrics, int, float]:
    state = request.app.state
    return state.platform, state.metrics, state.feed_max_pending, state.feed_keepalive


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def event_stream(
    request: Request,
    twin: FilterValues = None,
    model: FilterValues = None,
    kind: FilterValues = None,
    after: Annotated[str | None, Query(description="resume after this event seq")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-Sent Events: ``id`` is the event seq, ``data`` the event; resumable."""
    platform, metrics, max_pending, keepalive = _settings(request)
    where = feed_filter(platform, twin or [], model or [], kind or [])
    cursor = feed_cursor(last_event_id, "/Last-Event-ID")
    if cursor is None:
        cursor = feed_cursor(after, "/after")
    events = Paced(changes(platform, where, cursor, max_pending), keepalive)
    return StreamingResponse(
        _sse(events, metrics, max_pending, cursor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse(
    events: Paced, metrics: ApiMetrics, max_pending: int, last: int | None
) -> AsyncIterator[bytes]:
    clients = metrics.feed_clients.labels("sse")
    clients.inc()
    try:
        yield b"retry: 1000\n: connected\n\n"
        while True:
            try:
                event = await events.next()
            except StopAsyncIteration:
                return
            except FeedOverflow:
                metrics.feed_overflows.labels("sse").inc()
                data = orjson.dumps(_overflow_error(max_pending, last))
                yield b"event: overflow\ndata: " + data + b"\n\n"
                return
            if event is None:
                yield b": keep-alive\n\n"
                continue
            last = event.seq
            yield b"id: %d\ndata: %s\n\n" % (event.seq, orjson.dumps(event.to_json()))
    finally:
        clients.dec()
        await events.close()


@router.websocket("/ws")
async def event_socket(websocket: WebSocket) -> None:
    """The change feed over a WebSocket: one JSON event per text message; ``?after=seq``."""
    platform, metrics, max_pending, keepalive = _settings(websocket)
    await websocket.accept()
    params = websocket.query_params
    try:
        where = feed_filter(
            platform, params.getlist("twin"), params.getlist("model"), params.getlist("kind")
        )
        cursor = feed_cursor(params.get("after"), "/after")
    except TwinkitError as exc:
        await _close_with(websocket, exc.to_json(), INVALID_CLOSE, exc.message)
        return
    events = Paced(changes(platform, where, cursor, max_pending), keepalive)
    clients = metrics.feed_clients.labels("ws")
    clients.inc()
    sent = _Sent(cursor)
    listener = asyncio.create_task(_until_disconnect(websocket))
    sender = asyncio.create_task(_send_events(websocket, events, sent))
    try:
        done, _ = await asyncio.wait({listener, sender}, return_when=asyncio.FIRST_COMPLETED)
        if sender in done and isinstance(sender.exception(), FeedOverflow):
            metrics.feed_overflows.labels("ws").inc()
            body = _overflow_error(max_pending, sent.last)
            await _close_with(websocket, body, OVERFLOW_CLOSE, "overflow: consumer too slow")
    finally:
        clients.dec()
        for task in (listener, sender):
            task.cancel()
        await asyncio.gather(listener, sender, return_exceptions=True)
        await events.close()


class _Sent:
    """The seq of the last event handed to the socket: where a cut-off client resumes."""

    def __init__(self, last: int | None) -> None:
        self.last = last


async def _send_events(websocket: WebSocket, events: Paced, sent: _Sent) -> None:
    while True:
        event = await events.next()
        if event is None:
            continue  # idle: uvicorn pings the socket itself
        await websocket.send_text(orjson.dumps(event.to_json()).decode())
        sent.last = event.seq


async def _until_disconnect(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def _close_with(websocket: WebSocket, body: dict[str, Any], code: int, reason: str) -> None:
    """Send a last JSON message, then close; a consumer that reads nothing gets 1 s for each."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(websocket.send_text(orjson.dumps(body).decode()), 1.0)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(websocket.close(code, reason[:120]), 1.0)
