"""When each (rule, twin) must be judged again although no new value arrives: one heap for all.

A rule whose truth changes with the passing of time alone — ``age(temp) > '5m'``, a window
whose points age out, a pending ``for: 2m`` — gets a deadline after every judgement
(:func:`twinkit.rules.tracking.next_change`). All deadlines of all twins live in this one
heap, served by the engine's single background task: no task or timer handle per twin.

Each (rule, twin) has at most one deadline. Deadlines are kept in the twin's own time (the
time of its samples, in which windows and ``for:`` are measured) and queued at the platform
clock's moment for it: ``at + lag``, where ``lag`` is how far the twin's samples trailed the
platform clock when it was last judged (0 for a device that sends no ``at`` of its own; a
device whose clock is 10 minutes behind is not declared silent the moment it speaks).

A deadline that moves later (every sample of a streaming twin moves its window's next
age-out) is only noted; its heap entry is re-queued when it comes up, so a busy twin costs
one dict update per judgement and one heap step per due time, and the heap holds about one
entry per (rule, twin). It is rebuilt when stale entries pile up, and ``limit`` bounds the
number of deadlines (beyond it new ones are refused and counted in ``dropped``).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

Key = tuple[str, str]  # (rule id, twin id)
DEFAULT_GRACE = 0.5
"""Seconds the engine waits after a deadline before judging it: a value of the twin that
arrives (with a sample time) within it is judged instead, so a sample in flight wins."""


@dataclass(slots=True)
class _Deadline:
    at: float  # twin time: the moment to judge at
    due: float  # platform-clock time: when to do it (at + lag)
    queued: float  # the clock time of this key's live heap entry


class Schedule:
    """Deadlines by (rule, twin), ordered by the platform-clock time they fall due."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self.dropped = 0
        self._deadlines: dict[Key, _Deadline] = {}
        self.twins: dict[str, set[str]] = {}  # twin → the rules it has a deadline for (read only)
        self._heap: list[tuple[float, int, Key]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._deadlines)

    def get(self, key: Key) -> float | None:
        """The moment (twin time) ``key`` is due to be judged at, if any."""
        deadline = self._deadlines.get(key)
        return deadline.at if deadline is not None else None

    def arm(self, key: Key, at: float | None, lag: float = 0.0) -> None:
        """Judge ``key`` again at ``at`` (twin time; the clock's ``at + lag``); None disarms."""
        if at is None:
            self.disarm(key)
            return
        due = at + lag
        deadline = self._deadlines.get(key)
        if deadline is None:
            if len(self._deadlines) >= self.limit:
                self.dropped += 1
                return
            self._deadlines[key] = _Deadline(at, due, due)
            self.twins.setdefault(key[1], set()).add(key[0])
            self._push(due, key)
            return
        deadline.at, deadline.due = at, due
        if due < deadline.queued:  # earlier than its entry: queue anew (the old one goes stale)
            deadline.queued = due
            self._push(due, key)

    def disarm(self, key: Key) -> None:
        if self._deadlines.pop(key, None) is not None:
            rules = self.twins.get(key[1])
            if rules is not None:
                rules.discard(key[0])
                if not rules:
                    del self.twins[key[1]]

    def disarm_twin(self, twin: str) -> None:
        for rule in list(self.twins.get(twin, ())):
            self.disarm((rule, twin))

    def disarm_rule(self, rule: str) -> None:
        for key in [k for k in self._deadlines if k[0] == rule]:
            self.disarm(key)

    def take_twin(
        self, twin: str, before: float, *, by_clock: bool = False
    ) -> list[tuple[Key, float, float]]:
        """Remove and return ``twin``'s deadlines earlier than ``before`` (twin time, or clock
        time ``by_clock``), earliest first: those a value of the twin at ``before`` (or a change
        of a twin it reads, on the clock) shows have passed."""
        found: list[tuple[Key, float, float]] = []
        for rule in list(self.twins.get(twin, ())):
            deadline = self._deadlines[(rule, twin)]
            if (deadline.due if by_clock else deadline.at) < before:
                found.append(((rule, twin), deadline.at, deadline.due - deadline.at))
                self.disarm((rule, twin))
        found.sort(key=lambda item: item[1])
        return found

    def next_due(self) -> float | None:
        """The clock time of the earliest deadline (None when there is none)."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def take(self, until: float) -> list[tuple[Key, float, float]]:
        """Remove and return every deadline due by ``until`` (clock time), earliest first,
        as ``(key, at, lag)``."""
        found: list[tuple[Key, float, float]] = []
        while self._heap and self._heap[0][0] <= until:
            queued, _, key = heapq.heappop(self._heap)
            deadline = self._deadlines.get(key)
            if deadline is None or deadline.queued != queued:
                continue  # disarmed, or re-queued earlier: a stale entry
            if deadline.due > queued:  # moved later since it was queued
                deadline.queued = deadline.due
                self._push(deadline.due, key)
                continue
            self.disarm(key)
            found.append((key, deadline.at, deadline.due - deadline.at))
        return found

    def _push(self, due: float, key: Key) -> None:
        heapq.heappush(self._heap, (due, next(self._order), key))
        if len(self._heap) > 2 * len(self._deadlines) + 1024:
            self._rebuild()

    def _rebuild(self) -> None:
        for deadline in self._deadlines.values():
            deadline.queued = deadline.due
        self._heap = [(d.due, next(self._order), k) for k, d in self._deadlines.items()]
        heapq.heapify(self._heap)

    def _drop_stale(self) -> None:
        while self._heap:
            queued, _, key = self._heap[0]
            deadline = self._deadlines.get(key)
            if deadline is not None and deadline.queued == queued:
                return
            heapq.heappop(self._heap)
