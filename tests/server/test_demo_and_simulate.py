"""``twinkit demo`` shows data moving within seconds; ``twinkit simulate`` feeds a server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server.serve_process import SRC, finish, read_lines, twinkit
from twinkit.ingest.mosquitto import free_port


def wait_until(check: object, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {seconds} s")
        time.sleep(0.1)


def test_the_demo_streams_live_data_within_seconds(tmp_path: Path) -> None:
    http, mqtt = free_port(), free_port()
    process = twinkit(
        "demo", "--db", "d.db", "--port", str(http), "--broker-port", str(mqtt), cwd=tmp_path
    )
    try:
        lines = read_lines(process, "dashboard")
        assert lines[0] == f"twinkit: http://127.0.0.1:{http}"
        assert f"http://127.0.0.1:{http}/" in lines[-1]
        base = f"http://127.0.0.1:{http}/api/v1"
        first = httpx.get(f"{base}/twins/north-pump-1").json()

        def moved() -> bool:
            now = httpx.get(f"{base}/twins/north-pump-1").json()
            return bool(now["telemetry"]) and now["revision"] > first["revision"]

        wait_until(moved, 15)
        pump = httpx.get(f"{base}/twins/north-pump-1").json()
        assert set(pump["telemetry"]) == {"flow", "pressure", "vibration", "temperature"}
        assert pump["delta"] == {}  # the simulated device reported its desired state back
        tank = httpx.get(f"{base}/twins/north-tank-1/incoming").json()
        assert tank  # relationships: the site contains it, pumps feed it
    finally:
        process.send_signal(signal.SIGINT)
        code, _, err = finish(process)
    assert code == 0, err


def test_simulate_creates_its_twins_and_publishes(tmp_path: Path) -> None:
    http, mqtt = free_port(), free_port()
    server = twinkit(
        "serve", "--db", "s.db", "--port", str(http), "--broker-port", str(mqtt), cwd=tmp_path
    )
    try:
        read_lines(server, "mqtt://")
        env = dict(os.environ)
        env["PYTHONPATH"] = str(SRC)
        env["TWINKIT_URL"] = f"http://127.0.0.1:{http}"
        args = ["--mqtt", f"mqtt://127.0.0.1:{mqtt}", "--count", "3", "--rate", "5"]
        result = subprocess.run(
            [sys.executable, "-m", "twinkit.cli", "simulate", *args, "--duration", "3"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "created 3 twins" in result.stdout
        assert "simulating 3 devices of dtmi:twinkit:demo:Pump;1" in result.stdout
        for index in (1, 2, 3):
            twin = httpx.get(f"http://127.0.0.1:{http}/api/v1/twins/sim-{index}").json()
            assert twin["telemetry"], twin
    finally:
        server.send_signal(signal.SIGTERM)
        assert finish(server)[0] == 0


def test_simulate_reports_a_missing_model_file_in_one_line(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC)
    result = subprocess.run(
        [sys.executable, "-m", "twinkit.cli", "simulate", "--model", "nope.json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "twinkit: cannot read nope.json: No such file or directory (at /model)"
    ]


def test_the_demo_moves_its_broker_aside_when_1883_is_taken(tmp_path: Path) -> None:
    import contextlib
    import socket

    holder = socket.socket()
    with contextlib.suppress(OSError):  # if someone else holds 1883, the case is the same
        holder.bind(("127.0.0.1", 1883))
        holder.listen()
    http = free_port()
    process = twinkit("demo", "--db", "d.db", "--port", str(http), cwd=tmp_path)
    try:
        lines = read_lines(process, "dashboard")
        assert lines[0].startswith("twinkit: port 1883 is taken; the demo's MQTT broker uses ")
        moved = lines[0].rsplit(" ", 1)[1]
        assert f"twinkit: mqtt://127.0.0.1:{moved}" in lines
    finally:
        holder.close()
        process.send_signal(signal.SIGTERM)
        code, _, err = finish(process)
    assert code == 0, err
