"""Rules and alerts: conditions over twins (with windows and related twins) → actions.

See docs/rules.md. The public surface is pinned by ``__all__``.
"""

from twinkit.rules.actions import Firing
from twinkit.rules.alerts import Alerts
from twinkit.rules.conditions import Condition, compile_rule_condition
from twinkit.rules.dry_run import DryRun, dry_run
from twinkit.rules.engine import RuleEngine
from twinkit.rules.loading import load_rules, parse_rules
from twinkit.rules.routes import rules_router
from twinkit.rules.rule import Action, Rule, parse_rule, python_rule
from twinkit.rules.tracking import TwinView

__all__ = [
    "Action",
    "Alerts",
    "Condition",
    "DryRun",
    "Firing",
    "Rule",
    "RuleEngine",
    "TwinView",
    "compile_rule_condition",
    "dry_run",
    "load_rules",
    "parse_rule",
    "parse_rules",
    "python_rule",
    "rules_router",
]
