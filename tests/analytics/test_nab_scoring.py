"""NAB's scoring rules on tiny hand-made series whose scores can be worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinkit.analytics.nab_scoring import (
    REWARD_LOW_FN,
    STANDARD,
    CostProfile,
    SeriesResult,
    normalised_scores,
    perfect_score,
    probation_length,
    scaled_sigmoid,
    score_corpus,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


def stamps(n: int) -> list[datetime]:
    return [START + timedelta(minutes=i) for i in range(n)]


def series(scores: list[float], windows: list[tuple[int, int]], name: str = "s") -> SeriesResult:
    ts = stamps(len(scores))
    return SeriesResult(name, ts, scores, [(ts[a], ts[b]) for a, b in windows])


def test_probation_is_15_percent_capped_at_750_rows() -> None:
    assert probation_length(100) == 15
    assert probation_length(4033) == 604
    assert probation_length(22695) == pytest.approx(750)


def test_scaled_sigmoid_matches_nab_reference_points() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


def test_detection_at_window_start_earns_exactly_tp_weight() -> None:
    # 100 rows: probation 15; window rows 40..49; one detection at row 40.
    scores = [0.0] * 100
    scores[40] = 1.0
    result = score_corpus([series(scores, [(40, 49)])], [STANDARD])["standard"]
    assert result.threshold == 1.0
    assert result.raw == pytest.approx(1.0)
    assert (result.windows_detected, result.windows_scored) == (1, 1)


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    scores = [0.0] * 100
    scores[45] = 0.9  # half-way: width 10, position -(49-45+1)/10 = -0.5
    scores[48] = 1.0
    result = score_corpus([series(scores, [(40, 49)])], [STANDARD])["standard"]
    # Threshold 0.9 includes both rows; the earlier one (row 45) is worth more.
    assert result.threshold == 0.9
    assert result.raw == pytest.approx(scaled_sigmoid(-0.5) / scaled_sigmoid(-1.0))


def test_false_positive_before_any_window_costs_full_fp_weight() -> None:
    scores = [0.0] * 100
    scores[20] = 1.0  # outside windows, no window before it
    scores[40] = 1.0  # window start
    cost = CostProfile("custom", tp=1.0, fp=0.5, fn=1.0)
    result = score_corpus([series(scores, [(40, 49)])], [cost])["custom"]
    assert result.raw == pytest.approx(1.0 - 0.5)
    assert result.fp == 1


def test_false_positive_just_after_a_window_is_milder() -> None:
    scores = [0.0] * 100
    scores[40] = 1.0
    scores[51] = 1.0  # 2 rows after the right edge (49): position 2 / (10 - 1)
    cost = CostProfile("custom", tp=1.0, fp=1.0, fn=1.0)
    result = score_corpus([series(scores, [(40, 49)])], [cost])["custom"]
    assert result.raw == pytest.approx(1.0 + scaled_sigmoid(2 / 9))


def test_optimiser_prefers_missing_a_window_over_many_false_positives() -> None:
    scores = [0.0] * 100
    for i in range(20, 40):
        scores[i] = 0.8  # 20 false positives at the same score as the window hit
    scores[45] = 0.8
    cost = CostProfile("custom", tp=1.0, fp=0.5, fn=1.0)
    result = score_corpus([series(scores, [(40, 49)])], [cost])["custom"]
    assert result.threshold == 1.1  # never fire
    assert result.raw == -1.0


def test_probation_rows_and_windows_are_ignored() -> None:
    scores = [0.0] * 100
    scores[5] = 1.0  # a detection in probation: neither FP nor TP
    result = score_corpus([series(scores, [(2, 8), (60, 69)])], [STANDARD])["standard"]
    assert result.windows_scored == 1  # the window inside probation does not count
    assert result.raw == -1.0  # the other window is missed; the probation hit is free


def test_one_threshold_for_the_whole_corpus() -> None:
    a = [0.0] * 100
    a[40] = 0.6
    b = [0.0] * 100
    b[40] = 0.9
    b[80] = 0.7  # a false positive between the two hits
    cost = CostProfile("custom", tp=1.0, fp=0.11, fn=1.0)
    result = score_corpus([series(a, [(40, 49)], "a"), series(b, [(40, 49)], "b")], [cost])
    best = result["custom"]
    # At 0.6 both windows are hit at their first row and one FP after b's window is paid.
    fp = 0.11 * scaled_sigmoid(abs(49 - 80) / 9)
    assert best.threshold == 0.6
    assert best.raw == pytest.approx(2.0 + fp)
    assert best.per_series == pytest.approx({"a": 1.0, "b": 1.0 + fp})


def test_normalised_score_is_0_for_null_and_100_for_perfect() -> None:
    perfect = [0.0] * 100
    perfect[40] = 1.0
    results = [series(perfect, [(40, 49)])]
    scores = normalised_scores(results, [STANDARD, REWARD_LOW_FN])
    assert scores == pytest.approx({"standard": 100.0, "reward_low_FN_rate": 100.0})
    silent = [series([0.0] * 100, [(40, 49)])]
    assert normalised_scores(silent, [STANDARD])["standard"] == pytest.approx(0.0)
    assert perfect_score(results, REWARD_LOW_FN) == 1.0


def test_reward_low_fn_profile_doubles_the_miss_penalty() -> None:
    scores = [0.0] * 100
    result = score_corpus([series(scores, [(40, 49)])], [REWARD_LOW_FN])
    assert result["reward_low_FN_rate"].raw == -2.0
    assert not math.isnan(result["reward_low_FN_rate"].threshold)


@st.composite
def corpora(draw: st.DrawFn) -> list[SeriesResult]:
    out = []
    for k in range(draw(st.integers(1, 3))):
        n = draw(st.integers(20, 60))
        scores = draw(
            st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=n, max_size=n)
        )
        cuts = sorted(draw(st.sets(st.integers(0, n - 1), max_size=4)))
        windows = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
        out.append(series(scores, windows, name=f"s{k}"))
    return out


@given(corpora())
@settings(max_examples=60, deadline=None)
def test_optimised_threshold_is_the_best_of_every_candidate(results: list[SeriesResult]) -> None:
    from twinkit.analytics.nab_scoring import _prepare, score_at

    corpus = _prepare(results)
    candidates = {row.score for row in corpus.rows} | {1.1}
    brute = max(score_at(corpus.rows, corpus.windows, STANDARD, c)[0] for c in candidates)
    best = score_corpus(results, [STANDARD])["standard"]
    assert best.raw == pytest.approx(brute)
    assert sum(best.per_series.values()) == pytest.approx(best.raw)
