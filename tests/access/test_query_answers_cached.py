"""Restricted queries reuse answers only while nothing changed, on SQLite and in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.access.conftest import PEOPLE, TENANT_POLICIES, realm
from twinkit import Platform
from twinkit.access.audit import AuditLog
from twinkit.access.install import install_access
from twinkit.api import create_app

COUNT = "SELECT COUNT() FROM DIGITALTWINS"
HOT = "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.temp > 30"


@pytest.mark.parametrize("on_disk", [True, False], ids=["sqlite", "memory"])
async def test_answers_follow_every_change(tmp_path: Path, on_disk: bool) -> None:
    people = realm(TENANT_POLICIES, PEOPLE)
    async with Platform.open(tmp_path / "t.db" if on_disk else None) as tk:
        app = create_app(tk)
        install_access(app, tk, people.config, audit=AuditLog(None))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            root, alice = people.headers("root"), people.headers("alice")

            async def ask(text: str) -> list[object]:
                answer = await http.post("/api/v1/query", json={"query": text}, headers=alice)
                assert answer.status_code == 200, answer.text
                items: list[object] = answer.json()["items"]
                return items

            await http.put("/api/v1/twins/acme~a", json={"reported": {"temp": 20}}, headers=root)
            await http.put("/api/v1/twins/globex~g", json={"reported": {"temp": 50}}, headers=root)
            await tk.flush()
            assert await ask(COUNT) == [{"COUNT": 1}]
            assert await ask(COUNT) == [{"COUNT": 1}]  # answered again from the cache
            assert await ask(HOT) == []
            await http.put("/api/v1/twins/acme~b", json={"reported": {"temp": 40}}, headers=root)
            await tk.flush()
            assert await ask(COUNT) == [{"COUNT": 2}]
            assert await ask(HOT) == [{"$dtId": "acme~b"}]
            patch = await http.patch(
                "/api/v1/twins/acme~b/reported", json={"temp": 10}, headers=root
            )
            assert patch.status_code == 200
            await tk.flush()
            assert await ask(HOT) == []
            await http.delete("/api/v1/twins/acme~a", headers=root)
            await tk.flush()
            assert await ask(COUNT) == [{"COUNT": 1}]


async def test_relationship_rules_hold_for_twins_not_refiltered(tmp_path: Path) -> None:
    """A model-scoped revoke on relationships still applies when the source twin's redaction
    comes from an earlier query (only changed twins are filtered again)."""
    pump = {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:acme:Pump;1",
        "@type": "Interface",
        "contents": [{"@type": "Relationship", "name": "feeds"}],
    }
    hidden = {
        "id": "pump-links-hidden",
        "model": "dtmi:acme:Pump;1",
        "entries": {
            "m": {
                "subjects": ["tenant:acme"],
                "resources": {"twin:/relationships": {"revoke": ["READ"]}},
            }
        },
    }
    people = realm([*TENANT_POLICIES, hidden], PEOPLE)
    links = "SELECT COUNT() FROM DIGITALTWINS S JOIN T RELATED S.feeds"
    async with Platform.open(tmp_path / "t.db") as tk:
        app = create_app(tk)
        install_access(app, tk, people.config, audit=AuditLog(None))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            root, alice = people.headers("root"), people.headers("alice")
            assert (await http.post("/api/v1/models", json=pump, headers=root)).is_success
            for twin, model in (("acme~a", pump["@id"]), ("acme~b", None), ("acme~c", None)):
                body: dict[str, Any] = {"model": model, "reported": {}}
                assert (await http.put(f"/api/v1/twins/{twin}", json=body, headers=root)).is_success
            for source, target in (("acme~a", "acme~b"), ("acme~b", "acme~c")):
                body = {"name": "feeds", "target": target}
                url = f"/api/v1/twins/{source}/relationships/{source}-{target}"
                assert (await http.put(url, json=body, headers=root)).is_success
            await tk.flush()
            for round_ in range(3):
                answer = await http.post("/api/v1/query", json={"query": links}, headers=alice)
                assert answer.json()["items"] == [{"COUNT": 1}], (round_, answer.text)
                everything = await http.post("/api/v1/query", json={"query": links}, headers=root)
                assert everything.json()["items"] == [{"COUNT": 2}]
                await http.patch("/api/v1/twins/acme~c/reported", json={"n": round_}, headers=root)
                await tk.flush()
