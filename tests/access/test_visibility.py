"""A principal's query scope: its branches, its readings, its SQL, and the Python fallback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.access.conftest import PEOPLE, TENANT_POLICIES, Realm, realm
from twinkit import Platform
from twinkit.access.audit import AuditLog
from twinkit.access.install import install_access
from twinkit.access.visibility import MAX_CLASSES, twin_scope
from twinkit.api import create_app
from twinkit.query import ScopeUnsupported, run_query
from twinkit.query.parser import parse_query
from twinkit.query.plan import plan_query
from twinkit.query.scope import FULL, MISSING, IdPrefix, Reading
from twinkit.query.sql import compile_plan

ALICE = realm(TENANT_POLICIES, PEOPLE)


def test_a_tenant_member_has_one_branch_its_tenant_with_the_revoked_field_missing() -> None:
    evaluator = ALICE.config.evaluator()
    alice = ALICE.config.authenticate(ALICE.tokens["alice"])
    assert alice is not None
    scope = twin_scope(evaluator, alice)
    assert scope is not None
    (branch,) = scope.branches
    assert branch.twins == IdPrefix("acme~")
    assert branch.view.reading(("reported", "temp")) == FULL
    assert branch.view.reading(("reported", "patient")) == MISSING
    assert branch.view.reading(("reported",)) == Reading("pruned", (("patient",),))
    assert branch.view.reading(("metadata", "reported", "patient", "updated_at")) == MISSING
    sql = compile_plan(
        plan_query(parse_query("SELECT COUNT() FROM DIGITALTWINS T WHERE T.patient = 'x'")),
        101,
        0,
        scope,
    ).sql
    assert "s0.id GLOB :p" in sql  # narrowed on the primary key
    assert "patient" not in sql  # the revoked field is never read: it is NULL for alice


async def _seeded(tk: Platform, policies: list[dict[str, Any]]) -> tuple[httpx.AsyncClient, Realm]:
    people = realm(policies, PEOPLE)
    app = create_app(tk)
    install_access(app, tk, people.config, audit=AuditLog(None))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    root = people.headers("root")
    for twin, reported in (
        ("acme~a", {"temp": 20, "patient": "Jane", "x": 1}),
        ("acme~b", {"temp": 40}),
        ("globex~g", {"temp": 50, "patient": "Joe"}),
    ):
        assert (
            await http.put(f"/api/v1/twins/{twin}", json={"reported": reported}, headers=root)
        ).is_success
    await tk.flush()
    return http, people


async def test_a_view_sql_cannot_state_is_answered_by_the_python_path(tmp_path: Path) -> None:
    """revoke reported, grant reported/temp: reading ``T.reported`` whole needs an object
    SQL cannot build, so run_query declines and the route evaluates the redacted graph."""
    only_temp = {
        "id": "only-temp",
        "tenant": "acme",
        "entries": {
            "m": {
                "subjects": ["tenant:acme"],
                "resources": {
                    "twin:/": {"grant": ["READ"]},
                    "twin:/reported": {"revoke": ["READ"]},
                    "twin:/reported/temp": {"grant": ["READ"]},
                },
            }
        },
    }
    async with Platform.open(tmp_path / "t.db") as tk:
        http, people = await _seeded(tk, [TENANT_POLICIES[0], only_temp])
        alice = people.config.authenticate(people.tokens["alice"])
        assert alice is not None
        scope = twin_scope(people.config.evaluator(tk.registry), alice)
        assert scope is not None
        whole = "SELECT T.$dtId, T.reported AS r FROM DIGITALTWINS T"
        with pytest.raises(ScopeUnsupported):
            await run_query(tk, whole, visible=scope)
        answer = await http.post(
            "/api/v1/query", json={"query": whole}, headers=people.headers("alice")
        )
        assert answer.json()["items"] == [
            {"$dtId": "acme~a", "r": {"temp": 20}},
            {"$dtId": "acme~b", "r": {"temp": 40}},
        ]
        # filters on leaves still compile, and see only what alice may read
        hot = "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.temp > 10 AND NOT IS_DEFINED(T.x)"
        rows = (await run_query(tk, hot, visible=scope)).items
        assert rows == [{"$dtId": "acme~a"}, {"$dtId": "acme~b"}]
        await http.aclose()


async def test_too_many_classes_fall_back_to_the_python_path(tmp_path: Path) -> None:
    per_twin = [
        {
            "id": f"t{i}",
            "twin": f"acme~t{i}",
            "entries": {
                "m": {
                    "subjects": ["user:alice"],
                    "resources": {"twin:/reported/patient": {"grant": ["READ"]}},
                }
            },
        }
        for i in range(MAX_CLASSES)
    ]
    async with Platform.open(tmp_path / "t.db") as tk:
        http, people = await _seeded(tk, [*TENANT_POLICIES, *per_twin])
        alice = people.config.authenticate(people.tokens["alice"])
        assert alice is not None
        assert twin_scope(people.config.evaluator(tk.registry), alice) is None
        text = "SELECT T.$dtId, T.patient FROM DIGITALTWINS T WHERE IS_DEFINED(T.temp)"
        answer = await http.post(
            "/api/v1/query", json={"query": text}, headers=people.headers("alice")
        )
        assert answer.json()["items"] == [{"$dtId": "acme~a"}, {"$dtId": "acme~b"}]
        await http.aclose()
