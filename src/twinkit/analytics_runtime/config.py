"""Which detectors watch which telemetry: one entry per (model, signals), from YAML or JSON.

TL;DR (YAML)::

    detection:
      - name: pump-temperature          # the alert source is detector:<name>
        model: dtmi:acme:Pump;1         # twins of this model or of one extending it
        signals: [temperature]          # telemetry names; a univariate detector runs per signal
        detector: signal                # a name from twinkit.analytics.detectors()
        params: {slow: 300}             # passed to the detector
        threshold: 0.9                  # raise an alert at or above this score
        clear_below: 0.5                # clear it once the score stayed below this ...
        clear_after: 5m                 # ... for this long
        severity: warning
        fleet_prior: true               # new twins start from the fleet's baseline
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twinkit.analytics import Detector, create_detector, detectors
from twinkit.model.errors import ValidationFailed
from twinkit.rules.rule import seconds

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_FIELDS = {
    "name",
    "model",
    "signals",
    "detector",
    "params",
    "threshold",
    "clear_below",
    "clear_after",
    "severity",
    "fleet_prior",
    "prior_after",
}


@dataclass(frozen=True, slots=True)
class Detection:
    """One configured detector family: for every twin of ``model``, over ``signals``."""

    name: str
    model: str
    signals: tuple[str, ...]
    detector: str = "signal"
    params: Mapping[str, Any] = field(default_factory=dict)
    threshold: float = 0.9
    clear_below: float = 0.5
    clear_after: float = 300.0
    severity: str = "warning"
    fleet_prior: bool = False
    prior_after: int = 500  # samples the fleet must have learnt before new twins start from it

    @property
    def multivariate(self) -> bool:
        return detectors()[self.detector].multivariate

    @property
    def source(self) -> str:
        """The alert source, and the deduplication key of the alert."""
        return f"detector:{self.name}"

    def state_names(self) -> tuple[str, ...]:
        """State names of this entry's detectors on one twin (one per signal if univariate)."""
        if self.multivariate:
            return (self.name,)
        return tuple(f"{self.name}/{s}" for s in self.signals)

    def create(self) -> Detector:
        options = dict(self.params)
        if self.multivariate:
            options.setdefault("signals", list(self.signals))
        return create_detector({"detector": self.detector, **options})


def parse_detection(raw: Any, where: str = "") -> Detection:
    if not isinstance(raw, Mapping):
        raise ValidationFailed(
            "a detection entry is an object with model and signals", where or "/"
        )
    for key in raw:
        if key not in _FIELDS:
            raise ValidationFailed(f"unknown detection field {key!r}", f"{where}/{key}")
    model = raw.get("model")
    if not isinstance(model, str) or not model:
        raise ValidationFailed("a detection entry needs the model it watches", f"{where}/model")
    signals = raw.get("signals")
    if isinstance(signals, str):
        signals = [signals]
    if (
        not isinstance(signals, list)
        or not signals
        or not all(isinstance(s, str) and s for s in signals)
    ):
        raise ValidationFailed("signals is a list of telemetry names", f"{where}/signals")
    detector = raw.get("detector", "signal")
    if detector not in detectors():
        known = ", ".join(sorted(detectors()))
        raise ValidationFailed(
            f"unknown detector {detector!r} (known: {known})", f"{where}/detector"
        )
    params = raw.get("params", {})
    if not isinstance(params, Mapping):
        raise ValidationFailed("params is an object", f"{where}/params")
    name = raw.get("name") or f"{detector}-{'-'.join(signals)}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationFailed("name is letters, digits and _ . : -", f"{where}/name")
    entry = Detection(
        name=name,
        model=model,
        signals=tuple(signals),
        detector=detector,
        params=dict(params),
        threshold=_unit(raw.get("threshold", 0.9), f"{where}/threshold"),
        clear_below=_unit(raw.get("clear_below", 0.5), f"{where}/clear_below"),
        clear_after=seconds(raw.get("clear_after", 300.0), f"{where}/clear_after"),
        severity=str(raw.get("severity", "warning")),
        fleet_prior=bool(raw.get("fleet_prior", False)),
        prior_after=int(raw.get("prior_after", 500)),
    )
    if entry.severity not in ("info", "warning", "critical"):
        raise ValidationFailed("severity is info, warning or critical", f"{where}/severity")
    if entry.clear_below > entry.threshold:
        raise ValidationFailed("clear_below must not be above threshold", f"{where}/clear_below")
    try:
        entry.create()
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"the detector refused its params: {exc}", f"{where}/params"
        ) from None
    return entry


def parse_detections(document: Any) -> list[Detection]:
    """Entries from ``{"detection": ...}`` or the bare value; names must be unique.

    The value is a list of entries (above), or the analytics package's per-model form — a
    mapping of model → ``{name: {detector, signal | signals, ...params and runtime options}}``::

        detection:
          dtmi:acme:Pump;1:
            temp: {detector: signal, signal: temperature, threshold: 0.8}
            pump: {detector: multivariate, signals: [current, pressure, vibration]}
    """
    base = ""
    if isinstance(document, Mapping) and ("detection" in document or "rules" in document):
        document = document.get("detection", [])
        base = "/detection"
    if isinstance(document, Mapping):
        document = [
            _per_model_entry(model, name, entry, f"{base}/{_escape(model)}/{_escape(name)}")
            for model, by_name in _mapping(document, base).items()
            for name, entry in _mapping(by_name, f"{base}/{_escape(model)}").items()
        ]
        entries = [parse_detection(item, where) for item, where in document]
    elif isinstance(document, list):
        entries = [parse_detection(item, f"{base}/{i}") for i, item in enumerate(document)]
    else:
        raise ValidationFailed("detection is a list of entries or a mapping by model", base or "/")
    names = [e.name for e in entries]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ValidationFailed(f"detection name {name!r} is used twice", f"{base}/{i}/name")
    return entries


_RUNTIME = {"threshold", "clear_below", "clear_after", "severity", "fleet_prior", "prior_after"}


def _per_model_entry(model: str, name: str, entry: Any, where: str) -> tuple[Any, str]:
    if isinstance(entry, str):
        entry = {"detector": entry}
    entry = _mapping(entry, where)
    signals = entry.get("signals") or [entry.get("signal", name)]
    params = {k: v for k, v in entry.items() if k not in _RUNTIME | {"detector", "signals"}}
    raw = {k: v for k, v in entry.items() if k in _RUNTIME}
    return {
        **raw,
        "name": name,
        "model": model,
        "signals": signals,
        "detector": entry.get("detector", "signal"),
        "params": params,
    }, where


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationFailed("expected an object", where or "/")
    return value


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _unit(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    raise ValidationFailed("a score between 0 and 1", where)
