"""DTDL conformance and speed: run the official case files through ``twinkit.dtdl.parse``.

Usage: ``python bench/dtdl_conformance.py [DIR ...] [--out FILE] [--no-speed]``

For every case file (an array of cases, or one case object = index 0) it compares our
accept/reject verdict with ``valid`` and, where a case lists ``expect.parsingErrors``,
the exact set of error IDs. It prints agreement per folder and per DTDL version, then
the time to validate a generated 1,000-interface ontology beside the time to
``json.load`` the same files (the baseline).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twinkit.dtdl import ParseOptions, parse
from twinkit.dtdl.loading import load_paths

DATA = Path("/work/shared/data/dtdl")
DEFAULT_DIRS = [DATA / "v2" / "spec", DATA / "v3" / "spec", DATA / "parser-cases"]
_VERSION = re.compile(r"dtmi:dtdl:context;(\d+)")


def _cases(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    return data if isinstance(data, list) else [data]


def _version(path: Path, case: dict[str, Any]) -> str:
    match = re.search(r"V(\d)\.json$", path.name)
    if match:
        return f"v{match.group(1)}"
    found = _VERSION.search(json.dumps(case.get("input", [])))
    return f"v{found.group(1)}" if found else "v?"


def _expected_ids(case: dict[str, Any]) -> set[str] | None:
    errors = (case.get("expect") or {}).get("parsingErrors")
    if not errors:
        return None
    return {e.get("ValidationID") or e.get("validationID") for e in errors}


def _resolver(case: dict[str, Any]) -> Callable[[list[str]], list[Any]] | None:
    """Answer the parser's requests from the case's recorded ``resolution`` exchanges."""
    exchanges = case.get("resolution") or case.get("partialResolution")
    if not exchanges:
        return None

    def resolve(dtmis: list[str]) -> list[Any]:
        found: list[Any] = []
        for exchange in exchanges:
            if set(exchange.get("request", [])) & set(dtmis):
                found.extend(exchange.get("response") or [])
        return found

    return resolve


class Tally:
    def __init__(self) -> None:
        self.cases = 0
        self.verdicts = 0
        self.with_ids = 0
        self.exact_ids = 0

    def line(self, label: str) -> str:
        verdict = 100.0 * self.verdicts / self.cases if self.cases else 0.0
        ids = 100.0 * self.exact_ids / self.with_ids if self.with_ids else float("nan")
        return (
            f"{label:<28} cases {self.cases:>6}  verdict {verdict:6.2f}%  "
            f"error-IDs {ids:6.2f}% (of {self.with_ids})"
        )


def run(dirs: list[Path], out: Path | None) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    sink = out.open("w", encoding="utf-8") if out else None
    try:
        for folder in dirs:
            for path in sorted(folder.glob("*.json")):
                for index, case in enumerate(_cases(path)):
                    result = parse(
                        case.get("input", []),
                        options=ParseOptions.from_flags(
                            case.get("options") or [], case.get("maxDtdlVersion")
                        ),
                        resolver=_resolver(case),
                    )
                    accepted = result.ok
                    ids = sorted({e.validation_id for e in result.errors})
                    expected = _expected_ids(case)
                    label = (
                        f"{folder.parent.name}/{folder.name}"
                        if folder.name == "spec"
                        else (folder.name)
                    )
                    for key in (
                        label,
                        f"{label} {_version(path, case)}",
                        f"all {_version(path, case)}",
                    ):
                        tally = tallies[key]
                        tally.cases += 1
                        tally.verdicts += accepted == case["valid"]
                        if expected is not None:
                            tally.with_ids += 1
                            tally.exact_ids += set(ids) == expected
                    if sink:
                        sink.write(
                            json.dumps(
                                {
                                    "file": str(path),
                                    "index": index,
                                    "valid": case["valid"],
                                    "accepted": accepted,
                                    "error_ids": ids,
                                }
                            )
                            + "\n"
                        )
    finally:
        if sink:
            sink.close()
    return tallies


def ontology(folder: Path, count: int = 1000) -> None:
    """Write ``count`` interfaces in ``count // 10`` files: extends chains, components,
    relationships, named schemas and semantic types, like a building ontology."""
    per_file = 10
    for start in range(0, count, per_file):
        docs = []
        for i in range(start, min(start + per_file, count)):
            contents: list[dict[str, Any]] = [
                {
                    "@type": ["Property", "Temperature"],
                    "name": f"temperature{i}",
                    "schema": "double",
                    "unit": "degreeCelsius",
                    "writable": True,
                },
                {"@type": "Telemetry", "name": f"reading{i}", "schema": f"dtmi:bench:Reading{i};1"},
                {
                    "@type": "Command",
                    "name": f"reset{i}",
                    "request": {"name": "mode", "schema": "string"},
                    "response": {"name": "ok", "schema": "boolean"},
                },
                {
                    "@type": "Relationship",
                    "name": f"feeds{i}",
                    "target": f"dtmi:bench:I{(i + 1) % count};1",
                    "properties": [{"@type": "Property", "name": "since", "schema": "dateTime"}],
                },
            ]
            if i % 10:
                contents.append(
                    {
                        "@type": "Component",
                        "name": f"part{i}",
                        "schema": f"dtmi:bench:I{i - i % 10};1",
                    }
                )
            docs.append(
                {
                    "@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"],
                    "@id": f"dtmi:bench:I{i};1",
                    "@type": "Interface",
                    "displayName": {"en": f"Interface {i}"},
                    "extends": [f"dtmi:bench:I{i - 1};1"] if i % 10 else [],
                    "schemas": [
                        {
                            "@id": f"dtmi:bench:Reading{i};1",
                            "@type": "Object",
                            "fields": [
                                {"name": "value", "schema": "double"},
                                {
                                    "name": "quality",
                                    "schema": {
                                        "@type": "Enum",
                                        "valueSchema": "string",
                                        "enumValues": [
                                            {"name": "good", "enumValue": "good"},
                                            {"name": "bad", "enumValue": "bad"},
                                        ],
                                    },
                                },
                                {
                                    "name": "tags",
                                    "schema": {
                                        "@type": "Map",
                                        "mapKey": {"name": "k", "schema": "string"},
                                        "mapValue": {"name": "v", "schema": "string"},
                                    },
                                },
                            ],
                        }
                    ],
                    "contents": contents,
                }
            )
        (folder / f"part{start // per_file:04d}.json").write_text(json.dumps(docs))


def _best(action: Callable[[], object], runs: int = 3) -> tuple[float, float]:
    """Best wall-clock and CPU seconds over ``runs`` (the machine may be shared)."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(runs):
        begin_wall, begin_cpu = time.perf_counter(), time.process_time()
        action()
        wall = min(wall, time.perf_counter() - begin_wall)
        cpu = min(cpu, time.process_time() - begin_cpu)
    return wall, cpu


def speed() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ontology(folder)
        files = sorted(folder.glob("*.json"))

        def baseline() -> None:
            for path in files:
                with path.open(encoding="utf-8") as handle:
                    json.load(handle)

        base_wall, base_cpu = _best(baseline)
        result = load_paths([folder])
        wall, cpu = _best(lambda: load_paths([folder]))
        status = "ok" if result.ok else f"{len(result.errors)} errors"
        print(
            f"1,000-interface ontology ({len(files)} files, {status}, "
            f"{len(result.interfaces)} interfaces): load_paths {wall:.3f} s wall / {cpu:.3f} s CPU"
            f" vs json.load {base_wall:.3f} s wall / {base_cpu:.3f} s CPU "
            f"(x{wall / base_wall:.0f}); target < 2 s"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dirs", nargs="*", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args(argv)
    dirs = args.dirs or DEFAULT_DIRS
    begin = time.perf_counter()
    tallies = run(dirs, args.out)
    for key in sorted(tallies):
        print(tallies[key].line(key))
    print(f"conformance run took {time.perf_counter() - begin:.1f} s")
    if not args.no_speed:
        speed()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
