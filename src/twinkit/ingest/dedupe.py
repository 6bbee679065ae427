"""Redelivered duplicates applied once: a bounded window of recent message ids per twin.

A QoS 1 message is redelivered (with the DUP flag and the same packet id) when the
broker did not see our acknowledgement, e.g. after a crash between commit and ack.
Every applied message leaves its key in the event's ``context.correlation_id``. After
a restart or a reconnect, the first redelivery for a twin reads the keys of the
journal events committed *before* that connection began (``restore``): a redelivery
can only be of a message applied then, and there are at most as many as the broker
lets be in flight unacknowledged (1000 with twinkit's Mosquitto settings).
Keys: ``msg:{msg_id}`` when the payload names one, else ``mqtt:{packet id}:{crc32}``.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import OrderedDict
from typing import Any

KEY_PREFIXES = ("msg:", "mqtt:")


def message_key(msg_id: str | None, mid: int, payload: bytes, qos: int) -> str | None:
    """The identity of a message for duplicate detection (None: cannot be redelivered)."""
    if msg_id is not None:
        return f"msg:{msg_id}"
    if qos == 0:
        return None
    return f"mqtt:{mid}:{zlib.crc32(payload):08x}"


class RecentIds:
    """Per twin, the last ``size`` message keys, each with the write that applied it."""

    def __init__(self, size: int = 256, twins: int = 100_000) -> None:
        self._size = size
        self._max_twins = twins
        self._windows: OrderedDict[str, OrderedDict[str, asyncio.Future[Any] | None]] = (
            OrderedDict()
        )
        # per twin, keys of events committed before the current connection (see module text)
        self.restored: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._max_restored = 1000

    def get(self, twin: str, key: str) -> tuple[bool, asyncio.Future[Any] | None]:
        """Whether ``key`` was seen for ``twin``, and the write to wait for if still running."""
        window = self._windows.get(twin)
        if window is not None and key in window:
            return True, window[key]
        restored = self.restored.get(twin)
        return (restored is not None and key in restored), None

    def restore(self, twin: str, keys: frozenset[str]) -> None:
        self.restored[twin] = keys
        self.restored.move_to_end(twin)
        while len(self.restored) > self._max_restored:
            self.restored.popitem(last=False)

    def new_epoch(self) -> None:
        """A new connection: redeliveries may now be of anything applied before it."""
        self.restored.clear()

    def add(self, twin: str, key: str, write: asyncio.Future[Any] | None = None) -> None:
        window = self._windows.get(twin)
        if window is None:
            window = self._windows[twin] = OrderedDict()
            while len(self._windows) > self._max_twins:
                self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(twin)
        window[key] = write
        if len(window) > self._size:
            window.popitem(last=False)

    def settle(self, twin: str, key: str) -> None:
        """The write for ``key`` finished: keep the key, drop the future."""
        window = self._windows.get(twin)
        if window is not None and key in window:
            window[key] = None

    def forget(self, twin: str, key: str) -> None:
        """The write failed: a redelivery must be applied again."""
        window = self._windows.get(twin)
        if window is not None:
            window.pop(key, None)
