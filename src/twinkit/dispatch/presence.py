"""Presence: is a device connected right now?

Two sources, as devices differ: the retained ``twinkit/{id}/status`` topic (a device
publishes ``online`` when it connects and sets its MQTT last will to ``offline``, so
the broker announces a dropped connection), and last-seen (any message from the
device). A device that never uses the status topic counts as online for
``window`` after its last message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

OnOnline = Callable[[str], None]


@dataclass(slots=True)
class Seen:
    online: bool
    announced: bool  # the state came from the status topic (not inferred from traffic)
    last_seen: float


class Presence:
    def __init__(self, window: float = 300.0) -> None:
        self.window = window
        self._devices: dict[str, Seen] = {}
        self._listeners: list[OnOnline] = []

    def on_online(self, listener: OnOnline) -> Callable[[], None]:
        """Call ``listener(twin)`` whenever a device comes (back) online; returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def seen(self, twin: str, now: float | None = None) -> None:
        """Any message from the device: it is online."""
        now = time.monotonic() if now is None else now
        was_online = self.is_online(twin, now)
        entry = self._devices.get(twin)
        if entry is None:
            self._devices[twin] = Seen(True, False, now)
        else:
            if not entry.online:
                entry.announced = False  # traffic after a last will: online, inferred
            entry.online, entry.last_seen = True, now
        if not was_online:
            self._came_online(twin)

    def announce(self, twin: str, online: bool, now: float | None = None) -> None:
        """The device's status topic (or its last will) said online/offline."""
        now = time.monotonic() if now is None else now
        was_online = self.is_online(twin, now)
        self._devices[twin] = Seen(online, True, now)
        if online and not was_online:
            self._came_online(twin)

    def is_online(self, twin: str, now: float | None = None) -> bool:
        entry = self._devices.get(twin)
        if entry is None or not entry.online:
            return False
        now = time.monotonic() if now is None else now
        return entry.announced or now - entry.last_seen < self.window

    def last_seen(self, twin: str) -> float | None:
        entry = self._devices.get(twin)
        return entry.last_seen if entry else None

    def _came_online(self, twin: str) -> None:
        for listener in list(self._listeners):
            listener(twin)


def read_status(payload: bytes) -> bool | None:
    """``online``/``offline``, plain or JSON (``"online"``, ``{"online": true}``); else None."""
    text = payload.strip().lower()
    if text.startswith(b"{"):
        try:
            body = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        online = body.get("online") if isinstance(body, dict) else None
        return online if isinstance(online, bool) else None
    text = text.strip(b'"')
    if text in (b"online", b"1", b"true"):
        return True
    if text in (b"offline", b"0", b"false", b""):
        return False
    return None
