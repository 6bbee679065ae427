"""Twins over HTTP: the state contract, ETags, If-Match, conditions, as-of reads, paging."""

from __future__ import annotations

import httpx

from twinkit import Platform
from twinkit.model.time import format_time
from twinkit.testing import FrozenClock

PUMP = "dtmi:acme:Pump;1"
JSON_PATCH = {"content-type": "application/json-patch+json"}
MERGE_PATCH = {"content-type": "application/merge-patch+json"}


async def put_pump(
    client: httpx.AsyncClient, twin: str = "p1", **sections: object
) -> httpx.Response:
    return await client.put(f"/api/v1/twins/{twin}", json={"model": PUMP, **sections})


async def test_put_creates_201_then_replaces_200_with_etag(client: httpx.AsyncClient) -> None:
    created = await put_pump(client, reported={"serial": "A1"}, desired={"rpm": 1200})
    assert created.status_code == 201
    assert created.headers["etag"] == '"1"'
    doc = created.json()
    assert doc["revision"] == 1 and doc["etag"] == '"1"'
    assert doc["delta"] == {"rpm": 1200}
    replaced = await put_pump(client, reported={"serial": "A2"})
    assert replaced.status_code == 200
    assert replaced.headers["etag"] == '"2"'
    assert replaced.json()["reported"] == {"serial": "A2"}


async def test_put_bad_value_points_into_the_body_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    answer = await put_pump(client, reported={"serial": "A1", "rpm": "fast"})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": {
            "code": "validation_failed",
            "message": answer.json()["error"]["message"],
            "path": "/reported/rpm",
        }
    }
    assert (await client.get("/api/v1/twins/p1")).status_code == 404


async def test_put_refuses_unknown_fields_and_wrong_types(client: httpx.AsyncClient) -> None:
    typo = await put_pump(client, reportd={"serial": "A1"})
    assert typo.status_code == 400
    assert typo.json()["error"]["path"] == "/reportd"
    wrong = await client.put("/api/v1/twins/p1", json={"model": PUMP, "reported": [1]})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["path"] == "/reported"
    unknown_model = await client.put("/api/v1/twins/p1", json={"model": "dtmi:x:Y;1"})
    assert unknown_model.status_code == 400
    assert unknown_model.json()["error"]["path"] == "/model"


async def test_put_accepts_a_document_it_served(client: httpx.AsyncClient) -> None:
    doc = (await put_pump(client, reported={"serial": "A1"})).json()
    doc["reported"]["serial"] = "B2"
    again = await client.put("/api/v1/twins/p1", json=doc)
    assert again.status_code == 200
    assert again.json()["reported"] == {"serial": "B2"}


async def test_put_if_match(client: httpx.AsyncClient) -> None:
    await put_pump(client)
    stale = await client.put("/api/v1/twins/p1", json={"model": PUMP}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    fresh = await client.put("/api/v1/twins/p1", json={"model": PUMP}, headers={"If-Match": '"1"'})
    assert fresh.status_code == 200


async def test_get_and_conditional_get(client: httpx.AsyncClient) -> None:
    await put_pump(client, reported={"serial": "A1"})
    got = await client.get("/api/v1/twins/p1")
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert got.json()["reported"] == {"serial": "A1"}
    same = await client.get("/api/v1/twins/p1", headers={"If-None-Match": '"1"'})
    assert same.status_code == 304
    missing = await client.get("/api/v1/twins/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_read_as_of_revision_and_time(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    await put_pump(client, reported={"serial": "A1"})
    first_time = clock.now()
    clock.advance(10)
    await client.patch("/api/v1/twins/p1/reported", json={"serial": "A2"})
    clock.advance(10)
    await client.patch("/api/v1/twins/p1/reported", json={"serial": "A3"})
    at_two = await client.get("/api/v1/twins/p1", params={"revision": 2})
    assert at_two.status_code == 200
    assert at_two.json()["reported"] == {"serial": "A2"}
    then = await client.get("/api/v1/twins/p1", params={"at": format_time(first_time)})
    assert then.json()["reported"] == {"serial": "A1"}
    assert (await client.get("/api/v1/twins/p1", params={"revision": 9})).status_code == 404
    bad = await client.get("/api/v1/twins/p1", params={"at": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["path"] == "/at"
    both = await client.get(
        "/api/v1/twins/p1", params={"at": "2026-01-01T00:00:00Z", "revision": 1}
    )
    assert both.status_code == 400


async def test_list_pages_by_id_and_filters_by_model(client: httpx.AsyncClient) -> None:
    for name in ("p3", "p1", "p2"):
        await put_pump(client, name)
    await client.put("/api/v1/twins/t1", json={"model": "dtmi:acme:Tank;1"})
    first = (await client.get("/api/v1/twins", params={"limit": 2})).json()
    assert [d["id"] for d in first["items"]] == ["p1", "p2"]
    rest = (await client.get("/api/v1/twins", params={"limit": 2, "after": first["next"]})).json()
    assert [d["id"] for d in rest["items"]] == ["p3", "t1"]
    pumps = (await client.get("/api/v1/twins", params={"model": PUMP})).json()
    assert [d["id"] for d in pumps["items"]] == ["p1", "p2", "p3"] and pumps["next"] is None
    assert (await client.get("/api/v1/twins", params={"limit": 0})).status_code == 422


async def test_merge_patch_reported_and_desired(client: httpx.AsyncClient) -> None:
    await put_pump(client, desired={"rpm": 1000.0, "mode": "eco"})
    patched = await client.patch(
        "/api/v1/twins/p1/reported", json={"rpm": 1000.0}, headers=MERGE_PATCH
    )
    assert patched.status_code == 200
    assert patched.headers["etag"] == '"2"'
    assert patched.json()["revision"] == 2
    assert patched.json()["delta"] == {"mode": "eco"}
    desired = await client.patch("/api/v1/twins/p1/desired", json={"mode": None})
    assert desired.json()["desired"] == {"rpm": 1000.0}
    assert desired.json()["delta"] == {}


async def test_json_patch(client: httpx.AsyncClient) -> None:
    await put_pump(client, desired={"limits": {"low": 1.0, "high": 2.0}})
    ops = [{"op": "replace", "path": "/limits/high", "value": 5.0}]
    answer = await client.patch("/api/v1/twins/p1/desired", json=ops, headers=JSON_PATCH)
    assert answer.status_code == 200
    assert answer.json()["desired"]["limits"] == {"low": 1.0, "high": 5.0}
    failing = [{"op": "remove", "path": "/nothing"}]
    refused = await client.patch("/api/v1/twins/p1/desired", json=failing, headers=JSON_PATCH)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "patch_failed"
    test_op = [{"op": "test", "path": "/limits/low", "value": 9.0}]
    mismatch = await client.patch("/api/v1/twins/p1/desired", json=test_op, headers=JSON_PATCH)
    assert mismatch.status_code == 412


async def test_patch_bad_value_points_into_the_patch(client: httpx.AsyncClient) -> None:
    await put_pump(client)
    answer = await client.patch("/api/v1/twins/p1/reported", json={"rpm": "fast"})
    assert answer.status_code == 400
    assert answer.json()["error"]["path"] == "/rpm"
    read_only = await client.patch("/api/v1/twins/p1/desired", json={"serial": "X"})
    assert read_only.status_code == 400
    assert read_only.json()["error"]["path"] == "/serial"
    assert (await client.get("/api/v1/twins/p1")).json()["revision"] == 1


async def test_patch_if_match_and_condition(client: httpx.AsyncClient) -> None:
    await put_pump(client, reported={"rpm": 10.0})
    stale = await client.patch(
        "/api/v1/twins/p1/reported", json={"rpm": 11.0}, headers={"If-Match": '"5"'}
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["path"] == "/If-Match"
    false = await client.patch(
        "/api/v1/twins/p1/reported", json={"rpm": 11.0}, params={"condition": "rpm > 100"}
    )
    assert false.status_code == 412
    assert false.json()["error"]["path"] == "/condition"
    true = await client.patch(
        "/api/v1/twins/p1/reported",
        json={"rpm": 11.0},
        params={"condition": "reported.rpm = 10"},
        headers={"If-Match": '"1"'},
    )
    assert true.status_code == 200 and true.json()["reported"]["rpm"] == 11.0
    garbled = await client.patch(
        "/api/v1/twins/p1/reported", json={"rpm": 12.0}, params={"condition": "rpm >>> 1"}
    )
    assert garbled.status_code == 400 and garbled.json()["error"]["path"] == "/condition"


async def test_patch_needs_a_patch_media_type(client: httpx.AsyncClient) -> None:
    await put_pump(client)
    answer = await client.patch(
        "/api/v1/twins/p1/reported", content=b"rpm=1", headers={"content-type": "text/plain"}
    )
    assert answer.status_code == 415
    assert answer.json()["error"]["code"] == "unsupported_media_type"
    missing = await client.patch("/api/v1/twins/nope/reported", json={"rpm": 1.0})
    assert missing.status_code == 404


async def test_delete_and_cascade(client: httpx.AsyncClient, tk: Platform) -> None:
    await put_pump(client)
    await client.put("/api/v1/twins/t1", json={"model": "dtmi:acme:Tank;1"})
    await client.put("/api/v1/twins/p1/relationships/r1", json={"name": "feeds", "target": "t1"})
    refused = await client.delete("/api/v1/twins/t1")
    assert refused.status_code == 409
    stale = await client.delete(
        "/api/v1/twins/t1", params={"cascade": "true"}, headers={"If-Match": '"9"'}
    )
    assert stale.status_code == 412
    gone = await client.delete("/api/v1/twins/t1", params={"cascade": "true"})
    assert gone.status_code == 200
    assert gone.json()["deleted"] is True and gone.headers["etag"] == f'"{gone.json()["revision"]}"'
    assert (await client.get("/api/v1/twins/t1")).status_code == 404
    assert (await client.get("/api/v1/twins/p1/relationships")).json()["items"] == []
    bad_flag = await client.delete("/api/v1/twins/p1", params={"cascade": "maybe"})
    assert bad_flag.status_code == 400 and bad_flag.json()["error"]["path"] == "/cascade"
    assert (await client.delete("/api/v1/twins/p1")).status_code == 200
    assert await tk.twins.exists("p1") is False
