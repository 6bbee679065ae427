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
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
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


class ChangeFeed:
    """Matching events after a cursor: the journal's first, then live ones, each exactly once.

    It subscribes to the bus in its constructor, *before* reading the journal, so an
    event committed meanwhile is either replayed or buffered (and then skipped by its
    seq if the replay already had it). Its own bounded buffer lets a reader take every
    event that is ready in one call, and wait with a timeout without losing any.
    """

    def __init__(
        self, platform: Platform, where: Filter, after: int | None, max_pending: int
    ) -> None:
        self._platform = platform
        self._where = where
        self.max_pending = max_pending
        self._pending: deque[Event] = deque()
        self._arrived = asyncio.Event()
        self._replaying = after is not None
        self.overflowed = False
        self.last = after
        self._unsubscribe = platform.bus.subscribe(self._push, where)

    @classmethod
    def opener(
        cls, platform: Platform, where: Filter, after: int | None, max_pending: int
    ) -> Callable[[], ChangeFeed]:
        """A deferred constructor: subscribing waits until the caller is ready to read."""
        return lambda: cls(platform, where, after, max_pending)

    def _push(self, event: Event) -> None:
        if self.overflowed:
            return
        if len(self._pending) >= self.max_pending:
            self.overflowed = True
            self._unsubscribe()
        else:
            self._pending.append(event)
        self._arrived.set()

    async def next_batch(self, idle: float, most: int = 500) -> list[Event]:
        """The events ready now (at most ``most``), waiting up to ``idle`` seconds for one.

        Returns an empty list when the time passed (a keep-alive is due); raises
        :class:`FeedOverflow` once every event before the cut-off was handed out.
        """
        while self._replaying:
            assert self.last is not None
            page = await self._platform.journal.since(self.last, limit=REPLAY_PAGE)
            self._replaying = len(page) == REPLAY_PAGE
            if page:
                self.last = page[-1].seq
            ready = [event for event in page if self._where.matches(event)]
            if ready:
                return ready
        while True:
            ready = []
            while self._pending and len(ready) < most:
                event = self._pending.popleft()
                if self.last is None or event.seq > self.last:  # else the replay sent it
                    ready.append(event)
            if ready:
                self.last = ready[-1].seq
                return ready
            if self.overflowed:
                raise FeedOverflow(f"the consumer fell more than {self.max_pending} events behind")
            self._arrived.clear()
            try:
                async with asyncio.timeout(idle):
                    await self._arrived.wait()
            except TimeoutError:
                return []

    def close(self) -> None:
        self._unsubscribe()


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
    return StreamingResponse(
        _sse(ChangeFeed.opener(platform, where, cursor, max_pending), metrics, keepalive),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse(
    open_feed: Callable[[], ChangeFeed], metrics: ApiMetrics, keepalive: float
) -> AsyncIterator[bytes]:
    """The stream: every ready event in one chunk, a comment when idle, a reason when cut off.

    The feed subscribes only once the stream runs, so a response that is never sent
    leaves no subscription behind.
    """
    feed = open_feed()
    clients = metrics.feed_clients.labels("sse")
    clients.inc()
    sent = feed.last
    try:
        yield b"retry: 1000\n: connected\n\n"
        while True:
            try:
                events = await feed.next_batch(keepalive)
            except FeedOverflow:
                metrics.feed_overflows.labels("sse").inc()
                data = orjson.dumps(_overflow_error(feed.max_pending, sent))
                yield b"event: overflow\ndata: " + data + b"\n\n"
                return
            if not events:
                yield b": keep-alive\n\n"
                continue
            yield b"".join(
                b"id: %d\ndata: %s\n\n" % (event.seq, orjson.dumps(event.to_json()))
                for event in events
            )
            sent = events[-1].seq
    finally:
        clients.dec()
        feed.close()


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
    feed = ChangeFeed(platform, where, cursor, max_pending)
    clients = metrics.feed_clients.labels("ws")
    clients.inc()
    sent = _Sent(cursor)
    listener = asyncio.create_task(_until_disconnect(websocket))
    sender = asyncio.create_task(_send_events(websocket, feed, keepalive, sent))
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
        feed.close()


class _Sent:
    """The seq of the last event handed to the socket: where a cut-off client resumes."""

    def __init__(self, last: int | None) -> None:
        self.last = last


async def _send_events(
    websocket: WebSocket, feed: ChangeFeed, keepalive: float, sent: _Sent
) -> None:
    while True:
        for event in await feed.next_batch(keepalive):  # idle: uvicorn pings the socket
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
