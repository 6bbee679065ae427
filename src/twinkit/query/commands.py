"""``twinkit query "SELECT …"``: against a running server (``--url``) or a db file (``--db``).

Rows print as a table (twin documents shortened to id, model and reported) or,
with ``--json``, as a JSON array. Every failure is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

import httpx
import orjson

from twinkit.model.errors import NotFound, TwinkitError

MAX_CELL = 60


class ServerError(TwinkitError):
    """The server refused the query or could not be reached."""

    code = "server_error"


def query_command(args: argparse.Namespace) -> int:
    try:
        if not args.url and not Path(args.db).is_file():
            raise NotFound(f"no database at {args.db} (give --db PATH or --url)", "/db")
        rows = asyncio.run(_rows(args))
    except TwinkitError as exc:
        print(f"twinkit: {exc.message}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_table(rows, sys.stdout)
    return 0


async def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.url:
        return await rows_from_server(args.url, args.text)
    return await rows_from_file(Path(args.db), args.text)


async def rows_from_file(path: Path, text: str) -> list[dict[str, Any]]:
    from twinkit.platform import Platform
    from twinkit.query.service import Query

    async with Platform.open(path) as platform:
        return await Query(platform).all(text)


async def rows_from_server(
    url: str, text: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> list[dict[str, Any]]:
    """Every row, following the server's continuation tokens."""
    rows: list[dict[str, Any]] = []
    token: str | None = None
    endpoint = url.rstrip("/") + "/api/v1/query"
    async with httpx.AsyncClient(timeout=60.0, transport=transport) as client:
        while True:
            try:
                answer = await client.post(endpoint, json={"query": text, "continuation": token})
            except httpx.HTTPError as exc:
                raise ServerError(f"cannot reach {url}: {exc}") from None
            if answer.status_code >= 400:
                raise ServerError(_error_message(answer))
            page = answer.json()
            rows.extend(page.get("items", []))
            token = page.get("continuation")
            if not token:
                return rows


def _error_message(answer: httpx.Response) -> str:
    try:
        message = answer.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = answer.text.strip() or answer.reason_phrase
    return f"{message} (HTTP {answer.status_code})"


def _shorten(row: dict[str, Any]) -> dict[str, Any]:
    if "$dtId" in row and "etag" in row:
        return {"$dtId": row["$dtId"], "model": row.get("model"), "reported": row.get("reported")}
    return row


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def print_table(rows: list[dict[str, Any]], out: TextIO) -> None:
    """A plain text table; nested values are shown as compact JSON."""
    shown = [_shorten(r) for r in rows]
    columns: list[str] = []
    for row in shown:
        columns.extend(k for k in row if k not in columns)
    if not columns:
        out.write(f"({len(rows)} rows)\n")
        return
    cells = [[_cell(r[c]) if c in r else "" for c in columns] for r in shown]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for line in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
