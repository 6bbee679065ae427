"""Query latency on 100k twins / ~300k relationships, each beside hand-written SQL on the same DB.

    PYTHONPATH=src .venv/bin/python bench/query.py [--db PATH] [--rebuild] [--runs N]

The graph is a building estate (sites → floors → rooms → temperature and CO2
sensors) and a process plant (pumps feeding tanks feeding pumps, with cycles),
written *through the platform* (``twins.put`` / ``put_relationship`` in large
concurrent batches, so group commit carries them). It is kept in ``--db`` and
reused by later runs. Every query runs through ``run_query`` (parse, plan, SQL,
decode) and its hand-written SQL equivalent runs on the same reader connection;
both print p50/p99 and the ratio (the two alternate run by run, so machine load
hits both alike). Targets: filter p99 <= 50 ms; every query
within 3x of its hand-written SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from twinkit import Platform
from twinkit.query import run_query
from twinkit.storage.sqlite import SQLiteStore

B = "dtmi:bench:"
SITES, FLOORS, ROOMS, SENSORS = 50, 10, 20, 6  # 50 + 500 + 10k rooms + 60k sensors
PUMPS, TANKS, FEEDS = 15_000, 14_450, 5  # plant: 29,450 assets, each feeding 5


def _p(name: str, schema: str) -> dict[str, Any]:
    return {"@type": "Property", "name": name, "schema": schema}


def _r(name: str) -> dict[str, Any]:
    return {"@type": "Relationship", "name": name}


def _i(name: str, contents: list[Any], extends: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": "dtmi:dtdl:context;3",
        "@id": f"{B}{name};1",
        "@type": "Interface",
        "contents": contents,
    }
    if extends:
        doc["extends"] = f"{B}{extends};1"
    return doc


MODELS = [
    _i("Space", [_p("name", "string"), _r("hasPart"), _r("hasPoint"), _r("adjacentTo")]),
    _i("Site", [], "Space"),
    _i("Floor", [_p("level", "integer")], "Space"),
    _i("Room", [_p("area", "double"), _p("occupied", "boolean")], "Space"),
    _i("Point", [_p("unit", "string"), _r("isPointOf")]),
    _i("TemperatureSensor", [_p("temperature", "double")], "Point"),
    _i("Co2Sensor", [_p("co2", "integer")], "Point"),
    _i("Asset", [_p("name", "string"), _r("feeds"), _r("locatedIn")]),
    _i("Pump", [_p("rpm", "integer"), _p("vibration", "double")], "Asset"),
    _i("Tank", [_p("level", "double")], "Asset"),
]

Twin = tuple[str, str, dict[str, Any]]
Rel = tuple[str, str, str, str]


def estate(rng: random.Random) -> tuple[list[Twin], list[Rel]]:
    twins: list[Twin] = []
    rels: list[Rel] = []
    rooms: list[str] = []
    for s in range(SITES):
        site = f"site-{s}"
        twins.append((site, "Site", {"name": site}))
        for f in range(FLOORS):
            floor = f"floor-{s}-{f}"
            twins.append((floor, "Floor", {"name": floor, "level": f}))
            rels.append((site, f"part-{floor}", "hasPart", floor))
            for r in range(ROOMS):
                room = f"room-{s}-{f}-{r}"
                rooms.append(room)
                area = round(rng.uniform(8, 80), 1)
                twins.append((room, "Room", {"name": room, "area": area, "occupied": r % 3 == 0}))
                rels.append((floor, f"part-{room}", "hasPart", room))
                if r:
                    rels.append((room, "adj", "adjacentTo", f"room-{s}-{f}-{r - 1}"))
                for k in range(SENSORS):
                    if k < 4:
                        point, model = f"temp-{s}-{f}-{r}-{k}", "TemperatureSensor"
                        values: dict[str, Any] = {"temperature": round(rng.uniform(15, 30), 2)}
                    else:
                        point, model = f"co2-{s}-{f}-{r}-{k}", "Co2Sensor"
                        values = {"co2": rng.randint(400, 1500)}
                    twins.append((point, model, {"unit": "C" if k < 4 else "ppm", **values}))
                    rels.append((room, f"point-{point}", "hasPoint", point))
                    rels.append((point, "of", "isPointOf", room))
    pumps = [f"pump-{n}" for n in range(PUMPS)]
    tanks = [f"tank-{n}" for n in range(TANKS)]
    for pump in pumps:
        rpm, vib = rng.randint(0, 3000), round(rng.uniform(0, 10), 2)
        twins.append((pump, "Pump", {"name": pump, "rpm": rpm, "vibration": vib}))
        rels.append((rng.choice(rooms), f"part-{pump}", "hasPart", pump))
    for tank in tanks:
        twins.append((tank, "Tank", {"name": tank, "level": round(rng.uniform(0, 100), 1)}))
        rels.append((tank, "in", "locatedIn", rng.choice(rooms)))
    for pump in pumps:
        for k, tank in enumerate(rng.sample(tanks, FEEDS)):
            rels.append((pump, f"feeds-{k}", "feeds", tank))
    for tank in tanks:
        for k, pump in enumerate(rng.sample(pumps, FEEDS)):
            rels.append((tank, f"feeds-{k}", "feeds", pump))
    return twins, rels


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def build(path: Path) -> None:
    twins, rels = estate(random.Random(7))
    print(f"building {path}: {len(twins):,} twins, {len(rels):,} relationships (via the platform)")
    started = time.perf_counter()
    async with Platform.open(path) as tk:
        await tk.models.add(MODELS)
        for chunk in _chunks(twins, 4000):
            await asyncio.gather(
                *(tk.twins.put(t, model=f"{B}{m};1", reported=rep) for t, m, rep in chunk)
            )
        made = time.perf_counter()
        print(f"  twins in {made - started:.1f} s ({len(twins) / (made - started):,.0f}/s)")
        for chunk in _chunks(rels, 4000):
            await asyncio.gather(
                *(
                    tk.twins.put_relationship(src, rid, {"name": name, "target": dst})
                    for src, rid, name, dst in chunk
                )
            )
        done = time.perf_counter()
        print(f"  relationships in {done - made:.1f} s ({len(rels) / (done - made):,.0f}/s)")
        store = tk.store
        assert isinstance(store, SQLiteStore)
        await store.read(lambda c: c.execute("ANALYZE"))


Timer = Callable[[], Awaitable[Any]]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return statistics.median(samples), p99


async def timed_pair(ours: Timer, hand: Timer, runs: int) -> tuple[list[float], ...]:
    """Alternate the two (so both see the same machine load); returns their samples."""
    await ours()  # warm-up (and lazily created indexes)
    await hand()
    mine: list[float] = []
    theirs: list[float] = []
    for turn in range(runs):
        for fn, samples in ((ours, mine), (hand, theirs))[:: 1 if turn % 2 else -1]:
            start = time.perf_counter()
            await fn()
            samples.append((time.perf_counter() - start) * 1000)
    return mine, theirs


def cases(rng: random.Random) -> list[tuple[str, Callable[[], str], Callable[[], tuple[str, Any]]]]:
    """(name, query text, hand-written SQL with its parameters)."""
    anchors = [f"floor-{rng.randrange(SITES)}-{rng.randrange(FLOORS)}" for _ in range(1000)]
    turn = iter(anchors * 10)
    current: dict[str, str] = {}

    def anchored_query() -> str:
        current["floor"] = next(turn)
        return (
            "SELECT r.$dtId AS room, s.$dtId AS sensor FROM DIGITALTWINS"
            " MATCH (f)-[:hasPart]->(r)-[:hasPoint]->(s)"
            f" WHERE f.$dtId = '{current['floor']}'"
        )

    def anchored_sql() -> tuple[str, Any]:
        current["floor"] = next(turn)
        return (
            "SELECT e1.target, e2.target FROM relationships e1"
            " JOIN relationships e2 ON e2.source = e1.target AND e2.name = 'hasPoint'"
            " WHERE e1.source = ? AND e1.name = 'hasPart'",
            (current["floor"],),
        )

    return [
        (
            "model + property filter",
            lambda: (
                f"SELECT T.$dtId, T.temperature FROM DIGITALTWINS T"
                f" WHERE IS_OF_MODEL(T, '{B}TemperatureSensor;1') AND T.temperature > 29.5"
            ),
            lambda: (
                "SELECT id, json_extract(doc, '$.reported.temperature') FROM twins"
                " WHERE model = ? AND json_extract(doc, '$.reported.temperature') > 29.5"
                " ORDER BY id LIMIT 100",
                (f"{B}TemperatureSensor;1",),
            ),
        ),
        ("anchored 2-hop MATCH", anchored_query, anchored_sql),
        (
            "unanchored 3-hop MATCH + GROUP BY",
            lambda: (
                "SELECT s.$dtId AS site, AVG(x.temperature) AS avg, COUNT() AS n"
                " FROM DIGITALTWINS MATCH (s)-[:hasPart]->(f)-[:hasPart]->(r)-[:hasPoint]->(x)"
                " GROUP BY s.$dtId"
            ),
            lambda: (
                "SELECT e1.source, avg(json_extract(x.doc, '$.reported.temperature')), count(*)"
                " FROM relationships e1"
                " JOIN relationships e2 ON e2.source = e1.target AND e2.name = 'hasPart'"
                " JOIN relationships e3 ON e3.source = e2.target AND e3.name = 'hasPoint'"
                " JOIN twins x ON x.id = e3.target"
                " WHERE e1.name = 'hasPart' GROUP BY e1.source",
                (),
            ),
        ),
        (
            "COUNT by model",
            lambda: (
                "SELECT T.$metadata.$model AS model, COUNT() AS n FROM DIGITALTWINS T"
                " GROUP BY T.$metadata.$model"
            ),
            lambda: ("SELECT model, count(*) FROM twins GROUP BY model", ()),
        ),
    ]


async def measure(path: Path, runs: int, only: str = "") -> int:
    failures = 0
    async with Platform.open(path) as tk:
        store = tk.store
        assert isinstance(store, SQLiteStore)
        total = await tk.store.count_twins()
        rels = await store.read(
            lambda c: c.execute("SELECT count(*) FROM relationships").fetchone()
        )
        print(f"graph: {total:,} twins, {rels[0]:,} relationships; {runs} runs per query\n")
        header = (
            f"{'query':36} {'twinkit p50/p99 ms':>20} {'hand SQL p50/p99 ms':>21}"
            f" {'ratio p50/p99':>14}"
        )
        print(header)
        print("-" * len(header))
        for name, query, sql in cases(random.Random(1)):
            if only not in name:
                continue
            page = 100 if name.startswith("model") else 1000  # the filter's SQL says LIMIT 100

            async def ours(query: Callable[[], str] = query, page: int = page) -> Any:
                return (await run_query(tk, query(), max_items=page)).items

            async def hand(sql: Callable[[], tuple[str, Any]] = sql) -> Any:
                text, args = sql()
                return await store.read(lambda c: c.execute(text, args).fetchall())

            mine, theirs = await timed_pair(ours, hand, runs)
            (p50, p99), (h50, h99) = _percentiles(mine), _percentiles(theirs)
            rows, hand_rows = await ours(), await hand()
            ratio = p50 / h50 if h50 else float("inf")
            tail = p99 / h99 if h99 else float("inf")
            print(
                f"{name:36} {p50:9.2f} / {p99:8.2f} {h50:10.2f} / {h99:8.2f}"
                f" {ratio:6.2f}x/{tail:5.2f}x   ({len(rows)} / {len(hand_rows)} rows)"
            )
            if ratio > 3:
                failures += 1
            if name.startswith("model") and p99 > 50:
                failures += 1
    print("\ntargets: filter p99 <= 50 ms, every query <= 3x its hand-written SQL (p50)")
    print("result:", "met" if failures == 0 else f"{failures} target(s) missed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/twinkit-bench-query.db"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--only", default="", help="run the queries whose name contains this")
    args = parser.parse_args()
    if args.rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
    if not args.db.exists():
        asyncio.run(build(args.db))
    return asyncio.run(measure(args.db, args.runs, args.only))


if __name__ == "__main__":
    sys.exit(main())
