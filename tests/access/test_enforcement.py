"""What each surface shows and lets through, for admins, tenant members and strangers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.access.conftest import AppMaker, Realm
from twinkit import Platform

PUMP = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:acme:Pump;1",
    "@type": "Interface",
    "contents": [{"@type": "Command", "name": "reboot"}, {"@type": "Command", "name": "wipe"}],
}


async def seed(http: httpx.AsyncClient, realm: Realm) -> None:
    root = realm.headers("root")
    assert (await http.post("/api/v1/models", json=PUMP, headers=root)).status_code == 201
    for twin, reported in {
        "acme~p1": {"temp": 20, "patient": "Ann"},
        "acme~p2": {"temp": 35, "patient": "Bob"},
        "globex~g1": {"temp": 50},
        "shared": {"temp": 1},
    }.items():
        response = await http.put(
            f"/api/v1/twins/{twin}", json={"reported": reported}, headers=root
        )
        assert response.status_code == 201, response.text
    await http.post("/api/v1/twins/acme~p1/telemetry", json={"values": {"rpm": 5}}, headers=root)


async def test_tenant_member_sees_only_its_tenant_and_no_revoked_field(
    client: httpx.AsyncClient, tenants_realm: Realm
) -> None:
    await seed(client, tenants_realm)
    alice = tenants_realm.headers("alice")
    twin = (await client.get("/api/v1/twins/acme~p1", headers=alice)).json()
    assert twin["reported"] == {"temp": 20}
    assert "patient" not in twin["metadata"]["reported"]
    assert twin["telemetry"] == {"rpm": 5}
    assert (await client.get("/api/v1/twins/globex~g1", headers=alice)).status_code == 403
    assert (await client.get("/api/v1/twins/shared", headers=alice)).status_code == 403
    listed = (await client.get("/api/v1/twins", headers=alice)).json()["items"]
    assert [t["id"] for t in listed] == ["acme~p1", "acme~p2"]
    assert all("patient" not in t["reported"] for t in listed)
    gus = (await client.get("/api/v1/twins", headers=tenants_realm.headers("gus"))).json()
    assert [t["id"] for t in gus["items"]] == ["globex~g1"]


async def test_writes_need_write_on_every_path(
    client: httpx.AsyncClient, tenants_realm: Realm
) -> None:
    await seed(client, tenants_realm)
    alice = tenants_realm.headers("alice")
    ok = await client.patch("/api/v1/twins/acme~p1/desired", json={"sp": 3}, headers=alice)
    assert ok.status_code == 200
    assert ok.json()["desired"] == {"sp": 3}
    denied = await client.patch("/api/v1/twins/acme~p1/reported", json={"temp": 1}, headers=alice)
    assert denied.status_code == 403
    assert "twin:/reported/temp" in denied.json()["error"]["message"]
    json_patch = [{"op": "replace", "path": "/temp", "value": 0}]
    denied = await client.patch(
        "/api/v1/twins/acme~p1/reported",
        content=__import__("orjson").dumps(json_patch),
        headers={**alice, "Content-Type": "application/json-patch+json"},
    )
    assert denied.status_code == 403
    root = tenants_realm.headers("root")
    assert (await client.get("/api/v1/twins/acme~p1", headers=root)).json()["reported"][
        "temp"
    ] == 20
    writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PUT", "/api/v1/twins/acme~p9", {"reported": {}}),
        ("DELETE", "/api/v1/twins/acme~p1", None),
        ("POST", "/api/v1/twins/acme~p1/telemetry", {"values": {"rpm": 1}}),
        ("PUT", "/api/v1/twins/acme~p1/relationships/r1", {"name": "feeds", "target": "acme~p2"}),
        ("DELETE", "/api/v1/models/dtmi:acme:Pump;1", None),
        ("PATCH", "/api/v1/twins/globex~g1/desired", {"sp": 1}),
    ]
    for method, url, body in writes:
        response = await client.request(method, url, json=body, headers=alice)
        assert response.status_code == 403, (method, url)
    assert not await _exists(client, root, "acme~p9")
    rel = {"name": "feeds", "target": "acme~p2"}
    gus = tenants_realm.headers("gus")
    ok = await client.put("/api/v1/twins/globex~g1/relationships/r1", json=rel, headers=gus)
    assert ok.status_code == 403  # gus may write globex~g1 but may not see acme~p2
    assert "acme~p2" in ok.json()["error"]["message"]
    batch = [{"twin": "globex~g1", "values": {"temp": 1}}, {"twin": "acme~p1", "values": {"x": 1}}]
    gus = tenants_realm.headers("gus")
    refused = await client.post("/api/v1/telemetry", json=batch, headers=gus)
    assert refused.status_code == 403
    assert refused.json()["error"]["path"] == "/1/values/x"


async def _exists(http: httpx.AsyncClient, headers: dict[str, str], twin: str) -> bool:
    return (await http.get(f"/api/v1/twins/{twin}", headers=headers)).status_code == 200


async def test_query_rows_fields_and_counts_follow_policies(
    client: httpx.AsyncClient, tenants_realm: Realm
) -> None:
    await seed(client, tenants_realm)

    async def run(who: str, text: str) -> list[dict[str, Any]]:
        response = await client.post(
            "/api/v1/query", json={"query": text}, headers=tenants_realm.headers(who)
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    count = "SELECT COUNT() FROM DIGITALTWINS"
    assert (await run("root", count))[0] != (await run("alice", count))[0]
    assert list((await run("alice", count))[0].values()) == [2]
    assert list((await run("gus", count))[0].values()) == [1]
    rows = await run("alice", "SELECT T FROM DIGITALTWINS T")
    assert sorted(r["T"]["$dtId"] if "$dtId" in r["T"] else r["T"]["id"] for r in rows) == [
        "acme~p1",
        "acme~p2",
    ]
    assert "Ann" not in str(rows)
    assert await run("alice", "SELECT T FROM DIGITALTWINS T WHERE T.patient = 'Ann'") == []
    hot = await run("alice", "SELECT T.temp FROM DIGITALTWINS T WHERE T.temp > 10")
    assert sorted(r["temp"] for r in hot) == [20, 35]


async def test_history_journal_and_commands(
    client: httpx.AsyncClient, tenants_realm: Realm
) -> None:
    await seed(client, tenants_realm)
    alice = tenants_realm.headers("alice")
    series = await client.get("/api/v1/twins/acme~p1/history", headers=alice)
    assert series.status_code == 200
    assert all(p.startswith("telemetry/") for p in series.json()["paths"])
    assert (
        await client.get("/api/v1/twins/acme~p1/history/telemetry/rpm", headers=alice)
    ).status_code == 200
    assert (
        await client.get("/api/v1/twins/acme~p1/history/reported/temp", headers=alice)
    ).status_code == 403
    journal = (await client.get("/api/v1/twins/acme~p1/events", headers=alice)).json()["items"]
    assert journal and "Ann" not in str(journal)
    wipe = await client.post(
        "/api/v1/twins/acme~p1/commands/wipe", json={"payload": {}}, headers=alice
    )
    assert wipe.status_code == 403
    reboot = await client.post(
        "/api/v1/twins/acme~p1/commands/reboot", json={"payload": {}}, headers=alice
    )
    assert reboot.status_code == 503  # allowed; this app has no command dispatcher


async def test_audit_records_writes_and_denials(
    client: httpx.AsyncClient, tenants_realm: Realm
) -> None:
    await seed(client, tenants_realm)
    alice = tenants_realm.headers("alice")
    await client.patch("/api/v1/twins/acme~p1/reported", json={"temp": 1}, headers=alice)
    await client.get("/api/v1/twins/acme~p1")
    entries = (
        await client.get("/api/v1/audit?limit=50", headers=tenants_realm.headers("root"))
    ).json()
    items = entries["items"]
    denied = [e for e in items if e["outcome"] == "denied"]
    assert {"subject": "user:alice", "status": 403, "twin": "acme~p1"}.items() <= denied[1].items()
    assert denied[0]["subject"] == "anonymous" and denied[0]["status"] == 401
    assert all("client" in e for e in items)
    writes = [e for e in items if e["outcome"] == "allowed"]
    assert {e["action"] for e in writes} >= {"PUT /api/v1/twins/{twin_id}", "POST /api/v1/models"}
    mine = (await client.get("/api/v1/audit?subject=user:alice", headers=alice)).json()["items"]
    assert [e["tenant"] for e in mine] == ["acme"]  # alice reads acme's audit only


async def test_feeds_drop_and_redact_events(
    make_app: AppMaker, tenants_realm: Realm, platform: Platform
) -> None:
    from tests.api.conftest import serving

    app = make_app(tenants_realm)
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        await seed(http, tenants_realm)
        token = tenants_realm.tokens["alice"]
        seen: list[str] = []
        async with http.stream("GET", f"/api/v1/events?after=0&access_token={token}") as feed:
            async for line in feed.aiter_lines():
                if line.startswith("data: "):
                    seen.append(line)
                if len(seen) >= 3:
                    break
        text = "\n".join(seen)
        assert "acme~p1" in text and "acme~p2" in text
        assert "globex" not in text and "shared" not in text and "Ann" not in text


async def test_rate_limit_answers_429_with_retry_after(
    make_app: AppMaker, tenants_realm: Realm
) -> None:
    tenants_realm.config.rate, tenants_realm.config.burst = 1.0, 2.0
    app = make_app(tenants_realm)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        codes = [
            (await http.get("/api/v1/models", headers=tenants_realm.headers("root"))).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        limited = await http.get("/api/v1/models", headers=tenants_realm.headers("root"))
        assert limited.headers["Retry-After"] == "1"
        assert (
            await http.get("/api/v1/models", headers=tenants_realm.headers("alice"))
        ).status_code == 200


@pytest.mark.parametrize("who", ["root", "alice"])
async def test_websocket_feed_needs_a_token(
    make_app: AppMaker, tenants_realm: Realm, who: str
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    from tests.api.conftest import serving

    app = make_app(tenants_realm)
    root = tenants_realm.headers("root")
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        ws = base.replace("http://", "ws://") + "/api/v1/ws"
        with pytest.raises(InvalidStatus):
            async with connect(ws):
                pass
        await http.put("/api/v1/twins/globex~g1", json={"reported": {"a": 1}}, headers=root)
        await http.put(
            "/api/v1/twins/acme~p1", json={"reported": {"a": 1, "patient": "Z"}}, headers=root
        )
        token = tenants_realm.tokens[who]
        async with connect(f"{ws}?after=0&access_token={token}") as socket:
            first = __import__("json").loads(await asyncio.wait_for(socket.recv(), 5))
        if who == "alice":
            assert first["twin"] == "acme~p1"
            assert first["data"]["reported"] == {"a": 1}
        else:
            assert first["twin"] == "globex~g1"
