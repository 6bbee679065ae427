"""The detector runtime: live per-twin anomaly detection with persisted state.

See docs/rules.md ("Anomaly detection"). The public surface is pinned by ``__all__``.
"""

from twinkit.analytics_runtime.config import Detection, parse_detection, parse_detections
from twinkit.analytics_runtime.runtime import FLEET, DetectorRuntime, RuntimeStats

__all__ = [
    "FLEET",
    "Detection",
    "DetectorRuntime",
    "RuntimeStats",
    "parse_detection",
    "parse_detections",
]
