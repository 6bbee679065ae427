"""What was committed to a SQLite file survives closing, reopening and ``kill -9``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import PUMP, TANK

from twinkit import Platform


async def test_reopening_restores_twins_journal_history_and_models(tmp_path: Path) -> None:
    db = tmp_path / "plant.db"
    async with Platform.open(db) as tk:
        await tk.models.add([PUMP, TANK])
        await tk.twins.put("p1", model="dtmi:acme:Pump;1", desired={"rpm": 5.0})
        await tk.twins.put("t1", model="dtmi:acme:Tank;1")
        await tk.twins.put_relationship("p1", "r", {"name": "feeds", "target": "t1"})
        for i in range(70):
            await tk.twins.telemetry("p1", {"temperature": float(i)})
        before = (await tk.twins.get("p1")).document()
    async with Platform.open(db) as tk:
        assert sorted(i.id for i in tk.models.list()) == ["dtmi:acme:Pump;1", "dtmi:acme:Tank;1"]
        assert (await tk.twins.get("p1")).document() == before
        assert [r["target"] for r in await tk.twins.relationships("p1")] == ["t1"]
        assert len(await tk.journal.events("p1")) == 72
        assert [v for _, v in await tk.history.read("p1", "temperature")] == [
            float(i) for i in range(70)
        ]
        state = await tk.twins.telemetry("p1", {"temperature": 70.0})
        assert state.revision == 73


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from twinkit import Platform

    async def main(db):
        async with Platform.open(db) as tk:
            if not tk.registry:
                await tk.models.add({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:x:M;1",
                    "@type": "Interface", "contents": [
                    {"@type": "Telemetry", "name": "v", "schema": "double"}]})
            for twin in ("a", "b"):
                if not await tk.twins.exists(twin):
                    await tk.twins.put(twin, model="dtmi:x:M;1")
            i = 0
            while True:
                await asyncio.gather(*(tk.twins.telemetry(t, {"v": float(i)}) for t in "ab"))
                print(i, flush=True)  # acknowledged: committed before this line
                i += 1

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_kill_9_loses_nothing_that_was_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 30
    while acknowledged < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acknowledged = int(line)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert acknowledged >= 300, "the writer did not get going"
    async with Platform.open(db) as tk:
        for twin in ("a", "b"):
            values = [v for _, v in await tk.history.read(twin, "v")]
            assert values[: acknowledged + 1] == [float(i) for i in range(acknowledged + 1)]
            assert values == sorted(set(values)), "each value exactly once"
            state = await tk.twins.get(twin)
            assert state.revision == len(values) + 1
            assert state.telemetry["v"] == values[-1]


async def test_series_written_in_blocks_are_not_replayed_twice(tmp_path: Path) -> None:
    db = tmp_path / "blocks.db"
    async with Platform.open(db) as tk:
        tk.history.buffer.block_points = 10
        await tk.twins.put("a")
        await tk.twins.put("b")
        for i in range(25):
            await tk.twins.telemetry("a", {"v": float(i)})
        await tk.twins.telemetry("b", {"v": 0.0})
        await tk.flush()
        # "a" has two blocks written; "b" and the rest of "a" are only in the journal.
        assert tk.history.buffer.size == 6
        tk.history.buffer.size = 0
        # Simulate a crash: close the store without writing the buffer.
        await tk._committer.close()
        await tk.store.close()
        tk._started = False
    async with Platform.open(db) as tk:
        assert [v for _, v in await tk.history.read("a", "v")] == [float(i) for i in range(25)]
        assert [v for _, v in await tk.history.read("b", "v")] == [0.0]
