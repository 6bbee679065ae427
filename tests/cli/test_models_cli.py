"""``twinkit models validate`` / ``import``: exit codes and one line per error."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from twinkit import Platform
from twinkit.cli import main

GOOD = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:t:Pump;1",
    "@type": "Interface",
    "contents": [{"@type": "Property", "name": "rpm", "schema": "double"}],
}
CHILD = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:t:BigPump;1",
    "@type": "Interface",
    "extends": "dtmi:t:Pump;1",
}
BAD = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:t:Bad;1",
    "@type": "Interface",
    "contents": [{"@type": "Property", "name": "x"}],
}


def write(folder: Path, name: str, doc: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


def test_validate_accepts_a_folder_resolving_across_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "pump.json", GOOD)
    write(tmp_path, "big.json", CHILD)
    assert main(["models", "validate", str(tmp_path)]) == 0
    assert "2 interfaces valid" in capsys.readouterr().out


def test_validate_prints_one_line_per_error_with_its_id_and_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "bad.json", BAD)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["models", "validate", str(bad), str(broken)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("dtmi:dtdl:parsingError:") or lines[1].startswith(
        "dtmi:dtdl:parsingError:"
    )
    assert any(f"{bad}#/contents/0" in line for line in lines)
    assert any(str(broken) in line for line in lines)


def test_import_into_a_db_file_is_idempotent(tmp_path: Path) -> None:
    write(tmp_path, "pump.json", GOOD)
    db = tmp_path / "t.db"
    assert main(["models", "import", str(tmp_path), "--db", str(db)]) == 0
    assert main(["models", "import", str(tmp_path), "--db", str(db)]) == 0

    async def known() -> list[str]:
        async with Platform.open(db) as tk:
            return [i.id for i in tk.models.list()]

    assert asyncio.run(known()) == ["dtmi:t:Pump;1"]


async def test_platform_refuses_invalid_dtdl_with_every_error_located() -> None:
    from twinkit.dtdl import ModelInvalid

    async with Platform.open() as tk:
        with pytest.raises(ModelInvalid) as caught:
            await tk.models.add([GOOD, BAD])
        body = caught.value.to_json()["error"]
        assert body["path"].startswith("/1/contents/0")
        assert body["errors"][0]["validationID"].startswith("dtmi:dtdl:parsingError:")
        assert len(tk.registry) == 0
        await tk.models.add(GOOD)
        await tk.models.add(CHILD)  # resolves its base against the stored model
        assert tk.registry.resolve("dtmi:t:BigPump;1").properties["rpm"].name == "rpm"
