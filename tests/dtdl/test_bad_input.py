"""Bad input is an error, never a crash or a hang."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from twinkit.dtdl import load_paths, parse

from .cases import interface, prop


def _ids(result: Any) -> list[str]:
    return [e.short_name() for e in result.errors]


def test_non_json_file(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"@context": ', encoding="utf-8")
    result = load_paths([tmp_path])
    assert _ids(result) == ["invalidJson"]
    assert "not valid JSON" in result.errors[0].message
    assert result.errors[0].document == str(tmp_path / "broken.json")


def test_wrong_encoding(tmp_path: Path) -> None:
    text = json.dumps(interface(description="Pumpe für Wasser"), ensure_ascii=False)
    (tmp_path / "latin1.json").write_bytes(text.encode("latin-1"))
    assert _ids(load_paths([tmp_path])) == ["invalidJson"]


def test_utf16_and_bom_are_read(tmp_path: Path) -> None:
    text = json.dumps(interface(description="Pumpe für Wasser"), ensure_ascii=False)
    (tmp_path / "a.json").write_bytes(text.encode("utf-16"))
    (tmp_path / "b.json").write_bytes(
        b"\xef\xbb\xbf" + json.dumps(interface("dtmi:test:B;1")).encode("utf-8")
    )
    result = load_paths([tmp_path])
    assert result.ok, result.errors
    assert len(result.interfaces) == 2


def test_missing_path(tmp_path: Path) -> None:
    assert _ids(load_paths([tmp_path / "nope.json"])) == ["invalidJson"]


def test_deeply_nested_document_is_refused_quickly() -> None:
    schema: Any = "double"
    for _ in range(5000):
        schema = {"@type": "Array", "elementSchema": schema}
    content = {"@type": "Property", "name": "deep", "schema": schema}
    result = parse([interface(contents=[content])])
    assert not result.ok
    assert "excessiveDepthNarrow" in _ids(result)


def test_deeply_nested_json_file(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = load_paths([tmp_path])
    assert not result.ok


def test_huge_interface_is_validated() -> None:
    contents = [prop(f"p{i}") for i in range(20_000)]
    result = parse([interface(contents=contents)])
    assert result.ok
    assert len(result.interfaces[0].contents) == 20_000


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "@context",
                    "@id",
                    "@type",
                    "contents",
                    "schema",
                    "name",
                    "extends",
                    "displayName",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(document=JSON)
def test_arbitrary_json_never_crashes(document: Any) -> None:
    result = parse([document])
    assert result.ok == (not result.errors)


@settings(max_examples=100, deadline=None)
@given(contents=st.lists(JSON, max_size=3), types=st.lists(st.text(max_size=12), max_size=3))
def test_arbitrary_contents_never_crash(contents: list[Any], types: list[str]) -> None:
    items = [{"@type": ["Property", *types], "name": "x", "schema": c} for c in contents]
    result = parse([interface(contents=items)])
    assert isinstance(result.errors, list)
