"""Property: for random policies, twins and subjects, no surface returns a value under a path
the subject may not READ, every readable value is shown, and no write lands without WRITE.

The oracle below is a deliberately naive re-statement of the rules (scan every rule,
deepest matching path decides, revoke beats grant at one path), independent of the
evaluator's tries.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.access.conftest import ADMIN_POLICY, realm
from twinkit import Platform
from twinkit.access.audit import AuditLog
from twinkit.access.install import install_access
from twinkit.api import create_app

TWINS = ["acme~t1", "acme~t2", "globex~t3", "t4"]
KEYS = ["a", "b", "c"]
PATHS = [
    "twin:/",
    "twin:/reported",
    "twin:/reported/a",
    "twin:/reported/b",
    "twin:/desired",
    "twin:/desired/b",
    "twin:/telemetry",
    "twin:/telemetry/c",
    "history:/",
    "history:/telemetry",
    "history:/telemetry/c",
    "history:/reported/a",
]
SUBJECTS = ["user:u", "group:g", "tenant:acme", "user:other"]
PERMS = st.sets(st.sampled_from(["READ", "WRITE"])).map(sorted)

rule = st.fixed_dictionaries({"grant": PERMS, "revoke": PERMS})
entry = st.fixed_dictionaries(
    {
        "subjects": st.lists(st.sampled_from(SUBJECTS), min_size=1, max_size=2, unique=True),
        "resources": st.dictionaries(st.sampled_from(PATHS), rule, min_size=1, max_size=4),
    }
)
scope: st.SearchStrategy[dict[str, str]] = st.one_of(
    st.just({}),
    st.sampled_from(TWINS).map(lambda t: {"twin": t}),
    st.sampled_from(["acme", "globex"]).map(lambda t: {"tenant": t}),
)
section = st.dictionaries(st.sampled_from(KEYS), st.integers(0, 9), max_size=3)
twin_state = st.fixed_dictionaries({"reported": section, "desired": section, "telemetry": section})


def tenant_of(twin: str) -> str | None:
    return twin.split("~")[0] if "~" in twin else None


def oracle(
    policies: list[dict[str, Any]], subjects: set[str], twin: str, perm: str, resource: str
) -> bool:
    kind, _, path = resource.partition(":")
    target = tuple(p for p in path.split("/") if p)
    at: dict[tuple[str, ...], tuple[bool, bool]] = {}
    for policy in policies:
        if "twin" in policy and policy["twin"] != twin:
            continue
        if "tenant" in policy and policy["tenant"] != tenant_of(twin):
            continue
        for body in policy["entries"].values():
            if not set(body["subjects"]) & subjects:
                continue
            for name, r in body["resources"].items():
                k, _, p = name.partition(":")
                segs = tuple(s for s in p.split("/") if s)
                if k == kind and target[: len(segs)] == segs:
                    granted, revoked = at.get(segs, (False, False))
                    at[segs] = (granted or perm in r["grant"], revoked or perm in r["revoke"])
    for segs in sorted(at, key=len, reverse=True):
        granted, revoked = at[segs]
        if revoked:
            return False
        if granted:
            return True
    return False


def visible(policies: list[dict[str, Any]], subjects: set[str], twin: str) -> bool:
    """Some twin path is (effectively) granted READ: the twin shows up, possibly empty."""
    return any(
        oracle(policies, subjects, twin, "READ", p) for p in PATHS if p.startswith("twin:")
    ) or any(
        oracle(policies, subjects, twin, "READ", f"twin:/{s}/{k}")
        for s in ("reported", "desired", "telemetry")
        for k in KEYS
    )


def check_document(doc: dict[str, Any], states: dict[str, Any], allowed: Any) -> None:
    twin = doc["id"]
    for part in ("reported", "desired", "telemetry"):
        for key, value in states[twin][part].items():
            readable = allowed(twin, f"twin:/{part}/{key}")
            assert (key in doc[part]) == readable, (twin, part, key)
            if readable:
                assert doc[part][key] == value
    for key in doc["delta"]:
        assert allowed(twin, f"twin:/desired/{key}")


def check_events(twin: str, events: list[dict[str, Any]], allowed: Any) -> None:
    """Journal events carry only readable values (the same redaction feeds use)."""
    for event in events:
        data = event["data"]
        for part in ("reported", "desired"):
            for key in data.get(part) or {}:
                assert allowed(twin, f"twin:/{part}/{key}"), (event["kind"], part, key)
        section = {
            "ReportedChanged": "reported",
            "DesiredChanged": "desired",
            "TelemetryReceived": "telemetry",
        }.get(event["kind"])
        if section is not None:
            values = data.get("set") or data.get("values") or {}
            assert values or data.get("removed")
            for key in [*values, *data.get("removed", [])]:
                assert allowed(twin, f"twin:/{section}/{key}"), (event["kind"], key)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    policies=st.lists(
        st.builds(lambda s, e: {**s, "entries": {"e": e}}, scope, entry), min_size=1, max_size=4
    ),
    states=st.fixed_dictionaries({t: twin_state for t in TWINS}),
    tenant=st.sampled_from([None, "acme", "globex"]),
    write=st.tuples(
        st.sampled_from(TWINS), st.sampled_from(["reported", "desired"]), st.sampled_from(KEYS)
    ),
    on_disk=st.booleans(),  # SQLite: queries run as SQL in the caller's scope
)
def test_no_surface_leaks_and_no_write_without_write(
    policies: list[dict[str, Any]],
    states: dict[str, Any],
    tenant: str | None,
    write: tuple[str, str, str],
    on_disk: bool,
) -> None:
    policies = [{**p, "id": f"p{i}"} for i, p in enumerate(policies)]
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "t.db" if on_disk else None
        asyncio.run(_exercise(policies, states, tenant, write, db))


async def _exercise(
    policies: list[dict[str, Any]],
    states: dict[str, Any],
    tenant: str | None,
    write: tuple[str, str, str],
    db: Path | None,
) -> None:
    people = {"root": {}, "u": {"groups": ["g"], "tenant": tenant}}
    r = realm([ADMIN_POLICY, *policies], people)
    subjects = {"user:u", "group:g"} | ({f"tenant:{tenant}"} if tenant else set())

    def allowed(twin: str, resource: str, perm: str = "READ") -> bool:
        return oracle(policies, subjects, twin, perm, resource)

    async with Platform.open(db) as tk:
        for twin, state in states.items():
            await tk.twins.put(twin, reported=state["reported"], desired=state["desired"])
            if state["telemetry"]:
                await tk.twins.telemetry(twin, state["telemetry"])
        await tk.flush()
        app = create_app(tk)
        install_access(app, tk, r.config, audit=AuditLog(None))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            u = r.headers("u")
            seen = []
            for twin in TWINS:
                response = await http.get(f"/api/v1/twins/{twin}", headers=u)
                assert response.status_code == (200 if visible(policies, subjects, twin) else 403)
                if response.status_code == 200:
                    check_document(response.json(), states, allowed)
                    seen.append(twin)
                journal = await http.get(f"/api/v1/twins/{twin}/events", headers=u)
                if journal.status_code == 200:
                    check_events(twin, journal.json()["items"], allowed)
                paths = await http.get(f"/api/v1/twins/{twin}/history", headers=u)
                if paths.status_code == 200:
                    for path in paths.json()["paths"]:
                        assert allowed(twin, f"history:/{path}"), path
                for key in KEYS:
                    one = await http.get(f"/api/v1/twins/{twin}/history/telemetry/{key}", headers=u)
                    assert (one.status_code == 403) != allowed(twin, f"history:/telemetry/{key}")
            listed = await http.get("/api/v1/twins", headers=u)
            if listed.status_code == 200:
                assert [d["id"] for d in listed.json()["items"]] == seen
                for doc in listed.json()["items"]:
                    check_document(doc, states, allowed)
            query = await http.post(
                "/api/v1/query", json={"query": "SELECT T FROM DIGITALTWINS T"}, headers=u
            )
            count = await http.post(
                "/api/v1/query", json={"query": "SELECT COUNT() FROM DIGITALTWINS"}, headers=u
            )
            if query.status_code == 200:
                docs = [row["T"] for row in query.json()["items"]]
                assert sorted(d.get("$dtId", d.get("id")) for d in docs) == seen
                assert list(count.json()["items"][0].values()) == [len(seen)]
                # a WHERE on a field it may not read behaves as if the field were absent
                for part, key in (("reported", "a"), ("desired", "b"), ("telemetry", "c")):
                    text = f"SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_DEFINED(T.{part}.{key})"
                    found = await http.post("/api/v1/query", json={"query": text}, headers=u)
                    shown = [
                        t
                        for t in seen
                        if key in states[t][part] and allowed(t, f"twin:/{part}/{key}")
                    ]
                    assert sorted(r["$dtId"] for r in found.json()["items"]) == shown, text
            twin, part, key = write
            patched = await http.patch(f"/api/v1/twins/{twin}/{part}", json={key: 100}, headers=u)
            may = allowed(twin, f"twin:/{part}/{key}", "WRITE")
            assert (patched.status_code == 200) == may, patched.text
            after = await tk.twins.get(twin)
            assert (getattr(after, part).get(key) == 100) == may
            if may:
                doc = patched.json()
                for k in doc.get(part, {}):
                    assert allowed(twin, f"twin:/{part}/{k}")
