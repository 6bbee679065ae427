"""The detector runtime on a live platform: scores on the twin, alerts, back-pressure, restarts."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.rules.conftest import MODELS, PUMP_MODEL
from twinkit import Platform
from twinkit.analytics_runtime import DetectorRuntime, parse_detections
from twinkit.model.errors import NotFound, ValidationFailed
from twinkit.model.events import EventKind
from twinkit.testing import FrozenClock

TEMPERATURE = {
    "name": "temp",
    "model": PUMP_MODEL,
    "signals": ["temperature"],
    "detector": "signal",
    "threshold": 0.9,
    "clear_below": 0.5,
    "clear_after": "2m",
    "severity": "critical",
}


@pytest.fixture
async def memory_tk(clock: FrozenClock) -> Any:
    async with Platform.open(None, clock=clock) as tk:
        await tk.models.add(MODELS)
        yield tk


async def stream(
    tk: Platform,
    clock: FrozenClock,
    twin: str,
    values: list[float],
    step: float = 10.0,
    signal: str = "temperature",
) -> None:
    """Send values in batches of 50 (one commit each), ``step`` seconds apart."""
    for start in range(0, len(values), 50):
        items = []
        for value in values[start : start + 50]:
            items.append((twin, {signal: value}, clock.now()))
            clock.advance(step)
        await tk.twins.telemetry_batch(items)


def normal(n: int, seed: int = 1, mean: float = 20.0, sd: float = 0.5) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


async def test_an_injected_anomaly_reaches_the_twin_and_raises_then_clears_an_alert(
    memory_tk: Platform, clock: FrozenClock
) -> None:
    tk = memory_tk
    await tk.twins.put("p1", model=PUMP_MODEL)
    runtime = DetectorRuntime(tk, parse_detections({"detection": [TEMPERATURE]}))
    await runtime.start()
    try:
        await stream(tk, clock, "p1", normal(600))
        await runtime.settle()
        assert runtime.alerts.list() == []
        await stream(tk, clock, "p1", [35.0])  # a spike, 30 sigma
        await runtime.settle()
        doc = (await tk.twins.get("p1")).document()
        assert doc["analytics"]["anomaly_score"] >= 0.9
        assert doc["analytics"]["anomaly_contributions"] == {"temperature": 1.0}
        [alert] = runtime.alerts.list(twin="p1")
        assert (alert["source"], alert["severity"]) == ("detector:temp", "critical")
        assert alert["cause"]["values"] == {"temperature": 35.0}
        assert alert["cause"]["score"] >= 0.9
        await stream(tk, clock, "p1", normal(30, seed=2))  # 5 minutes of normal again
        await runtime.settle()
        assert runtime.alerts.list() == []
        kinds = [e.kind for e in await tk.journal.events("p1", limit=None)]
        assert kinds.count(EventKind.ALERT_RAISED) == kinds.count(EventKind.ALERT_CLEARED) == 1
        # the score is also a series in history
        points = await tk.history.read("p1", "analytics/anomaly_score")
        assert max(v for _, v in points) >= 0.9
    finally:
        await runtime.close()


async def test_results_are_rate_limited(memory_tk: Platform, clock: FrozenClock) -> None:
    tk = memory_tk
    await tk.twins.put("p1", model=PUMP_MODEL)
    runtime = DetectorRuntime(tk, parse_detections([TEMPERATURE]))
    await runtime.start()
    try:
        await stream(tk, clock, "p1", normal(1200), step=1.0)  # 20 minutes at 1 Hz
        await runtime.settle()
    finally:
        await runtime.close()
    assert runtime.stats.scored == 1200
    written = [
        e
        for e in await tk.journal.events("p1", limit=None)
        if e.kind is EventKind.ANALYTICS_UPDATED
    ]
    assert len(written) == runtime.stats.written
    assert 20 <= len(written) <= 120  # about one or two a minute plus a few band crossings


async def test_scoring_never_holds_up_ingestion_and_counts_what_it_drops(
    memory_tk: Platform, clock: FrozenClock
) -> None:
    tk = memory_tk
    await tk.twins.put("p1", model=PUMP_MODEL)
    runtime = DetectorRuntime(tk, parse_detections([TEMPERATURE]), max_pending=10)
    await runtime.start()
    try:
        items = [("p1", {"temperature": v}, None) for v in normal(200)]
        results = await tk.twins.telemetry_batch(items)  # published in one go: the queue overflows
        assert all(not isinstance(r, Exception) for r in results)
        await runtime.settle()
    finally:
        await runtime.close()
    assert runtime.stats.dropped == 190
    assert runtime.stats.scored == 10


async def test_a_multivariate_detector_blames_the_signal_that_broke_the_relation(
    memory_tk: Platform, clock: FrozenClock
) -> None:
    tk = memory_tk
    await tk.twins.put("p1", model=PUMP_MODEL)
    entry = {
        "name": "pump",
        "model": PUMP_MODEL,
        "detector": "multivariate",
        "signals": ["current", "pressure", "vibration"],
        # a Mahalanobis score is a chi-square probability: 5% of normal samples score >= 0.95
        "threshold": 0.99999,
        "clear_below": 0.99,
    }
    runtime = DetectorRuntime(tk, parse_detections([entry]))
    await runtime.start()
    rng = random.Random(0)

    def sample(load: float, fault: float = 0.0) -> dict[str, float]:
        return {
            "current": 10 + load + rng.gauss(0, 0.05),
            "pressure": 3 + 0.2 * load + rng.gauss(0, 0.02),
            "vibration": 2 + 0.5 * load + fault + rng.gauss(0, 0.05),
        }

    try:
        for _ in range(10):
            await tk.twins.telemetry_batch(
                [("p1", sample(rng.gauss(0, 1)), None) for _ in range(100)]
            )
        await tk.twins.telemetry("p1", sample(1.0, fault=-1.0))
        await runtime.settle()
        analytics = (await tk.twins.get("p1")).analytics
        assert analytics["anomaly_score"] >= 0.99999
        top = max(analytics["anomaly_contributions"].items(), key=lambda kv: kv[1])
        assert top[0] == "vibration"
        [alert] = runtime.alerts.list()
        assert alert["source"] == "detector:pump"
    finally:
        await runtime.close()


async def test_new_twins_start_from_the_fleet_prior(
    memory_tk: Platform, clock: FrozenClock
) -> None:
    tk = memory_tk
    entry = {**TEMPERATURE, "fleet_prior": True, "prior_after": 200}
    runtime = DetectorRuntime(tk, parse_detections([entry]))
    await runtime.start()
    try:
        for twin in ("a", "b"):
            await tk.twins.put(twin, model=PUMP_MODEL)
        await stream(tk, clock, "a", normal(150, seed=3))
        await stream(tk, clock, "b", normal(150, seed=4))
        await tk.twins.put("new", model=PUMP_MODEL)
        await stream(tk, clock, "new", [25.0])
        await runtime.settle()
        learnt = await runtime.detector("new", "temp/temperature")
        assert abs(learnt.mean - 20.0) < 1.0  # type: ignore[attr-defined]  # the fleet's level
        await tk.twins.put("solo", model=PUMP_MODEL)
        no_prior = DetectorRuntime(tk, parse_detections([TEMPERATURE]))
        fresh = await no_prior.detector("solo", "temp/temperature")
        assert fresh.n == 0  # type: ignore[attr-defined]
    finally:
        await runtime.close()


async def test_a_restarted_detector_scores_exactly_like_one_never_stopped(
    tmp_path: Path, clock: FrozenClock
) -> None:
    values = normal(700, seed=9)
    values[650] = 30.0
    path = tmp_path / "state.db"
    scores: list[tuple[float, float]] = []

    def collect(twin: str, key: str, moment: float, score: float) -> None:
        scores.append((moment, score))

    async with Platform.open(path, clock=clock) as tk:
        await tk.models.add(MODELS)
        await tk.twins.put("p1", model=PUMP_MODEL)
        runtime = DetectorRuntime(
            tk, parse_detections([TEMPERATURE]), checkpoint_every=3600, on_scored=collect
        )
        await runtime.start()
        await stream(tk, clock, "p1", values[:400])
        await runtime.close()  # checkpoints on the way down
    assert len(scores) == 400
    async with Platform.open(path, clock=clock) as tk:
        runtime = DetectorRuntime(tk, parse_detections([TEMPERATURE]), on_scored=collect)
        await runtime.start()
        await stream(tk, clock, "p1", values[400:])
        await runtime.settle()
        await runtime.close()
    restarted = [s for _, s in scores[400:]]
    reference = parse_detections([TEMPERATURE])[0].create()
    start = scores[0][0]
    expected = [
        reference.process_one({"temperature": v}, start + 10.0 * i) for i, v in enumerate(values)
    ][400:]
    assert restarted == expected
    assert max(restarted) >= 0.9  # and it is not a detector that scores everything 0


async def test_states_are_checkpointed_periodically(
    memory_tk: Platform, clock: FrozenClock
) -> None:
    tk = memory_tk
    await tk.twins.put("p1", model=PUMP_MODEL)
    runtime = DetectorRuntime(tk, parse_detections([TEMPERATURE]), checkpoint_every=0)
    await runtime.start()
    try:
        await stream(tk, clock, "p1", normal(60))
        await runtime.settle()
        assert runtime.stats.checkpoints >= 1
        assert await tk.store.load_detector_state("p1", "temp/temperature") is not None
    finally:
        await runtime.close()


@pytest.mark.parametrize(
    ("entry", "pointer"),
    [
        ({"model": PUMP_MODEL}, "/detection/0/signals"),
        ({"signals": ["t"]}, "/detection/0/model"),
        ({"model": PUMP_MODEL, "signals": ["t"], "detector": "magic"}, "/detection/0/detector"),
        ({"model": PUMP_MODEL, "signals": ["t"], "threshold": 2}, "/detection/0/threshold"),
        ({"model": PUMP_MODEL, "signals": ["t"], "params": {"nope": 1}}, "/detection/0/params"),
        ({"model": PUMP_MODEL, "signals": ["t"], "colour": "red"}, "/detection/0/colour"),
    ],
)
def test_invalid_detection_config_points_at_the_field(entry: dict[str, Any], pointer: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_detections({"detection": [entry]})
    assert caught.value.path == pointer


def test_the_per_model_form_of_the_analytics_package_is_accepted() -> None:
    entries = parse_detections(
        {
            "detection": {
                PUMP_MODEL: {
                    "temp": {"detector": "signal", "signal": "temperature", "threshold": 0.8},
                    "pump": {"detector": "multivariate", "signals": ["current", "pressure"]},
                }
            }
        }
    )
    temp, pump = entries
    assert (temp.name, temp.model, temp.signals, temp.threshold) == (
        "temp",
        PUMP_MODEL,
        ("temperature",),
        0.8,
    )
    assert temp.params == {"signal": "temperature"}
    assert (pump.detector, pump.signals, pump.multivariate) == (
        "multivariate",
        ("current", "pressure"),
        True,
    )


async def test_evicted_detectors_continue_where_they_were(
    memory_tk: Platform, clock: FrozenClock
) -> None:
    tk = memory_tk
    twins = ["a", "b", "c"]
    series = {t: normal(120, seed=i) for i, t in enumerate(twins)}
    scores: dict[str, list[float]] = {t: [] for t in twins}
    for twin in twins:
        await tk.twins.put(twin, model=PUMP_MODEL)
    runtime = DetectorRuntime(
        tk,
        parse_detections([TEMPERATURE]),
        max_live=1,  # every sample of another twin evicts the last one
        on_scored=lambda twin, key, moment, score: scores[twin].append(score),
    )
    await runtime.start()
    try:
        start = clock.now().timestamp()
        for i in range(120):
            await tk.twins.telemetry_batch(
                [(t, {"temperature": series[t][i]}, clock.now()) for t in twins]
            )
            clock.advance(10)
        await runtime.settle()
    finally:
        await runtime.close()
    for twin in twins:
        reference = parse_detections([TEMPERATURE])[0].create()
        expected = [
            reference.process_one({"temperature": v}, start + 10.0 * i)
            for i, v in enumerate(series[twin])
        ]
        assert scores[twin] == expected


async def test_deleting_a_twin_drops_its_detectors(memory_tk: Platform, clock: FrozenClock) -> None:
    tk = memory_tk
    await tk.twins.put("p1", model=PUMP_MODEL)
    runtime = DetectorRuntime(tk, parse_detections([TEMPERATURE]))
    await runtime.start()
    try:
        await stream(tk, clock, "p1", normal(10))
        await runtime.settle()
        await tk.twins.delete("p1")
        await runtime.settle()
        assert await runtime.checkpoint() == 0
    finally:
        await runtime.close()


async def test_the_fleet_prior_can_be_trained_from_history(
    memory_tk: Platform, clock: FrozenClock
) -> None:
    tk = memory_tk
    for twin, seed in (("a", 5), ("b", 6)):
        await tk.twins.put(twin, model=PUMP_MODEL)
        await stream(tk, clock, twin, normal(150, seed=seed, mean=50.0))
    await tk.twins.put("other", model="dtmi:acme:Tank;1")
    entry = {**TEMPERATURE, "fleet_prior": True, "prior_after": 250}
    runtime = DetectorRuntime(tk, parse_detections([entry]))
    await runtime.start()  # after the history was written: nothing live taught the fleet
    try:
        assert await runtime.train_prior("temp") == 300
        await tk.twins.put("new", model=PUMP_MODEL)
        await stream(tk, clock, "new", [52.0])
        await runtime.settle()
        learnt = await runtime.detector("new", "temp/temperature")
        assert abs(learnt.mean - 50.0) < 1.0  # type: ignore[attr-defined]
        with pytest.raises(NotFound):
            await runtime.train_prior("nope")
    finally:
        await runtime.close()
