"""Analytics that learn each asset: streaming anomaly detectors with one-sample verbs.

See docs/analytics.md. The public surface is pinned by ``__all__``.
"""

from twinkit.analytics.baselines import NullDetector, RandomDetector, ZScoreDetector
from twinkit.analytics.detector import Anomaly, Detector, Instant, Sample
from twinkit.analytics.multivariate import CorrelationDetector
from twinkit.analytics.registry import (
    DetectorSpec,
    create_detector,
    create_detectors,
    detectors,
    register,
)
from twinkit.analytics.univariate import SignalConfig, SignalDetector

__all__ = [
    "Anomaly",
    "CorrelationDetector",
    "Detector",
    "DetectorSpec",
    "Instant",
    "NullDetector",
    "RandomDetector",
    "Sample",
    "SignalConfig",
    "SignalDetector",
    "ZScoreDetector",
    "create_detector",
    "create_detectors",
    "detectors",
    "register",
]
