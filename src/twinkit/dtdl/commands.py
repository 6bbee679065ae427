"""``twinkit models validate PATH...`` and ``twinkit models import PATH...``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import httpx

from twinkit.dtdl.errors import format_error
from twinkit.dtdl.export import to_json
from twinkit.dtdl.loading import load_paths
from twinkit.model.errors import TwinkitError


def models_command(args: argparse.Namespace) -> int:
    if args.models_command == "validate":
        return validate(args.paths)
    return asyncio.run(import_models(args.paths, args.db, args.url))


def validate(paths: list[str]) -> int:
    """Exit 0 when every file is valid; otherwise 1 and one line per error."""
    result = load_paths([Path(p) for p in paths])
    for error in result.errors:
        print(format_error(error), file=sys.stdout)
    if result.errors:
        return 1
    print(f"{len(result.interfaces)} interfaces valid")
    return 0


async def import_models(paths: list[str], db: str, url: str | None) -> int:
    result = load_paths([Path(p) for p in paths])
    for error in result.errors:
        print(format_error(error), file=sys.stderr)
    if result.errors:
        return 1
    documents = [to_json(interface) for interface in result.interfaces]
    if url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            response = await client.post("/api/v1/models", json=documents)
        if response.status_code >= 400:
            error = response.json().get("error", {})
            print(f"twinkit: {error.get('message')} (at {error.get('path')})", file=sys.stderr)
            return 1
    else:
        from twinkit.platform import Platform

        async with Platform.open(db) as tk:
            new = [d for d in documents if d["@id"] not in tk.registry]
            if new:
                try:
                    await tk.models.add(new)
                except TwinkitError as exc:
                    print(f"twinkit: {exc}", file=sys.stderr)
                    return 1
    print(f"imported {len(documents)} interfaces")
    return 0
