"""What only a real socket shows: oversized uploads, DTMIs in URLs, racing writers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from twinkit import Platform

PUMP = "dtmi:acme:Pump;1"


async def test_oversized_upload_is_refused_before_it_is_read(serve: Callable[..., Any]) -> None:
    async with serve(max_body=10_000) as base, httpx.AsyncClient(base_url=base) as http:
        answer = await http.post("/api/v1/telemetry", content=b"[" + b" " * 200_000 + b"]")
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "payload_too_large"
        assert (await http.get("/healthz")).status_code == 200


async def test_model_ids_work_in_urls(serve: Callable[..., Any]) -> None:
    async with serve() as base, httpx.AsyncClient(base_url=base) as http:
        answer = await http.get(f"/api/v1/models/{PUMP}")
        assert answer.status_code == 200
        assert answer.json()["id"] == PUMP


async def test_racing_writers_with_if_match_have_one_winner(
    tk: Platform, serve: Callable[..., Any]
) -> None:
    await tk.twins.put("p1", model=PUMP, desired={"rpm": 1.0})
    async with serve() as base, httpx.AsyncClient(base_url=base) as http:
        answers = await asyncio.gather(
            *(
                http.patch(
                    "/api/v1/twins/p1/desired", json={"rpm": float(i)}, headers={"If-Match": '"1"'}
                )
                for i in range(10)
            )
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [412] * 9
    assert (await tk.twins.get("p1")).revision == 2
