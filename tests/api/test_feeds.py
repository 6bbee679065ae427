"""Live change feeds on a real server: SSE and WebSocket, filters, resume without gaps or
duplicates, and a slow consumer cut off with a reason."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from twinkit import Platform

PUMP = "dtmi:acme:Pump;1"


async def sse_messages(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """Parse a text/event-stream into messages (dicts of field -> value), comments skipped."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def take(messages: AsyncIterator[dict[str, str]], count: int) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    async with asyncio.timeout(10):
        async for message in messages:
            if "data" in message:
                out.append(message)
            if len(out) == count:
                return out
    return out


async def settle() -> None:
    """Let the server subscribe its feed before the test writes."""
    await asyncio.sleep(0.15)


async def test_sse_streams_filtered_events_with_seq_ids(
    tk: Platform, serve: Callable[..., Any]
) -> None:
    await tk.twins.put("p1", model=PUMP)
    await tk.twins.put("t1", model="dtmi:acme:Tank;1")
    async with serve() as base, httpx.AsyncClient(base_url=base) as http:
        params = {"twin": "p1", "kind": "TelemetryReceived,ReportedChanged"}
        async with http.stream("GET", "/api/v1/events", params=params) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            messages = sse_messages(response)
            await settle()
            await tk.twins.patch("t1", "reported", {"level": 1.0})  # another twin: filtered out
            await tk.twins.patch("p1", "desired", {"rpm": 5.0})  # another kind: filtered out
            await tk.twins.telemetry("p1", {"temperature": 20.5})
            await tk.twins.patch("p1", "reported", {"rpm": 5.0})
            got = await take(messages, 2)
    events = [json.loads(m["data"]) for m in got]
    assert [e["kind"] for e in events] == ["TelemetryReceived", "ReportedChanged"]
    assert all(e["twin"] == "p1" for e in events)
    assert [int(m["id"]) for m in got] == [e["seq"] for e in events]
    assert events[0]["data"]["values"] == {"temperature": 20.5}


async def test_model_filter_includes_models_that_extend_it(
    tk: Platform, serve: Callable[..., Any]
) -> None:
    await tk.twins.put("t1", model="dtmi:acme:Tank;1")
    await tk.twins.put("b1", model="dtmi:acme:BigTank;1")
    await tk.twins.put("p1", model=PUMP)
    async with serve() as base, httpx.AsyncClient(base_url=base) as http:
        params = {"model": "dtmi:acme:Tank;1", "kind": "ReportedChanged"}
        async with http.stream("GET", "/api/v1/events", params=params) as response:
            messages = sse_messages(response)
            await settle()
            await tk.twins.patch("p1", "reported", {"rpm": 1.0})
            await tk.twins.patch("t1", "reported", {"level": 1.0})
            await tk.twins.patch("b1", "reported", {"volume": 9.0})
            got = await take(messages, 2)
    assert [json.loads(m["data"])["twin"] for m in got] == ["t1", "b1"]


async def test_sse_resumes_from_last_event_id_without_gaps_or_duplicates(
    tk: Platform, serve: Callable[..., Any]
) -> None:
    await tk.twins.put("p1", model=PUMP)
    async with serve() as base, httpx.AsyncClient(base_url=base) as http:
        params = {"twin": "p1", "kind": "TelemetryReceived"}
        async with http.stream("GET", "/api/v1/events", params=params) as response:
            messages = sse_messages(response)
            await settle()
            for i in range(3):
                await tk.twins.telemetry("p1", {"temperature": float(i)})
            first = await take(messages, 3)
        last_id = first[-1]["id"]
        # while disconnected: more events
        for i in range(3, 8):
            await tk.twins.telemetry("p1", {"temperature": float(i)})
        writer_done = asyncio.Event()

        async def keep_writing() -> None:
            for i in range(8, 12):
                await tk.twins.telemetry("p1", {"temperature": float(i)})
                await asyncio.sleep(0.01)
            writer_done.set()

        headers = {"Last-Event-ID": last_id}
        async with http.stream("GET", "/api/v1/events", params=params, headers=headers) as again:
            writer = asyncio.create_task(keep_writing())
            rest = await take(sse_messages(again), 9)
            await writer
    values = [json.loads(m["data"])["data"]["values"]["temperature"] for m in first + rest]
    assert values == [float(i) for i in range(12)]
    seqs = [int(m["id"]) for m in first + rest]
    assert seqs == sorted(set(seqs))


async def test_sse_after_query_replays_history_of_the_feed(
    tk: Platform, serve: Callable[..., Any]
) -> None:
    await tk.twins.put("p1", model=PUMP)
    await tk.twins.telemetry("p1", {"temperature": 1.0})
    async with serve() as base, httpx.AsyncClient(base_url=base) as http:
        params = {"twin": "p1", "after": "0"}
        async with http.stream("GET", "/api/v1/events", params=params) as response:
            got = await take(sse_messages(response), 2)
    assert [json.loads(m["data"])["kind"] for m in got] == ["TwinCreated", "TelemetryReceived"]


async def test_sse_sends_keep_alive_comments(tk: Platform, serve: Callable[..., Any]) -> None:
    lines: list[str] = []
    async with (
        serve(feed_keepalive=0.05) as base,
        httpx.AsyncClient(base_url=base) as http,
        http.stream("GET", "/api/v1/events") as response,
        asyncio.timeout(5),
    ):
        async for line in response.aiter_lines():
            lines.append(line)
            if lines.count(": keep-alive") >= 2:
                break
    assert ": keep-alive" in lines


async def test_sse_bad_filter_is_a_400_with_pointer(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/events", params={"kind": "Exploded"})
    assert answer.status_code == 400
    assert answer.json()["error"]["path"] == "/kind"
    cursor = await client.get("/api/v1/events", headers={"Last-Event-ID": "abc"})
    assert cursor.status_code == 400
    assert cursor.json()["error"]["path"] == "/Last-Event-ID"


async def test_slow_sse_consumer_is_cut_off_with_overflow(
    tk: Platform, serve: Callable[..., Any]
) -> None:
    await tk.twins.put("p1")
    blob = "x" * 20_000
    async with (
        serve(feed_max_pending=20) as base,
        httpx.AsyncClient(base_url=base) as http,
        http.stream("GET", "/api/v1/events", params={"twin": "p1"}) as response,
    ):
        await settle()
        # the client reads nothing while ~8 MB of events pile up
        await asyncio.gather(*(tk.twins.telemetry("p1", {"blob": blob}) for _ in range(400)))
        messages = [m async for m in sse_messages(response)]
    assert messages[-1]["event"] == "overflow"
    ending = json.loads(messages[-1]["data"])
    assert ending["error"]["code"] == "feed_overflow"
    delivered = [int(m["id"]) for m in messages if "id" in m]
    assert len(delivered) < 400
    assert ending["last_seq"] == (delivered[-1] if delivered else None)


def ws_url(base: str, query: str = "") -> str:
    return base.replace("http://", "ws://") + "/api/v1/ws" + query


async def ws_take(socket: Any, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(10):
        return [json.loads(await socket.recv()) for _ in range(count)]


async def test_websocket_streams_filtered_events_and_resumes(
    tk: Platform, serve: Callable[..., Any]
) -> None:
    await tk.twins.put("p1", model=PUMP)
    await tk.twins.put("p2", model=PUMP)
    async with serve() as base:
        async with connect(ws_url(base, "?twin=p1&kind=TelemetryReceived")) as socket:
            await settle()
            await tk.twins.telemetry("p2", {"temperature": 9.0})
            for i in range(3):
                await tk.twins.telemetry("p1", {"temperature": float(i)})
            first = await ws_take(socket, 3)
        for i in range(3, 6):
            await tk.twins.telemetry("p1", {"temperature": float(i)})
        after = first[-1]["seq"]
        async with connect(ws_url(base, f"?twin=p1&kind=TelemetryReceived&after={after}")) as again:
            await tk.twins.telemetry("p1", {"temperature": 6.0})
            rest = await ws_take(again, 4)
    temperatures = [e["data"]["values"]["temperature"] for e in first + rest]
    assert temperatures == [float(i) for i in range(7)]
    assert all(e["twin"] == "p1" for e in first + rest)


async def test_websocket_bad_filter_closes_with_reason(serve: Callable[..., Any]) -> None:
    async with serve() as base, connect(ws_url(base, "?kind=Nope")) as socket:
        error = json.loads(await socket.recv())
        assert error["error"]["path"] == "/kind"
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


async def test_slow_websocket_consumer_is_closed_4008(
    tk: Platform, serve: Callable[..., Any]
) -> None:
    await tk.twins.put("p1")
    blob = "x" * 20_000
    received: list[str] = []

    async def read_until_closed(socket: Any) -> None:
        async with asyncio.timeout(20):
            while True:
                received.append(str(await socket.recv()))

    async with (
        serve(feed_max_pending=20) as base,
        connect(ws_url(base, "?twin=p1"), max_queue=1, max_size=None) as socket,
    ):
        await settle()
        await asyncio.gather(*(tk.twins.telemetry("p1", {"blob": blob}) for _ in range(400)))
        with pytest.raises(ConnectionClosed) as closed:
            await read_until_closed(socket)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4008
    assert "overflow" in closed.value.rcvd.reason
    assert json.loads(received[-1])["error"]["code"] == "feed_overflow"
    assert len(received) < 400


async def test_disconnected_clients_leave_no_feed_behind(serve: Callable[..., Any]) -> None:
    async def open_feeds(http: httpx.AsyncClient) -> str:
        return (await http.get("/metrics")).text

    async with serve() as base, httpx.AsyncClient(base_url=base) as http:
        async with http.stream("GET", "/api/v1/events") as response, connect(ws_url(base)):
            lines = response.aiter_lines()  # kept: a dropped iterator closes the response
            await anext(lines)
            await settle()
            text = await open_feeds(http)
            assert 'twinkit_feed_clients{transport="sse"} 1.0' in text
            assert 'twinkit_feed_clients{transport="ws"} 1.0' in text
        async with asyncio.timeout(5):
            while True:
                text = await open_feeds(http)
                if (
                    'twinkit_feed_clients{transport="sse"} 0.0' in text
                    and 'twinkit_feed_clients{transport="ws"} 0.0' in text
                ):
                    break
                await asyncio.sleep(0.05)
