"""Redelivered duplicates applied once: a bounded window of recent message ids per twin.

A QoS 1 message is redelivered (with the DUP flag and the same packet id) when the
broker did not see our acknowledgement, e.g. after a crash between commit and ack.
Every applied message leaves its key in the event's ``context.correlation_id``, so
after a restart the window of a twin is warmed from the tail of its journal.
Keys: ``msg:{msg_id}`` when the payload names one, else ``mqtt:{packet id}:{crc32}``.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import OrderedDict

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
        self._windows: OrderedDict[str, OrderedDict[str, asyncio.Future[None] | None]] = (
            OrderedDict()
        )
        self.warmed: set[str] = set()

    def get(self, twin: str, key: str) -> tuple[bool, asyncio.Future[None] | None]:
        """Whether ``key`` was seen for ``twin``, and the write to wait for if still running."""
        window = self._windows.get(twin)
        if window is None or key not in window:
            return False, None
        return True, window[key]

    def add(self, twin: str, key: str, write: asyncio.Future[None] | None = None) -> None:
        window = self._windows.get(twin)
        if window is None:
            window = self._windows[twin] = OrderedDict()
            while len(self._windows) > self._max_twins:
                old, _ = self._windows.popitem(last=False)
                self.warmed.discard(old)
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
