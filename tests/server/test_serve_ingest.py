"""``twinkit serve --ingest FILE``: a gateway's mapper and auto-create, over a real broker."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.server.serve_process import finish, read_lines, twinkit
from twinkit.ingest.mosquitto import free_port

GATEWAY = """
import orjson
from twinkit.ingest import Signal


def readings(topic, payload):
    body = orjson.loads(payload)
    return [Signal(r["sensor"], "telemetry", {"level": r["level"]}) for r in body["readings"]]
"""

INGEST = """
limits: {device_rate: 100}
auto_create:
  - {topic: "plant/+/readings", id_prefix: "tank-"}
mappers:
  - {topic: "plant/+/readings", function: "gateway:readings"}
"""


def test_a_gateway_mapper_and_auto_create_from_the_ingest_file(tmp_path: Path) -> None:
    (tmp_path / "gateway.py").write_text(GATEWAY)
    (tmp_path / "ingest.yaml").write_text(INGEST)
    http, mqtt = free_port(), free_port()
    process = twinkit(
        "serve", "--db", "t.db", "--port", str(http), "--broker-port", str(mqtt),
        "--ingest", "ingest.yaml", cwd=tmp_path,
    )  # fmt: skip
    try:
        read_lines(process, "mqtt://")
        device = paho.Client(CallbackAPIVersion.VERSION2, client_id="gateway-1")
        device.connect("127.0.0.1", mqtt)
        device.loop_start()
        body = {
            "readings": [{"sensor": "tank-1", "level": 0.8}, {"sensor": "tank-2", "level": 0.4}]
        }
        device.publish("plant/gw1/readings", orjson.dumps(body), 1).wait_for_publish(10)
        device.publish("plant/gw1/readings", b"not json", 1).wait_for_publish(10)
        levels: dict[str, float] = {}
        deadline = time.monotonic() + 20
        while len(levels) < 2 and time.monotonic() < deadline:
            for twin in ("tank-1", "tank-2"):
                reply = httpx.get(f"http://127.0.0.1:{http}/api/v1/twins/{twin}")
                if reply.status_code == 200 and "level" in reply.json().get("telemetry", {}):
                    levels[twin] = reply.json()["telemetry"]["level"]
            time.sleep(0.1)
        device.loop_stop()
        device.disconnect()
        assert levels == {"tank-1": 0.8, "tank-2": 0.4}
        metrics = httpx.get(f"http://127.0.0.1:{http}/metrics").text
        assert (
            'twinkit_rejected_inputs_total{reason="mapping_failed",surface="mqtt"} 1.0' in metrics
        )
    finally:
        process.send_signal(signal.SIGTERM)
        code, _, err = finish(process)
    assert code == 0, err


def test_a_bad_ingest_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "ingest.yaml").write_text("limits: {device_rate: fast}")
    process = twinkit("serve", "--db", "t.db", "--port", str(free_port()), "--ingest",
                      "ingest.yaml", cwd=tmp_path)  # fmt: skip
    code, _, err = finish(process)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "/limits/device_rate" in lines[0], err
    assert not (tmp_path / "t.db").exists()  # refused before anything was opened
