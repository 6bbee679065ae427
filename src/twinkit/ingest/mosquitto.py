"""Run a local Mosquitto with twinkit's settings (tests, benchmarks, trying things out).

The settings are those of the shipped ``mosquitto.conf``: slow subscribers get their
messages queued instead of dropped, QoS 1 may flow while twinkit commits.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SETTINGS = """\
allow_anonymous true
max_inflight_messages 10000
max_queued_messages 0
max_queued_bytes 1073741824
queue_qos0_messages true
"""


def find_mosquitto() -> str:
    """The broker binary, or an error that says how to install it."""
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        raise FileNotFoundError(
            "mosquitto is not installed: run `make system-packages` "
            "(apt-get install mosquitto) — the MQTT tests need a real broker"
        )
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {seconds} s") from None
            time.sleep(0.05)


class Mosquitto:
    """A Mosquitto process on 127.0.0.1 with a config file in ``directory``."""

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        *,
        settings: str = SETTINGS,
        persistence: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self.settings = settings
        self.persistence = persistence
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        binary = find_mosquitto()
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", self.settings]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to 'mosquitto', who cannot write here
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.directory}/",
                "autosave_interval 1",
            ]
        config.write_text("\n".join(lines) + "\n")
        with (self.directory / "mosquitto.log").open("ab") as log:
            self.process = subprocess.Popen(
                [binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_for_port("127.0.0.1", self.port)
        except TimeoutError:
            self.stop()
            text = (self.directory / "mosquitto.log").read_text(errors="replace")
            raise RuntimeError(f"mosquitto did not start:\n{text}") from None
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
