"""Bad input is refused, counted and told to the device on twinkit/{id}/errors; others go on."""

from __future__ import annotations

import orjson

from tests.e2e.mqtt_device import Device, eventually
from twinkit.ingest.broker_url import parse_broker_url
from twinkit.ingest.connector import MqttConnector
from twinkit.ingest.pipeline import IngestSettings
from twinkit.platform import Platform


async def test_each_kind_of_bad_input_is_refused_and_reported_to_the_device(
    tk: Platform, broker_url: str
) -> None:
    settings = IngestSettings(max_payload=1024, device_rate=5, device_burst=5)
    connector = MqttConnector(tk, parse_broker_url(broker_url), settings=settings)
    await connector.start()
    await tk.twins.put("pump-2", model="dtmi:test:Pump;1")
    device = await Device.open(broker_url, "pump-1")
    other = await Device.open(broker_url, "pump-2")
    try:
        await device.subscribe("twinkit/+/errors")
        await device.publish("twinkit/pump-1/telemetry", b"{not json", 1)
        await device.publish("twinkit/pump-1/telemetry", {"temperature": "hot"}, 1)
        await device.publish("twinkit/pump-1/telemetry", {"colour": 3}, 1)
        await device.publish("twinkit/pump-1/reported", {"values": {"speed": 1}, "at": "now"}, 1)
        await device.publish("twinkit/ghost/telemetry", {"temperature": 1.0}, 1)
        await device.publish("twinkit/pump-1/telemetry", b"x" * 2048, 1)

        errors = await eventually(
            lambda: len(device.messages("/errors")) >= 6 and device.messages("/errors"),
            what="six error messages",
        )
        bodies = {(t, orjson.loads(p)["code"]) for t, p, _ in errors}
        assert ("twinkit/pump-1/errors", "malformed_payload") in bodies
        assert ("twinkit/pump-1/errors", "validation_failed") in bodies
        assert ("twinkit/ghost/errors", "unknown_twin") in bodies
        assert ("twinkit/pump-1/errors", "payload_too_large") in bodies
        schema = [orjson.loads(p) for t, p, _ in errors if b"hot" in p or b"temperature" in p]
        assert any(e["path"] == "/temperature" for e in schema)
        assert set(orjson.loads(errors[0][1])) == {"code", "message", "path"}

        # a flood from pump-1 is cut by its token bucket; pump-2 is not affected
        for seq in range(50):
            device.send("twinkit/pump-1/telemetry", {"seq": seq}, 0)
        for seq in range(3):
            await other.publish("twinkit/pump-2/telemetry", {"seq": seq}, 1)

        async def pump_2_done() -> bool:
            return len(await tk.history.read("pump-2", "telemetry/seq")) == 3

        await eventually(pump_2_done, what="pump-2 unaffected by pump-1's flood")
        await eventually(lambda: connector.ingest.stats.rejected["rate_limited"] > 0)
        metrics = connector.metrics()
        assert metrics["ingest.rejected.malformed_payload"] == 1
        assert metrics["ingest.rejected.unknown_twin"] == 1
        assert metrics["ingest.rejected.payload_too_large"] == 1
        assert metrics["ingest.rejected.validation_failed"] == 3
        assert metrics["ingest.rejected"] >= 7
        rate_errors = [p for _, p, _ in device.messages("/errors") if b"rate_limited" in p]
        assert len(rate_errors) == 1  # told once a minute, not once per dropped message
    finally:
        device.close()
        other.close()
        await connector.close()
