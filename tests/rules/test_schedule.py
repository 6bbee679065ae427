"""The deadline heap: one entry per (rule, twin), earliest first, bounded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from twinkit.rules.schedule import Schedule


def test_deadlines_come_due_in_clock_order_with_their_twin_time_and_lag() -> None:
    schedule = Schedule()
    schedule.arm(("r", "a"), 100.0)
    schedule.arm(("r", "b"), 50.0, lag=30.0)  # due at 80 by the clock
    schedule.arm(("s", "a"), 200.0)
    assert schedule.next_due() == 80.0
    assert schedule.take(99.0) == [(("r", "b"), 50.0, 30.0)]
    assert schedule.take(1000.0) == [(("r", "a"), 100.0, 0.0), (("s", "a"), 200.0, 0.0)]
    assert len(schedule) == 0 and schedule.next_due() is None


def test_a_deadline_moved_later_is_not_taken_early_and_adds_no_entry() -> None:
    schedule = Schedule()
    for step in range(1000):  # a streaming twin: every sample moves its deadline on
        schedule.arm(("r", "a"), 300.0 + step)
    assert len(schedule._heap) == 1
    assert schedule.take(500.0) == []  # the old entry is re-queued at the new deadline
    assert schedule.take(1299.0) == [(("r", "a"), 1299.0, 0.0)]


def test_disarming_a_twin_or_a_rule_removes_its_deadlines() -> None:
    schedule = Schedule()
    for rule in ("r", "s"):
        for twin in ("a", "b"):
            schedule.arm((rule, twin), 10.0)
    schedule.disarm_twin("a")
    schedule.disarm_rule("s")
    schedule.arm(("r", "b"), None)
    assert len(schedule) == 0
    assert schedule.take(100.0) == []


def test_the_number_of_deadlines_and_heap_entries_is_bounded() -> None:
    schedule = Schedule(limit=10)
    for twin in range(20):
        schedule.arm(("r", str(twin)), 100.0)
    assert len(schedule) == 10 and schedule.dropped == 10
    for step in range(5000):  # deadlines moving earlier each queue a new entry
        schedule.arm(("r", str(step % 10)), 99.0 - step / 100)
    assert len(schedule._heap) <= 2 * len(schedule) + 1024
    assert len(schedule.take(100.0)) == 10


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["arm", "disarm", "take"]),
            st.sampled_from([("r", "a"), ("r", "b"), ("s", "a")]),
            st.floats(0, 100, allow_nan=False),
            st.sampled_from([0.0, 5.0]),
        ),
        max_size=60,
    )
)
def test_the_heap_takes_exactly_what_a_plain_dict_says_is_due(
    ops: list[tuple[str, tuple[str, str], float, float]],
) -> None:
    schedule = Schedule()
    model: dict[tuple[str, str], tuple[float, float]] = {}
    for op, key, moment, lag in ops:
        if op == "arm":
            schedule.arm(key, moment, lag)
            model[key] = (moment, lag)
        elif op == "disarm":
            schedule.disarm(key)
            model.pop(key, None)
        else:
            taken = schedule.take(moment)
            due = sorted((a + g, k) for k, (a, g) in model.items() if a + g <= moment)
            assert sorted((a + g, k) for k, a, g in taken) == due
            assert [a + g for _, a, g in taken] == sorted(a + g for _, a, g in taken)
            for _, k in due:
                del model[k]
        assert len(schedule) == len(model)
