"""Run a registered detector over NAB-format series and score it with NAB's rules.

    PYTHONPATH=src .venv/bin/python bench/nab.py [--data DIR] [--labels FILE] [--out DIR]
        [--detector NAME] [--config JSON] [--profiles FILE] [--split] [--per-series] [--synthetic]

Each series is streamed once, in order, through a fresh detector (``process_one``: score from the
past, then learn). Per-row results are written in NAB's result format
(``OUT/<detector>/<category>/<detector>_<file>.csv`` with ``timestamp,value,anomaly_score,label``)
and the corpus is scored for every profile beside NAB's null detector and a random detector.
``--synthetic`` scores generated series instead (eleven kinds of normal behaviour, each with
each of up to seven kinds of anomaly, or none), a check that owes nothing to NAB's series.
``--split`` also scores two halves (alternate series within each category), the check used
against tuning to the development series: choose on one half, confirm on the other.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from twinkit.analytics import create_detector
from twinkit.analytics.nab_scoring import (
    DEFAULT_PROFILES,
    CostProfile,
    SeriesResult,
    load_profiles,
    normalised,
    null_results,
    perfect_score,
    score_corpus,
)

NAB = Path("/work/shared/data/nab")


def parse_time(text: str) -> datetime:
    """NAB timestamps are naive UTC wall-clock strings."""
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)


def load_series(data: Path, labels: Path) -> list[tuple[str, list[str], list[float], list]]:
    """Every labelled CSV under ``data``: (relative name, raw timestamps, values, windows)."""
    windows = json.loads(labels.read_text())
    out = []
    for path in sorted(data.rglob("*.csv")):
        name = path.relative_to(data).as_posix()
        if name not in windows:
            print(f"skip {name}: no labels", file=sys.stderr)
            continue
        with path.open() as f:
            rows = list(csv.DictReader(f))
        limits = [(parse_time(a), parse_time(b)) for a, b in windows[name]]
        out.append(
            (name, [r["timestamp"] for r in rows], [float(r["value"]) for r in rows], limits)
        )
    return out


SYNTHETIC_ROWS = 4000
SYNTHETIC_KINDS = ("spike", "shift", "variance", "reverse", "timeshift", "drift", "flat", "none")
_ORDER_KINDS = {"reverse", "timeshift"}  # anomalies only in the order of the values
_STRUCTURED = {"gauss_daily", "poisson_daily", "cpu_like", "random_walk", "ar1"}


def _noise_families(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Eleven kinds of normal behaviour, from Gaussian to bursty counts and random walks."""
    i = np.arange(n)
    daily = np.sin(2 * np.pi * i / 288)
    ar1 = np.zeros(n)
    shocks = rng.normal(0, 1, n)
    for k in range(1, n):
        ar1[k] = 0.95 * ar1[k - 1] + shocks[k]
    return {
        "gauss": 10 + rng.normal(0, 1, n),
        "gauss_daily": 50 + 10 * daily + rng.normal(0, 1, n),
        "student3": 10 + rng.standard_t(3, n),
        "lognormal": np.exp(rng.normal(0, 1, n)),
        "poisson2": rng.poisson(2, n).astype(float),
        "poisson_daily": rng.poisson(20 * (1.2 + daily)).astype(float),
        "counts_bursty": rng.poisson(np.exp(rng.normal(1, 1, n))).astype(float),
        "random_walk": np.cumsum(rng.normal(0, 1, n)),
        "ar1": ar1,
        "quantised": np.round(10 + rng.normal(0, 0.7, n)),
        "cpu_like": np.clip(20 + 5 * daily + rng.gamma(2, 3, n), 0, 100),
    }


def _inject(x: np.ndarray, kind: str, at: int, rng: np.random.Generator) -> np.ndarray:
    """One anomaly of ``kind`` starting at row ``at``; sizes are in the series' own spread."""
    y = x.copy()
    spread = float(np.std(x)) + 1e-9
    step = float(np.std(np.diff(x))) / np.sqrt(2) + 1e-9
    span = 150  # rows an episode lasts (12.5 hours at 5 minutes)
    sign = float(rng.choice([-1.0, 1.0]))
    if kind == "spike":
        y[at] += 6 * spread * sign
    elif kind == "shift":
        y[at:] += 2 * spread * sign
    elif kind == "variance":
        part = y[at : at + span]
        y[at : at + span] = part.mean() + 3 * (part - part.mean()) + rng.normal(0, 2 * step, span)
    elif kind == "reverse":  # the same values in reverse order
        y[at : at + span] = x[at : at + span][::-1]
    elif kind == "timeshift":  # the last six hours again: a pattern out of its time
        y[at : at + span] = x[at - 72 : at - 72 + span]
    elif kind == "drift":
        y[at:] += np.linspace(0, 3 * spread, len(x) - at)
    elif kind == "flat":
        y[at : at + span] = x[at]
    return y


def synthetic_series(
    seeds: tuple[int, ...] = (0, 1),
) -> list[tuple[str, list[str], list[float], list]]:
    """A check independent of NAB: every noise family with each kind of anomaly (and none),
    one anomaly per series at a random row after 1500, in a NAB-style window (10% of the rows,
    centred on the anomaly's start); 5-minute rows."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    times = [start + timedelta(minutes=5 * k) for k in range(SYNTHETIC_ROWS)]
    stamps = [t.strftime("%Y-%m-%d %H:%M:%S") for t in times]
    half = SYNTHETIC_ROWS // 20
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for family, x in _noise_families(SYNTHETIC_ROWS, rng).items():
            for kind in SYNTHETIC_KINDS:
                if kind in _ORDER_KINDS and family not in _STRUCTURED:
                    continue  # reordering independent noise changes nothing: no anomaly
                at = int(rng.integers(1500, 3500))
                y = _inject(x, kind, at, rng)
                limits = (
                    []
                    if kind == "none"
                    else [(times[at - half], times[min(at + half, SYNTHETIC_ROWS - 1)])]
                )
                out.append((f"synthetic-{family}/{kind}_{seed}.csv", stamps, y.tolist(), limits))
    return out


def run_detector(
    name: str, config: dict[str, object], corpus: list, out: Path
) -> tuple[list[SeriesResult], float, int]:
    """Stream each series through a fresh detector; write NAB result files."""
    results = []
    elapsed = 0.0
    values_seen = 0
    for rel, stamps, values, limits in corpus:
        detector = create_detector({"detector": name, **config})
        times = [parse_time(s) for s in stamps]
        step = detector.process_one
        start = time.process_time()
        raw = [step({"value": v}, t) for v, t in zip(values, times, strict=True)]
        elapsed += time.process_time() - start
        scores = [float(f"{s:.6f}") for s in raw]  # score exactly what the result file says
        values_seen += len(values)
        results.append(SeriesResult(rel, times, scores, limits))
        category, file = rel.split("/", 1)
        target = out / name / category / f"{name}_{file}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["timestamp", "value", "anomaly_score", "label"])
            for ts, t, v, s in zip(stamps, times, values, scores, strict=True):
                label = int(any(a <= t <= b for a, b in limits))
                w.writerow([ts, v, f"{s:.6f}", label])
    return results, elapsed, values_seen


def report(
    label: str, results: list[SeriesResult], null: dict, profiles: tuple[CostProfile, ...]
) -> dict[str, float]:
    scored = score_corpus(results, profiles)
    row = {}
    for cost in profiles:
        r = scored[cost.name]
        row[cost.name] = normalised(r.raw, null[cost.name].raw, perfect_score(results, cost))
    std = scored[profiles[0].name]
    print(
        f"{label:<14}"
        + "".join(f"{row[c.name]:>20.1f}" for c in profiles)
        + f"   thr={std.threshold:.4f} windows {std.windows_detected}/{std.windows_scored}"
        f" fp_rows={std.fp}"
    )
    return row


def halves(results: list[SeriesResult]) -> tuple[list[SeriesResult], list[SeriesResult]]:
    """Two halves for an honest check: within each category, alternate series in name order.

    Choose settings on one half, check them on the other; the threshold is still optimised
    per half, as NAB optimises it per corpus.
    """
    first: list[SeriesResult] = []
    second: list[SeriesResult] = []
    seen: dict[str, int] = {}
    for result in sorted(results, key=lambda r: r.name):
        category = result.name.split("/", 1)[0]
        k = seen.get(category, 0)
        seen[category] = k + 1
        (first if k % 2 == 0 else second).append(result)
    return first, second


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=NAB / "data")
    p.add_argument("--labels", type=Path, default=NAB / "labels" / "combined_windows.json")
    p.add_argument("--out", type=Path, default=Path("/tmp/twinkit-nab"))
    p.add_argument("--detector", default="signal")
    p.add_argument("--config", default="{}", help="JSON options for the detector")
    p.add_argument("--profiles", type=Path, default=NAB / "config" / "profiles.json")
    p.add_argument("--per-series", action="store_true", help="print each series' raw score")
    p.add_argument(
        "--synthetic",
        action="store_true",
        help="score generated series instead (11 kinds of normal behaviour x up to 7 anomalies)",
    )
    p.add_argument(
        "--split", action="store_true", help="also score two halves (alternate series per category)"
    )
    args = p.parse_args(argv)

    profiles = load_profiles(args.profiles) if args.profiles.exists() else DEFAULT_PROFILES
    profiles = tuple(sorted(profiles, key=lambda c: c.name != "standard"))
    corpus = synthetic_series() if args.synthetic else load_series(args.data, args.labels)
    print(f"{len(corpus)} series, {sum(len(c[2]) for c in corpus)} values")

    results, elapsed, seen = run_detector(args.detector, json.loads(args.config), corpus, args.out)
    null = score_corpus(null_results(results), profiles)
    random_results, _, _ = run_detector("random", {}, corpus, args.out)

    print(f"{'detector':<14}" + "".join(f"{c.name:>20}" for c in profiles))
    report("null", null_results(results), null, profiles)
    report("random", random_results, null, profiles)
    report(args.detector, results, null, profiles)
    print(f"{args.detector}: {seen / elapsed:,.0f} values/s (CPU time, process_one with datetime)")
    if args.split:
        for half, part in zip("AB", halves(results), strict=True):
            names = {r.name for r in part}
            part_random = [r for r in random_results if r.name in names]
            part_null = score_corpus(null_results(part), profiles)
            print(f"half {half}: {len(part)} series")
            report(f"  random {half}", part_random, part_null, profiles)
            report(f"  {args.detector} {half}", part, part_null, profiles)
    if args.per_series:
        per = score_corpus(results, profiles)[profiles[0].name].per_series
        for name, raw in per.items():
            print(f"  {raw:+7.3f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
