"""Property tests: on random graphs and random predicates, SQL returns what the evaluator returns.

Each example writes one random graph into an in-memory platform and into a
SQLite file, then runs a batch of random queries on both.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinkit import Platform, ValidationFailed
from twinkit.query import run_query
from twinkit.testing import FrozenClock

KEYS = ["a", "b", "s"]
scalars = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.5, 2.0, 2.5]),
    st.sampled_from(["", "a", "ab", "b", "B", "é"]),
    st.booleans(),
)
values = st.one_of(
    scalars,
    st.fixed_dictionaries({"x": st.integers(-2, 2)}, optional={"y": scalars}),
    st.lists(st.integers(0, 2), max_size=2),
)
reported = st.dictionaries(st.sampled_from(KEYS), values, max_size=3)
desired = st.dictionaries(st.sampled_from(["a", "b"]), scalars, max_size=2)


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 9))
    twins = {f"t{i}": (draw(reported), draw(desired)) for i in range(count)}
    return {"twins": twins, "rels": draw(relationships(sorted(twins), 14))}


def relationships(ids: list[str], most: int) -> st.SearchStrategy[list[Any]]:
    """(source, target, name, properties) between ``ids``."""
    return st.lists(
        st.tuples(
            st.sampled_from(ids),
            st.sampled_from(ids),
            st.sampled_from(["r", "s"]),
            st.dictionaries(st.just("w"), scalars, max_size=1),
        ),
        max_size=most,
    )


paths = st.sampled_from(
    ["T.a", "T.b", "T.s", "T.a.x", "T.a.y", "T.desired.a", "T.delta.b", "T.$dtId", "T.reported.b"]
)
literals = st.one_of(
    st.integers(-3, 3).map(str),
    st.sampled_from(["0.5", "2.0", "-1.5", "'a'", "'ab'", "''", "'B'", "true", "false", "null"]),
)
comparisons = st.builds(
    lambda p, op, lit: f"{p} {op} {lit}",
    paths,
    st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
    literals,
)
path_pairs = st.builds(lambda a, op, b: f"{a} {op} {b}", paths, st.sampled_from(["=", "<"]), paths)
functions = st.one_of(
    st.builds(
        lambda f, p: f"{f}({p})",
        st.sampled_from(
            [
                "IS_DEFINED",
                "IS_NULL",
                "IS_BOOL",
                "IS_NUMBER",
                "IS_STRING",
                "IS_PRIMITIVE",
                "IS_OBJECT",
                "IS_ARRAY",
            ]
        ),
        paths,
    ),
    st.builds(
        lambda f, p, s: f"{f}({p}, '{s}')",
        st.sampled_from(["STARTSWITH", "ENDSWITH", "CONTAINS"]),
        paths,
        st.sampled_from(["", "a", "b", "t1", "é"]),
    ),
    st.builds(
        lambda p, neg, items: f"{p} {'NIN' if neg else 'IN'} [{', '.join(items)}]",
        paths,
        st.booleans(),
        st.lists(literals, max_size=3),
    ),
)
atoms = st.one_of(comparisons, path_pairs, functions)
predicates = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} AND {b})", inner, inner),
        st.builds(lambda a, b: f"({a} OR {b})", inner, inner),
        st.builds(lambda a: f"NOT {a}", inner),
    ),
    max_leaves=5,
)
hops = st.sampled_from(["", "*2", "*0..2", "*1..3", "*2..3"])
directions = st.sampled_from([("-", "->"), ("<-", "-"), ("-", "-")])


@st.composite
def queries(draw: st.DrawFn) -> str:
    where = draw(predicates)
    shape = draw(st.integers(0, 7))
    order = draw(st.sampled_from(["", " ORDER BY T.a", " ORDER BY T.b DESC, T.a"]))
    if shape == 0:
        return f"SELECT T.$dtId, T.a, T.b FROM DIGITALTWINS T WHERE {where}{order}"
    if shape == 1:
        return f"SELECT * FROM DIGITALTWINS T WHERE {where}{order}"
    if shape == 2:
        key = draw(paths)
        return (
            f"SELECT {key} AS k, COUNT() AS n, SUM(T.b) AS s, AVG(T.a) AS m, MIN(T.b) AS lo,"
            f" MAX(T.a.x) AS hi FROM DIGITALTWINS T WHERE {where} GROUP BY {key}"
        )
    if shape == 3:
        return (
            f"SELECT T.$dtId AS t, C.$dtId AS c, R.w AS w FROM DIGITALTWINS T"
            f" JOIN C RELATED T.r R WHERE {where.replace('T.b', 'C.b')}{order}"
        )
    if shape == 4:
        left, right = draw(directions)
        hop = draw(hops)
        name = draw(st.sampled_from(["", ":r", ":r|s"]))
        return (
            f"SELECT T.$dtId AS t, U.$dtId AS u FROM DIGITALTWINS"
            f" MATCH (T){left}[{name}{hop}]{right}(U) WHERE {where}{order}"
        )
    if shape == 5:
        return (
            "SELECT R.$sourceId AS src, R.$targetId AS dst, R.w AS w FROM RELATIONSHIPS R"
            f" WHERE {where.replace('T.', 'R.').replace('R.$dtId', 'R.$sourceId')}"
        )
    if shape == 7:  # only ids are read: SQL starts at the relationship table, joins no twin
        (l1, r1), (l2, r2) = draw(directions), draw(directions)
        hop = draw(st.sampled_from(["", "*1..2"]))
        test = draw(
            st.sampled_from(["", " WHERE STARTSWITH(U.$dtId, 't1')", " WHERE V.$dtId > 't2'"])
        )
        return (
            "SELECT T.$dtId AS t, V.$dtId AS v, COUNT() AS n FROM DIGITALTWINS"
            f" MATCH (T){l1}[:r]{r1}(U){l2}[:s{hop}]{r2}(V){test} GROUP BY T.$dtId, V.$dtId"
        )
    left, right = draw(directions)
    return (
        "SELECT T.$dtId AS t, COUNT() AS n FROM DIGITALTWINS"
        f" MATCH (T){left}[r:r]{right}(U)-[:s]->(V) WHERE {where} GROUP BY T.$dtId"
    )


async def _load(platform: Platform, graph: dict[str, Any]) -> None:
    await asyncio.gather(
        *(
            platform.twins.put(t, reported=rep, desired=des)
            for t, (rep, des) in graph["twins"].items()
        )
    )
    for number, (source, target, name, props) in enumerate(graph["rels"]):
        body = {"name": name, "target": target, "properties": props}
        await platform.twins.put_relationship(source, f"e{number}", body)


def _normal(rows: list[dict[str, Any]]) -> list[Any]:
    def fix(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, float):
            return round(value, 9)
        return value

    return [fix(r) for r in rows]


async def _outcome(platform: Platform, text: str) -> Any:
    try:
        return _normal((await run_query(platform, text, max_items=10_000)).items)
    except ValidationFailed as exc:
        return ("error", exc.message)


async def _compare(graph: dict[str, Any], texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with (
            Platform.open(None, clock=FrozenClock()) as memory,
            Platform.open(Path(folder) / "g.db", clock=FrozenClock()) as sqlite,
        ):
            await _load(memory, graph)
            await _load(sqlite, graph)
            for text in texts:
                expected = await _outcome(memory, text)
                got = await _outcome(sqlite, text)
                assert got == expected, text


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(graphs(), st.lists(queries(), min_size=1, max_size=8))
def test_sql_equals_evaluator(graph: dict[str, Any], texts: list[str]) -> None:
    asyncio.run(_compare(graph, texts))
