"""The twin engine: decide, append, commit, publish — one twin at a time, many at once.

Each write reads the twin's current state from a bounded cache, decides the
events (pure code in :mod:`twinkit.twins.contract`), folds them in, and stages
them with the store's group commit. It returns only once the events are durable;
the bus sees them right after, in revision order per twin.

Between reading the cached state and staging the events there is no ``await``,
so two writes to one twin can never interleave.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from twinkit.model.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    TwinkitError,
    ValidationFailed,
)
from twinkit.model.events import Context, Event, EventKind
from twinkit.model.interface import SCHEMALESS, ModelRegistry, ResolvedInterface
from twinkit.model.time import Clock, format_time
from twinkit.query.predicate import predicate_for
from twinkit.storage.group_commit import GroupCommitter
from twinkit.storage.ports import Batch, Store
from twinkit.twins import contract
from twinkit.twins.state import TwinState, apply

SNAPSHOT_EVERY = 64


class Twins:
    """Reads and writes of twins: the state contract, relationships, telemetry."""

    def __init__(
        self,
        store: Store,
        registry: ModelRegistry,
        committer: GroupCommitter,
        clock: Clock,
        cache_size: int = 10_000,
    ) -> None:
        self._store = store
        self._registry = registry
        self._committer = committer
        self._clock = clock
        self._cache: OrderedDict[str, TwinState] = OrderedDict()
        self._cache_size = cache_size
        self._pending: dict[str, int] = {}
        self._loading: dict[str, asyncio.Future[None]] = {}
        self._seq = 0

    async def start(self) -> None:
        self._seq = await self._store.last_seq()

    def forget_cache(self) -> None:
        """Drop cached states (after a failed commit, the store is the truth again)."""
        self._cache.clear()
        self._pending.clear()

    # -- reads ----------------------------------------------------------------------------
    async def get(self, twin: str) -> TwinState:
        state = await self._current(twin)
        if not state.exists:
            raise NotFound(f"twin {twin!r} does not exist", "/id")
        return state

    async def exists(self, twin: str) -> bool:
        return (await self._current(twin)).exists

    async def page(
        self, *, model: str | None = None, after: str = "", limit: int = 100
    ) -> list[TwinState]:
        ids = await self._store.twin_ids(model=model, after=after, limit=limit)
        return [s for s in [await self._current(i) for i in ids] if s.exists]

    async def relationships(self, twin: str) -> list[dict[str, Any]]:
        state = await self.get(twin)
        return sorted(state.relationships.values(), key=lambda r: r["id"])

    async def incoming(self, twin: str) -> list[dict[str, Any]]:
        await self.get(twin)
        return await self._store.incoming(twin)

    def resolve_model(self, state: TwinState) -> ResolvedInterface:
        return self._registry.resolve(state.model) if state.model else SCHEMALESS

    # -- writes ---------------------------------------------------------------------------
    async def put(
        self,
        twin: str,
        *,
        model: str | None = None,
        reported: dict[str, Any] | None = None,
        desired: dict[str, Any] | None = None,
        if_match: str | None = None,
        context: Context | None = None,
    ) -> tuple[TwinState, bool]:
        """Create or replace a twin. Returns the state and whether it was created."""
        _check_id(twin)
        resolved = self._model(model, "/model")
        reported = _drop_nulls(_object(reported, "/reported"))
        desired = _drop_nulls(_object(desired, "/desired"))
        contract.check_section(reported, "reported", resolved, self._registry, "/reported")
        contract.check_section(desired, "desired", resolved, self._registry, "/desired")
        await self._ensure_cached(twin)
        state = self._cached(twin)
        contract.check_etag(state, if_match)
        kind = EventKind.TWIN_REPLACED if state.exists else EventKind.TWIN_CREATED
        data = {"model": model, "reported": reported, "desired": desired}
        new = await self._commit_cached(state, [(kind, data)], context, model=model)
        return new, kind is EventKind.TWIN_CREATED

    async def patch(
        self,
        twin: str,
        section: str,
        patch: Any,
        *,
        json_patch: bool = False,
        if_match: str | None = None,
        condition: str | None = None,
        at: datetime | None = None,
        context: Context | None = None,
    ) -> TwinState:
        """Apply a merge patch or JSON Patch to ``reported`` or ``desired``."""
        if section not in ("reported", "desired"):
            raise ValidationFailed("only reported and desired can be patched", "/section")
        # conditions are the query language's WHERE, with this platform's models
        predicate = predicate_for(condition, self._registry) if condition else None
        await self._ensure_cached(twin)
        state = self._cached(twin)
        if not state.exists:
            raise NotFound(f"twin {twin!r} does not exist", "/id")
        contract.check_etag(state, if_match)
        if predicate is not None and not predicate(state.document()):
            raise PreconditionFailed(f"condition {condition!r} is false", "/condition")
        data = contract.section_change(
            getattr(state, section),
            patch,
            json_patch=json_patch,
            section=section,
            model=self.resolve_model(state),
            registry=self._registry,
        )
        if at is not None:
            data["at"] = format_time(at)
        kind = EventKind.REPORTED_CHANGED if section == "reported" else EventKind.DESIRED_CHANGED
        return await self._commit_cached(state, [(kind, data)], context)

    async def telemetry(
        self,
        twin: str,
        values: dict[str, Any],
        *,
        at: datetime | None = None,
        context: Context | None = None,
    ) -> TwinState:
        await self._ensure_cached(twin)
        state = self._cached(twin)
        if not state.exists:
            raise NotFound(f"twin {twin!r} does not exist", "/id")
        clean = contract.telemetry_values(values, self.resolve_model(state), self._registry)
        data: dict[str, Any] = {"values": clean}
        if at is not None:
            data["at"] = format_time(at)
        return await self._commit_cached(state, [(EventKind.TELEMETRY_RECEIVED, data)], context)

    async def telemetry_batch(
        self,
        items: Sequence[tuple[str, Any, datetime | None] | Message],
        *,
        context: Context | None = None,
        on_staged: Callable[[], None] | None = None,
    ) -> list[TwinState | TwinkitError]:
        """Apply many telemetry messages (``(twin, values, at)``, optionally with a fourth
        element, that message's own context) in one group commit.

        Each item succeeds or fails on its own; the result list matches ``items``
        (a state, or the error that refused the item). Per twin, items apply in order.
        ``on_staged`` is called once the batch's place in each twin's history is fixed
        (folded and staged, not yet durable): a caller may start the next batch then.
        """
        twins = {item[0] for item in items}
        if len(twins) > self._cache_size // 2:
            half = len(items) // 2
            first = await self.telemetry_batch(items[:half], context=context)
            rest = await self.telemetry_batch(items[half:], context=context, on_staged=on_staged)
            return first + rest
        while missing := [t for t in twins if t not in self._cache]:
            await asyncio.gather(*(self._ensure_cached(t) for t in missing))
        # From here to staging there is no await: no other write can interleave.
        context = context or Context()
        now = self._clock.now()  # one recorded time for the whole batch, formatted once
        batch = Batch()
        results: list[TwinState | TwinkitError] = []
        touched: list[str] = []
        for index, item in enumerate(items):
            twin, values, at = item[0], item[1], item[2]
            own: Context = item[3] if len(item) > 3 else context
            state = self._cached(twin)
            try:
                if not state.exists:
                    raise NotFound(f"twin {twin!r} does not exist", f"/{index}/twin")
                resolved = self.resolve_model(state)
                clean = contract.telemetry_values(
                    values, resolved, self._registry, f"/{index}/values"
                )
            except TwinkitError as exc:
                results.append(exc)
                continue
            data: dict[str, Any] = {"values": clean}
            if at is not None:
                data["at"] = format_time(at)
            steps = [(EventKind.TELEMETRY_RECEIVED, data)]
            results.append(self._fold_into(batch, state, steps, own, now=now))
            touched.append(twin)
        waiter = self._committer.stage(batch) if touched else None
        if on_staged is not None:
            on_staged()
        if waiter is not None:
            await self._settle(touched, waiter)
        return results

    async def delete(
        self,
        twin: str,
        *,
        cascade: bool = False,
        if_match: str | None = None,
        context: Context | None = None,
    ) -> None:
        state = await self.get(twin)
        contract.check_etag(state, if_match)
        incoming = await self._store.incoming(twin)
        if (state.relationships or incoming) and not cascade:
            raise Conflict(
                f"twin {twin!r} has {len(state.relationships)} outgoing and {len(incoming)}"
                " incoming relationships; delete them first or ask to cascade",
                "/id",
            )
        context = context or Context()
        for rel in incoming:
            if rel["source"] != twin:
                await self.delete_relationship(rel["source"], rel["id"], context=context)
        await self._ensure_cached(twin)
        state = self._cached(twin)
        steps: list[tuple[EventKind, dict[str, Any]]] = [
            (EventKind.RELATIONSHIP_REMOVED, {"id": rid}) for rid in sorted(state.relationships)
        ]
        steps.append((EventKind.TWIN_DELETED, {}))
        await self._commit_cached(state, steps, context)

    async def put_relationship(
        self, twin: str, rel_id: str, body: Any, *, context: Context | None = None
    ) -> dict[str, Any]:
        _check_id(rel_id, "/relationship_id")
        target = body.get("target") if isinstance(body, dict) else None
        target_model: ResolvedInterface | None = None
        if isinstance(target, str) and target:
            target_state = await self._current(target)
            target_model = self.resolve_model(target_state) if target_state.exists else None
        await self._ensure_cached(twin)
        state = self._cached(twin)
        if not state.exists:
            raise NotFound(f"twin {twin!r} does not exist", "/id")
        rel = contract.relationship_change(
            state, rel_id, body, self.resolve_model(state), target_model
        )
        kind = (
            EventKind.RELATIONSHIP_REPLACED
            if rel_id in state.relationships
            else EventKind.RELATIONSHIP_ADDED
        )
        await self._commit_cached(state, [(kind, {"relationship": rel})], context)
        return rel

    async def get_relationship(self, twin: str, rel_id: str) -> dict[str, Any]:
        state = await self.get(twin)
        try:
            return state.relationships[rel_id]
        except KeyError:
            raise NotFound(
                f"twin {twin!r} has no relationship {rel_id!r}", "/relationship_id"
            ) from None

    async def delete_relationship(
        self, twin: str, rel_id: str, *, context: Context | None = None
    ) -> None:
        await self.get_relationship(twin, rel_id)  # raises NotFound; leaves the twin cached
        state = self._cached(twin)
        await self._commit_cached(
            state, [(EventKind.RELATIONSHIP_REMOVED, {"id": rel_id})], context
        )

    async def record(
        self, twin: str, kind: EventKind, data: dict[str, Any], *, context: Context | None = None
    ) -> Event:
        """Append an event that does not change reported/desired (commands, alerts)."""
        await self._ensure_cached(twin)
        state = self._cached(twin)
        if not state.exists:
            raise NotFound(f"twin {twin!r} does not exist", "/id")
        _, events, waiter = self._stage(state, [(kind, data)], context)
        await self._settle([state.id], waiter)
        return events[0]

    # -- machinery ------------------------------------------------------------------------
    def _model(self, model: Any, path: str) -> ResolvedInterface:
        if model is None:
            return SCHEMALESS
        if not isinstance(model, str):
            raise ValidationFailed("model must be a DTMI string", path)
        if model not in self._registry:
            raise ValidationFailed(f"model {model} is not known; upload it first", path)
        return self._registry.resolve(model)

    async def _current(self, twin: str) -> TwinState:
        await self._ensure_cached(twin)
        return self._cached(twin)

    def _cached(self, twin: str) -> TwinState:
        state = self._cache[twin]
        self._cache.move_to_end(twin)
        return state

    async def _ensure_cached(self, twin: str) -> None:
        while twin not in self._cache:
            loading = self._loading.get(twin)
            if loading is not None:
                await loading
                continue
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._loading[twin] = future
            try:
                state = await self._store.load_twin(twin)
                if state is None:
                    state = TwinState(twin, revision=await self._store.last_revision(twin))
                if twin not in self._cache:
                    self._cache[twin] = state
                    self._evict()
            finally:
                del self._loading[twin]
                future.set_result(None)

    def _evict(self) -> None:
        while len(self._cache) > self._cache_size:
            for victim in self._cache:
                if victim not in self._pending:
                    del self._cache[victim]
                    break
            else:
                return

    async def _commit_cached(
        self,
        state: TwinState,
        steps: list[tuple[EventKind, dict[str, Any]]],
        context: Context | None,
        model: str | None = None,
    ) -> TwinState:
        new, _, waiter = self._stage(state, steps, context, model)
        await self._settle([state.id], waiter)
        return new

    def _stage(
        self,
        state: TwinState,
        steps: list[tuple[EventKind, dict[str, Any]]],
        context: Context | None,
        model: str | None = None,
    ) -> tuple[TwinState, list[Event], asyncio.Future[None]]:
        """Fold ``steps`` into ``state`` and stage them for the next group commit."""
        batch = Batch()
        state = self._fold_into(batch, state, steps, context or Context(), model)
        return state, batch.events, self._committer.stage(batch)

    def _fold_into(
        self,
        batch: Batch,
        state: TwinState,
        steps: list[tuple[EventKind, dict[str, Any]]],
        context: Context,
        model: str | None = None,
        now: datetime | None = None,
    ) -> TwinState:
        if self._cache.get(state.id) is not state:
            raise RuntimeError("state changed under a write")  # a bug, never a user error
        now = now or self._clock.now()
        for kind, data in steps:
            self._seq += 1
            event = Event(
                state.id,
                state.revision + 1,
                kind,
                now,
                data,
                context,
                model or state.model,
                self._seq,
            )
            state = apply(state, event)
            batch.events.append(event)
            if state.revision % SNAPSHOT_EVERY == 0:
                batch.snapshots.append(state)
        batch.twins[state.id] = state
        self._cache[state.id] = state
        self._pending[state.id] = self._pending.get(state.id, 0) + 1
        return state

    async def _settle(self, twins: list[str], waiter: asyncio.Future[None]) -> None:
        """Wait for durability, then let the cache evict these twins again."""
        try:
            await waiter
        finally:
            for twin in twins:
                left = self._pending.get(twin, 0) - 1
                if left > 0:
                    self._pending[twin] = left
                else:
                    self._pending.pop(twin, None)


Message = tuple[str, Any, "datetime | None", Context]
"""A telemetry message with its own context: ``(twin, values, at, context)``."""


def _check_id(twin: Any, path: str = "/id") -> None:
    if not isinstance(twin, str) or not twin or len(twin) > 256:
        raise ValidationFailed("an id must be a non-empty string of at most 256 characters", path)
    if any(c in twin for c in "/#+\x00") or twin != twin.strip():
        raise ValidationFailed(
            "an id may not contain '/', '#', '+', NUL or surrounding spaces", path
        )


def _object(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed("expected an object", path)
    return value


def _drop_nulls(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
