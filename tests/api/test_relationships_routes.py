"""Relationships over HTTP: add, replace, read, list outgoing and incoming, delete."""

from __future__ import annotations

import httpx
import pytest

PUMP = "dtmi:acme:Pump;1"
TANK = "dtmi:acme:Tank;1"


@pytest.fixture
async def plant(client: httpx.AsyncClient) -> httpx.AsyncClient:
    await client.put("/api/v1/twins/p1", json={"model": PUMP})
    await client.put("/api/v1/twins/t1", json={"model": TANK})
    await client.put("/api/v1/twins/t2", json={"model": TANK})
    return client


async def test_add_replace_read_and_delete(plant: httpx.AsyncClient) -> None:
    url = "/api/v1/twins/p1/relationships/r1"
    body = {"name": "feeds", "target": "t1", "properties": {"valve": "open"}}
    added = await plant.put(url, json=body)
    assert added.status_code == 201
    assert added.json()["source"] == "p1" and added.json()["revision"] == 2
    assert added.headers["etag"] == '"2"'
    replaced = await plant.put(url, json={**body, "target": "t2"})
    assert replaced.status_code == 200 and replaced.json()["target"] == "t2"
    got = await plant.get(url)
    assert got.json() == {
        "id": "r1",
        "source": "p1",
        "name": "feeds",
        "target": "t2",
        "properties": {"valve": "open"},
    }
    deleted = await plant.delete(url)
    assert deleted.status_code == 200
    assert deleted.json()["revision"] == 4 and deleted.headers["etag"] == '"4"'
    assert (await plant.get(url)).status_code == 404
    assert (await plant.delete(url)).status_code == 404


async def test_list_outgoing_and_incoming(plant: httpx.AsyncClient) -> None:
    await plant.put("/api/v1/twins/p1/relationships/b", json={"name": "feeds", "target": "t2"})
    await plant.put("/api/v1/twins/p1/relationships/a", json={"name": "feeds", "target": "t1"})
    await plant.put("/api/v1/twins/t1/relationships/d", json={"name": "drains", "target": "p1"})
    outgoing = (await plant.get("/api/v1/twins/p1/relationships")).json()["items"]
    assert [r["id"] for r in outgoing] == ["a", "b"]
    incoming = (await plant.get("/api/v1/twins/t1/incoming")).json()["items"]
    assert [(r["source"], r["id"]) for r in incoming] == [("p1", "a")]
    assert (await plant.get("/api/v1/twins/nope/incoming")).status_code == 404
    assert (await plant.get("/api/v1/twins/nope/relationships")).status_code == 404


async def test_refusals_point_at_the_field(plant: httpx.AsyncClient) -> None:
    url = "/api/v1/twins/p1/relationships/r1"
    missing_target = await plant.put(url, json={"name": "feeds", "target": "ghost"})
    assert missing_target.status_code == 400
    assert missing_target.json()["error"]["path"] == "/target"
    undeclared = await plant.put(url, json={"name": "likes", "target": "t1"})
    assert undeclared.json()["error"]["path"] == "/name"
    wrong_prop = await plant.put(
        url, json={"name": "feeds", "target": "t1", "properties": {"valve": 3}}
    )
    assert wrong_prop.json()["error"]["path"] == "/properties/valve"
    no_name = await plant.put(url, json={"target": "t1"})
    assert no_name.status_code == 422
    assert no_name.json()["error"]["path"] == "/name"
    await plant.put("/api/v1/twins/p1/relationships/a", json={"name": "feeds", "target": "t1"})
    await plant.put("/api/v1/twins/p1/relationships/b", json={"name": "feeds", "target": "t2"})
    too_many = await plant.put(url, json={"name": "feeds", "target": "t1"})
    assert too_many.status_code == 409
