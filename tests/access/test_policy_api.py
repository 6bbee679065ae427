"""Policies over HTTP: global policy:/ READ lists them, WRITE changes them at once and on disk."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.access.conftest import PEOPLE, TENANT_POLICIES, AppMaker, Realm, realm
from twinkit.access.config import AuthConfig

BOB_READS = {
    "tenant": "acme",
    "entries": {"bob": {"subjects": ["user:bob"], "resources": {"twin:/": {"grant": ["READ"]}}}},
}
TENANT_POLICY_ADMIN = {
    "id": "acme-policy-admins",
    "tenant": "acme",
    "entries": {
        "a": {"subjects": ["user:alice"], "resources": {"policy:/": {"grant": ["READ", "WRITE"]}}}
    },
}


async def test_admin_lists_adds_replaces_and_deletes(make_app: AppMaker, tmp_path: Path) -> None:
    people = realm([*TENANT_POLICIES, TENANT_POLICY_ADMIN], {**PEOPLE, "bob": {}})
    people.config.path = tmp_path / "auth.yaml"
    people.config.save()
    app = make_app(people, dashboard=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        root, bob = people.headers("root"), people.headers("bob")
        listed = (await http.get("/api/v1/policies", headers=root)).json()["items"]
        assert [p["id"] for p in listed] == ["admins", "acme", "globex", "acme-policy-admins"]
        assert (await http.get("/api/v1/policies/acme", headers=root)).json()["tenant"] == "acme"
        assert (await http.get("/api/v1/policies/nope", headers=root)).status_code == 404
        await http.put("/api/v1/twins/acme~p1", json={"reported": {"t": 1}}, headers=root)
        assert (await http.get("/api/v1/twins/acme~p1", headers=bob)).status_code == 403

        added = await http.put("/api/v1/policies/bob", json=BOB_READS, headers=root)
        assert added.status_code == 201, added.text
        assert (await http.get("/api/v1/twins/acme~p1", headers=bob)).status_code == 200
        assert [p.id for p in AuthConfig.load(tmp_path / "auth.yaml").policies][-1] == "bob"

        replaced = {**BOB_READS, "tenant": "globex"}
        assert (await http.put("/api/v1/policies/bob", json=replaced, headers=root)).is_success
        assert (await http.get("/api/v1/twins/acme~p1", headers=bob)).status_code == 403

        assert (await http.delete("/api/v1/policies/bob", headers=root)).status_code == 204
        assert "bob" not in {p.id for p in AuthConfig.load(tmp_path / "auth.yaml").policies}
        assert (await http.delete("/api/v1/policies/bob", headers=root)).status_code == 404


async def test_bad_policies_are_400_and_only_global_grants_count(
    make_app: AppMaker, tenants_realm: Realm
) -> None:
    people = realm([*TENANT_POLICIES, TENANT_POLICY_ADMIN], PEOPLE)
    app = make_app(people, dashboard=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        root, alice = people.headers("root"), people.headers("alice")
        for body, path in [
            ({"entries": {"e": {"resources": {"nope:/": {"grant": ["READ"]}}}}}, None),
            ({"id": "other", "entries": {}}, "/id"),
            ({"id": "x", "model": "dtmi:acme:Pump;1"}, "/entries"),
            ({"entries": {"e": {"resources": {"twin:/": {"grant": ["FLY"]}}}}}, None),
        ]:
            answer = await http.put("/api/v1/policies/x", json=body, headers=root)
            assert answer.status_code == 400, answer.text
            if path:
                assert answer.json()["error"]["path"] == path
        # alice holds policy:/ only inside tenant acme: not enough to see or change policies
        assert (await http.get("/api/v1/policies", headers=alice)).status_code == 403
        grant = {"twin:/": {"grant": ["READ"]}}
        evil = {"entries": {"e": {"subjects": ["user:alice"], "resources": grant}}}
        denied = await http.put("/api/v1/policies/mine", json=evil, headers=alice)
        assert denied.status_code == 403
        ids = [p["id"] for p in (await http.get("/api/v1/policies", headers=root)).json()["items"]]
        assert "mine" not in ids
