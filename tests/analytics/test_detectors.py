"""What users of the detectors rely on: they catch the usual kinds of anomaly, stay quiet on
normal data, blame the right signal, start twins from a fleet prior, and build from config."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
import yaml

import twinkit.analytics as analytics
from twinkit.analytics import (
    Anomaly,
    CorrelationDetector,
    SignalDetector,
    create_detector,
    detectors,
)

START = datetime(2026, 3, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
DAY = 288  # samples per day at 5 minutes
ALERT = 0.8  # an alert threshold from the suggested 0.7-0.8 range


def daily(i: int, rng: random.Random, noise: float = 0.5) -> float:
    return 50.0 + 10.0 * math.sin(2 * math.pi * i / DAY) + rng.gauss(0, noise)


def trained(days: int = 6, seed: int = 1) -> tuple[SignalDetector, int]:
    rng = random.Random(seed)
    detector = SignalDetector()
    n = days * DAY
    for i in range(n):
        detector.process_one({"temp": daily(i, rng)}, START + i * STEP)
    return detector, n


def test_normal_data_stays_below_alarm_after_warmup() -> None:
    detector, n = trained()
    rng = random.Random(99)
    scores = [
        detector.process_one({"temp": daily(i, rng)}, START + i * STEP) for i in range(n, n + DAY)
    ]
    # 0.5 means "as surprising as the largest surprise lately": a normal day touches it
    assert max(scores) < 0.6
    assert sum(s > 0.5 for s in scores) <= 10


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("spike", lambda i, v: v + 15.0 if i == 40 else v),
        ("level shift", lambda i, v: v - 8.0 if i >= 40 else v),
        ("flatline", lambda i, v: 50.0 if i >= 40 else v),
        ("missing daily peak", lambda i, v: min(v, 45.0)),
    ],
)
def test_catches_the_usual_kinds_of_anomaly(kind: str, change: object) -> None:
    detector, n = trained()
    rng = random.Random(5)
    scores = []
    for k in range(DAY // 2):
        i = n + k
        value = change(k, daily(i, rng))  # type: ignore[operator]
        scores.append(detector.process_one({"temp": value}, START + i * STEP))
    assert max(scores) >= 0.8, kind  # a normal day stays below 0.6 (test above)


def test_alarm_is_followed_by_quiet_not_a_storm() -> None:
    detector, n = trained()
    rng = random.Random(6)
    scores = [
        detector.process_one(
            {"temp": daily(i, rng) + (12.0 if (i - n) % 20 == 0 else 0.0)}, START + i * STEP
        )
        for i in range(n, n + 100)
    ]
    alarms = sum(s >= ALERT for s in scores)
    assert 1 <= alarms <= 2


def test_options_are_checked_and_signal_is_chosen_by_name() -> None:
    with pytest.raises(TypeError, match="slowest"):
        SignalDetector(slowest=3)
    with pytest.raises(ValueError, match="signal="):
        SignalDetector().process_one({"a": 1.0, "b": 2.0})
    detector = SignalDetector(signal="b")
    assert detector.process_one({"a": 1.0, "b": 2.0}) == 0.0
    assert detector.explain_one({"a": 1.0, "b": 2.0}).contributions == {}


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        SignalDetector().process_one({"temp": 1.0}, datetime(2026, 1, 1))


def test_twin_from_fleet_prior_learns_its_own_level() -> None:
    fleet, n = trained()
    twin = fleet.from_prior()
    rng = random.Random(7)
    # This pump runs 30 degrees hotter than the fleet: alarming at first, normal a day later.
    for i in range(n, n + DAY):
        twin.process_one({"temp": daily(i, rng) + 30.0}, START + i * STEP)
    later = [
        twin.process_one({"temp": daily(i, rng) + 30.0}, START + i * STEP)
        for i in range(n + DAY, n + 2 * DAY)
    ]
    assert max(later) < ALERT
    assert fleet.score_one({"temp": 80.0}, START + n * STEP) > 0.9


def pump(rng: random.Random, load: float, vibration_fault: float = 0.0) -> dict[str, float | None]:
    return {
        "current": 10 + load + rng.gauss(0, 0.05),
        "pressure": 3 + 0.2 * load + rng.gauss(0, 0.02),
        "vibration": 2 + 0.5 * load + vibration_fault + rng.gauss(0, 0.05),
    }


def test_multivariate_blames_the_signal_that_broke_the_relation() -> None:
    rng = random.Random(2)
    detector = CorrelationDetector()
    for _ in range(3000):
        detector.process_one(pump(rng, rng.gauss(0, 1)))
    normal = detector.explain_one(pump(rng, 1.5))  # high load, but every signal agrees
    broken = detector.explain_one(pump(rng, 0.0, vibration_fault=0.6))  # each value in range
    assert normal.score < 0.99
    assert broken.score > 0.999
    assert broken.top(1)[0][0] == "vibration"
    assert sum(broken.contributions.values()) == pytest.approx(1.0)


def test_multivariate_scores_partial_samples_on_the_signals_present() -> None:
    rng = random.Random(3)
    detector = CorrelationDetector()
    for _ in range(1000):
        detector.process_one(pump(rng, rng.gauss(0, 1)))
    sample = pump(rng, 0.0)
    sample["pressure"] = None
    result = detector.explain_one(sample)
    assert set(result.contributions) == {"current", "vibration"}


def test_detectors_build_from_yaml_config() -> None:
    config = yaml.safe_load(
        """
        temp: {detector: signal, signal: temp, slow: 300}
        pump: {detector: multivariate, signals: [current, pressure, vibration]}
        """
    )
    built = analytics.create_detectors(config)
    assert set(built) == {"temp", "pump"}
    temp = create_detector(config["temp"])
    assert isinstance(temp, SignalDetector)
    assert temp.config.slow == 300
    assert isinstance(create_detector(config["pump"]), CorrelationDetector)
    assert isinstance(create_detector("zscore"), analytics.ZScoreDetector)
    with pytest.raises(ValueError, match="unknown detector"):
        create_detector({"detector": "nope"})


def test_register_refuses_a_taken_name() -> None:
    with pytest.raises(ValueError, match="already registered"):
        analytics.register(detectors()["signal"])


def test_every_registered_detector_says_what_it_is_for() -> None:
    for name, spec in detectors().items():
        assert spec.name == name
        assert spec.summary


def test_public_api_is_pinned() -> None:
    assert sorted(analytics.__all__) == [
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


def test_multivariate_copes_with_signals_that_never_moved() -> None:
    detector = CorrelationDetector()
    for _ in range(100):
        detector.process_one({"valve": 0.0, "setpoint": 50.0, "mode": 1.0})
    assert detector.score_one({"valve": 0.0, "setpoint": 50.0, "mode": 1.0}) == 0.0
    moved = detector.explain_one({"valve": 1.0, "setpoint": 50.0, "mode": 1.0})
    assert moved.score == 1.0
    assert moved.top(1)[0][0] == "valve"


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (lambda k, v: v + 12.0 if k == 50 else v, "spike"),
        (lambda k, v: 10.0 + (v - 10.0) * 4.0 if k >= 50 else v, "burst"),
    ],
)
def test_explain_names_the_kind_of_surprise(change: object, kind: str) -> None:
    detector = SignalDetector()
    rng = random.Random(1)
    for _ in range(3000):
        detector.process_one({"v": rng.gauss(10.0, 1.0)})
    worst = Anomaly(0.0)
    for k in range(200):
        x = {"v": change(k, rng.gauss(10.0, 1.0))}  # type: ignore[operator]
        result = detector.explain_one(x)
        assert result.score == detector.process_one(x)
        if result.score > worst.score:
            worst = result
    assert worst.kind == kind
    assert worst.score >= 0.8


def test_opt_in_stuck_check_catches_a_frozen_sensor() -> None:
    plain, guarded = SignalDetector(), SignalDetector(stuck=2)
    rng = random.Random(2)
    for _ in range(3000):
        x = {"v": rng.gauss(10.0, 1.0)}
        plain.process_one(x)
        guarded.process_one(x)
    frozen = {"v": 10.3}  # the sensor freezes on an ordinary value
    scores = [(plain.process_one(frozen), guarded.process_one(frozen)) for _ in range(60)]
    assert max(s for s, _ in scores) < 0.8  # the spread collapsing alone is a weak sign
    result = guarded.explain_one(frozen)
    assert result.score >= 0.9
    assert result.kind == "flatline"
