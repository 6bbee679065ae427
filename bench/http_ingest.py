"""HTTP telemetry ingest benchmark, beside the same values written in-process in the same run.

    python bench/http_ingest.py [--twins 1000] [--requests 200] [--batch 500] [--connections 2]

1. Batches: ``POST /api/v1/telemetry`` with ``--batch`` messages of 10 values each, from
   ``--connections`` keep-alive connections in a separate client process, against a real
   uvicorn server on 127.0.0.1 over a SQLite file. Every answer comes after the values are
   durable (group commit). Baseline: the same messages through
   ``platform.twins.telemetry_batch`` in-process, with the same number of batches in flight.
2. Single messages: ``POST /api/v1/twins/{id}/telemetry``, one message per request, beside
   ``platform.twins.telemetry`` in-process with the same concurrency.
3. Latency from a single-message POST to its Server-Sent Event, at a fixed request rate.

Prints values/s for each path and the HTTP/in-process ratio: the median of ``--rounds``
rounds, each measuring the baseline and HTTP back to back (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import multiprocessing
import socket
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import uvicorn

from twinkit import Platform
from twinkit.api import create_app

MODEL_ID = "dtmi:bench:Machine;1"
MODEL: dict[str, Any] = {
    "@context": "dtmi:dtdl:context;3",
    "@id": MODEL_ID,
    "@type": "Interface",
    "contents": [
        *({"@type": "Telemetry", "name": f"s{i}", "schema": "double"} for i in range(10)),
    ],
}
VALUES_PER_MESSAGE = 10


def twin_name(index: int) -> str:
    return f"m{index:05d}"


def message(step: int, twins: int) -> tuple[str, dict[str, float]]:
    """The ``step``-th message of the run: the same in the baseline and over HTTP."""
    return twin_name(step % twins), {f"s{k}": step + k * 0.5 for k in range(VALUES_PER_MESSAGE)}


def batch_messages(request_no: int, batch: int, twins: int) -> list[tuple[str, dict[str, float]]]:
    return [message(request_no * batch + j, twins) for j in range(batch)]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@asynccontextmanager
async def platform_with_twins(path: Path, twins: int) -> Any:
    async with Platform.open(path) as tk:
        await tk.models.add(MODEL)
        await asyncio.gather(*(tk.twins.put(twin_name(i), model=MODEL_ID) for i in range(twins)))
        yield tk


@asynccontextmanager
async def serving(tk: Platform, http_parser: str) -> Any:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are
    # TCP, and without it every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(tk), log_level="warning", access_log=False, lifespan="off", http=http_parser
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


# -- in-process baselines --------------------------------------------------------------------
async def baseline_batches(tk: Platform, args: argparse.Namespace) -> float:
    """Messages are built before the clock starts, as the HTTP client builds its bodies."""
    batches = [
        [(t, v, None) for t, v in batch_messages(request_no, args.batch, args.twins)]
        for request_no in range(args.requests)
    ]

    async def worker(requests: Iterator[list[tuple[str, dict[str, float], None]]]) -> None:
        for items in requests:
            results = await tk.twins.telemetry_batch(items)
            assert not [r for r in results if isinstance(r, Exception)]

    shared = iter(batches)
    start = time.perf_counter()
    await asyncio.gather(*(worker(shared) for _ in range(args.connections)))
    await tk.flush()
    values: int = args.requests * args.batch * VALUES_PER_MESSAGE
    return values / (time.perf_counter() - start)


async def baseline_singles(tk: Platform, args: argparse.Namespace) -> float:
    messages = [message(step, args.twins) for step in range(args.singles)]

    async def worker(steps: Iterator[tuple[str, dict[str, float]]]) -> None:
        for twin, values in steps:
            await tk.twins.telemetry(twin, values)

    shared = iter(messages)
    start = time.perf_counter()
    await asyncio.gather(*(worker(shared) for _ in range(args.single_connections)))
    await tk.flush()
    values: int = args.singles * VALUES_PER_MESSAGE
    return values / (time.perf_counter() - start)


# -- the HTTP client, in its own process so it does not share the server's core -------------
def post_all(
    port: int, bodies: list[tuple[str, bytes]], connections: int
) -> tuple[float, list[float], list[int]]:
    """POST every body over ``connections`` keep-alive connections.

    Returns the wall time, each request's latency and each status.
    """
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    shares = [bodies[i::connections] for i in range(connections)]
    gate = threading.Barrier(connections + 1)

    def run(share: list[tuple[str, bytes]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"content-type": "application/json"}
        gate.wait()
        for url, body in share:
            sent = time.perf_counter()
            conn.request("POST", url, body, headers)
            answer = conn.getresponse()
            answer.read()
            with lock:
                latencies.append(time.perf_counter() - sent)
                statuses.append(answer.status)
        conn.close()

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    gate.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies, statuses


def batch_client(port: int, args: argparse.Namespace, out: Any) -> None:
    bodies = [
        (
            "/api/v1/telemetry",
            orjson.dumps(
                [
                    {"twin": t, "values": v}
                    for t, v in batch_messages(request_no, args.batch, args.twins)
                ]
            ),
        )
        for request_no in range(args.requests)
    ]
    out.put(post_all(port, bodies, args.connections))


def single_client(port: int, args: argparse.Namespace, out: Any) -> None:
    bodies = []
    for step in range(args.singles):
        twin, values = message(step, args.twins)
        bodies.append((f"/api/v1/twins/{twin}/telemetry", orjson.dumps({"values": values})))
    out.put(post_all(port, bodies, args.single_connections))


def sse_latency_client(port: int, args: argparse.Namespace, out: Any) -> None:
    """POST single messages at ``--rate``/s and time each one until its SSE event arrives."""
    sent: dict[float, float] = {}
    arrived: dict[float, float] = {}
    ready = threading.Event()

    def listen() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/api/v1/events?kind=TelemetryReceived")
        stream = conn.getresponse()
        ready.set()
        while len(arrived) < args.latency_messages:
            line = stream.readline()
            if line.startswith(b"data: "):
                marker = orjson.loads(line[6:])["data"]["values"]["s0"]
                arrived[marker] = time.perf_counter()
        conn.close()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait()
    time.sleep(0.2)
    conn = http.client.HTTPConnection("127.0.0.1", port)
    interval = 1.0 / args.rate
    next_at = time.perf_counter()
    for step in range(args.latency_messages):
        twin, values = message(step, args.twins)
        values["s0"] = float(step)
        body = orjson.dumps({"values": values})
        while time.perf_counter() < next_at:
            time.sleep(max(0.0, next_at - time.perf_counter()))
        sent[float(step)] = time.perf_counter()
        conn.request(
            "POST", f"/api/v1/twins/{twin}/telemetry", body, {"content-type": "application/json"}
        )
        conn.getresponse().read()
        next_at += interval
    listener.join(timeout=10)
    out.put([arrived[k] - sent[k] for k in sent if k in arrived])


async def in_client_process(
    target: Callable[..., None], port: int, args: argparse.Namespace
) -> Any:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=target, args=(port, args, out))
    process.start()
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(None, out.get)
    await loop.run_in_executor(None, process.join)
    return result


def report(label: str, http_rates: list[float], base_rates: list[float]) -> None:
    """Median of the rounds, with each round's ratio (the machine is shared: rounds vary)."""
    ratios = [h / b for h, b in zip(http_rates, base_rates, strict=True)]
    print(
        f"{label:<30} HTTP {statistics.median(http_rates):>9,.0f} values/s"
        f"   in-process {statistics.median(base_rates):>9,.0f} values/s"
        f"   ratio {statistics.median(ratios):6.1%}"
        f"   (rounds: {', '.join(f'{r:.0%}' for r in ratios)})"
    )


def latency_line(label: str, samples: list[float]) -> str:
    return (
        f"{label:<30} p50 {percentile(samples, 0.5) * 1e3:.1f} ms"
        f"  p99 {percentile(samples, 0.99) * 1e3:.1f} ms"
    )


async def one_round(folder: Path, args: argparse.Namespace, rates: dict[str, list[float]]) -> None:
    """Baseline first, then the same messages over HTTP into a fresh file."""
    async with platform_with_twins(folder / "base.db", args.twins) as tk:
        rates["base_batches"].append(await baseline_batches(tk, args))
        rates["base_singles"].append(await baseline_singles(tk, args))
    async with (
        platform_with_twins(folder / "http.db", args.twins) as tk,
        serving(tk, args.http) as port,
    ):
        elapsed, latencies, statuses = await in_client_process(batch_client, port, args)
        assert set(statuses) == {200}, set(statuses)
        rates["http_batches"].append(args.requests * args.batch * VALUES_PER_MESSAGE / elapsed)
        rates["batch_latency"].extend(latencies)
        elapsed, latencies, statuses = await in_client_process(single_client, port, args)
        assert set(statuses) == {200}, set(statuses)
        rates["http_singles"].append(args.singles * VALUES_PER_MESSAGE / elapsed)
        rates["single_latency"].extend(latencies)
        rates["sse_delay"].extend(await in_client_process(sse_latency_client, port, args))


async def main(args: argparse.Namespace) -> None:
    print(
        f"{args.twins} twins, {VALUES_PER_MESSAGE} values per message, SQLite file, durable group"
        f" commit, {args.rounds} rounds, uvicorn http={args.http}"
    )
    rates: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            await one_round(Path(tmp), args, rates)
    report(
        f"batches of {args.batch} msgs x{args.connections}",
        rates["http_batches"],
        rates["base_batches"],
    )
    print(latency_line("  batch request latency", rates["batch_latency"]))
    report(
        f"single msgs x{args.single_connections} conns",
        rates["http_singles"],
        rates["base_singles"],
    )
    print(latency_line("  single request latency", rates["single_latency"]))
    delays = rates["sse_delay"]
    seen = f"{len(delays)}/{args.latency_messages * args.rounds} seen"
    print(latency_line(f"POST → SSE at {args.rate:.0f} msg/s", delays) + f"  ({seen})")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--twins", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200, help="batch requests")
    parser.add_argument("--batch", type=int, default=500, help="messages per batch request")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--singles", type=int, default=5000, help="single-message requests")
    parser.add_argument("--single-connections", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200.0, help="msg/s for the SSE latency run")
    parser.add_argument("--latency-messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--http", default="auto", help="uvicorn HTTP parser: auto, h11, httptools")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
