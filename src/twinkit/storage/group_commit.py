"""Group commit: every write staged while one transaction runs goes into the next one.

Writers ``await stage(batch)``; it returns once their batch is durable. There is
no timer: under load, batches grow by themselves while the previous commit is
being written, which is what turns per-write fsyncs into per-batch ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from twinkit.storage.ports import Batch, Store

log = logging.getLogger(__name__)

Committed = Callable[[Batch], None]


class GroupCommitter:
    def __init__(
        self, store: Store, on_committed: Committed, on_failed: Callable[[], None]
    ) -> None:
        self._store = store
        self._on_committed = on_committed
        self._on_failed = on_failed
        self._staged = Batch()
        self._waiters: list[asyncio.Future[None]] = []
        self._committing: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="twinkit-group-commit")

    def stage(self, batch: Batch) -> asyncio.Future[None]:
        """Queue ``batch`` for the next transaction; the future resolves once it is durable."""
        if self._closing:
            raise RuntimeError("the platform is closed")
        self._staged.absorb(batch)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._wake.set()
        return future

    async def flush(self) -> None:
        """Wait until everything staged so far is durable, including the commit in flight."""
        pending = self._committing + self._waiters
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def close(self) -> None:
        await self.flush()
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._waiters:
                if self._closing:
                    return
                continue
            batch, waiters = self._staged, self._waiters
            self._staged, self._waiters = Batch(), []
            self._committing = waiters
            try:
                await self._store.commit(batch)
            except Exception as exc:
                log.exception("group commit of %d events failed", len(batch.events))
                # Writes staged meanwhile were decided on top of the lost batch: fail them too.
                waiters += self._waiters
                self._staged, self._waiters = Batch(), []
                self._on_failed()
                self._committing = []
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            self.commits += 1
            try:
                self._on_committed(batch)
            finally:
                self._committing = []
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
            if self._waiters:
                self._wake.set()
