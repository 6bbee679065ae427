"""Rule files: YAML or JSON, one rule, a list of rules, or ``{"rules": [...]}``.

The same file may also carry ``detection:`` (see :mod:`twinkit.analytics_runtime`); each
loader reads its own key and ignores the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from twinkit.model.errors import ValidationFailed
from twinkit.rules.rule import Rule, parse_rule

if TYPE_CHECKING:
    from twinkit.analytics_runtime import Detection


def read_document(text: str | bytes, where: str = "") -> Any:
    """YAML (JSON is a subset of it), with a readable error naming the line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ValidationFailed(f"not valid YAML or JSON{at}", where) from None


def rule_documents(document: Any) -> list[tuple[Any, str]]:
    """The rule mappings of a parsed document, each with the JSON pointer it sits at."""
    if isinstance(document, dict) and "rules" in document:
        rules = document["rules"]
        if not isinstance(rules, list):
            raise ValidationFailed("rules is a list", "/rules")
        return [(item, f"/rules/{i}") for i, item in enumerate(rules)]
    if isinstance(document, list):
        return [(item, f"/{i}") for i, item in enumerate(document)]
    if isinstance(document, dict) and "id" in document:
        return [(document, "")]
    if isinstance(document, dict) and "detection" in document:
        return []
    raise ValidationFailed("expected a rule, a list of rules or {rules: [...]}", "")


def parse_rules(document: Any) -> list[Rule]:
    """Every rule of a parsed document; the first invalid one raises (all or nothing)."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for item, where in rule_documents(document):
        rule = parse_rule(item, where)
        if rule.id in seen:
            raise ValidationFailed(f"rule id {rule.id!r} is used twice", f"{where}/id")
        seen.add(rule.id)
        rules.append(rule)
    return rules


def load_rules(path: str | Path) -> list[Rule]:
    """The rules of a YAML or JSON file."""
    return parse_rules(read_document(Path(path).read_text(encoding="utf-8")))


def read_config(path: str | Path) -> tuple[list[Rule], list[Detection]]:
    """The rules and the detection entries of one YAML or JSON file; errors name the file."""
    from twinkit.analytics_runtime import parse_detections  # the runtime imports rules

    try:
        document = read_document(Path(path).read_text(encoding="utf-8"))
        rules = parse_rules(document) if document else []
        detections = parse_detections(document) if isinstance(document, dict) else []
    except ValidationFailed as exc:
        raise ValidationFailed(f"{path}: {exc.message}", exc.path) from None
    return rules, detections
