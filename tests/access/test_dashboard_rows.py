"""The dashboard's fleet rows as a restricted caller sees them: only its twins, and of a
partly readable twin the live values it may read (a revoked field hides only itself)."""

from __future__ import annotations

import httpx

from tests.access.conftest import Realm


async def test_fleet_rows_keep_readable_values_and_drop_revoked_ones(
    client: httpx.AsyncClient, tenants_realm: Realm
) -> None:
    root, alice = tenants_realm.headers("root"), tenants_realm.headers("alice")
    body = {"reported": {"temp": 20.5, "patient": "Jane"}, "desired": {"patient": "x", "sp": 3}}
    for twin in ("acme~p1", "globex~g1"):
        assert (await client.put(f"/api/v1/twins/{twin}", json=body, headers=root)).is_success
    everything = (await client.get("/api/v1/dashboard/fleet", headers=root)).json()["items"]
    assert {v["name"] for v in everything[0]["values"]} == {"temp", "patient"}
    rows = (await client.get("/api/v1/dashboard/fleet", headers=alice)).json()
    assert [r["id"] for r in rows["items"]] == ["acme~p1"]
    (row,) = rows["items"]
    assert [(v["name"], v["value"]) for v in row["values"]] == [("temp", 20.5)]
    assert "Jane" not in str(rows)
    assert sorted(row["delta"]) == [
        "patient",
        "sp",
    ]  # desired is readable, only reported/patient is not
