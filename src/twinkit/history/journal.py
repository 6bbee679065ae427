"""The journal: a twin's ordered events, and its state as of any revision or time."""

from __future__ import annotations

from datetime import datetime

from twinkit.model.errors import NotFound, ValidationFailed
from twinkit.model.events import Event
from twinkit.storage.ports import Store
from twinkit.twins.state import TwinState, replay


class Journal:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def events(
        self, twin: str, *, after_revision: int = 0, limit: int | None = 1000
    ) -> list[Event]:
        if after_revision < 0:
            raise ValidationFailed("after_revision must be 0 or more", "/after_revision")
        return await self._store.events(twin, after_revision=after_revision, limit=limit)

    async def since(self, seq: int, *, limit: int = 10_000) -> list[Event]:
        """Events of every twin after the feed cursor ``seq`` (resuming a change feed)."""
        return await self._store.events_since(seq, limit=limit)

    async def as_of(
        self, twin: str, *, revision: int | None = None, at: datetime | None = None
    ) -> TwinState:
        """The twin exactly as it was after ``revision`` events, or at time ``at``."""
        if revision is None and at is None:
            raise ValidationFailed("give a revision or a time", "/revision")
        if revision is None:
            assert at is not None
            revision = await self._store.revision_at(twin, at)
            if revision == 0:
                raise NotFound(f"twin {twin!r} did not exist at {at.isoformat()}", "/at")
        if revision < 1:
            raise ValidationFailed("revision must be 1 or more", "/revision")
        start, events = await self._store.replay_material(twin, revision)
        state = replay(twin, events, start)
        if state.revision != revision:
            raise NotFound(
                f"twin {twin!r} has no revision {revision} (latest {state.revision})", "/revision"
            )
        if not state.exists:
            raise NotFound(f"twin {twin!r} was deleted at revision {revision}", "/revision")
        return state
