"""Reference detectors that a real detector must beat: never alarm, noise, a rolling z-score."""

from __future__ import annotations

import copy
import math
import random
from collections import deque
from typing import Self

from twinkit.analytics.detector import (
    Anomaly,
    Instant,
    Sample,
    as_seconds,
    present,
    signal_value,
)


class NullDetector:
    """Always scores 0.5, like NAB's null detector: it never separates anything."""

    def learn_one(self, x: Sample, t: Instant = None) -> None:
        """Nothing to learn."""

    def score_one(self, x: Sample, t: Instant = None) -> float:
        """Always 0.5."""
        return 0.5

    def process_one(self, x: Sample, t: Instant = None) -> float:
        """Always 0.5."""
        return 0.5

    def explain_one(self, x: Sample, t: Instant = None) -> Anomaly:
        """Always 0.5, no signal to blame."""
        return Anomaly(0.5, {})

    def from_prior(self) -> Self:
        """Another null detector."""
        return copy.deepcopy(self)


class RandomDetector:
    """Uniform noise in [0, 1], reproducible under ``seed``; learning advances the stream.

    The next score is drawn ahead of time so ``score_one`` can read it without consuming it.
    Like every detector, it learns nothing from empty or late samples.
    """

    def __init__(self, seed: int = 42) -> None:
        self.rng = random.Random(seed)
        self.next_score = self.rng.random()
        self.last_t: float | None = None

    def learn_one(self, x: Sample, t: Instant = None) -> None:
        """Move on to the next random score."""
        self.process_one(x, t)

    def score_one(self, x: Sample, t: Instant = None) -> float:
        """The current random score."""
        return self.next_score

    def process_one(self, x: Sample, t: Instant = None) -> float:
        """The current random score, then draw the next."""
        score = self.next_score
        ts = as_seconds(t)
        if not any(present(v) for v in x.values()) or (
            ts is not None and self.last_t is not None and ts < self.last_t
        ):
            return score
        if ts is not None:
            self.last_t = ts
        self.next_score = self.rng.random()
        return score

    def explain_one(self, x: Sample, t: Instant = None) -> Anomaly:
        """The current random score, no signal to blame."""
        return Anomaly(self.next_score, {})

    def from_prior(self) -> Self:
        """A copy continuing the same random stream."""
        return copy.deepcopy(self)


class ZScoreDetector:
    """``|x - mean| / std`` over the last ``window`` values, squashed to [0, 1].

    The textbook detector: what every dashboard offers. Kept as the baseline the other
    detectors are measured against.
    """

    def __init__(self, window: int = 100, signal: str | None = None) -> None:
        self.window = window
        self.signal = signal
        self.values: deque[float] = deque(maxlen=window)
        self.total = 0.0
        self.total_sq = 0.0
        self.last_t: float | None = None

    def learn_one(self, x: Sample, t: Instant = None) -> None:
        """Push one value into the window (late or missing values are ignored)."""
        self.process_one(x, t)

    def score_one(self, x: Sample, t: Instant = None) -> float:
        """``1 - exp(-z² / 18)``: 0 at the mean, ~0.39 at 3σ, ~0.99 at 9σ."""
        v = signal_value(x, self.signal)
        if v is None or len(self.values) < 2:
            return 0.0
        n = len(self.values)
        mean = self.total / n
        var = max(self.total_sq / n - mean * mean, 0.0)
        z2 = (v - mean) ** 2 / (var + 1e-12 * (mean * mean + 1.0))
        return 1.0 - math.exp(-z2 / 18.0)

    def process_one(self, x: Sample, t: Instant = None) -> float:
        """Score, then learn."""
        score = self.score_one(x, t)
        v = signal_value(x, self.signal)
        ts = as_seconds(t)
        if v is None or (ts is not None and self.last_t is not None and ts < self.last_t):
            return score
        if ts is not None:
            self.last_t = ts
        if len(self.values) == self.window:
            old = self.values[0]
            self.total -= old
            self.total_sq -= old * old
        self.values.append(v)
        self.total += v
        self.total_sq += v * v
        return score

    def explain_one(self, x: Sample, t: Instant = None) -> Anomaly:
        """The score; the one signal gets all of it."""
        score = self.score_one(x, t)
        name = self.signal or next(iter(x), "value")
        return Anomaly(score, {name: 1.0} if score > 0.0 else {})

    def from_prior(self) -> Self:
        """A copy of the fleet window."""
        twin = copy.deepcopy(self)
        twin.last_t = None
        return twin
