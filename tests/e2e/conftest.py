"""Real brokers for the MQTT tests: a Mosquitto process and the embedded amqtt broker,
both on 127.0.0.1 on free ports. A missing Mosquitto fails the tests (never skips)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from twinkit.ingest.broker_url import parse_broker_url
from twinkit.ingest.connector import MqttConnector
from twinkit.ingest.embedded_broker import EmbeddedBroker
from twinkit.ingest.mosquitto import Mosquitto, free_port
from twinkit.platform import Platform

PUMP = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:test:Pump;1",
    "@type": "Interface",
    "contents": [
        {"@type": "Telemetry", "name": "temperature", "schema": "double"},
        {"@type": "Telemetry", "name": "seq", "schema": "integer"},
        {"@type": "Property", "name": "speed", "schema": "double", "writable": True},
        {"@type": "Property", "name": "firmware", "schema": "string"},
        {"@type": "Command", "name": "reboot"},
    ],
}


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "mosquitto") as broker:
        yield broker


@pytest.fixture
async def embedded() -> AsyncIterator[EmbeddedBroker]:
    broker = EmbeddedBroker("127.0.0.1", free_port())
    await broker.start()
    yield broker
    await broker.stop()


@pytest.fixture(params=["mosquitto", "embedded"])
async def broker_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "mosquitto":
        with Mosquitto(tmp_path / "mosquitto") as broker:
            yield broker.url
    else:
        embedded = EmbeddedBroker("127.0.0.1", free_port())
        await embedded.start()
        yield embedded.url
        await embedded.stop()


@pytest.fixture
async def tk(tmp_path: Path) -> AsyncIterator[Platform]:
    async with Platform.open(tmp_path / "twins.db") as platform:
        await platform.models.add(PUMP)
        await platform.twins.put("pump-1", model="dtmi:test:Pump;1")
        yield platform


@pytest.fixture
async def connector(tk: Platform, broker_url: str) -> AsyncIterator[MqttConnector]:
    link = MqttConnector(tk, parse_broker_url(broker_url), client_id="twinkit-test")
    await link.start()
    yield link
    await link.close()
