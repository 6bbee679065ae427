"""Carrying out a rule's actions: alerts, desired values, commands, webhooks.

Actions of one firing run in order in their own task, so a slow webhook never holds up rule
evaluation; the firings of one (rule, twin) run one after the other, so a clear never
overtakes the fire before it. A failing action is logged and counted and does not stop the
next one: a rule that both raises an alert and calls a webhook still raises the alert when the
webhook is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import string
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from twinkit.model.events import Context
from twinkit.model.time import format_time
from twinkit.platform import Platform
from twinkit.rules.alerts import Alerts
from twinkit.rules.rule import Action, Rule

log = logging.getLogger(__name__)


class CommandSender(Protocol):
    """What ``twinkit.dispatch.Commands`` offers (only ``send`` is used)."""

    async def send(
        self,
        twin: str,
        name: str,
        payload: Any = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the device's deadline, passed along
        ttl: float | None = None,
        context: Context | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class Firing:
    """One moment a rule started (``fired``) or stopped (``cleared``) holding on one twin."""

    rule: str
    twin: str
    at: datetime
    transition: str  # "fired" | "cleared"
    values: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "twin": self.twin,
            "at": format_time(self.at),
            "transition": self.transition,
            "values": self.values,
        }


@dataclass(slots=True)
class ActionStats:
    done: int = 0
    failed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class Actuator:
    """Runs actions against the platform; ``commands`` and ``http`` are optional ports."""

    def __init__(
        self,
        platform: Platform,
        alerts: Alerts,
        *,
        commands: CommandSender | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._platform = platform
        self._alerts = alerts
        self._commands = commands
        self._http = http
        self._own_http = http is None
        self._last: dict[tuple[str, str], asyncio.Task[None]] = {}  # by (rule, twin)
        self.stats = ActionStats()

    def submit(
        self, rule: Rule, firing: Firing, after: Awaitable[None] | None = None
    ) -> asyncio.Task[None]:
        """Run the firing's actions in a task of their own, once ``after`` is done (the rule
        engine passes the write of the transition's record) and the previous firing of the
        same (rule, twin) has finished: a clear never overtakes its fire (an alert raised after
        its clear would stay open)."""
        key = (rule.id, firing.twin)
        task = asyncio.create_task(self._in_turn(rule, firing, after, self._last.get(key)))
        self._last[key] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._last.get(key) is finished:
                del self._last[key]

        task.add_done_callback(done)
        return task

    async def _in_turn(
        self,
        rule: Rule,
        firing: Firing,
        after: Awaitable[None] | None,
        previous: asyncio.Task[None] | None,
    ) -> None:
        if after is not None:
            with contextlib.suppress(Exception):  # a failed write is the committer's to report
                await after
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        await self.fire(rule, firing)

    async def close(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def fire(self, rule: Rule, firing: Firing) -> None:
        """Run the rule's actions (on ``fired``) or its clear-up (on ``cleared``)."""
        context = Context(actor=f"rule:{rule.id}")
        if firing.transition == "cleared":
            alert = rule.alert
            if alert is not None and alert.options.get("clear", "auto") == "auto":
                await self._run(rule, Action("clear_alert", {}), firing, context)
            actions = rule.on_clear
        else:
            actions = rule.actions
        for action in actions:
            await self._run(rule, action, firing, context)

    async def _run(self, rule: Rule, action: Action, firing: Firing, context: Context) -> None:
        try:
            await _RUNNERS[action.kind](self, rule, action.options, firing, context)
        except Exception:
            self.stats.failed += 1
            log.exception("rule %s: action %s on %s failed", rule.id, action.kind, firing.twin)
        else:
            self.stats.done += 1
            self.stats.by_kind[action.kind] = self.stats.by_kind.get(action.kind, 0) + 1

    async def _alert(
        self, rule: Rule, options: Mapping[str, Any], firing: Firing, context: Context
    ) -> None:
        message = options.get("message")
        await self._alerts.raise_alert(
            firing.twin,
            source=rule.alert_source,
            severity=str(options.get("severity", "warning")),
            name=str(options.get("name", rule.id)),
            cause=_cause(rule, firing),
            message=_render(message, rule, firing) if message else None,
            context=context,
        )

    async def _clear_alert(
        self, rule: Rule, options: Mapping[str, Any], firing: Firing, context: Context
    ) -> None:
        source = str(options.get("source") or rule.alert_source)
        await self._alerts.clear_source(firing.twin, source, context=context)

    async def _set_desired(
        self, rule: Rule, options: Mapping[str, Any], firing: Firing, context: Context
    ) -> None:
        await self._platform.twins.patch(firing.twin, "desired", dict(options), context=context)

    async def _command(
        self, rule: Rule, options: Mapping[str, Any], firing: Firing, context: Context
    ) -> None:
        if self._commands is None:
            raise RuntimeError("no command sender: start the engine with commands=")
        await self._commands.send(
            firing.twin,
            str(options["name"]),
            options.get("payload"),
            timeout=float(options.get("timeout", 10.0)),
            ttl=options.get("ttl"),
            context=context,
        )

    async def _webhook(
        self, rule: Rule, options: Mapping[str, Any], firing: Firing, context: Context
    ) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient()
        body = {**firing.to_json(), "cause": _cause(rule, firing)}
        response = await self._http.post(
            str(options["url"]),
            json=body,
            headers=dict(options.get("headers", {})),
            timeout=float(options.get("timeout", 5.0)),
        )
        response.raise_for_status()


def _cause(rule: Rule, firing: Firing) -> dict[str, Any]:
    cause: dict[str, Any] = {
        "rule": rule.id,
        "at": format_time(firing.at),
        "values": firing.values,
    }
    if rule.condition is not None:
        cause["condition"] = rule.condition.text
    return cause


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _render(template: str, rule: Rule, firing: Firing) -> str:
    """``{twin}``, ``{rule}``, ``{at}`` and each value by its text, e.g. ``{telemetry.temp}``."""
    fields = _Fields(twin=firing.twin, rule=rule.id, at=format_time(firing.at))
    for key, value in firing.values.items():
        fields[key] = f"{value:.4g}" if isinstance(value, float) else value
    out: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(str(fields[name]))
    return "".join(out)


_RUNNERS = {
    "alert": Actuator._alert,
    "clear_alert": Actuator._clear_alert,
    "set_desired": Actuator._set_desired,
    "command": Actuator._command,
    "webhook": Actuator._webhook,
}
