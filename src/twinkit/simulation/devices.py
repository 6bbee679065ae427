"""Simulated devices that speak twinkit's MQTT topics: ``twinkit simulate`` and the demo fleet.

Each device publishes telemetry for every telemetry of its DTDL model at a chosen
rate (a daily cycle, a trend, noise and occasional faults: :mod:`.behaviour`),
follows its retained desired state by reporting the values back (which empties the
twin's delta), and answers commands on ``…/commands/{name}/{request_id}/response``.
All devices of one fleet share one MQTT connection (one paho thread for hundreds of
devices); each announces itself ``online`` on ``twinkit/{id}/status`` (retained) and
``offline`` when the fleet stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson

from twinkit.dtdl import interfaces as dtdl_interfaces
from twinkit.ingest.broker_url import BrokerAddress, parse_broker_url
from twinkit.ingest.mqtt import MqttLink
from twinkit.ingest.publish_packets import Message
from twinkit.ingest.topics import (
    command_response_topic,
    reported_topic,
    status_topic,
    telemetry_topic,
)
from twinkit.model.errors import ValidationFailed
from twinkit.model.interface import ModelRegistry, ResolvedInterface
from twinkit.model.time import format_time
from twinkit.platform import Platform
from twinkit.simulation.behaviour import Reading, reading_for, value_for

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SimulatedDevice:
    twin: str
    model: ResolvedInterface
    readings: dict[str, Reading] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    desired_version: int = 0
    commands_answered: int = 0

    @classmethod
    def of(cls, twin: str, model: ResolvedInterface) -> SimulatedDevice:
        readings = {}
        for name, telemetry in model.telemetry.items():
            reading = reading_for(name, telemetry.schema)
            if reading is not None:
                readings[name] = reading
        return cls(twin, model, readings)

    def telemetry(self, now: float, rng: random.Random) -> dict[str, Any]:
        values: dict[str, Any] = {n: r.sample(now, rng) for n, r in self.readings.items()}
        for name, telemetry in self.model.telemetry.items():
            if name not in values:
                other = value_for(telemetry.schema, rng)
                if other is not None:
                    values[name] = other
        return values

    def follow_desired(self, body: Any) -> dict[str, Any] | None:
        """Apply a desired-state message; returns the report that acknowledges it."""
        if not isinstance(body, dict) or not isinstance(body.get("desired"), dict):
            return None
        version = body.get("version", 0)
        if isinstance(version, int) and version < self.desired_version:
            return None  # an older retained message
        self.desired_version = version if isinstance(version, int) else 0
        report = {k: v for k, v in body["desired"].items() if self.properties.get(k) != v}
        self.properties.update(report)
        return report or None

    def answer(self, name: str, request: Any) -> tuple[int, Any]:
        self.commands_answered += 1
        if self.model.id and name not in self.model.commands:
            return 404, {"error": f"no command {name!r}"}
        if name == "reboot":
            for reading in self.readings.values():
                reading.fault_left = 0
        payload = request.get("payload") if isinstance(request, dict) else None
        return 200, {"command": name, "accepted": True, "echo": payload}


class SimulatedFleet:
    """Many devices on one MQTT connection."""

    def __init__(
        self,
        address: BrokerAddress,
        devices: list[SimulatedDevice],
        *,
        rate: float = 1.0,
        fault_rate: float = 0.001,
        seed: int | None = None,
    ) -> None:
        self.address = address
        self.devices = {d.twin: d for d in devices}
        self.rate = rate
        self.fault_rate = fault_rate
        self.rng = random.Random(seed)
        self.published = 0
        self.link = MqttLink(
            address,
            client_id=f"twinkit-sim-{uuid4().hex[:8]}",
            clean_session=True,
            manual_ack=False,
        )
        self.link.route("twinkit/+/desired", self._desired)
        self.link.route("twinkit/+/commands/+/+", self._command)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.link.start()
        for twin in self.devices:
            self.link.publish(status_topic(twin), b"online", 1, True)
        self._task = asyncio.create_task(self._run(), name="twinkit-simulated-fleet")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for twin in self.devices:
            self.link.publish(status_topic(twin), b"offline", 1, True)
        await asyncio.sleep(0.2)  # let paho send them
        await self.link.close()

    async def _run(self) -> None:
        """Publish each device ``rate`` times a second, spread evenly over the second."""
        devices = list(self.devices.values())
        if not devices or self.rate <= 0:
            return
        period = 1.0 / (self.rate * len(devices))
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        index = 0
        while True:
            device = devices[index % len(devices)]
            index += 1
            now = time.time()
            values = device.telemetry(now, self.rng)
            if values:
                moment = format_time(datetime.fromtimestamp(now, UTC))
                body = orjson.dumps({"at": moment, "values": values})
                self.link.publish(telemetry_topic(device.twin), body, 0, False)
                self.published += 1
            next_at += period
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif index % 200 == 0:
                await asyncio.sleep(0)  # behind schedule: still let the loop breathe
                next_at = max(next_at, loop.time() - 1.0)

    def _desired(self, message: Message, parts: list[str]) -> None:
        device = self.devices.get(parts[1])
        if device is None or not message.payload:
            return
        try:
            body = orjson.loads(message.payload)
        except orjson.JSONDecodeError:
            return
        report = device.follow_desired(body)
        if report:
            self.link.publish(reported_topic(device.twin), orjson.dumps(report), 1, False)

    def _command(self, message: Message, parts: list[str]) -> None:
        device = self.devices.get(parts[1])
        if device is None:
            return
        name, request_id = parts[3], parts[4]
        try:
            request = orjson.loads(message.payload) if message.payload else None
        except orjson.JSONDecodeError:
            request = None
        status, payload = device.answer(name, request)
        body = orjson.dumps({"status": status, "payload": payload})
        self.link.publish(command_response_topic(device.twin, name, request_id), body, 1, False)


async def start_demo_fleet(
    platform: Platform, address: BrokerAddress
) -> Callable[[], Awaitable[None]]:
    """Start the demo's devices on ``address``; returns the function that stops them."""
    from twinkit.demo.fleet import demo_devices

    devices = [
        SimulatedDevice.of(twin, platform.registry.resolve(model)) for twin, model in demo_devices()
    ]
    fleet = SimulatedFleet(address, devices, rate=1.0, fault_rate=0.002)
    await fleet.start()
    return fleet.stop


def load_model(path: str | None) -> ResolvedInterface:
    """The model of ``path`` (its last Interface, the others may be what it extends)."""
    if path is None:
        from twinkit.demo.fleet import DEMO_MODELS, PUMP

        registry = ModelRegistry(dtdl_interfaces(DEMO_MODELS))
        return registry.resolve(PUMP)
    try:
        document = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}", "/model") from None
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(f"{path} is not JSON: {exc}", "/model") from None
    interfaces = dtdl_interfaces(document)
    if not interfaces:
        raise ValidationFailed(f"{path} holds no DTDL Interface", "/model")
    registry = ModelRegistry(interfaces)
    return registry.resolve(interfaces[-1].id)


def simulate_command(args: argparse.Namespace) -> int:
    """``twinkit simulate``: ``--count`` devices of ``--model`` publishing ``--rate`` msg/s each."""
    address = parse_broker_url(args.mqtt)
    model = load_model(args.model)
    devices = [SimulatedDevice.of(f"{args.prefix}{i}", model) for i in range(1, args.count + 1)]
    if not any(d.readings or d.model.telemetry for d in devices[:1]):
        raise ValidationFailed(f"{model.id} declares no telemetry to simulate", "/model")
    asyncio.run(_simulate(address, devices, args.rate, args.duration, args.model))
    return 0


async def _simulate(
    address: BrokerAddress,
    devices: list[SimulatedDevice],
    rate: float,
    duration: float,
    model_path: str | None,
) -> None:
    await _register(address, devices, model_path)
    fleet = SimulatedFleet(address, devices, rate=rate)
    try:
        await fleet.start()
    except ConnectionError as exc:
        raise ValidationFailed(str(exc), "/mqtt") from None
    model = devices[0].model.id if devices else "?"
    print(
        f"twinkit: simulating {len(devices)} devices of {model} at {rate:g} msg/s each "
        f"on {address.url()}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if duration > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        else:
            await stop.wait()
    finally:
        await fleet.stop()
        print(f"twinkit: published {fleet.published} messages", flush=True)


async def _register(
    address: BrokerAddress, devices: list[SimulatedDevice], model_path: str | None
) -> None:
    """Create the model and the twins through the HTTP API when it is reachable.

    The API is looked for at ``$TWINKIT_URL`` (default: the broker's host, port 8000);
    without it the twins must exist already, or the server needs an auto-create rule.
    """
    import httpx

    base = os.environ.get("TWINKIT_URL", f"http://{address.host}:8000").rstrip("/")
    if not devices:
        return
    model = devices[0].model
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5.0) as http:
            if model_path is not None:
                document = orjson.loads(await asyncio.to_thread(Path(model_path).read_bytes))
            else:
                from twinkit.demo.fleet import DEMO_MODELS

                document = [m for m in DEMO_MODELS if m["@id"] in (model.id, *model.ancestors)]
            known = await http.get(f"/api/v1/models/{model.id}")
            if known.status_code == 404:
                await http.post("/api/v1/models", json=document)
            created = 0
            for device in devices:
                found = await http.get(f"/api/v1/twins/{device.twin}")
                if found.status_code == 404:
                    await http.put(f"/api/v1/twins/{device.twin}", json={"model": model.id})
                    created += 1
            if created:
                print(f"twinkit: created {created} twins through {base}", flush=True)
    except httpx.HTTPError:
        print(
            f"twinkit: no API at {base} (set TWINKIT_URL); the twins must already exist",
            flush=True,
        )
