"""The rule engine's own copy of each twin it judges, folded event by event.

Rules are judged on a twin *exactly as each event left it*: reading the twin from the store
would show a later state when the engine runs behind, and a dip between two samples would be
skipped. So the engine folds every event it judges onto its own copy
(:func:`twinkit.twins.state.apply`), keeping the most recently used ``limit`` twins; a twin
not kept (or whose events were dropped) is read from the journal as of the event.
"""

from __future__ import annotations

from collections import OrderedDict

from twinkit.history.journal import Journal
from twinkit.model.events import Event
from twinkit.twins.state import TwinState, apply


class FoldedTwins:
    """Twin states by id, least recently used first, at most ``limit`` of them."""

    def __init__(self, journal: Journal, limit: int) -> None:
        self._journal = journal
        self._limit = limit
        self._states: OrderedDict[str, TwinState] = OrderedDict()

    def get(self, twin: str) -> TwinState | None:
        return self._states.get(twin)

    def forget(self, twin: str) -> None:
        self._states.pop(twin, None)

    async def after(self, event: Event) -> TwinState | None:
        """The twin right after ``event``, or None when a newer state was already judged.
        Raises the journal's error when the twin cannot be read (deleted meanwhile)."""
        state = self._states.get(event.twin)
        if state is not None and state.revision + 1 == event.revision:
            state = apply(state, event)
        elif state is not None and state.revision >= event.revision:
            return None
        else:  # first sight of the twin, or events were dropped: read it as of this event
            state = await self._journal.as_of(event.twin, revision=event.revision)
        self._states[state.id] = state
        self._states.move_to_end(state.id)
        while len(self._states) > self._limit:
            self._states.popitem(last=False)
        return state
