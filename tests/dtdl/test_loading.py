"""Loading files and folders: one batch, references resolved across files."""

from __future__ import annotations

import json
from pathlib import Path

from twinkit.dtdl import format_error, load_paths

from .cases import interface, prop


def _write(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")


def test_folders_are_read_recursively_and_resolved_across_files(tmp_path: Path) -> None:
    _write(tmp_path / "base.json", interface("dtmi:test:Base;1", [prop("serial", "string")]))
    _write(tmp_path / "pumps" / "pump.json", interface(extends="dtmi:test:Base;1"))
    _write(tmp_path / "pumps" / "notes.txt", "not a model")
    result = load_paths([tmp_path])
    assert result.ok, result.errors
    assert sorted(i.id for i in result.interfaces) == ["dtmi:test:Base;1", "dtmi:test:Pump;1"]


def test_files_and_arrays_of_interfaces(tmp_path: Path) -> None:
    _write(tmp_path / "many.json", [interface(f"dtmi:test:P{i};1") for i in range(3)])
    result = load_paths([str(tmp_path / "many.json")])
    assert [i.id for i in result.interfaces] == [
        "dtmi:test:P0;1",
        "dtmi:test:P1;1",
        "dtmi:test:P2;1",
    ]


def test_errors_name_the_file_and_pointer(tmp_path: Path) -> None:
    target = tmp_path / "pump.json"
    _write(target, interface(contents=[prop("speed", "doubel")]))
    result = load_paths([tmp_path])
    assert [format_error(e) for e in result.errors] == [
        f"dtmi:dtdl:parsingError:badDtmiOrTerm {target}#/contents/0/schema: "
        "'doubel' is neither a DTMI nor a term",
        f"dtmi:dtdl:parsingError:objectCountBelowMin {target}#/contents/0/schema: "
        "'schema' has no valid value",
    ]


def test_bulk_ontology(tmp_path: Path) -> None:
    for part in range(20):
        docs = [
            interface(
                f"dtmi:test:I{part * 50 + i};1",
                [prop(f"p{part * 50 + i}")],
                extends=[f"dtmi:test:I{part * 50 + i - 1};1"] if i % 10 else [],
            )
            for i in range(50)
        ]
        _write(tmp_path / f"part{part}.json", docs)
    result = load_paths([tmp_path])
    assert result.ok, result.errors[:3]
    assert len(result.interfaces) == 1000
