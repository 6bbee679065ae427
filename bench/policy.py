"""What access control costs: twin reads/s and query latency with policies on, beside the same
run with authorization off (authentication and audit only) and with no access layer at all.

    PYTHONPATH=src .venv/bin/python bench/policy.py [--twins 2000] [--reads 3000] [--queries 30]

The platform is a SQLite file with ``--twins`` twins in two tenants. The restricted
subject is a tenant member whose policy revokes one reported field (so every read
is redacted and its queries run in its scope: SQL narrowed to its tenant, the
revoked field NULL); "model grant" reads only the twins of one model (a quarter of
the fleet), that field revoked too; the admin reads everything (reads are checked, queries take
the normal SQL path). "Python path" is the tenant member with the SQL scope turned
off: its queries are evaluated over its redacted graph (what happened before the
scope existed, and still the fallback). Queries are timed twice: on a quiet fleet
(caches may answer) and with a write to a twin before every query (so caches
miss; the write itself is not timed). Target: policies on ≤ 15 % slower than
authorization off.

Times are CPU seconds of this process (``time.process_time``, the SQLite reader
thread included), measured in interleaved rounds and reported as medians: on a
shared machine wall-clock time mostly measures the neighbours.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from twinkit import Platform
from twinkit.access.audit import AuditLog
from twinkit.access.config import AuthConfig
from twinkit.access.guard import Guard
from twinkit.access.identities import Identity, Token, format_token, hash_secret, new_token_secret
from twinkit.access.install import install_access
from twinkit.access.policy import load_policies
from twinkit.api import create_app

ALL = ["READ", "WRITE", "EXECUTE"]
KINDS = ("twin", "command", "model", "history", "policy", "audit", "metrics")
QUERIES = {
    "filter": "SELECT T FROM DIGITALTWINS T WHERE T.temp > 90",
    "count": "SELECT COUNT() FROM DIGITALTWINS",
}


def auth_config(twins: list[str]) -> tuple[AuthConfig, dict[str, str]]:
    identities, tokens = {}, {}
    people = (("root", None, "operators"), ("alice", "acme", "operators"), ("max", None, "maint"))
    for name, tenant, group in people:
        token_id, secret = new_token_secret()
        ident = Identity("user", name, tenant, (group,), [Token(token_id, hash_secret(secret))])
        identities[ident.subject] = ident
        tokens[name] = format_token(token_id, secret)
    policies: list[dict[str, Any]] = [
        {"id": "admins", "entries": {"a": {"subjects": ["user:root"],
         "resources": {f"{k}:/": {"grant": ALL} for k in KINDS}}}},
        {"id": "acme", "tenant": "acme", "entries": {"m": {"subjects": ["tenant:acme"],
         "resources": {"twin:/": {"grant": ["READ"]}, "twin:/desired": {"grant": ["WRITE"]},
                       "twin:/reported/serial": {"revoke": ["READ"]}}}}},
        {"id": "globex", "tenant": "globex", "entries": {"m": {"subjects": ["tenant:globex"],
         "resources": {"twin:/": {"grant": ["READ", "WRITE"]}}}}},
        {"id": "pump-maint", "model": PUMP, "entries": {"m": {"subjects": ["group:maint"],
         "resources": {"twin:/": {"grant": ["READ"]},
                       "twin:/reported/serial": {"revoke": ["READ"]}}}}},
    ]  # fmt: skip
    for twin in twins[:50]:  # per-twin policies, as a real deployment grows them
        reboot = {"command:/reboot": {"grant": ["EXECUTE"]}}
        entry = {"subjects": ["group:operators"], "resources": reboot}
        policies.append({"id": f"t-{twin}", "twin": twin, "entries": {"o": entry}})
    config = AuthConfig(identities=identities, policies=load_policies(policies))
    return config, tokens


PUMP, VALVE = "dtmi:acme:Pump;1", "dtmi:acme:Valve;1"


def interface(dtmi: str) -> dict[str, Any]:
    names = {"temp": "double", "rpm": "double", "serial": "string"}
    contents = [{"@type": "Property", "name": n, "schema": t} for n, t in names.items()]
    return {"@context": "dtmi:dtdl:context;3", "@id": dtmi, "@type": "Interface",
            "contents": contents}  # fmt: skip


async def seed(platform: Platform, count: int) -> list[str]:
    """Even twins are acme's (pumps and valves in turn), odd ones globex's (no model)."""
    await platform.models.add([interface(PUMP), interface(VALVE)])
    ids = []
    for i in range(count):
        tenant = "acme" if i % 2 == 0 else "globex"
        twin = f"{tenant}~pump-{i:05d}"
        ids.append(twin)
        model = None if i % 2 else (PUMP if i % 4 == 0 else VALVE)
        await platform.twins.put(
            twin,
            model=model,
            reported={"temp": i % 100, "rpm": i * 3 % 1700, "serial": f"SN{i:06d}"},
        )
    await platform.flush()
    return ids


async def reads_per_second(http: httpx.AsyncClient, twins: list[str], reads: int,
                           headers: dict[str, str]) -> float:  # fmt: skip
    started = time.process_time()
    for i in range(reads):
        response = await http.get(f"/api/v1/twins/{twins[i % len(twins)]}", headers=headers)
        assert response.status_code == 200
    return reads / (time.process_time() - started)


async def query_ms(http: httpx.AsyncClient, text: str, headers: dict[str, str]) -> float:
    started = time.process_time()
    response = await http.post("/api/v1/query", json={"query": text}, headers=headers)
    assert response.status_code == 200, response.text
    return (time.process_time() - started) * 1000


async def write_one(platform: Platform, twins: list[str], n: int) -> None:
    """A committed change, so the next query cannot be answered from a cache."""
    await platform.twins.patch(twins[n % len(twins)], "reported", {"rpm": n})
    await platform.flush()


SETUPS = [
    ("no access layer", None, None),
    ("authorization off", False, "alice"),
    ("policies on (tenant member)", True, "alice"),
    ("tenant member, Python path", True, "alice"),
    ("policies on (model grant)", True, "max"),
    ("policies on (admin)", True, "root"),
]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Platform.open(Path(tmp) / "bench.db") as platform:
            twins = await seed(platform, args.twins)
            acme = [t for t in twins if t.startswith("acme~")]
            pumps = acme[::2]  # what "max" may read: the pumps
            config, tokens = auth_config(twins)
            clients = []
            for label, authorize, who in SETUPS:
                app = create_app(platform)
                headers = {}
                if authorize is not None:
                    guard = install_access(
                        app, platform, config, audit=AuditLog(None), authorize=authorize
                    )
                    headers = {"Authorization": f"Bearer {tokens[who or 'root']}"}
                    if "Python path" in label:
                        python_path_only(guard, tokens[who or "root"])
                http = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://b"
                )
                readable = pumps if who == "max" else acme
                clients.append((label, http, headers, readable))
                await reads_per_second(http, readable, 100, headers)  # warm caches
                for text in QUERIES.values():
                    await query_ms(http, text, headers)
            # interleaved rounds, medians: the machine's load drifts during a run
            samples: dict[str, dict[str, list[float]]] = {c[0]: {} for c in clients}
            writes = 0
            for _ in range(args.rounds):
                for label, http, headers, readable in clients:
                    row = samples[label]
                    reads = args.reads // args.rounds
                    rate = await reads_per_second(http, readable, reads, headers)
                    row.setdefault("reads/s", []).append(rate)
                    for name, text in QUERIES.items():
                        for _ in range(max(1, args.queries // args.rounds)):
                            row.setdefault(f"{name} ms", []).append(
                                await query_ms(http, text, headers)
                            )
                            writes += 1
                            await write_one(platform, twins, writes)
                            row.setdefault(f"{name} ms after a write", []).append(
                                await query_ms(http, text, headers)
                            )
            for client in clients:
                await client[1].aclose()
            results = {
                label: {k: statistics.median(v) for k, v in row.items()}
                for label, row in samples.items()
            }
    report(args, results)


def python_path_only(guard: Guard, token: str) -> None:
    """Turn the SQL scope off for this token's principal: its queries take the Python path."""
    principal = guard.config.authenticate(token)
    assert principal is not None
    guard.scopes[(principal.subjects, tuple(map(id, guard.platform.registry)))] = None


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> None:
    base = results["authorization off"]
    print(f"twins={args.twins} reads={args.reads} queries={args.queries} (CPU time, medians)")
    columns = ["reads/s", "filter ms", "count ms", "filter ms after a write",
               "count ms after a write"]  # fmt: skip
    heads = ["reads/s", "filter ms", "count ms", "filter+write", "count+write"]
    print(f"{'setup':30}" + "".join(f" {h:>12} {'vs off':>7}" for h in heads))
    for label, row in results.items():
        cells = []
        for column in columns:
            ratio = (
                base[column] / row[column] if column == "reads/s" else row[column] / base[column]
            )
            cells.append(f" {row[column]:12.2f} {ratio:6.2f}x")
        print(f"{label:30}" + "".join(cells))
    print("(ratios are time ratios: 1.15x = 15 % slower than authorization off; "
          "+write: a committed write before each query, not timed)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--twins", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
