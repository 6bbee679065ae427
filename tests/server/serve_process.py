"""Run ``twinkit serve`` as a real subprocess and read its address lines."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def twinkit(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-m", "twinkit.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_lines(process: subprocess.Popen[str], until: str, seconds: float = 40.0) -> list[str]:
    """stdout lines up to and including the first one containing ``until``."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                err = process.stderr.read() if process.stderr else ""
                raise AssertionError(f"twinkit exited {process.returncode}: {lines} {err}")
            time.sleep(0.05)
            continue
        lines.append(line.rstrip("\n"))
        if until in line:
            return lines
    raise AssertionError(f"no line with {until!r} after {seconds} s: {lines}")


def finish(process: subprocess.Popen[str], seconds: float = 20.0) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=seconds)
    return process.returncode, out, err


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL: no shutdown code runs, as in a power cut or an OOM kill."""
    process.kill()
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
