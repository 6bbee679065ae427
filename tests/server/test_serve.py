"""``twinkit serve`` as users run it: address lines, clean shutdown, one-line start errors."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx
import pytest

from tests.server.serve_process import finish, read_lines, twinkit
from twinkit.ingest.mosquitto import Mosquitto, free_port


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_addresses_and_stops_cleanly(tmp_path: Path, stop: int) -> None:
    http, mqtt = free_port(), free_port()
    process = twinkit(
        "serve", "--db", "t.db", "--port", str(http), "--broker-port", str(mqtt), cwd=tmp_path
    )
    try:
        lines = read_lines(process, "mqtt://")
        assert lines == [f"twinkit: http://127.0.0.1:{http}", f"twinkit: mqtt://127.0.0.1:{mqtt}"]
        assert httpx.get(f"http://127.0.0.1:{http}/healthz").status_code == 200
        with socket.create_connection(("127.0.0.1", mqtt), timeout=2):
            pass  # the embedded broker listens
    finally:
        process.send_signal(stop)
        code, _, err = finish(process)
    assert code == 0, err
    assert "Traceback" not in err
    assert (tmp_path / "t.db").exists()


def test_no_mqtt_serves_http_only(tmp_path: Path) -> None:
    http = free_port()
    process = twinkit("serve", "--db", "t.db", "--port", str(http), "--no-mqtt", cwd=tmp_path)
    try:
        assert read_lines(process, "http://") == [f"twinkit: http://127.0.0.1:{http}"]
    finally:
        process.send_signal(signal.SIGTERM)
        code, out, err = finish(process)
    assert code == 0, err
    assert "mqtt://" not in out


def test_an_external_broker_is_named_as_such(tmp_path: Path) -> None:
    with Mosquitto(tmp_path / "broker") as broker:
        http = free_port()
        process = twinkit(
            "serve", "--db", "t.db", "--port", str(http), "--mqtt", broker.url, cwd=tmp_path
        )
        try:
            lines = read_lines(process, "mqtt://")
            assert lines[-1] == f"twinkit: {broker.url} (external broker)"
        finally:
            process.send_signal(signal.SIGTERM)
            assert finish(process)[0] == 0


def one_line_failure(tmp_path: Path, *args: str) -> str:
    code, out, err = finish(twinkit("serve", *args, cwd=tmp_path))
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("twinkit: ")
    return lines[0]


def test_a_taken_http_port_is_one_readable_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_failure(tmp_path, "--port", str(port), "--no-mqtt")
    assert f"127.0.0.1:{port}" in line and "in use" in line


def test_a_taken_broker_port_is_one_readable_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_failure(tmp_path, "--port", str(free_port()), "--broker-port", str(port))
    assert "MQTT broker" in line and "in use" in line


def test_an_unreadable_database_is_one_readable_line(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not a database at all" * 100)
    line = one_line_failure(tmp_path, "--db", "junk.db", "--port", str(free_port()), "--no-mqtt")
    assert "junk.db" in line


def test_an_unreachable_broker_is_one_readable_line(tmp_path: Path) -> None:
    line = one_line_failure(
        tmp_path, "--port", str(free_port()), "--mqtt", f"mqtt://127.0.0.1:{free_port()}"
    )
    assert "cannot reach the MQTT broker" in line


def test_a_bad_broker_url_is_one_readable_line(tmp_path: Path) -> None:
    line = one_line_failure(tmp_path, "--port", str(free_port()), "--mqtt", "http://x")
    assert "mqtt://" in line
