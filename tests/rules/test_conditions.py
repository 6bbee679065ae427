"""Rule conditions: the query grammar plus window and related-twin functions."""

from __future__ import annotations

from typing import Any

import pytest

from twinkit.model.errors import ValidationFailed
from twinkit.rules import compile_rule_condition
from twinkit.rules.conditions import WindowCall
from twinkit.rules.windows import SeriesWindow, aggregate, window_value


def doc(**sections: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "p1", "reported": {}, "desired": {}, "telemetry": {}}
    return {**base, **sections}


def test_plain_conditions_mean_what_a_query_where_means() -> None:
    c = compile_rule_condition("temp > 5 AND desired.mode = 'eco'")
    assert c.holds(doc(reported={"temp": 6}, desired={"mode": "eco"}), {})
    assert not c.holds(doc(reported={"temp": 4}, desired={"mode": "eco"}), {})
    assert not c.holds(doc(desired={"mode": "eco"}), {})  # missing is not true
    assert c.windows == () and c.related == ()
    assert c.paths == (("reported", "temp"), ("desired", "mode"))


def test_window_calls_become_slots_and_repeats_share_one() -> None:
    c = compile_rule_condition(
        "avg(telemetry.temp, '5m') > 80"
        " OR (avg(telemetry.temp, '5m') > 70 AND rate(temp, '1m') > 2)"
    )
    assert [(w.func, w.series, w.span) for w in c.windows] == [
        ("avg", "telemetry/temp", 300.0),
        ("rate", "reported/temp", 60.0),
    ]
    first, second = (w.slot for w in c.windows)
    assert c.holds(doc(), {first: 85.0})
    assert not c.holds(doc(), {first: 75.0})
    assert c.holds(doc(), {first: 75.0, second: 3.0})
    assert not c.holds(doc(), {})  # undefined windows are not true
    assert c.values(doc(), {first: 75.0}) == {"avg(telemetry.temp, '5m')": 75.0}


def test_related_calls_take_a_relationship_a_path_and_an_aggregate() -> None:
    c = compile_rule_condition(
        "related('feeds', reported.level) > 90 AND incoming('contains', temp, 'avg') < 5"
    )
    out, inward = c.related
    assert (out.direction, out.relationship, out.path, out.agg) == (
        "out",
        "feeds",
        ("reported", "level"),
        "max",
    )
    assert (inward.direction, inward.relationship, inward.path, inward.agg) == (
        "in",
        "contains",
        ("reported", "temp"),
        "avg",
    )


def test_analytics_values_are_read_from_the_twin_document() -> None:
    c = compile_rule_condition("analytics.anomaly_score >= 0.9")
    assert c.holds(doc(analytics={"anomaly_score": 0.95}), {})
    assert not c.holds(doc(analytics={"anomaly_score": 0.5}), {})
    assert not c.holds(doc(reported={"analytics": {"anomaly_score": 0.95}}), {})


def test_strings_with_quotes_survive_the_rewrite() -> None:
    c = compile_rule_condition("name = 'it''s' AND avg(t, '1m') > 1")
    slot = c.windows[0].slot
    assert c.holds(doc(reported={"name": "it's"}), {slot: 2.0})


@pytest.mark.parametrize(
    "text",
    [
        "avg(telemetry.temp) > 1",
        "avg(telemetry.temp, 5) > 1",
        "avg(telemetry.temp, 'soon') > 1",
        "avg($dtId, '5m') > 1",
        "related(feeds, level) > 1",
        "related('feeds', level, 'median') > 1",
        "temp >",
        "",
        "frobnicate(temp) > 1",
    ],
)
def test_invalid_conditions_are_refused_with_a_pointer(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        compile_rule_condition(text, "/rules/0/when")
    assert caught.value.path == "/rules/0/when"


def call(func: str, span: float = 60.0) -> WindowCall:
    return WindowCall("$w", func, "telemetry/t", (), span, "")


def test_window_functions_over_the_last_span() -> None:
    w = SeriesWindow(keep=120.0)
    for t, v in [(0, 1.0), (30, 2.0), (60, 4.0), (90, 8.0)]:
        w.add(t, v)
    now = 90.0  # the last 60 s: points at 60 and 90 (30 is exactly 60 s old: left out)
    assert window_value(call("avg"), w, now) == 6.0
    assert window_value(call("min"), w, now) == 4.0
    assert window_value(call("max"), w, now) == 8.0
    assert window_value(call("sum"), w, now) == 12.0
    assert window_value(call("count"), w, now) == 2
    assert window_value(call("delta"), w, now) == 4.0
    assert window_value(call("rate"), w, now) == pytest.approx(4.0 / 30.0)
    assert window_value(call("avg", 10.0), w, 200.0) is None  # no points: undefined
    assert window_value(call("count", 10.0), w, 200.0) == 0
    assert window_value(call("rate", 10.0), w, 90.0) is None  # one point has no rate


def test_windows_keep_late_points_in_order_and_trim_old_ones() -> None:
    w = SeriesWindow(keep=100.0)
    w.add(10, 1.0)
    w.add(50, 3.0)
    w.add(30, 2.0)  # late
    assert w.times == [10, 30, 50]
    w.add(200, 9.0)
    assert w.times == [200]
    w.prepend([(150, 5.0), (190, 6.0), (250, 7.0)])  # only points older than the first held
    assert w.times == [150, 190, 200]


def test_non_numbers_are_skipped_by_numeric_window_functions() -> None:
    w = SeriesWindow(keep=100.0)
    for t, v in [(1, 1.0), (2, "x"), (3, True), (4, 3.0)]:
        w.add(t, v)
    assert window_value(call("avg"), w, 4.0) == 2.0
    assert window_value(call("count"), w, 4.0) == 4


def test_related_aggregates() -> None:
    assert aggregate("max", [1, 5.0, "x"]) == 5.0
    assert aggregate("avg", [1, 3]) == 2.0
    assert aggregate("count", [1, 3]) == 2
    assert aggregate("sum", []) is None


def test_running_sums_stay_right_after_old_points_are_trimmed() -> None:
    w = SeriesWindow(keep=60.0)
    for t in range(0, 600, 10):
        w.add(float(t), float(t))
    # held: 530..590; the last 30 s: 570, 580, 590
    assert window_value(call("avg", 30.0), w, 590.0) == 580.0
    assert window_value(call("sum", 60.0), w, 590.0) == sum(range(540, 600, 10))
    assert window_value(call("count", 1000.0), w, 590.0) == 7
