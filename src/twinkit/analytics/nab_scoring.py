"""The Numenta Anomaly Benchmark's scoring rules, re-implemented without pandas.

TL;DR: give :func:`score_corpus` one :class:`SeriesResult` per series (its timestamps, the
detector's scores and the labelled windows) and a cost profile; it picks the single threshold
that maximises the corpus score and reports the raw and normalised NAB scores.

The rules, as NAB applies them (NAB v1.1 ``sweeper.py`` / ``runner.py``):

- The first ``min(floor(0.15 * rows), 0.15 * 5000)`` rows of a series are probation: never scored.
- A row inside a window at position ``i`` (window from row ``l`` to ``r``) weighs
  ``tp * S(-(r - i + 1) / (r - l + 1)) / S(-1)``, so the first row of a window is worth exactly
  ``tp`` and later rows less; ``S(p) = 2 / (1 + exp(5p)) - 1``, and ``S(p) = -1`` for ``p >= 3``.
- A row outside every window weighs ``fp * S(|r_prev - i| / (w_prev - 1))`` relative to the
  previous window (right row ``r_prev``, width ``w_prev``), or ``-fp`` when no window came before.
- At threshold ``θ`` a row is a detection when its score is ``>= θ``. A window scores the highest
  weight among its detections (the earliest one), or ``-fn`` when it has none; each detection
  outside windows adds its (negative) weight. Windows lying wholly in probation are ignored.
- One threshold per detector and profile for the whole corpus: the best of every distinct score
  (plus 1.1, "never fire"); ties go to the highest threshold.
- Normalised score: ``100 * (raw - raw_null) / (perfect - raw_null)`` with ``perfect = tp *
  number of labelled windows`` and ``raw_null`` the same procedure applied to a detector that
  never fires.

Window limits are matched to rows by time: a window covers the rows whose timestamps fall inside
its limits (NAB requires the limits to be row timestamps, in which case this is identical).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

PROBATION_PERCENT = 0.15
_NEVER = 1.1  # NAB's starting threshold: above every score, so nothing is detected


@dataclass(frozen=True, slots=True)
class CostProfile:
    """Weights of one NAB application profile."""

    name: str
    tp: float
    fp: float
    fn: float


STANDARD = CostProfile("standard", tp=1.0, fp=0.11, fn=1.0)
REWARD_LOW_FP = CostProfile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0)
REWARD_LOW_FN = CostProfile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0)
DEFAULT_PROFILES = (STANDARD, REWARD_LOW_FP, REWARD_LOW_FN)


def load_profiles(path: str | Path) -> tuple[CostProfile, ...]:
    """Read NAB's ``config/profiles.json``."""
    raw = json.loads(Path(path).read_text())
    return tuple(
        CostProfile(
            name,
            tp=float(spec["CostMatrix"]["tpWeight"]),
            fp=float(spec["CostMatrix"]["fpWeight"]),
            fn=float(spec["CostMatrix"]["fnWeight"]),
        )
        for name, spec in raw.items()
    )


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """One series as the detector saw it: row timestamps, its scores, the labelled windows."""

    name: str
    timestamps: Sequence[datetime]
    scores: Sequence[float]
    windows: Sequence[tuple[datetime, datetime]]


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """The corpus score of one detector for one profile at its best threshold."""

    profile: CostProfile
    threshold: float
    raw: float
    tp: int
    fp: int
    fn: int
    windows_detected: int
    windows_scored: int
    per_series: dict[str, float] = field(default_factory=dict)


def probation_length(rows: int, percent: float = PROBATION_PERCENT) -> float:
    """Rows at the start of a series that are never scored (15%, at most 750)."""
    return min(math.floor(percent * rows), percent * 5000)


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: ~0.987 at a window's left edge, 0 at its right edge, -1 far after."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


_MAX_TP = scaled_sigmoid(-1.0)


@dataclass(frozen=True, slots=True)
class _Row:
    score: float
    window: int  # -1 outside every window, else a corpus-unique window number
    in_window_weight: float  # unweighted, already divided by S(-1)
    outside_weight: float  # unweighted


def _window_rows(
    timestamps: Sequence[datetime], windows: Sequence[tuple[datetime, datetime]]
) -> list[tuple[int, int]]:
    """Row ranges ``(left, right)`` covered by each window, in time order, empty ones dropped."""
    ranges: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        rows = [i for i, ts in enumerate(timestamps) if start <= ts <= end]
        if rows:
            ranges.append((rows[0], rows[-1]))
    return ranges


def _sweep(series: SeriesResult, first_window: int) -> tuple[list[_Row], set[int]]:
    """Weigh every scorable row of one series; return the rows and the windows that count."""
    n = len(series.timestamps)
    if len(series.scores) != n:
        raise ValueError(f"{series.name}: {len(series.scores)} scores for {n} rows")
    probation = probation_length(n)
    ranges = _window_rows(series.timestamps, series.windows)
    owner = [-1] * n
    for k, (left, right) in enumerate(ranges):
        for i in range(left, right + 1):
            owner[i] = k
    rows: list[_Row] = []
    counted: set[int] = set()
    prev_right: int | None = None
    prev_width = 0.0
    for i, score in enumerate(series.scores):
        k = owner[i]
        if k >= 0:
            left, right = ranges[k]
            width = float(right - left + 1)
            weight = scaled_sigmoid(-(right - i + 1) / width) / _MAX_TP
            row = _Row(float(score), first_window + k, weight, 0.0)
            if i == right:
                prev_right, prev_width = right, width
        else:
            if prev_right is None:
                outside = -1.0
            else:
                # A one-row window divides by zero in NAB too; treat it as "far after".
                span = prev_width - 1.0
                outside = scaled_sigmoid(abs(prev_right - i) / span) if span > 0 else -1.0
            row = _Row(float(score), -1, 0.0, outside)
        if i >= probation:
            rows.append(row)
            if k >= 0:
                counted.add(first_window + k)
    return rows, counted


@dataclass(slots=True)
class _Corpus:
    rows: list[_Row]
    windows: set[int]
    series_of_window: dict[int, str]
    series_rows: dict[str, list[_Row]]
    labelled_windows: int


def _prepare(results: Iterable[SeriesResult]) -> _Corpus:
    corpus = _Corpus([], set(), {}, {}, 0)
    next_window = 0
    for series in results:
        rows, counted = _sweep(series, next_window)
        for w in counted:
            corpus.series_of_window[w] = series.name
        corpus.rows.extend(rows)
        corpus.series_rows[series.name] = rows
        corpus.windows |= counted
        corpus.labelled_windows += len(series.windows)
        next_window += len(series.windows)
    return corpus


def _sweep_thresholds(
    rows: list[_Row], windows: set[int], cost: CostProfile
) -> tuple[float, float]:
    """Best ``(threshold, raw score)`` over every distinct score, highest threshold on ties."""
    ordered = sorted(rows, key=lambda r: r.score, reverse=True)
    best: dict[int, float] = {}
    fp_total = 0.0
    missed = len(windows)
    detected_sum = 0.0

    def total() -> float:
        return fp_total + detected_sum - cost.fn * missed

    best_threshold, best_raw = _NEVER, total()
    current = _NEVER
    for row in ordered:
        if row.score != current:
            raw = total()
            if raw > best_raw:
                best_threshold, best_raw = current, raw
            current = row.score
        if row.window < 0:
            fp_total += row.outside_weight * cost.fp
        else:
            weight = row.in_window_weight * cost.tp
            previous = best.get(row.window)
            if previous is None:
                best[row.window] = weight
                missed -= 1
                detected_sum += weight
            elif weight > previous:
                best[row.window] = weight
                detected_sum += weight - previous
    raw = total()
    if raw > best_raw:
        best_threshold, best_raw = current, raw
    return best_threshold, best_raw


def score_at(
    corpus_rows: list[_Row], windows: set[int], cost: CostProfile, threshold: float
) -> tuple[float, int, int, int, int]:
    """Raw score, TP rows, FP rows, FN rows and detected windows at a fixed threshold."""
    best: dict[int, float] = {}
    fp_total = 0.0
    tp = fp = fn = 0
    for row in corpus_rows:
        hit = row.score >= threshold
        if row.window < 0:
            if hit:
                fp += 1
                fp_total += row.outside_weight * cost.fp
        elif hit:
            tp += 1
            weight = row.in_window_weight * cost.tp
            best[row.window] = max(best.get(row.window, weight), weight)
        else:
            fn += 1
    raw = fp_total + sum(best.values()) - cost.fn * len(windows - best.keys())
    return raw, tp, fp, fn, len(best)


def score_corpus(
    results: Sequence[SeriesResult], profiles: Sequence[CostProfile] = DEFAULT_PROFILES
) -> dict[str, ThresholdResult]:
    """Optimise one threshold per profile over the corpus and score it there."""
    corpus = _prepare(results)
    out: dict[str, ThresholdResult] = {}
    for cost in profiles:
        threshold, _ = _sweep_thresholds(corpus.rows, corpus.windows, cost)
        raw, tp, fp, fn, detected = score_at(corpus.rows, corpus.windows, cost, threshold)
        per_series: dict[str, float] = {}
        for name, rows in corpus.series_rows.items():
            own = {w for w, s in corpus.series_of_window.items() if s == name}
            per_series[name] = score_at(rows, own, cost, threshold)[0]
        out[cost.name] = ThresholdResult(
            cost, threshold, raw, tp, fp, fn, detected, len(corpus.windows), per_series
        )
    return out


def perfect_score(results: Sequence[SeriesResult], cost: CostProfile) -> float:
    """What a detector earns by hitting every labelled window at its first row."""
    return cost.tp * sum(len(s.windows) for s in results)


def normalised(raw: float, raw_null: float, perfect: float) -> float:
    """NAB's final score: 0 for the null detector, 100 for a perfect one."""
    return 100.0 * (raw - raw_null) / (perfect - raw_null)


def null_results(results: Sequence[SeriesResult]) -> list[SeriesResult]:
    """The null detector's output (a constant 0.5, as NAB's null detector emits)."""
    return [
        SeriesResult(s.name, s.timestamps, [0.5] * len(s.timestamps), s.windows) for s in results
    ]


def normalised_scores(
    results: Sequence[SeriesResult], profiles: Sequence[CostProfile] = DEFAULT_PROFILES
) -> dict[str, float]:
    """Normalised NAB score per profile name, against the null detector and a perfect one."""
    scored = score_corpus(results, profiles)
    null = score_corpus(null_results(results), profiles)
    return {
        cost.name: normalised(
            scored[cost.name].raw, null[cost.name].raw, perfect_score(results, cost)
        )
        for cost in profiles
    }
