"""Models over HTTP: upload one or many DTDL documents, list, read, delete."""

from __future__ import annotations

import httpx

from tests.conftest import PUMP

SENSOR = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:acme:Sensor;1",
    "@type": "Interface",
    "displayName": "Sensor",
    "contents": [{"@type": "Telemetry", "name": "reading", "schema": "double"}],
}
PROBE = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:acme:Probe;1",
    "@type": "Interface",
    "extends": "dtmi:acme:Sensor;1",
}


async def test_upload_one_document_then_read_it_back(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/models", json=SENSOR)
    assert created.status_code == 201
    assert [m["id"] for m in created.json()["items"]] == ["dtmi:acme:Sensor;1"]
    one = await client.get("/api/v1/models/dtmi:acme:Sensor;1")
    assert one.status_code == 200
    assert one.json()["display_name"] == "Sensor"
    assert one.json()["model"]["contents"][0]["name"] == "reading"


async def test_upload_an_array_and_list(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/models", json=[SENSOR, PROBE])
    assert created.status_code == 201
    listed = (await client.get("/api/v1/models")).json()["items"]
    ids = [m["id"] for m in listed]
    assert "dtmi:acme:Probe;1" in ids and "dtmi:acme:Pump;1" in ids
    assert ids == sorted(ids)
    probe = next(m for m in listed if m["id"] == "dtmi:acme:Probe;1")
    assert probe["extends"] == ["dtmi:acme:Sensor;1"]


async def test_duplicate_model_is_a_conflict_with_its_pointer(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/models", json=[SENSOR, PUMP])
    assert answer.status_code == 409
    assert answer.json()["error"]["path"] == "/1/@id"
    assert (await client.get("/api/v1/models/dtmi:acme:Sensor;1")).status_code == 404


async def test_invalid_document_names_the_field(client: httpx.AsyncClient) -> None:
    document = {"@context": "dtmi:dtdl:context;3", "@type": "Interface", "@id": "nope"}
    answer = await client.post("/api/v1/models", json=document)
    assert answer.status_code == 400
    assert answer.json()["error"]["path"] == "/@id"
    many = await client.post("/api/v1/models", json=[SENSOR, {**document, "@id": 5}])
    assert many.status_code == 400
    assert many.json()["error"]["path"].startswith("/1/")
    assert (await client.get("/api/v1/models/dtmi:acme:Sensor;1")).status_code == 404


async def test_delete_a_model_and_refuse_one_in_use(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/models", json=SENSOR)
    assert (await client.delete("/api/v1/models/dtmi:acme:Sensor;1")).status_code == 204
    assert (await client.get("/api/v1/models/dtmi:acme:Sensor;1")).status_code == 404
    await client.put("/api/v1/twins/p1", json={"model": "dtmi:acme:Pump;1"})
    busy = await client.delete("/api/v1/models/dtmi:acme:Pump;1")
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "conflict"


async def test_unknown_model_is_404(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/models/dtmi:acme:Nothing;1")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
