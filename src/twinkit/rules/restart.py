"""What the rule engine keeps across a restart, so a restart neither forgets nor repeats.

Rules themselves are kept with the platform (``engine.RULES_KEY``). Beside them, on a clean
close, the engine saves each (rule, twin)'s :class:`Hold` — since when its condition holds
(a pending ``for:``) and whether it fired — tagged with the rule's fingerprint, so a rule
changed in between starts afresh. After a crash nothing was saved; a rule's open alert in the
journal then still says that it fired. Deadlines are not saved at all: on start every timed
rule is judged once on the stored twins, which arms them again from the twins' metadata and
windows (see :mod:`twinkit.rules.schedule`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from twinkit.rules.rule import Rule
from twinkit.rules.tracking import Hold

HOLDS_KEY = ("$platform", "rule-holds")  # in the store's detector_states table


def fingerprint(rule: Rule) -> str:
    """Identifies a rule's definition (its API description)."""
    text = orjson.dumps(rule.describe(), option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha1(text, usedforsecurity=False).hexdigest()[:16]


def saved_holds(rules: Mapping[str, Rule], holds: Mapping[tuple[str, str], Hold]) -> bytes:
    """The holds worth keeping (pending or fired), by rule, as stored bytes."""
    saved: dict[str, Any] = {}
    for (rule_id, twin), hold in holds.items():
        rule = rules.get(rule_id)
        if rule is None or (hold.since is None and not hold.active):
            continue
        entry = saved.setdefault(rule_id, {"rule": fingerprint(rule), "holds": {}})
        entry["holds"][twin] = [hold.since, hold.active]
    return orjson.dumps(saved)


def restored_holds(
    rule: Rule, saved: Any, open_alerts: Iterable[Mapping[str, Any]]
) -> dict[str, Hold]:
    """``rule``'s holds by twin: those ``saved`` for this very definition, and a fired one
    wherever its alert is still open (an alert it clears itself, so still its to clear)."""
    holds: dict[str, Hold] = {}
    if isinstance(saved, dict) and saved.get("rule") == fingerprint(rule):
        for twin, (since, active) in saved.get("holds", {}).items():
            holds[twin] = Hold(since, bool(active))
    alert = rule.alert
    if alert is not None and alert.options.get("clear", "auto") == "auto":
        for open_alert in open_alerts:
            holds.setdefault(str(open_alert["twin"]), Hold()).active = True
    return holds
