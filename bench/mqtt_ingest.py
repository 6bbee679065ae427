"""MQTT ingest throughput and latency: twinkit beside a bare paho subscriber, same broker.

    PYTHONPATH=src .venv/bin/python bench/mqtt_ingest.py [--messages N] [--twins T] [--rounds R]

In one run, on a local Mosquitto with twinkit's settings (``twinkit/ingest/mosquitto.conf``):

1. baseline: a bare paho subscriber drains N messages (QoS 0, then QoS 1) that another
   process publishes as fast as it can;
2. twinkit: the MQTT connector ingests the same stream into a SQLite platform, every
   message updating its twin and history durably (QoS 1 acknowledged after commit);
3. latency: at 1,000 msg/s, publish → ``TelemetryReceived`` on the platform's bus and on
   the API's Server-Sent Events feed (read by a client in another process).

Rates are messages over the time from the first to the last message handled (for twinkit:
the last commit). Bare and twinkit runs alternate for ``--rounds`` rounds and the median
ratio is the verdict, so a burst of other work on the machine cannot favour either side.
Targets: twinkit ≥ 50% of bare at QoS 0, ≥ 80% at QoS 1, p99 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from twinkit.bus import Filter
from twinkit.ingest.broker_url import parse_broker_url
from twinkit.ingest.connector import MqttConnector
from twinkit.ingest.mosquitto import Mosquitto
from twinkit.ingest.pipeline import IngestSettings
from twinkit.model.events import Event
from twinkit.platform import Platform
from twinkit.server import tune_gc

WINDOW = 1000  # QoS 1 messages in flight from the publisher


def publish(port: int, qos: int, count: int, twins: int, rate: float, start_at: float) -> None:
    """Publisher process: ``count`` telemetry messages round-robin over ``twins`` twins."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{qos}-{time.time()}")
    client.max_inflight_messages_set(WINDOW)
    client.max_queued_messages_set(0)
    acked = [0]

    def published(*args: object) -> None:
        acked[0] += 1

    client.on_publish = published
    client.connect("127.0.0.1", port)
    client.loop_start()
    while time.time() < start_at:
        time.sleep(0.001)
    began = time.perf_counter()
    last = None
    for index in range(count):
        body = orjson.dumps({"values": {"v": index, "sent": time.time()}})
        if qos > 0:
            # paho rescans its whole queue on every PUBACK: keep at most one window queued
            while index - acked[0] >= WINDOW:
                time.sleep(0.0002)
        last = client.publish(f"twinkit/bench-{index % twins}/telemetry", body, qos)
        if rate > 0:
            due = began + (index + 1) / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    if last is not None and qos > 0:
        last.wait_for_publish(120)
    time.sleep(0.5)
    client.loop_stop()
    client.disconnect()


def start_publisher(
    port: int, qos: int, count: int, twins: int, rate: float = 0.0
) -> multiprocessing.process.BaseProcess:
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=publish, args=(port, qos, count, twins, rate, time.time() + 1.5), daemon=True
    )
    process.start()
    return process


def bare_subscriber(port: int, qos: int, count: int, twins: int) -> float:
    """Messages per second a bare paho subscriber drains (its own thread, auto acks)."""
    done = threading.Event()
    times: list[float] = []

    def received(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        times.append(time.perf_counter())
        if len(times) >= count:
            done.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{qos}")
    client.on_message = received
    client.connect("127.0.0.1", port)
    client.subscribe("twinkit/+/telemetry", qos)
    client.loop_start()
    time.sleep(0.3)
    publisher = start_publisher(port, qos, count, twins)
    done.wait(120)
    publisher.join(30)
    client.loop_stop()
    client.disconnect()
    if len(times) < count:
        print(f"  bare subscriber got only {len(times)}/{count} messages at QoS {qos}")
    return (len(times) - 1) / (times[-1] - times[0])


def forget_session(port: int, client_id: str) -> None:
    """End a persistent session at the broker. Left alone, it would queue every later
    message of the run (twinkit's Mosquitto settings queue QoS 0 too) and hand them to
    whoever resumes it, or just cost the broker work in the rounds that follow."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 10
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()


async def twinkit_ingest(port: int, qos: int, count: int, twins: int, folder: Path) -> float:
    """Messages per second twinkit applies durably (state + history), first to last commit."""
    client_id = f"bench-tk-{qos}-{time.time()}"  # a fresh session and database every round
    async with Platform.open(folder / f"{client_id}.db") as tk:
        for index in range(twins):
            await tk.twins.put(f"bench-{index}")
        settings = IngestSettings(device_rate=0, max_pending=10 * count)
        connector = MqttConnector(
            tk,
            parse_broker_url(f"mqtt://127.0.0.1:{port}"),
            client_id=client_id,
            settings=settings,
        )
        await connector.start()
        first: list[float] = []
        stats = connector.ingest.stats.counters

        publisher = start_publisher(port, qos, count, twins)
        while stats["received"] == 0:  # noqa: ASYNC110 - polls the connector's counters
            await asyncio.sleep(0.001)
        first.append(time.perf_counter())
        while stats["applied"] + sum(connector.ingest.stats.rejected.values()) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        await tk.flush()
        last = time.perf_counter()
        rejected = sum(connector.ingest.stats.rejected.values())
        if rejected:
            print(
                f"  twinkit rejected {rejected} messages: {dict(connector.ingest.stats.rejected)}"
            )
        await asyncio.get_running_loop().run_in_executor(None, publisher.join, 30)
        await connector.close()
        await asyncio.to_thread(forget_session, port, client_id)
        state = await tk.twins.get("bench-0")
        assert state.telemetry["v"] == count - twins, state.telemetry
    return (count - 1) / (last - first[0])


def fill_backlog(port: int, qos: int, count: int, twins: int, client_id: str) -> None:
    """Leave ``count`` messages queued at the broker for the offline session ``client_id``."""
    publisher = start_publisher(port, qos, count, twins)
    publisher.join(300)


def bare_backlog(port: int, qos: int, count: int, twins: int) -> float:
    """Messages per second a bare paho subscriber drains from a queue already at the broker:
    its capacity, whatever the publisher's speed."""
    client_id = f"bench-bare-backlog-{qos}-{time.time()}"  # a fresh session every round
    times: list[float] = []
    done = threading.Event()

    def received(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        times.append(time.perf_counter())
        if len(times) >= count:
            done.set()

    session = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    session.connect("127.0.0.1", port)
    session.loop_start()
    session.subscribe("twinkit/+/telemetry", qos)
    time.sleep(0.3)
    session.loop_stop()
    session.disconnect()
    fill_backlog(port, qos, count, twins, client_id)
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.on_message = received
    client.connect("127.0.0.1", port)
    client.loop_start()
    done.wait(120)
    client.loop_stop()
    client.disconnect()
    forget_session(port, client_id)
    if len(times) < count:
        print(f"  bare subscriber drained only {len(times)}/{count} queued messages at QoS {qos}")
    return (len(times) - 1) / (times[-1] - times[0])


async def twinkit_backlog(port: int, qos: int, count: int, twins: int, folder: Path) -> float:
    """Messages per second twinkit applies durably from a queue already at the broker."""
    client_id = f"bench-tk-backlog-{qos}-{time.time()}"  # a fresh session every round
    address = parse_broker_url(f"mqtt://127.0.0.1:{port}")
    settings = IngestSettings(device_rate=0, max_pending=10 * count)
    async with Platform.open(folder / f"{client_id}.db") as tk:
        for index in range(twins):
            await tk.twins.put(f"bench-{index}")
        session = MqttConnector(tk, address, client_id=client_id, settings=settings)
        await session.start()  # the broker now holds the session and its subscriptions
        await session.close()
        await asyncio.to_thread(fill_backlog, port, qos, count, twins, client_id)
        connector = MqttConnector(tk, address, client_id=client_id, settings=settings)
        stats = connector.ingest.stats
        await connector.start()
        while stats.counters["received"] == 0:  # noqa: ASYNC110 - polls the connector's counters
            await asyncio.sleep(0.001)
        first = time.perf_counter()
        while stats.counters["applied"] + sum(stats.rejected.values()) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        await tk.flush()
        last = time.perf_counter()
        await connector.close()
        await asyncio.to_thread(forget_session, port, client_id)
        state = await tk.twins.get("bench-0")
        assert state.telemetry["v"] == count - twins, state.telemetry
    return (count - 1) / (last - first)


def read_sse(url: str, count: int, results: multiprocessing.Queue[list[float]]) -> None:
    """SSE client process: latency of each TelemetryReceived event, in milliseconds."""
    import httpx

    samples: list[float] = []
    with httpx.stream("GET", url, timeout=120) as reply:
        for line in reply.iter_lines():
            if line.startswith("data: "):
                event = orjson.loads(line[6:])
                sent = event.get("data", {}).get("values", {}).get("sent")
                if sent is not None:
                    samples.append((time.time() - sent) * 1000)
                    if len(samples) >= count:
                        break
    results.put(samples)


async def latency(
    port: int, rate: float, seconds: float, twins: int, folder: Path
) -> tuple[list[float], list[float]]:
    """Publish → TelemetryReceived on the bus, and → the SSE feed of a running API (ms)."""
    import uvicorn

    from twinkit.api import create_app
    from twinkit.ingest.mosquitto import free_port, wait_for_port

    bus: list[float] = []
    sse: list[float] = []
    count = int(rate * seconds)
    async with Platform.open(folder / "latency.db") as tk:
        for index in range(twins):
            await tk.twins.put(f"bench-{index}")
        connector = MqttConnector(
            tk,
            parse_broker_url(f"mqtt://127.0.0.1:{port}"),
            client_id="bench-latency",
            settings=IngestSettings(device_rate=0),
        )
        await connector.start()
        http = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(tk, commands=connector.commands),
                port=http,
                log_level="warning",
                lifespan="off",
            )
        )
        serving = asyncio.create_task(server.serve())
        await asyncio.to_thread(wait_for_port, "127.0.0.1", http)

        def on_event(event: Event) -> None:
            sent = event.data["values"].get("sent")
            if sent is not None:
                bus.append((time.time() - sent) * 1000)

        unsubscribe = tk.bus.subscribe(on_event, Filter.of(kinds=["TelemetryReceived"]))
        context = multiprocessing.get_context("spawn")
        results: multiprocessing.Queue[list[float]] = context.Queue()
        url = f"http://127.0.0.1:{http}/api/v1/events?kind=TelemetryReceived"
        reader = context.Process(target=read_sse, args=(url, count, results), daemon=True)
        reader.start()
        await asyncio.sleep(2.0)  # the SSE client is connected
        publisher = start_publisher(port, 1, count, twins, rate)
        deadline = time.monotonic() + seconds + 30
        while len(bus) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        unsubscribe()
        try:
            sse = await asyncio.to_thread(results.get, True, 30)
        except Exception:
            print("  the SSE reader did not report")
        await asyncio.to_thread(publisher.join, 30)
        await asyncio.to_thread(reader.join, 5)
        server.should_exit = True
        await serving
        await connector.close()
    skip = int(rate)  # the first second: connections warming up
    return bus[skip:], sse[skip:]


async def engine_alone(count: int, twins: int, folder: Path) -> float:
    """The same writes straight into the engine (no MQTT): the ceiling for any transport."""
    async with Platform.open(folder / "engine.db") as tk:
        for index in range(twins):
            await tk.twins.put(f"bench-{index}")
        began = time.perf_counter()
        for start in range(0, count, 1000):
            await asyncio.gather(
                *(
                    tk.twins.telemetry(f"bench-{i % twins}", {"v": i, "sent": time.time()})
                    for i in range(start, min(count, start + 1000))
                )
            )
        await tk.flush()
        return count / (time.perf_counter() - began)


@dataclass(frozen=True)
class Runs:
    port: int
    messages: int
    twins: int
    folder: Path
    rounds: int
    ceiling: float


def compare(
    label: str,
    bare: Callable[[int, int, int, int], float],
    ours: Callable[[int, int, int, int, Path], Coroutine[Any, Any, float]],
    qos: int,
    runs: Runs,
) -> None:
    """Alternate bare and twinkit runs (both see the same machine, whatever else runs on it)
    and judge the median ratio."""
    target = 0.5 if qos == 0 else 0.8
    ratios = []
    rounds, ceiling = runs.rounds, runs.ceiling
    for round_ in range(1, rounds + 1):
        theirs = bare(runs.port, qos, runs.messages, runs.twins)
        mine = asyncio.run(ours(runs.port, qos, runs.messages, runs.twins, runs.folder))
        ratios.append(mine / theirs)
        print(
            f"{label} round {round_}: bare paho {theirs:9,.0f} msg/s | twinkit (durable)"
            f" {mine:9,.0f} msg/s | ratio {mine / theirs:5.1%}"
            f" | {mine / ceiling:5.1%} of the engine alone"
        )
    median = statistics.median(ratios)
    verdict = "ok" if median >= target else "BELOW TARGET"
    print(
        f"{label}: median ratio {median:5.1%} over {rounds} rounds"
        f" (min {min(ratios):5.1%}, max {max(ratios):5.1%}; target {target:.0%}: {verdict})"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--twins", type=int, default=100)
    parser.add_argument("--latency-seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3, help="bare/twinkit pairs per QoS")
    args = parser.parse_args()
    tune_gc()  # as `twinkit serve` does once it has started
    with tempfile.TemporaryDirectory() as tmp, Mosquitto(Path(tmp) / "broker") as broker:
        folder = Path(tmp)
        print(
            f"Mosquitto on 127.0.0.1:{broker.port}; {args.messages} messages over "
            f"{args.twins} twins"
        )
        ceiling = asyncio.run(engine_alone(args.messages, args.twins, folder))
        print(f"engine alone (no MQTT, same writes, 1000 at a time): {ceiling:9,.0f} msg/s")
        runs = Runs(broker.port, args.messages, args.twins, folder, args.rounds, ceiling)
        for qos in (0, 1):
            compare(f"QoS {qos}", bare_subscriber, twinkit_ingest, qos, runs)
        for qos in (0, 1):
            compare(f"QoS {qos} backlog", bare_backlog, twinkit_backlog, qos, runs)
        bus, sse = asyncio.run(
            latency(broker.port, 1000.0, args.latency_seconds, args.twins, folder)
        )
        for name, samples in (("bus event", bus), ("SSE event", sse)):
            if not samples:
                print(f"latency publish -> {name}: no samples")
                continue
            p50, p99 = percentile(samples, 0.50), percentile(samples, 0.99)
            verdict = "ok" if p99 <= 20 else "BELOW TARGET"
            print(
                f"latency at 1,000 msg/s, QoS 1, publish -> {name} ({len(samples)} samples): "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(samples):.1f} ms, "
                f"mean {statistics.fmean(samples):.1f} ms (target p99 <= 20 ms: {verdict})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
