"""The composition root: one object that wires storage, the bus, the engine and history.

>>> async with Platform.open("plant.db") as tk:          # doctest: +SKIP
...     await tk.models.add(PUMP_MODEL)
...     await tk.twins.put("pump-1", model="dtmi:acme:Pump;1", reported={"rpm": 1200})
...     await tk.twins.telemetry("pump-1", {"vibration": 3.2})
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from twinkit import dtdl
from twinkit.bus import Bus
from twinkit.dtdl import ExportError, to_json
from twinkit.history.journal import Journal
from twinkit.history.timeseries import History
from twinkit.model.errors import Conflict, ValidationFailed
from twinkit.model.interface import Interface, ModelRegistry
from twinkit.model.time import Clock, SystemClock
from twinkit.query.predicate import install as install_query_language
from twinkit.storage.group_commit import GroupCommitter
from twinkit.storage.memory import MemoryStore
from twinkit.storage.ports import Batch, Store
from twinkit.storage.sqlite import SQLiteStore
from twinkit.twins.engine import Twins


class Models:
    """The DTDL models a platform knows, persisted with it."""

    def __init__(self, store: Store, registry: ModelRegistry, twins: Twins) -> None:
        self._store = store
        self._registry = registry
        self._twins = twins

    async def add(self, document: Any) -> list[Interface]:
        """Add one DTDL document or an array; all-or-nothing. Returns the new Interfaces.

        The full DTDL v2/v3 validator checks them; references to models the platform
        already knows resolve against those.
        """
        if document == []:
            raise ValidationFailed("no Interface in the document", "")
        interfaces = dtdl.interfaces(document, resolver=self._known_documents)
        for index, interface in enumerate(interfaces):
            if interface.id in self._registry:
                path = f"/{index}/@id" if isinstance(document, list) else "/@id"
                raise Conflict(f"model {interface.id} already exists", path)
        self._registry.add(interfaces)
        await self._store.save_models([_storable(i) for i in interfaces])
        return interfaces

    def _known_documents(self, dtmis: list[str]) -> list[Any]:
        return [dict(self._registry.get(d).source) for d in dtmis if d in self._registry]

    def get(self, dtmi: str) -> Interface:
        return self._registry.get(dtmi)

    def list(self) -> list[Interface]:
        return sorted(self._registry, key=lambda i: i.id)

    async def delete(self, dtmi: str) -> None:
        self._registry.get(dtmi)
        users = await self._store.twin_ids(model=dtmi, limit=1)
        if users:
            raise Conflict(f"model {dtmi} is used by twin {users[0]!r}", "/model")
        self._registry.remove(dtmi)
        await self._store.delete_model(dtmi)

    @property
    def registry(self) -> ModelRegistry:
        return self._registry


def _storable(interface: Interface) -> dict[str, Any]:
    """The DTDL document to persist: the exported interface (self-contained, with its
    context), or what was submitted when it cannot be exported."""
    try:
        return to_json(interface)
    except ExportError:
        return dict(interface.source)


class Platform:
    """A running twinkit: models, twins, journal, history and the event bus."""

    def __init__(
        self, store: Store, *, clock: Clock | None = None, cache_size: int = 10_000
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.bus = Bus()
        self.registry = ModelRegistry()
        self._committer = GroupCommitter(store, self._committed, self._commit_failed)
        self.twins = Twins(store, self.registry, self._committer, self.clock, cache_size)
        self.journal = Journal(store)
        self.history = History(store, self._committer, self.clock)
        self.models = Models(store, self.registry, self.twins)
        self._started = False

    @classmethod
    @asynccontextmanager
    async def open(
        cls, path: str | Path | None = None, *, clock: Clock | None = None
    ) -> AsyncIterator[Platform]:
        """A platform on a SQLite file, or in memory when ``path`` is None."""
        store: Store = MemoryStore() if path is None else SQLiteStore(path)
        platform = cls(store, clock=clock)
        await platform.start()
        try:
            yield platform
        finally:
            await platform.close()

    async def start(self) -> None:
        await self.store.open()
        # every stored model passed the validator when it was added
        self.registry.add(dtdl.interfaces(await self.store.load_models()))
        install_query_language(self.registry)
        await self.twins.start()
        await self.history.recover()
        self._committer.start()
        self._started = True

    async def close(self) -> None:
        if not self._started:
            return
        self._started = False
        await self.history.flush()
        await self._committer.close()
        await self.store.close()

    async def flush(self) -> None:
        """Wait until every staged write is durable."""
        await self._committer.flush()

    def stage(self, batch: Batch) -> asyncio.Future[None]:
        """Write ``batch`` with the next group commit, in order with every twin write; the
        future resolves once it is durable. For state kept beside the twins (detector and
        rule state), not for twin changes: those go through :attr:`twins`."""
        return self._committer.stage(batch)

    async def enforce_retention(self) -> int:
        """Apply the history retention rules; returns how many points were dropped."""
        models: dict[str, str | None] = {t: None for t in await self._twin_ids(None)}
        for model in {r.model for r in self.history.retention if r.model is not None}:
            models.update(dict.fromkeys(await self._twin_ids(model), model))
        return await self.history.enforce_retention(models)

    async def _twin_ids(self, model: str | None) -> list[str]:
        ids: list[str] = []
        while page := await self.store.twin_ids(
            model=model, after=ids[-1] if ids else "", limit=1000
        ):
            ids += page
        return ids

    def _committed(self, batch: Batch) -> None:
        if batch.events:
            self.history.on_committed(batch.events)
        for event in batch.events:
            self.bus.publish(event)

    def _commit_failed(self) -> None:
        self.twins.forget_cache()
