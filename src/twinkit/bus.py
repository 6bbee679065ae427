"""The event bus: committed events, fanned out to subscribers in commit order.

``subscribe`` returns the function that unsubscribes (as in Home Assistant).
Callbacks run inline and must be quick; :class:`Feed` gives a bounded async queue
for slow consumers, and closes it (with a reason) instead of growing memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass

from twinkit.model.events import Event

log = logging.getLogger(__name__)

Listener = Callable[[Event], None]
Unsubscribe = Callable[[], None]


@dataclass(frozen=True, slots=True)
class Filter:
    twins: frozenset[str] | None = None
    models: frozenset[str] | None = None
    kinds: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        twins: Collection[str] | None = None,
        models: Collection[str] | None = None,
        kinds: Collection[str] | None = None,
    ) -> Filter:
        return cls(
            frozenset(twins) if twins else None,
            frozenset(models) if models else None,
            frozenset(kinds) if kinds else None,
        )

    def matches(self, event: Event) -> bool:
        return (
            (self.twins is None or event.twin in self.twins)
            and (self.models is None or event.model in self.models)
            and (self.kinds is None or event.kind.value in self.kinds)
        )


class Bus:
    def __init__(self) -> None:
        self._listeners: dict[int, tuple[Filter, Listener]] = {}
        self._next = 0

    def subscribe(self, listener: Listener, where: Filter | None = None) -> Unsubscribe:
        key = self._next
        self._next += 1
        self._listeners[key] = (where or Filter(), listener)

        def unsubscribe() -> None:
            self._listeners.pop(key, None)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for where, listener in list(self._listeners.values()):
            if where.matches(event):
                try:
                    listener(event)
                except Exception:
                    log.exception("event listener failed on %s", event.id)

    def feed(self, where: Filter | None = None, max_pending: int = 10_000) -> Feed:
        return Feed(self, where or Filter(), max_pending)


class FeedOverflow(Exception):
    """The consumer fell more than ``max_pending`` events behind and was cut off."""


class Feed:
    """A bounded queue of matching events, usable as an async iterator."""

    def __init__(self, bus: Bus, where: Filter, max_pending: int) -> None:
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._max = max_pending
        self.overflowed = False
        self._unsubscribe = bus.subscribe(self._push, where)

    def _push(self, event: Event) -> None:
        if self.overflowed:
            return
        if self._queue.qsize() >= self._max:
            self.overflowed = True
            self._unsubscribe()
            self._queue.put_nowait(None)
            return
        self._queue.put_nowait(event)

    def close(self) -> None:
        self._unsubscribe()
        self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            event = await self._queue.get()
            if event is None:
                if self.overflowed:
                    raise FeedOverflow(f"consumer fell more than {self._max} events behind")
                return
            yield event
