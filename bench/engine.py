"""Core engine benchmark: each figure printed beside a baseline measured in the same run.

    python bench/engine.py [--twins 1000] [--messages 100] [--idle 100000]

1. Telemetry ingest into SQLite with durable group commit (values/s) vs a bare SQLite
   ``executemany`` of the same rows into one table (no index) in one transaction. Messages of
   10 values arrive in batches of one message per twin (as from the HTTP batch route or an
   MQTT drain); up to 4 batches are in flight, each awaited until it is durable.
2. RSS per idle twin, 100k twins on SQLite.
3. As-of read latency on a twin with 10k events (p50/p99) vs reading its current document.
4. History range reads: a day of 1 Hz data for one series (raw and 1-minute means), and the
   last hour across 1,000 series — vs the obvious one-row-per-value table with an index.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from twinkit import Platform

MODEL = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:bench:Machine;1",
    "@type": "Interface",
    "contents": [
        *({"@type": "Telemetry", "name": f"s{i}", "schema": "double"} for i in range(10)),
        {"@type": "Property", "name": "serial", "schema": "string"},
    ],
}
VALUES_PER_MESSAGE = 10
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bare_insert(path: Path, rows: list[tuple[str, str, float, float]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE points (twin TEXT, key TEXT, t REAL, v REAL)")
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO points VALUES (?,?,?,?)", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(rows) / elapsed


async def ingest(path: Path, twins: int, messages: int) -> float:
    async with Platform.open(path) as tk:
        await tk.models.add(MODEL)
        await asyncio.gather(*(tk.twins.put(f"m{i}", model=MODEL["@id"]) for i in range(twins)))
        in_flight = asyncio.Semaphore(4)  # like a few connections, each awaiting durability

        async def send(items: list[tuple[str, dict[str, float], datetime]]) -> None:
            async with in_flight:
                results = await tk.twins.telemetry_batch(items)
            assert not any(isinstance(r, Exception) for r in results)

        start = time.perf_counter()
        sending = []
        for step in range(messages):
            at = T0 + timedelta(seconds=step)
            items = [
                (f"m{i}", {f"s{k}": step + k * 0.5 for k in range(10)}, at) for i in range(twins)
            ]
            await in_flight.acquire()  # build the next batch only when one may be sent
            in_flight.release()
            sending.append(asyncio.create_task(send(items)))
        await asyncio.gather(*sending)
        await tk.history.flush()
        elapsed = time.perf_counter() - start
    return twins * messages * VALUES_PER_MESSAGE / elapsed


async def idle_twins(path: Path, count: int) -> float:
    process = psutil.Process()
    async with Platform.open(path) as tk:
        await tk.models.add(MODEL)
        gc.collect()
        before = process.memory_info().rss
        for chunk in range(0, count, 2000):
            await asyncio.gather(
                *(
                    tk.twins.put(f"idle-{i:06d}", model=MODEL["@id"], reported={"serial": f"{i}"})
                    for i in range(chunk, min(count, chunk + 2000))
                )
            )
        gc.collect()
        after = process.memory_info().rss
        assert await tk.store.count_twins() == count
    return (after - before) / count


async def as_of_latency(path: Path, events: int) -> tuple[list[float], list[float]]:
    async with Platform.open(path) as tk:
        await tk.models.add(MODEL)
        await tk.twins.put("hist", model=MODEL["@id"])
        for chunk in range(0, events - 1, 500):
            await asyncio.gather(
                *(
                    tk.twins.telemetry("hist", {"s0": float(step)})
                    for step in range(chunk, min(events - 1, chunk + 500))
                )
            )
        revisions = (await tk.twins.get("hist")).revision
        as_of, current = [], []
        rng = random.Random(7)
        for _ in range(500):
            revision = rng.randint(1, revisions)
            start = time.perf_counter()
            state = await tk.journal.as_of("hist", revision=revision)
            as_of.append(time.perf_counter() - start)
            assert state.revision == revision
            start = time.perf_counter()
            await tk.store.load_twin("hist")
            current.append(time.perf_counter() - start)
    return as_of, current


async def range_reads(path: Path, series: int) -> dict[str, tuple[float, float]]:
    """Seconds per read: twinkit vs the obvious indexed row-per-value table."""
    day = 86_400
    bare = sqlite3.connect(path.with_suffix(".bare.db"), isolation_level=None)
    bare.execute("CREATE TABLE points (series TEXT, t REAL, v REAL)")
    bare.execute("CREATE INDEX points_st ON points(series, t)")
    results: dict[str, tuple[float, float]] = {}
    async with Platform.open(path) as tk:
        await tk.models.add(MODEL)
        await tk.twins.put("day", model=MODEL["@id"])
        base = T0.timestamp()
        for chunk in range(0, day, 3600):
            await asyncio.gather(
                *(
                    tk.twins.telemetry(
                        "day", {"s0": float(second % 977)}, at=T0 + timedelta(seconds=second)
                    )
                    for second in range(chunk, chunk + 3600)
                )
            )
        await tk.history.flush()
        bare.execute("BEGIN")
        bare.executemany(
            "INSERT INTO points VALUES ('day', ?, ?)",
            ((base + s, float(s % 977)) for s in range(day)),
        )
        bare.execute("COMMIT")

        async def ours_day() -> int:
            return len(await tk.history.read("day", "telemetry/s0"))

        def bare_day() -> int:
            return len(
                bare.execute("SELECT t, v FROM points WHERE series='day' ORDER BY t").fetchall()
            )

        async def ours_minutes() -> int:
            return len(
                await tk.history.read(
                    "day", "telemetry/s0", start=T0, every=timedelta(minutes=1), agg="mean"
                )
            )

        def bare_minutes() -> int:
            return len(
                bare.execute(
                    "SELECT CAST((t - ?) / 60 AS INTEGER) AS b, avg(v) FROM points"
                    " WHERE series='day' GROUP BY b ORDER BY b",
                    (base,),
                ).fetchall()
            )

        results["day of 1 Hz, raw"] = await _compare(ours_day, bare_day, 86_400)
        results["day of 1 Hz, 1-min mean"] = await _compare(ours_minutes, bare_minutes, 1440)

        ids = [f"fleet{i}" for i in range(series)]
        await asyncio.gather(*(tk.twins.put(t, model=MODEL["@id"]) for t in ids))
        hour_start = T0 + timedelta(hours=23)
        for step in range(0, 3600, 10):
            at = hour_start + timedelta(seconds=step)
            await asyncio.gather(
                *(tk.twins.telemetry(twin, {"s1": float(step)}, at=at) for twin in ids)
            )
        await tk.history.flush()
        bare.execute("BEGIN")
        bare.executemany(
            "INSERT INTO points VALUES (?, ?, ?)",
            ((t, hour_start.timestamp() + s, float(s)) for s in range(0, 3600, 10) for t in ids),
        )
        bare.execute("COMMIT")

        async def ours_fleet() -> int:
            total = 0
            for twin in ids:
                total += len(await tk.history.read(twin, "telemetry/s1", start=hour_start))
            return total

        def bare_fleet() -> int:
            return sum(
                len(
                    bare.execute(
                        "SELECT t, v FROM points WHERE series=? AND t>=? ORDER BY t",
                        (t, hour_start.timestamp()),
                    ).fetchall()
                )
                for t in ids
            )

        results[f"last hour across {series} series"] = await _compare(
            ours_fleet, bare_fleet, series * 360
        )
    bare.close()
    return results


async def _compare(ours, bare, expected: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    ours_times, bare_times = [], []
    for _ in range(5):
        start = time.perf_counter()
        got = await ours()
        ours_times.append(time.perf_counter() - start)
        assert got == expected, (got, expected)
        start = time.perf_counter()
        assert bare() == expected
        bare_times.append(time.perf_counter() - start)
    return statistics.median(ours_times), statistics.median(bare_times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--twins", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--idle", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--idle-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.idle_only:  # in a fresh process, so memory freed by other steps cannot hide growth
        with tempfile.TemporaryDirectory() as tmp:
            print(await idle_twins(Path(tmp) / "idle.db", args.idle))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [
            (f"m{i}", f"s{k}", float(s), float(s + k))
            for s in range(args.messages)
            for i in range(args.twins)
            for k in range(10)
        ]
        bare = bare_insert(root / "bare.db", rows)
        ours = await ingest(root / "ingest.db", args.twins, args.messages)
        print(
            f"ingest: twinkit {ours:,.0f} values/s durable | bare executemany {bare:,.0f} rows/s"
            f" | ratio {ours / bare:.1%} (target >= 100k values/s and >= 15%)"
        )

        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--idle-only",
            "--idle",
            str(args.idle),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await child.communicate()
        per_twin = float(out.decode().strip().splitlines()[-1])
        print(
            f"memory: {per_twin:,.0f} bytes RSS per idle twin over {args.idle:,} twins"
            " (target <= 2048)"
        )

        as_of, current = await as_of_latency(root / "asof.db", args.events)
        print(
            f"as-of read on a twin with {args.events:,} events: p50"
            f" {percentile(as_of, 0.5) * 1e3:.2f} ms p99 {percentile(as_of, 0.99) * 1e3:.2f} ms"
            f" | current-document read p50 {percentile(current, 0.5) * 1e3:.2f} ms p99"
            f" {percentile(current, 0.99) * 1e3:.2f} ms (target p99 < 5 ms)"
        )

        for name, (ours_s, bare_s) in (await range_reads(root / "range.db", args.series)).items():
            print(
                f"history {name}: twinkit {ours_s * 1e3:.1f} ms | row-per-value table"
                f" {bare_s * 1e3:.1f} ms | ratio {ours_s / bare_s:.2f}x"
            )
    os.sync()


if __name__ == "__main__":
    asyncio.run(main())
