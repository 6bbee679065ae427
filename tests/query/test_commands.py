"""``twinkit query``: a db file or a server, table or JSON, one-line errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx
import pytest

from twinkit import Platform
from twinkit.api.app import create_app
from twinkit.query.commands import query_command, rows_from_server


async def _make_db(path: Path) -> None:
    async with Platform.open(path) as tk:
        await tk.twins.put("pump-1", reported={"rpm": 1500, "name": "Feed"})
        await tk.twins.put("pump-2", reported={"rpm": 900})


def _args(text: str, db: Path, *, as_json: bool = False) -> argparse.Namespace:
    return argparse.Namespace(text=text, db=str(db), url=None, json=as_json)


async def test_prints_a_table_from_a_db_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "t.db"
    await _make_db(db)
    code = await _run(_args("SELECT T.$dtId, T.name FROM DIGITALTWINS T", db))
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].split() == ["$dtId", "name"]
    assert out[2].split() == ["pump-1", "Feed"]
    assert out[3].split() == ["pump-2"]
    assert out[-1] == "(2 rows)"


async def test_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "t.db"
    await _make_db(db)
    code = await _run(_args("SELECT COUNT() FROM DIGITALTWINS", db, as_json=True))
    assert code == 0
    assert json.loads(capsys.readouterr().out) == [{"COUNT": 2}]


async def test_errors_are_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "t.db"
    await _make_db(db)
    assert await _run(_args("SELECT * FROM", db)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("twinkit: syntax error at line 1")
    assert await _run(_args("SELECT * FROM DIGITALTWINS", tmp_path / "none.db")) == 1
    assert "no database" in capsys.readouterr().err


async def test_asks_a_server_and_follows_continuations(tmp_path: Path) -> None:
    async with Platform.open(None) as tk:
        for number in range(150):
            await tk.twins.put(f"t{number:03}", reported={"n": number})
        transport = httpx.ASGITransport(app=create_app(tk))
        rows = await rows_from_server(
            "http://test", "SELECT T.n FROM DIGITALTWINS T WHERE T.n >= 10", transport=transport
        )
        assert rows == [{"n": n} for n in range(10, 150)]
        with pytest.raises(Exception, match=r"unknown function NOPE.*HTTP 400"):
            await rows_from_server(
                "http://test", "SELECT * FROM DIGITALTWINS T WHERE NOPE(T.n)", transport=transport
            )


async def _run(args: argparse.Namespace) -> int:
    """query_command uses asyncio.run, so it runs in a worker thread here."""
    import asyncio

    return await asyncio.to_thread(query_command, args)
