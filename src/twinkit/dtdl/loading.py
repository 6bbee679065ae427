"""Load DTDL files and folders: the one I/O edge of :mod:`twinkit.dtdl`.

Every ``*.json`` under the given folders (recursively) is read and validated as one batch,
so references resolve across files. Unreadable files become errors, never exceptions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from twinkit.dtdl.errors import PREFIX, ParsingError
from twinkit.dtdl.parsing import ParseOptions, ParseResult, Resolver, parse

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Larger files are refused (the reference parser's partition limit is 1 MiB per Interface)."""


def load_paths(
    paths: list[str | Path],
    *,
    options: ParseOptions | None = None,
    resolver: Resolver | None = None,
) -> ParseResult:
    """Validate every DTDL file in ``paths`` (files or folders) as one batch."""
    files: list[Path] = []
    errors: list[ParsingError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(_file_error(str(path), "no such file or folder"))
    documents: list[Any] = []
    names: list[str] = []
    for file in files:
        document, problem = read_document(file)
        if problem is not None:
            errors.append(_file_error(str(file), problem))
            continue
        documents.append(document)
        names.append(str(file))
    result = parse(documents, options=options, resolver=resolver, names=names)
    if errors:
        return ParseResult([], [*errors, *result.errors], result.unresolved)
    return result


def read_document(file: Path) -> tuple[Any, str | None]:
    """Read one JSON file (UTF-8, with or without BOM); a reason instead of an exception."""
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            return None, f"file is larger than {MAX_FILE_BYTES} bytes"
        data = file.read_bytes()
    except OSError as exc:
        return None, f"cannot read file: {exc.strerror or exc}"
    return decode_document(data)


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_document(data: bytes) -> tuple[Any, str | None]:
    """Decode JSON bytes; UTF-16/32 with a BOM are accepted, other encodings are errors."""
    codec = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        return None, f"not valid {codec} text at byte {exc.start}"
    try:
        return json.loads(text), None
    except RecursionError:
        return None, "JSON nesting is too deep"
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


def _file_error(name: str, message: str) -> ParsingError:
    return ParsingError(PREFIX + "invalidJson", message, name, "")
