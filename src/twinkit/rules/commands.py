"""``twinkit rules validate|dry-run|apply``: rule files checked, replayed and installed.

* ``validate PATH...`` — parse every rule and detection entry; one line per file.
* ``dry-run PATH --twin ID [--rule ID] [--db FILE] [--start ISO] [--end ISO]`` — replay the
  twin's journal in a db file through the file's rules and print when each would have fired.
* ``apply PATH (--url URL | --db FILE)`` — post the rules to a running server, or keep them in
  a db file for its next ``serve``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import httpx

from twinkit.model.errors import ValidationFailed
from twinkit.model.time import parse_time
from twinkit.platform import Platform
from twinkit.rules.dry_run import dry_run
from twinkit.rules.engine import RuleEngine
from twinkit.rules.loading import read_config
from twinkit.rules.rule import Rule


def add_rules_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``twinkit rules …`` on the CLI's subparsers."""
    rules = sub.add_parser("rules", help="validate, dry-run or apply rule files")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    validate = rules_sub.add_parser("validate", help="check rule files (YAML or JSON)")
    validate.add_argument("paths", nargs="+")
    replay = rules_sub.add_parser("dry-run", help="replay a twin's history through the rules")
    replay.add_argument("path")
    replay.add_argument("--twin", required=True)
    replay.add_argument("--rule", help="only this rule")
    replay.add_argument("--db", default="twinkit.db")
    replay.add_argument("--start")
    replay.add_argument("--end")
    apply = rules_sub.add_parser("apply", help="install the rules on a server or in a db file")
    apply.add_argument("path")
    target = apply.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
    target.add_argument("--db", help="a db file")


def rules_command(args: argparse.Namespace) -> int:
    if args.rules_command == "validate":
        return _validate(args.paths)
    if args.rules_command == "dry-run":
        if not Path(args.db).exists():
            raise ValidationFailed(f"no db file at {args.db}", "/db")
        return asyncio.run(_dry_run(args))
    return asyncio.run(_apply(args))


def _read(path: str) -> tuple[list[Rule], int]:
    rules, detections = read_config(path)
    return rules, len(detections)


def _validate(paths: list[str]) -> int:
    for path in paths:
        rules, detections = _read(path)
        print(f"{path}: ok, {len(rules)} rules, {detections} detection entries")
    return 0


async def _dry_run(args: argparse.Namespace) -> int:
    rules, _ = _read(args.path)
    if args.rule:
        rules = [r for r in rules if r.id == args.rule]
        if not rules:
            raise ValidationFailed(f"{args.path} has no rule {args.rule!r}", "/rule")
    start = parse_time(args.start, "/start") if args.start else None
    end = parse_time(args.end, "/end") if args.end else None
    async with Platform.open(args.db) as platform:
        for rule in rules:
            report = await dry_run(platform, rule, args.twin, start=start, end=end)
            print(f"{rule.id}: {report.events} events, fired {len(report.firings)} transitions")
            for firing in report.firings:
                values = ", ".join(f"{k}={v}" for k, v in firing.values.items())
                print(f"  {firing.to_json()['at']}  {firing.transition:7s}  {values}")
    return 0


async def _apply(args: argparse.Namespace) -> int:
    rules, _ = _read(args.path)
    sources = [dict(r.source) for r in rules if r.source is not None]
    if args.url:
        async with httpx.AsyncClient(base_url=args.url.rstrip("/")) as client:
            response = await client.post("/api/v1/rules", json=sources)
        if response.status_code >= 400:
            error = response.json().get("error", {})
            raise ValidationFailed(
                f"the server refused: {error.get('message')}", error.get("path", "")
            )
    else:
        async with Platform.open(args.db) as platform:
            engine = RuleEngine(platform)
            await engine.start(judge=False)  # installs them; the next serve judges
            await engine.add_many(rules)
            await engine.close()
    print(f"{args.path}: applied {len(rules)} rules")
    return 0
