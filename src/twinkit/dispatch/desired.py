"""Desired state to devices: retained on ``twinkit/{id}/desired`` as ``{"version", "desired"}``.

Whenever a twin's desired state changes (or the twin is created, replaced or
deleted) the full desired state is published *retained*, so a device that
connects later gets it at once. ``version`` is the twin's revision at that
moment: it only grows, so a device can ignore an older one. The device answers by
reporting the values; the twin's ``delta`` is then empty.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import orjson

from twinkit.bus import Filter
from twinkit.ingest.topics import desired_topic
from twinkit.model.errors import NotFound
from twinkit.model.events import Event, EventKind
from twinkit.platform import Platform

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int, bool], None]

KINDS = (
    EventKind.DESIRED_CHANGED,
    EventKind.TWIN_CREATED,
    EventKind.TWIN_REPLACED,
    EventKind.TWIN_DELETED,
)


class DesiredPublisher:
    def __init__(self, platform: Platform, publish: Publish) -> None:
        self._platform = platform
        self._publish = publish
        self._dirty: dict[str, None] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.published = 0

    def start(self) -> None:
        where = Filter.of(kinds=[k.value for k in KINDS])
        self._unsubscribe = self._platform.bus.subscribe(self._changed, where)
        self._task = asyncio.create_task(self._run(), name="twinkit-desired")

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def publish_all(self) -> int:
        """Publish every twin's desired state (a fresh broker has no retained messages)."""
        count = 0
        after = ""
        while page := await self._platform.twins.page(after=after, limit=500):
            for state in page:
                if state.desired:
                    self._send(state.id, state.revision, state.desired)
                    count += 1
            after = page[-1].id
        return count

    def _changed(self, event: Event) -> None:
        if event.kind is EventKind.TWIN_CREATED and not event.data.get("desired"):
            return
        self._dirty[event.twin] = None
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._dirty:
                twin = next(iter(self._dirty))
                del self._dirty[twin]
                try:
                    state = await self._platform.twins.get(twin)
                except NotFound:
                    self._publish(desired_topic(twin), b"", 1, True)  # clears the retained one
                    continue
                except Exception:
                    log.exception("reading desired state of %s failed", twin)
                    continue
                self._send(twin, state.revision, state.desired)

    def _send(self, twin: str, version: int, desired: dict[str, object]) -> None:
        body = orjson.dumps({"version": version, "desired": desired})
        self._publish(desired_topic(twin), body, 1, True)
        self.published += 1
