"""A per-twin detector for correlated signals (a pump's vibration, current and pressure).

TL;DR: :class:`CorrelationDetector` learns the usual mean and covariance of one asset's signals
(exponentially weighted, so it follows slow wear) and scores each sample by its Mahalanobis
distance — which catches a sample where every signal is in range but their *relation* is broken
(vibration up while current is flat). It says which signals broke it: each signal's share is its
squared residual given all the others, so the blame lands on the odd one out (with only two
signals both residuals are equal: blaming one needs at least three).

Missing signals are left out of the score (the others are judged on their own joint baseline);
only complete samples are learnt, so a dropped sensor cannot drag the baseline.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Self

import numpy as np
from scipy.special import gammainc

from twinkit.analytics.detector import Anomaly, Instant, Sample, as_seconds, usable


class CorrelationDetector:
    """Exponentially weighted Gaussian baseline of several signals, Mahalanobis score.

    ``signals`` names the signals; when omitted, the keys of the first sample learnt. The
    score is the chi-square probability of the sample's distance (0.5 typical, 0.999+ broken).

    >>> import random
    >>> from twinkit.analytics import CorrelationDetector
    >>> rng = random.Random(0)
    >>> d = CorrelationDetector(signals=["current", "pressure", "vibration"])
    >>> def pump(load, vibration_fault=0.0):
    ...     return {"current": 10 + load + rng.gauss(0, 0.05),
    ...             "pressure": 3 + 0.2 * load + rng.gauss(0, 0.02),
    ...             "vibration": 2 + 0.5 * load + vibration_fault + rng.gauss(0, 0.05)}
    >>> for _ in range(2000):
    ...     _ = d.process_one(pump(rng.gauss(0, 1)))
    >>> round(d.score_one(pump(1.0)), 2)
    0.22
    >>> broken = d.explain_one(pump(1.0, vibration_fault=-0.5))
    >>> round(broken.score, 4), [(s, round(c, 2)) for s, c in broken.top()]
    (1.0, [('vibration', 0.64), ('current', 0.36), ('pressure', 0.0)])
    """

    def __init__(
        self,
        signals: Sequence[str] | None = None,
        horizon: int = 1000,
        warmup: int = 50,
        prior_weight: int = 100,
        ridge: float = 1e-6,
    ) -> None:
        self.signals: tuple[str, ...] | None = tuple(signals) if signals else None
        self.horizon = horizon
        self.warmup = warmup
        self.prior_weight = prior_weight
        self.ridge = ridge
        self.n = 0
        self.last_t: float | None = None
        self.mean: np.ndarray = np.zeros(0)
        self.cov: np.ndarray = np.zeros((0, 0))
        if self.signals is not None:
            self._size(len(self.signals))

    def _size(self, k: int) -> None:
        self.mean = np.zeros(k)
        self.cov = np.zeros((k, k))

    # -- verbs ------------------------------------------------------------------------------

    def learn_one(self, x: Sample, t: Instant = None) -> None:
        """Fold a complete, in-order sample into the baseline; skip anything else."""
        ts = as_seconds(t)
        if ts is not None and self.last_t is not None and ts < self.last_t:
            return
        if self.signals is None:
            if not x:
                return
            self.signals = tuple(sorted(x))
            self._size(len(self.signals))
        row = [_number(x.get(name)) for name in self.signals]
        if not all(math.isfinite(v) for v in row):
            return
        if ts is not None:
            self.last_t = ts
        self.n += 1
        alpha = max(2.0 / (self.horizon + 1), 1.0 / self.n)
        d = np.array(row) - self.mean
        self.mean += alpha * d
        self.cov += alpha * np.outer(d, d)
        self.cov *= 1.0 - alpha

    def score_one(self, x: Sample, t: Instant = None) -> float:
        """Probability mass of the baseline closer to its mean than ``x`` (0 until warmed up)."""
        return self.explain_one(x, t).score

    def process_one(self, x: Sample, t: Instant = None) -> float:
        """Score against the past, then learn."""
        score = self.score_one(x, t)
        self.learn_one(x, t)
        return score

    def explain_one(self, x: Sample, t: Instant = None) -> Anomaly:
        """The score and each signal's share of the surprise (shares sum to 1)."""
        if self.signals is None or self.n < self.warmup:
            return Anomaly(0.0, {})
        values, observed = self._vector(x)
        if not observed.any():
            return Anomaly(0.0, {})
        if observed.all():
            names, z, cov = list(self.signals), values - self.mean, self.cov
        else:
            names = [s for s, seen in zip(self.signals, observed, strict=True) if seen]
            z = values[observed] - self.mean[observed]
            cov = self.cov[np.ix_(observed, observed)]
        k = len(z)
        # a ridge relative to the spread, with a floor relative to the level, so signals that
        # never moved (a zero covariance) still give a finite, if very sharp, baseline
        level = float(np.mean(values[observed] ** 2))
        ridge = self.ridge * float(np.trace(cov)) / k + 1e-12 * (level + 1.0)
        ridged = cov + np.eye(k) * ridge
        try:
            precision = np.linalg.inv(ridged)
        except np.linalg.LinAlgError:
            precision = np.linalg.pinv(ridged)
        pz = precision @ z
        distance = float(z @ pz)
        if not math.isfinite(distance) or distance < 0.0:
            return Anomaly(0.0, {})
        # Residual of signal i given the others: (P z)_i / sqrt(P_ii); its square is that
        # signal's own surprise once everything it correlates with is accounted for.
        residual = pz * pz / np.maximum(np.diag(precision), 1e-300)
        total = float(residual.sum())
        score = float(gammainc(k / 2.0, distance / 2.0))  # chi-square CDF
        shares = (
            {name: float(r) / total for name, r in zip(names, residual, strict=True)}
            if total > 0.0
            else {}
        )
        return Anomaly(score, shares)

    def from_prior(self) -> Self:
        """A twin's detector starting from this fleet baseline, weighted as ``prior_weight``
        samples so the twin's own data takes over quickly."""
        twin = copy.deepcopy(self)
        twin.n = min(self.n, self.prior_weight)
        twin.last_t = None
        return twin

    # -- internals ---------------------------------------------------------------------------

    def _vector(self, x: Sample) -> tuple[np.ndarray, np.ndarray]:
        assert self.signals is not None
        values = np.array(
            [_number(x.get(name)) for name in self.signals],
            dtype=float,
        )
        return values, np.isfinite(values)


def _number(value: float | None) -> float:
    """A usable measurement, or NaN for anything missing (see :func:`usable`)."""
    if value is None:
        return math.nan
    try:
        v = usable(float(value))
    except (TypeError, ValueError):
        return math.nan
    return math.nan if v is None else v
