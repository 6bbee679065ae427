"""MQTT ingest throughput and latency: twinkit beside a bare paho subscriber, same broker.

    PYTHONPATH=src .venv/bin/python bench/mqtt_ingest.py [--messages N] [--twins T]

In one run, on a local Mosquitto with twinkit's settings (``twinkit/ingest/mosquitto.conf``):

1. baseline: a bare paho subscriber drains N messages (QoS 0, then QoS 1) that another
   process publishes as fast as it can;
2. twinkit: the MQTT connector ingests the same stream into a SQLite platform, every
   message updating its twin and history durably (QoS 1 acknowledged after commit);
3. latency: at 1,000 msg/s, publish → ``TelemetryReceived`` on the platform's bus.

Rates are messages over the time from the first to the last message handled (for twinkit:
the last commit). Targets: twinkit ≥ 50% of bare at QoS 0, ≥ 80% at QoS 1, p99 ≤ 20 ms.
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
from pathlib import Path

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


def publish(port: int, qos: int, count: int, twins: int, rate: float, start_at: float) -> None:
    """Publisher process: ``count`` telemetry messages round-robin over ``twins`` twins."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{qos}-{time.time()}")
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    while time.time() < start_at:
        time.sleep(0.001)
    began = time.perf_counter()
    last = None
    for index in range(count):
        body = orjson.dumps({"values": {"v": index, "sent": time.time()}})
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


async def twinkit_ingest(port: int, qos: int, count: int, twins: int, folder: Path) -> float:
    """Messages per second twinkit applies durably (state + history), first to last commit."""
    async with Platform.open(folder / f"bench-{qos}.db") as tk:
        for index in range(twins):
            await tk.twins.put(f"bench-{index}")
        settings = IngestSettings(device_rate=0, max_pending=10 * count)
        connector = MqttConnector(
            tk,
            parse_broker_url(f"mqtt://127.0.0.1:{port}"),
            client_id=f"bench-tk-{qos}",
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
        state = await tk.twins.get("bench-0")
        assert state.telemetry["v"] == count - twins, state.telemetry
    return (count - 1) / (last - first[0])


async def latency(port: int, rate: float, seconds: float, twins: int, folder: Path) -> list[float]:
    """Publish → TelemetryReceived on the bus, in milliseconds, at ``rate`` msg/s."""
    samples: list[float] = []
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

        def on_event(event: Event) -> None:
            sent = event.data["values"].get("sent")
            if sent is not None:
                samples.append((time.time() - sent) * 1000)

        unsubscribe = tk.bus.subscribe(on_event, Filter.of(kinds=["TelemetryReceived"]))
        count = int(rate * seconds)
        publisher = start_publisher(port, 1, count, twins, rate)
        deadline = time.monotonic() + seconds + 30
        while len(samples) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        unsubscribe()
        await asyncio.get_running_loop().run_in_executor(None, publisher.join, 30)
        await connector.close()
    return samples[int(rate) :]  # drop the first second (connection warm-up)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--twins", type=int, default=100)
    parser.add_argument("--latency-seconds", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Mosquitto(Path(tmp) / "broker") as broker:
        folder = Path(tmp)
        print(
            f"Mosquitto on 127.0.0.1:{broker.port}; {args.messages} messages over "
            f"{args.twins} twins"
        )
        results: dict[int, tuple[float, float]] = {}
        for qos in (0, 1):
            bare = bare_subscriber(broker.port, qos, args.messages, args.twins)
            ours = asyncio.run(twinkit_ingest(broker.port, qos, args.messages, args.twins, folder))
            results[qos] = (bare, ours)
            target = 0.5 if qos == 0 else 0.8
            verdict = "ok" if ours / bare >= target else "BELOW TARGET"
            print(
                f"QoS {qos}: bare paho {bare:9,.0f} msg/s | twinkit (durable) {ours:9,.0f} msg/s"
                f" | ratio {ours / bare:5.1%} (target {target:.0%}: {verdict})"
            )
        samples = asyncio.run(
            latency(broker.port, 1000.0, args.latency_seconds, args.twins, folder)
        )
        p50, p99 = percentile(samples, 0.50), percentile(samples, 0.99)
        verdict = "ok" if p99 <= 20 else "BELOW TARGET"
        print(
            f"latency at 1,000 msg/s (QoS 1, publish -> bus event, {len(samples)} samples): "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(samples):.1f} ms "
            f"(target p99 <= 20 ms: {verdict}); mean {statistics.fmean(samples):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
