"""Downsampling a series into fixed buckets: ``every`` seconds, one aggregate per bucket."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from twinkit.model.errors import ValidationFailed

Floats = npt.NDArray[np.float64]

AGGREGATES = ("mean", "min", "max", "first", "last", "count", "sum")


def downsample(
    times: Floats, values: Any, every: float, agg: str, origin: float
) -> tuple[Floats, list[Any]]:
    """Bucket ``times`` (sorted) by ``every`` seconds from ``origin``; one value per bucket.

    Buckets are labelled by their start. ``first``/``last``/``count`` work on any
    values; the others need numbers and skip non-numeric ones.
    """
    if agg not in AGGREGATES:
        raise ValidationFailed(f"agg must be one of {', '.join(AGGREGATES)}", "/agg")
    if len(times) == 0:
        return np.empty(0, dtype=np.float64), []
    buckets = np.floor((times - origin) / every).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    labels: Floats = (origin + buckets[starts] * every).astype(np.float64)
    if isinstance(values, np.ndarray):
        values = (
            values.tolist() if agg in ("first", "last") and len(starts) == len(times) else values
        )
    if agg == "first":
        return labels, _pick(values, starts)
    if agg == "last":
        ends = np.r_[starts[1:], len(times)] - 1
        return labels, _pick(values, ends)
    if agg == "count":
        counts: list[Any] = np.diff(np.r_[starts, len(times)]).tolist()
        return labels, counts
    numeric = _numeric(values)
    reducer = _REDUCERS[agg]
    finite = ~np.isnan(numeric)
    if finite.all():
        counts = np.diff(np.r_[starts, len(times)])
        fast: dict[str, Callable[[], Any]] = {
            "sum": lambda: np.add.reduceat(numeric, starts),
            "mean": lambda: np.add.reduceat(numeric, starts) / counts,
            "min": lambda: np.minimum.reduceat(numeric, starts),
            "max": lambda: np.maximum.reduceat(numeric, starts),
        }
        reduced: list[Any] = fast[agg]().tolist()
        return labels, reduced
    out: list[Any] = []
    bounds = np.r_[starts, len(times)]
    for lo, hi in itertools.pairwise(bounds.tolist()):
        chunk = numeric[lo:hi][finite[lo:hi]]
        out.append(float(reducer(chunk)) if chunk.size else None)
    return labels, out


def _pick(values: Any, indexes: Any) -> list[Any]:
    if isinstance(values, np.ndarray):
        picked: list[Any] = values[indexes].tolist()
        return picked
    return [values[i] for i in indexes]


def _numeric(values: Any) -> Floats:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array(
            [
                v if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
                for v in values
            ],
            dtype=np.float64,
        )


_REDUCERS: dict[str, Callable[[Floats], Any]] = {
    "mean": np.mean,
    "min": np.min,
    "max": np.max,
    "sum": np.sum,
}
