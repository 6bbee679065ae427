"""Detectors by name, so a model's telemetry can pick and configure one from JSON or YAML.

TL;DR::

    detector = create_detector({"detector": "signal", "slow": 500})
    per_key = create_detectors(yaml.safe_load(model_analytics_yaml))
    detectors()            # {"signal": DetectorSpec(...), "multivariate": ..., ...}

Every entry is discovered by the conformance suite (tests/analytics/test_conformance.py), so a
detector added here is checked for pickling, purity, bounded memory, determinism and missing or
late values without writing a single new test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from twinkit.analytics.baselines import NullDetector, RandomDetector, ZScoreDetector
from twinkit.analytics.detector import Detector
from twinkit.analytics.multivariate import CorrelationDetector
from twinkit.analytics.univariate import SignalDetector


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """How to build one kind of detector, and what it is for."""

    name: str
    factory: Callable[..., Detector]
    summary: str
    multivariate: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def create(self, **config: Any) -> Detector:
        """A fresh detector with ``config`` over the defaults."""
        return self.factory(**{**self.defaults, **config})


_SPECS = (
    DetectorSpec(
        "signal",
        SignalDetector,
        "one signal: spikes, level shifts, drifts, changed patterns, flatlines",
    ),
    DetectorSpec(
        "multivariate",
        CorrelationDetector,
        "correlated signals of one asset; reports which signals broke the usual relation",
        multivariate=True,
    ),
    DetectorSpec("zscore", ZScoreDetector, "baseline: rolling z-score of one signal"),
    DetectorSpec("random", RandomDetector, "baseline: uniform noise (NAB's random detector)"),
    DetectorSpec("null", NullDetector, "baseline: never alarms (NAB's null detector)"),
)


_REGISTERED: dict[str, DetectorSpec] = {spec.name: spec for spec in _SPECS}


def detectors() -> dict[str, DetectorSpec]:
    """Every registered detector by name (a copy: register new ones with :func:`register`)."""
    return dict(_REGISTERED)


def register(spec: DetectorSpec) -> None:
    """Add a detector kind (a plug-in); the conformance suite will check it too."""
    if spec.name in _REGISTERED:
        raise ValueError(f"a detector named {spec.name!r} is already registered")
    _REGISTERED[spec.name] = spec


def create_detector(config: Mapping[str, Any] | str) -> Detector:
    """Build a detector from a name or a config mapping ``{"detector": name, **options}``."""
    if isinstance(config, str):
        config = {"detector": config}
    options = dict(config)
    name = options.pop("detector", None)
    specs = detectors()
    if not isinstance(name, str) or name not in specs:
        raise ValueError(f"unknown detector {name!r}; known: {', '.join(sorted(specs))}")
    return specs[name].create(**options)


def create_detectors(config: Mapping[str, Mapping[str, Any] | str]) -> dict[str, Detector]:
    """One detector per entry of a model's analytics config, e.g. from YAML::

    temp: {detector: signal, signal: temp}
    pump: {detector: multivariate, signals: [current, pressure, vibration]}
    """
    return {key: create_detector(entry) for key, entry in config.items()}
