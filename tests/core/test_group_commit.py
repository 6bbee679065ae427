"""The group committer: batches grow while a commit runs; flush waits for the one in flight."""

from __future__ import annotations

import asyncio

from twinkit.storage.group_commit import GroupCommitter
from twinkit.storage.ports import Batch


class GatedStore:
    """A store whose commits wait for the test to open the gate."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.committed: list[int] = []

    async def commit(self, batch: Batch) -> None:
        self.started.set()
        await self.gate.wait()
        self.committed.append(len(batch.detector_states))


def _batch(n: int, first: int = 0) -> Batch:
    return Batch(detector_states={("twin", str(i)): b"x" for i in range(first, first + n)})


async def test_flush_waits_for_the_commit_in_flight() -> None:
    store = GatedStore()
    seen: list[int] = []
    committer = GroupCommitter(
        store,  # type: ignore[arg-type]
        on_committed=lambda b: seen.append(len(b.detector_states)),
        on_failed=lambda: None,
    )
    committer.start()
    written = committer.stage(_batch(2))
    await store.started.wait()  # the batch left the staging area: nothing is staged now
    flushing = asyncio.ensure_future(committer.flush())
    await asyncio.sleep(0.01)
    assert not flushing.done(), "flush returned while a commit was still being written"
    store.gate.set()
    await flushing
    assert written.done() and seen == [2]
    await committer.close()


async def test_writes_staged_during_a_commit_go_together_in_the_next() -> None:
    store = GatedStore()
    committer = GroupCommitter(store, on_committed=lambda b: None, on_failed=lambda: None)  # type: ignore[arg-type]
    committer.start()
    first = committer.stage(_batch(1))
    await store.started.wait()
    later = [committer.stage(_batch(1, first=i)) for i in range(3)]
    store.gate.set()
    await asyncio.gather(first, *later)
    assert store.committed == [1, 3]  # the three later writes shared one transaction
    assert committer.commits == 2
    await committer.close()
