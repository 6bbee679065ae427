"""Throughput of the detectors on one core, beside plain ingestion measured in the same run.

    PYTHONPATH=src .venv/bin/python bench/detectors.py [--values N] [--repeat R]

Every figure is the best of R runs (the machine is shared) of streaming N values, one at a
time, through ``process_one`` (score against the past, then learn) with a float timestamp.
Baselines in the same process: appending each sample to a list (the cost of merely ingesting
it), the signal detector without its shape memory (``block=0``), the textbook rolling z-score
detector, and a vectorised numpy rolling z-score over the
whole array at once (not streaming: an upper bound no per-sample detector can reach).
Garbage collection is paused while timing, for every row alike. Time is this process's CPU time
(``time.process_time``), so other jobs on a shared machine do not count against the detector.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, numpy included
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import gc
import math
import random
import sys
import time
from collections.abc import Callable

import numpy as np

from twinkit.analytics import CorrelationDetector, SignalDetector, ZScoreDetector

START = 1_780_000_000.0


def series(n: int) -> list[float]:
    rng = random.Random(0)
    return [50 + 10 * math.sin(i / 45.8) + rng.gauss(0, 1) for i in range(n)]


def best_rate(run: Callable[[], None], n: int, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        gc.collect()
        gc.disable()  # the ingest baseline keeps every sample alive; GC pauses would dominate it
        try:
            start = time.process_time()
            run()
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return n / best


def ingest(values: list[float]) -> None:
    sink: list[tuple[float, dict[str, float]]] = []
    append = sink.append
    for i, v in enumerate(values):
        append((START + 300.0 * i, {"value": v}))


def stream(make: Callable[[], object], values: list[float]) -> Callable[[], None]:
    def run() -> None:
        step = make().process_one  # type: ignore[attr-defined]
        for i, v in enumerate(values):
            step({"value": v}, START + 300.0 * i)

    return run


def numpy_rolling_z(values: list[float], window: int = 100) -> None:
    x = np.asarray(values)
    c1 = np.cumsum(np.insert(x, 0, 0.0))
    c2 = np.cumsum(np.insert(x * x, 0, 0.0))
    mean = (c1[window:] - c1[:-window]) / window
    var = (c2[window:] - c2[:-window]) / window - mean * mean
    np.abs(x[window - 1 :] - mean) / np.sqrt(np.maximum(var, 1e-12))


def multivariate(values: list[float]) -> Callable[[], None]:
    def run() -> None:
        step = CorrelationDetector(signals=["a", "b", "c"]).process_one
        for i, v in enumerate(values):
            step({"a": v, "b": 0.5 * v, "c": 2.0 - v}, START + 300.0 * i)

    return run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--values", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    n, r = args.values, args.repeat
    values = series(n)

    ingest_rate = best_rate(lambda: ingest(values), n, r)
    rows = [
        ("ingest only (list.append)", ingest_rate),
        ("signal detector", best_rate(stream(SignalDetector, values), n, r)),
        (
            "signal, no shape memory",
            best_rate(stream(lambda: SignalDetector(block=0), values), n, r),
        ),
        ("rolling z-score (per value)", best_rate(stream(ZScoreDetector, values), n, r)),
        ("numpy rolling z (batch)", best_rate(lambda: numpy_rolling_z(values), n, r)),
        ("multivariate, 3 signals", best_rate(multivariate(values[: n // 10]), n // 10, r)),
    ]
    print(f"{n:,} values, best of {r}, CPU time of one core")
    print(f"{'':30}{'values/s':>14}{'µs/value':>10}{'x ingest cost':>15}")
    for name, rate in rows:
        print(f"{name:30}{rate:>14,.0f}{1e6 / rate:>10.2f}{ingest_rate / rate:>15.1f}")
    signal = rows[1][1]
    verdict = "meets" if signal >= 50_000 else "MISSES"
    print(f"signal detector {verdict} the 50k values/s target ({signal / 50_000:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
