"""What every detector looks like: one-sample verbs over plain dicts, picklable state.

TL;DR::

    score = detector.process_one({"temp": 21.5}, t)   # score against the past, then learn
    detector.score_one(x, t)     # pure: how surprising is x? in [0, 1]
    detector.learn_one(x, t)     # update the baseline with x
    detector.explain_one(x, t)   # the score and which signals contributed

A detector is a plain Python object whose state pickles (the platform stores
``pickle.dumps(detector)`` with each twin and restores it after a restart). Missing values
(``None``, NaN, infinite, or beyond ±1e150 — a glitch whose square would overflow) are
skipped: they score 0 and teach nothing. A sample whose timestamp is older
than the newest one learnt is scored but not learnt, so late data cannot rewind a baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, Self, runtime_checkable

Sample = Mapping[str, float | None]
"""One sample: signal name → value; ``None`` (or NaN) means the value is missing."""

Instant = datetime | float | None
"""When the sample was taken: an aware datetime, epoch seconds, or unknown."""


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A score in [0, 1], each signal's share of it (shares sum to 1 when score > 0) and, when
    the detector can tell, the kind of surprise (``"spike"``, ``"shift"``, ``"flatline"``,
    ``"pattern"``, ``"burst"``, ``"shape"``) for the alert's cause."""

    score: float
    contributions: dict[str, float] = field(default_factory=dict)
    kind: str | None = None

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` signals that contributed most, largest first."""
        return sorted(self.contributions.items(), key=lambda kv: -kv[1])[:n]


@runtime_checkable
class Detector(Protocol):
    """The verbs every registered detector offers (checked by the conformance suite)."""

    def learn_one(self, x: Sample, t: Instant = None) -> None:
        """Update the baseline with one sample."""

    def score_one(self, x: Sample, t: Instant = None) -> float:
        """Anomaly score of ``x`` in [0, 1] against what was learnt; never changes state."""

    def process_one(self, x: Sample, t: Instant = None) -> float:
        """``score_one`` then ``learn_one`` in one pass (the hot path when streaming)."""

    def explain_one(self, x: Sample, t: Instant = None) -> Anomaly:
        """The score of ``x`` and which signals contributed; never changes state."""

    def from_prior(self) -> Self:
        """A new detector for one twin that starts from this (fleet) detector's baseline."""


def as_seconds(t: Instant) -> float | None:
    """Epoch seconds of an instant; naive datetimes are refused (twinkit is timezone-aware)."""
    if t is None:
        return None
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware timestamp")
        return t.timestamp()
    return float(t)


LIMIT = 1e150
"""Larger magnitudes count as missing: their squares would overflow and poison a baseline."""


def usable(v: float) -> float | None:
    """``v`` as a float when it is a usable measurement, else ``None``."""
    return v if -LIMIT <= v <= LIMIT else None  # NaN fails both comparisons


def signal_value(x: Sample, signal: str | None) -> float | None:
    """The value of one signal in ``x``: ``signal`` by name, or the only key when ``None``.

    Missing values (absent, ``None``, NaN, infinite, beyond :data:`LIMIT`, or an empty sample)
    come back as ``None``;
    a sample with several keys and no ``signal`` named is a configuration error.
    """
    if signal is None:
        if len(x) != 1:
            if not x:
                return None
            raise ValueError("a one-signal detector needs `signal=` for samples with several keys")
        v = next(iter(x.values()))
    else:
        v = x.get(signal)
    if v is None:
        return None
    return usable(float(v))


def present(value: float | None) -> bool:
    """True for a usable number (not ``None``, NaN, infinite or beyond :data:`LIMIT`)."""
    return value is not None and usable(float(value)) is not None
