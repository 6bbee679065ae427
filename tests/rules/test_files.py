"""Rule files: loading, validation errors naming the file, the CLI and the combined start-up."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.rules.conftest import MODELS, PUMP_MODEL
from twinkit import Platform
from twinkit.model.errors import ValidationFailed
from twinkit.rules import load_rules
from twinkit.rules.automation import start_automation
from twinkit.rules.commands import add_rules_parser, rules_command
from twinkit.rules.loading import read_config
from twinkit.testing import FrozenClock

CONFIG = f"""
rules:
  - id: pump-hot
    models: [{PUMP_MODEL}]
    when: telemetry.temperature > 80
    actions:
      - alert: {{severity: critical, message: "{{twin}} is hot"}}
  - id: anomalous
    models: [{PUMP_MODEL}]
    when: analytics.anomaly_score >= 0.9
    actions: [{{set_desired: {{mode: safe}}}}]
detection:
  - name: temp
    model: {PUMP_MODEL}
    signals: [temperature]
"""


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_holds_rules_and_detection(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    assert [r.id for r in load_rules(path)] == ["pump-hot", "anomalous"]
    rules, detections = read_config(path)
    assert [d.name for d in detections] == ["temp"]
    assert rules[0].alert is not None and rules[0].alert.options["severity"] == "critical"


def test_json_files_and_errors_that_name_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, '[{"id": "a", "when": "rpm > 1", "actions": ["alert"]}]', "r.json")
    assert [r.id for r in load_rules(path)] == ["a"]
    bad = write(tmp_path, "rules:\n  - id: a\n    when: rpm >>> 1\n    actions: [alert]\n")
    with pytest.raises(ValidationFailed) as caught:
        read_config(bad)
    assert caught.value.path == "/rules/0/when" and "rules.yaml" in caught.value.message
    twice = write(
        tmp_path,
        "- {id: a, when: rpm > 1, actions: [alert]}\n- {id: a, when: rpm > 2, actions: [alert]}\n",
    )
    with pytest.raises(ValidationFailed, match="used twice"):
        read_config(twice)
    with pytest.raises(ValidationFailed, match="not valid YAML or JSON at line 2"):
        read_config(write(tmp_path, "rules: [\n"))


async def test_start_automation_runs_rules_and_detectors_from_one_file(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with Platform.open(None, clock=clock) as tk:
        await tk.models.add(MODELS)
        await tk.twins.put("p1", model=PUMP_MODEL)
        automation = await start_automation(tk, config=write(tmp_path, CONFIG))
        try:
            for i in range(300):
                await tk.twins.telemetry("p1", {"temperature": 20.0 + (i % 7) * 0.1})
                clock.advance(10)
            await tk.twins.telemetry("p1", {"temperature": 95.0})
            await automation.detectors.settle()
            await automation.rules.settle()
            sources = {a["source"] for a in automation.alerts.list(twin="p1")}
            assert sources == {"rule:pump-hot", "detector:temp"}
            assert (await tk.twins.get("p1")).desired == {"mode": "safe"}
        finally:
            await automation.close()


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_rules_parser(parser.add_subparsers(dest="command"))
    return rules_command(parser.parse_args(["rules", *argv]))


def test_cli_validate_apply_and_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    path = write(tmp_path, CONFIG)
    db = tmp_path / "plant.db"
    assert cli("validate", str(path)) == 0
    assert "ok, 2 rules, 1 detection entries" in capsys.readouterr().out

    async def history() -> None:
        async with Platform.open(db, clock=FrozenClock()) as tk:
            await tk.models.add(MODELS)
            await tk.twins.put("p1", model=PUMP_MODEL)
            for value in (70.0, 90.0, 60.0):
                await tk.twins.telemetry("p1", {"temperature": value})

    asyncio.run(history())
    assert cli("dry-run", str(path), "--twin", "p1", "--rule", "pump-hot", "--db", str(db)) == 0
    out = capsys.readouterr().out
    assert "pump-hot: 4 events, fired 2 transitions" in out
    assert "fired    telemetry.temperature=90.0" in out
    assert cli("apply", str(path), "--db", str(db)) == 0

    async def installed() -> list[str]:
        async with Platform.open(db) as tk:
            from twinkit.rules import RuleEngine

            engine = RuleEngine(tk)
            await engine.start()
            ids = [r.id for r in engine.list()]
            await engine.close()
            return ids

    assert asyncio.run(installed()) == ["anomalous", "pump-hot"]
    with pytest.raises(ValidationFailed):
        cli("dry-run", str(path), "--twin", "p1", "--db", str(tmp_path / "missing.db"))


def test_the_demo_config_is_valid() -> None:
    from twinkit.rules.automation import DEMO_CONFIG

    rules, detections = read_config(DEMO_CONFIG)
    assert len(rules) == 4 and len(detections) == 2


async def test_the_demo_config_fires_on_the_demo_fleet(clock: FrozenClock) -> None:
    from twinkit.demo.fleet import load_demo_fleet
    from twinkit.rules.automation import DEMO_CONFIG

    async with Platform.open(None, clock=clock) as tk:
        await load_demo_fleet(tk)
        automation = await start_automation(tk, config=DEMO_CONFIG)
        try:
            for _ in range(10):
                await tk.twins.telemetry("north-pump-1", {"temperature": 40.0, "flow": 120.0})
                await tk.twins.telemetry("north-tank-1", {"level": 1.5})
                clock.advance(10)
            await automation.rules.settle()
            sources = {(a["twin"], a["source"]) for a in automation.alerts.list()}
            assert ("north-pump-1", "rule:pump-hot") in sources
            assert ("north-tank-1", "rule:tank-high") in sources
        finally:
            await automation.close()
