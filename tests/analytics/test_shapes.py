"""The shape memory: exact nearest-prototype distances, bounded size, and what it adds to
``SignalDetector`` (a pattern that is wrong only in the order of its values)."""

from __future__ import annotations

import pickle
import random

import numpy as np

from twinkit.analytics import SignalDetector
from twinkit.analytics.shapes import ShapeMemory

PERIOD = 36  # a sawtooth: ramps up over 36 values, then drops


def sawtooth(i: int, reversed_from: int | None = None, length: int = 2 * PERIOD) -> float:
    phase = i % PERIOD
    if reversed_from is not None and reversed_from <= i < reversed_from + length:
        phase = PERIOD - 1 - phase  # same values, same range: only their order is wrong
    return phase / 3.5


def test_nearest_is_the_brute_force_distance() -> None:
    rng = np.random.default_rng(0)
    memory = ShapeMemory(capacity=16, width=6, vigilance=0.5)
    assert memory.nearest(np.zeros(6), 0.0) == (-1, 0.0)
    for _ in range(200):
        window = np.clip(rng.normal(0, 3, 6), -50, 50)
        best, distance = memory.nearest(window, float(window @ window))
        prototypes = memory.prototypes[: memory.used]
        brute = np.sqrt(((prototypes - window) ** 2).mean(axis=1)) if memory.used else None
        if brute is not None:
            assert best == int(brute.argmin())
            assert abs(distance - float(brute.min())) < 1e-9
        memory.learn(window, best, distance)


def test_a_known_shape_is_matched_and_a_new_one_stored() -> None:
    memory = ShapeMemory(capacity=4, width=3, vigilance=0.5)
    ramp = np.array([0.0, 1.0, 2.0])
    memory.learn(ramp, *memory.nearest(ramp, float(ramp @ ramp)))
    close = ramp + 0.1
    best, distance = memory.nearest(close, float(close @ close))
    assert best == 0 and abs(distance - 0.1) < 1e-9
    memory.learn(close, best, distance)
    assert memory.used == 1  # matched: the prototype moved towards it instead
    drop = np.array([2.0, 1.0, 0.0])
    memory.learn(drop, *memory.nearest(drop, float(drop @ drop)))
    assert memory.used == 2


def test_memory_is_bounded_and_forgets_the_least_used_shape() -> None:
    memory = ShapeMemory(capacity=8, width=4, vigilance=0.1)
    common = np.array([1.0, 1.0, 1.0, 1.0])
    for _ in range(50):
        memory.learn(common, *memory.nearest(common, 4.0))
    rng = np.random.default_rng(1)
    for _ in range(500):  # a stream of never-repeating windows
        window = rng.normal(0, 5, 4)
        memory.learn(window, *memory.nearest(window, float(window @ window)))
    assert memory.used == 8 and memory.prototypes.shape == (8, 4)
    _, distance = memory.nearest(common, 4.0)
    assert distance < 1e-9  # the much-used shape kept its slot
    clone = pickle.loads(pickle.dumps(memory))
    probe = rng.normal(0, 5, 4)
    assert clone.nearest(probe, float(probe @ probe)) == memory.nearest(probe, float(probe @ probe))


def _scores(detector: SignalDetector, n: int, reversed_from: int) -> list[tuple[float, str]]:
    rng = random.Random(3)
    out = []
    for i in range(n):
        value = {"x": sawtooth(i, reversed_from) + rng.gauss(0, 0.2)}
        kind = detector.explain_one(value).kind or ""
        out.append((detector.process_one(value), kind))
    return out


def test_a_pattern_wrong_only_in_its_order_is_caught_as_a_shape() -> None:
    start = 6000
    scores = _scores(SignalDetector(), start + 200, start)
    normal = max(s for s, _ in scores[start - 1000 : start])
    score, kind = max(scores[start : start + 2 * PERIOD])
    assert normal < 0.6
    assert score >= 0.8 and kind == "shape"
    # per-value statistics alone barely notice it
    blind = _scores(SignalDetector(block=0), start + 200, start)
    assert max(s for s, _ in blind[start : start + 2 * PERIOD]) < 0.6


def test_an_echo_of_an_alarm_is_damped_but_a_stronger_event_is_not() -> None:
    rng = random.Random(4)
    detector = SignalDetector()
    for _ in range(3000):
        detector.process_one({"x": rng.gauss(10.0, 1.0)})
    first = detector.process_one({"x": 18.0})
    echo_raw = detector.score_one({"x": 17.0})  # already damped: it follows the alarm
    later = [detector.process_one({"x": rng.gauss(10.0, 1.0)}) for _ in range(20)]
    stronger = detector.process_one({"x": 60.0})  # (surprises are judged against records,
    # and the first alarm just set one: "stronger" means clearly bigger)
    assert first >= 0.8
    assert echo_raw < 0.5  # an echo: halved, well below any alert threshold
    assert max(later) < 0.5
    assert stronger >= 0.8  # a bigger event inside the quiet period still alarms


def test_use_weights_are_renormalised_before_they_overflow() -> None:
    memory = ShapeMemory(capacity=3, width=2, vigilance=0.1)
    for window in ([0.0, 0.0], [5.0, 5.0], [0.0, 0.0], [9.0, 9.0]):
        point = np.array(window)
        memory.learn(point, *memory.nearest(point, float(point @ point)))
    assert memory.uses[1] < memory.uses[2]  # the newer shape counts more
    memory.unit = 1e100  # as after ~1.4 million values
    point = np.array([0.0, 0.0])
    memory.learn(point, *memory.nearest(point, 0.0))
    assert memory.unit < 2.0 and all(np.isfinite(memory.uses))
    assert memory.uses.index(max(memory.uses)) == 0  # the order survives
    assert memory.uses[1] < memory.uses[2]
