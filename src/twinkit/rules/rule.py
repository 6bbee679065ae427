"""What a rule is: which twins it watches, the condition, how long it must hold, what it does.

A rule is declared as data (YAML or JSON, see docs/rules.md) or written as a Python function
(:func:`twinkit.rules.rule`). Both become one frozen :class:`Rule`; declared rules keep their
source mapping so the API can show and persist exactly what was posted.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from twinkit.model.errors import ValidationFailed
from twinkit.model.time import parse_duration
from twinkit.rules.conditions import Condition, compile_rule_condition

SEVERITIES = ("info", "warning", "critical")
ACTION_KINDS = ("alert", "clear_alert", "set_desired", "command", "webhook")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")

Check = Callable[[Any], "bool | Awaitable[bool]"]
"""A Python rule's check: gets a :class:`twinkit.rules.engine.TwinView`, says whether it holds."""


@dataclass(frozen=True, slots=True)
class Action:
    """One thing a rule does when it fires (or clears): ``kind`` and its options."""

    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    condition: Condition | None = None  # None: a Python rule with only a check
    check: Check | None = None
    models: tuple[str, ...] = ()
    twins: tuple[str, ...] = ()
    hold: float = 0.0  # seconds the condition must stay true ("for: 2m")
    actions: tuple[Action, ...] = ()
    on_clear: tuple[Action, ...] = ()
    description: str = ""
    windows: Mapping[str, float] = field(default_factory=dict)  # Python rules: series → seconds
    source: Mapping[str, Any] | None = None  # the declaration, for declared rules

    @property
    def alert(self) -> Action | None:
        return next((a for a in self.actions if a.kind == "alert"), None)

    @property
    def alert_source(self) -> str:
        return f"rule:{self.id}"

    @property
    def timed(self) -> bool:
        """Whether time alone can change what the rule says (windows, ``age()``, ``for:``):
        such rules are judged again on a timer, not only when a value arrives."""
        condition = self.condition
        return bool(
            self.hold > 0
            or self.windows
            or (condition is not None and (condition.windows or condition.ages))
        )

    def describe(self) -> dict[str, Any]:
        """The rule as the API shows it."""
        if self.source is not None:
            return {**self.source, "kind": "declared"}
        return {
            "id": self.id,
            "kind": "python",
            "when": self.condition.text if self.condition else None,
            "models": list(self.models),
            "twins": list(self.twins),
            "for": f"{self.hold:g}s",
            "actions": [{a.kind: dict(a.options)} for a in self.actions],
            "description": self.description,
        }


def watches_model(rule: Rule, registry: Any, model: str | None) -> bool:
    """Whether ``rule`` watches twins of ``model`` (or of a model extending one of its own);
    ``registry`` resolves models (the platform's)."""
    if not rule.models:
        return True
    if model is None:
        return False
    try:
        resolved = registry.resolve(model)
    except Exception:
        return model in rule.models
    return any(resolved.is_a(m) for m in rule.models)


def parse_rule(raw: Any, where: str = "") -> Rule:
    """A declared rule from a mapping (one YAML or JSON rule); errors point into it."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed("a rule is an object with id, when and actions", where or "/")
    known = {
        "id",
        "when",
        "condition",
        "models",
        "model",
        "twins",
        "for",
        "actions",
        "on_clear",
        "description",
        "severity",
        "message",
    }
    for key in raw:
        if key not in known:
            raise ValidationFailed(f"unknown rule field {key!r}", f"{where}/{key}")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
        raise ValidationFailed(
            "a rule needs an id of letters, digits and _ . : - (at most 128)", f"{where}/id"
        )
    key = "when" if "when" in raw else "condition"
    try:
        condition = compile_rule_condition(raw.get(key, ""), f"{where}/{key}")
    except ValidationFailed as exc:  # name the rule: a file holds many
        raise ValidationFailed(f"rule {rule_id!r}: {exc.message}", exc.path) from None
    models = _names(raw.get("models", raw.get("model", ())), f"{where}/models")
    twins = _names(raw.get("twins", ()), f"{where}/twins")
    hold = 0.0
    if raw.get("for") is not None:
        hold = seconds(raw["for"], f"{where}/for")
    actions = _actions(raw.get("actions", ()), f"{where}/actions")
    if "severity" in raw or "message" in raw:  # shorthand: a rule that only raises an alert
        shorthand = {k: raw[k] for k in ("severity", "message") if k in raw}
        actions = (*actions, _action({"alert": shorthand}, f"{where}/severity"))
    if not actions:
        raise ValidationFailed("a rule needs at least one action", f"{where}/actions")
    if sum(a.kind == "alert" for a in actions) > 1:
        raise ValidationFailed("a rule raises at most one alert", f"{where}/actions")
    on_clear = _actions(raw.get("on_clear", ()), f"{where}/on_clear")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ValidationFailed("description is text", f"{where}/description")
    return Rule(
        id=rule_id,
        condition=condition,
        models=models,
        twins=twins,
        hold=hold,
        actions=actions,
        on_clear=on_clear,
        description=description,
        source=dict(raw),
    )


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ValidationFailed("a list of names", where)
    return tuple(value)


def seconds(value: Any, where: str) -> float:
    """A duration given as seconds or as text like ``30s``, ``2m``, ``1h``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        return parse_duration(value, where).total_seconds()
    raise ValidationFailed("a duration like 30s, 2m or 1h", where)


def _actions(raw: Any, where: str) -> tuple[Action, ...]:
    if not isinstance(raw, list | tuple):
        raise ValidationFailed("a list of actions", where)
    return tuple(_action(item, f"{where}/{i}") for i, item in enumerate(raw))


def _action(raw: Any, where: str) -> Action:
    if isinstance(raw, str) and raw in ("alert", "clear_alert"):
        raw = {raw: {}}
    if not isinstance(raw, Mapping) or len(raw) != 1:
        kinds = ", ".join(ACTION_KINDS)
        raise ValidationFailed(f"an action is one of {{{kinds}: options}}", where)
    kind, options = next(iter(raw.items()))
    where = f"{where}/{kind}"
    if kind not in ACTION_KINDS:
        raise ValidationFailed(f"unknown action {kind!r} (known: {', '.join(ACTION_KINDS)})", where)
    return Action(kind, _CHECKS[kind](options if options is not None else {}, where))


def _alert(options: Any, where: str) -> dict[str, Any]:
    if not isinstance(options, Mapping):
        raise ValidationFailed("alert takes {severity, message, name, clear}", where)
    severity = options.get("severity", "warning")
    if severity not in SEVERITIES:
        raise ValidationFailed(f"severity is one of {', '.join(SEVERITIES)}", f"{where}/severity")
    clear = options.get("clear", "auto")
    if clear not in ("auto", "manual"):
        raise ValidationFailed(
            "clear is 'auto' (when the condition ends) or 'manual'", f"{where}/clear"
        )
    message = options.get("message")
    if message is not None and not isinstance(message, str):
        raise ValidationFailed("message is text", f"{where}/message")
    return {**options, "severity": severity, "clear": clear}


def _clear_alert(options: Any, where: str) -> dict[str, Any]:
    if isinstance(options, str):
        options = {"source": options}
    if not isinstance(options, Mapping) or not isinstance(options.get("source", ""), str):
        raise ValidationFailed("clear_alert takes {source: 'rule:<id>' | 'detector:<name>'}", where)
    return dict(options)


def _set_desired(options: Any, where: str) -> dict[str, Any]:
    if not isinstance(options, Mapping) or not options:
        raise ValidationFailed("set_desired takes the desired values to set", where)
    return dict(options)


def _command(options: Any, where: str) -> dict[str, Any]:
    if isinstance(options, str):
        options = {"name": options}
    if not isinstance(options, Mapping) or not isinstance(options.get("name"), str):
        raise ValidationFailed("command takes {name, payload, timeout, ttl}", where)
    for key in ("timeout", "ttl"):
        if key in options:
            options = {**options, key: seconds(options[key], f"{where}/{key}")}
    return dict(options)


def _webhook(options: Any, where: str) -> dict[str, Any]:
    if isinstance(options, str):
        options = {"url": options}
    if not isinstance(options, Mapping):
        raise ValidationFailed("webhook takes {url, headers, timeout}", where)
    url = options.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValidationFailed("webhook needs an http(s) url", f"{where}/url")
    headers = options.get("headers", {})
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ValidationFailed("headers map names to text", f"{where}/headers")
    if "timeout" in options:
        options = {**options, "timeout": seconds(options["timeout"], f"{where}/timeout")}
    return dict(options)


_CHECKS: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "alert": _alert,
    "clear_alert": _clear_alert,
    "set_desired": _set_desired,
    "command": _command,
    "webhook": _webhook,
}


def python_rule(
    rule_id: str,
    check: Check | None = None,
    *,
    when: str | None = None,
    models: tuple[str, ...] | list[str] = (),
    twins: tuple[str, ...] | list[str] = (),
    hold: str | float = 0.0,
    actions: list[Any] | tuple[Any, ...] = ("alert",),
    on_clear: list[Any] | tuple[Any, ...] = (),
    windows: Mapping[str, str | float] | None = None,
    description: str = "",
) -> Rule:
    """A rule whose check is Python (and/or a ``when`` condition; both must hold)."""
    if check is None and when is None:
        raise ValidationFailed("a Python rule needs a check function or a when condition", "")
    if not _RULE_ID.match(rule_id):
        raise ValidationFailed("a rule id is letters, digits and _ . : -", "/id")
    spans = {
        series.replace(".", "/"): seconds(span, f"/windows/{series}")
        for series, span in (windows or {}).items()
    }
    return Rule(
        id=rule_id,
        condition=compile_rule_condition(when) if when is not None else None,
        check=check,
        models=tuple(models),
        twins=tuple(twins),
        hold=seconds(hold, "/for"),
        actions=_actions(list(actions), "/actions"),
        on_clear=_actions(list(on_clear), "/on_clear"),
        description=description or (check.__doc__ or "" if check else "").strip(),
        windows=spans,
    )
