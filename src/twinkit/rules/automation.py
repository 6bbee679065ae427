"""Rules and live anomaly detection together, as ``twinkit serve`` runs them.

    automation = await start_automation(platform, commands=commands, config="rules.yaml")
    app.include_router(rules_router(automation.rules))
    ...
    await automation.close()

One YAML/JSON file may hold both ``rules:`` and ``detection:``; the rule engine and the
detector runtime share one :class:`Alerts` index. Rules from the file are added on every start
(replacing same-id rules kept from earlier runs); rules posted through the API are kept with the
platform and come back by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from twinkit.analytics_runtime import DetectorRuntime
from twinkit.platform import Platform
from twinkit.rules.actions import CommandSender
from twinkit.rules.alerts import Alerts
from twinkit.rules.engine import RuleEngine
from twinkit.rules.loading import read_config

DEMO_CONFIG = Path(__file__).with_name("demo.yaml")
"""Rules and detection for ``twinkit demo``'s simulated fleet."""


@dataclass(slots=True)
class Automation:
    rules: RuleEngine
    detectors: DetectorRuntime
    alerts: Alerts

    async def close(self) -> None:
        """Stop in order: detectors (checkpointing their states), rules, then the alert index."""
        await self.detectors.close()
        await self.rules.close()
        self.alerts.close()


async def start_automation(
    platform: Platform,
    *,
    commands: CommandSender | None = None,
    config: str | Path | None = None,
) -> Automation:
    """Start the rule engine and the detector runtime, configured from ``config`` if given."""
    rules, detections = read_config(config) if config is not None else ([], [])
    alerts = Alerts(platform)
    await alerts.start()
    engine = RuleEngine(platform, commands=commands, alerts=alerts)
    await engine.start()
    if rules:
        await engine.add_many(rules)
    runtime = DetectorRuntime(platform, detections, alerts=alerts)
    await runtime.start()
    return Automation(engine, runtime, alerts)
