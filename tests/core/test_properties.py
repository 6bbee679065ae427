"""Invariants of the state contract, checked on random histories (hypothesis)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinkit import TwinkitError
from twinkit.model.interface import SCHEMALESS, ModelRegistry
from twinkit.testing import FrozenClock, memory_platform
from twinkit.twins.contract import section_change
from twinkit.twins.state import delta, replay

names = st.sampled_from(["a", "b", "c", "d"])
scalars = st.one_of(st.integers(-5, 5), st.booleans(), st.text("xyz", max_size=2))
values = st.one_of(scalars, st.dictionaries(names, scalars, max_size=2))
merge_patches = st.dictionaries(names, st.one_of(st.none(), values), min_size=1, max_size=3)
ops = st.one_of(
    st.tuples(st.just("reported"), merge_patches),
    st.tuples(st.just("desired"), merge_patches),
    st.tuples(st.just("telemetry"), st.dictionaries(names, st.integers(0, 9), min_size=1)),
    st.tuples(st.just("replace"), st.dictionaries(names, values, max_size=3)),
)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@settings(max_examples=60, deadline=None)
@given(st.lists(ops, min_size=1, max_size=25))
def test_journal_replay_rebuilds_state_and_revisions_grow(history: list[Any]) -> None:
    async def scenario() -> None:
        clock = FrozenClock()
        async with memory_platform(clock) as tk:
            await tk.twins.put("t")
            states = [await tk.twins.get("t")]
            for kind, body in history:
                clock.advance(1)
                if kind == "telemetry":
                    await tk.twins.telemetry("t", body)
                elif kind == "replace":
                    await tk.twins.put("t", reported=body)
                else:
                    await tk.twins.patch("t", kind, body)
                states.append(await tk.twins.get("t"))
            events = await tk.journal.events("t", limit=None)
            assert [e.revision for e in events] == list(range(1, len(states) + 1))
            assert replay("t", events) == states[-1]
            for revision in range(1, len(states) + 1):
                assert replay("t", events[:revision]) == states[revision - 1]
                old = await tk.journal.as_of("t", revision=revision)
                assert old.document() == states[revision - 1].document()

    run(scenario())


@given(st.dictionaries(names, values), st.dictionaries(names, values))
def test_delta_is_empty_exactly_when_every_desired_value_is_reported(
    desired: dict[str, Any], reported: dict[str, Any]
) -> None:
    def covered(want: Any, have: Any) -> bool:
        if isinstance(want, dict) and isinstance(have, dict):
            return all(k in have and covered(v, have[k]) for k, v in want.items())
        return bool(want == have)

    everything_reported = all(k in reported and covered(v, reported[k]) for k, v in desired.items())
    assert (delta(desired, reported) == {}) == everything_reported
    assert delta(desired, {**reported, **desired}) == {}


# RFC 7396, Appendix A: (target, patch, result)
RFC7396 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC7396)
def test_merge_patch_matches_rfc7396_examples(
    target: dict[str, Any], patch: dict[str, Any], result: dict[str, Any]
) -> None:
    change = section_change(
        target,
        patch,
        json_patch=False,
        section="reported",
        model=SCHEMALESS,
        registry=ModelRegistry(),
    )
    rebuilt = {k: v for k, v in target.items() if k not in change["removed"]}
    rebuilt.update(change["set"])
    assert rebuilt == result


# RFC 6902, Appendix A (A.1, A.2, A.3, A.4, A.5, A.6, A.7, A.8, A.10, A.16)
RFC6902 = [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    (
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    (
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),
    (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2},
        ],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    (
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC6902)
def test_json_patch_matches_rfc6902_examples(
    target: dict[str, Any], patch: list[Any], result: dict[str, Any]
) -> None:
    change = section_change(
        target,
        patch,
        json_patch=True,
        section="reported",
        model=SCHEMALESS,
        registry=ModelRegistry(),
    )
    rebuilt = {k: v for k, v in target.items() if k not in change["removed"]}
    rebuilt.update(change["set"])
    assert rebuilt == result


@pytest.mark.parametrize(
    "patch",
    [
        [{"op": "add", "path": "/baz/bat", "value": "qux"}],  # A.12: parent missing
        [{"op": "test", "path": "/foo", "value": "nope"}],  # A.9: test fails
        [{"op": "frobnicate", "path": "/foo"}],
        {"op": "add"},
    ],
)
def test_json_patch_errors_are_twinkit_errors(patch: Any) -> None:
    with pytest.raises(TwinkitError):
        section_change(
            {"foo": "bar"},
            patch,
            json_patch=True,
            section="reported",
            model=SCHEMALESS,
            registry=ModelRegistry(),
        )
