"""Devices on MQTT: each logs in with its own credentials and may only use its own twin's
topics (``twinkit/<twin>/…``).

Two enforcements of one rule (:func:`device_may`):

- the embedded amqtt broker loads :class:`DeviceAuthPlugin` and
  :class:`DeviceTopicPlugin` (:func:`broker_plugins` builds its ``plugins`` config
  and a per-run login for the platform's own connector, which may use every topic);
- Mosquitto gets a password file and an ACL file generated from the same auth file
  (:mod:`twinkit.access.mosquitto`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.contexts import Action, BaseContext
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from twinkit.access.audit import AuditEntry, AuditLog, now_iso
from twinkit.access.config import AuthConfig
from twinkit.access.identities import Device, hash_password, verify_password

TOPIC_ROOT = "twinkit"
PLATFORM_USER = "twinkit-platform"
WILDCARDS = ("+", "#")


def device_may(twin: str, topic: str) -> bool:
    """May the device of ``twin`` publish to, subscribe to or receive ``topic``?

    Only below ``twinkit/<twin>/`` (or that exact level); a wildcard can never
    stand for the twin, and a twin id holding a wildcard or a slash matches nothing.
    """
    if not twin or "/" in twin or any(w in twin for w in WILDCARDS):
        return False
    own = f"{TOPIC_ROOT}/{twin}"
    return topic == own or topic.startswith(own + "/")


@dataclass(frozen=True, slots=True)
class BrokerLogin:
    """What the platform's own MQTT connector logs in with (fresh for every run)."""

    username: str
    password: str


def broker_plugins(
    auth_file: str | Path, audit_file: str | Path | None = None
) -> tuple[dict[str, Any], BrokerLogin]:
    """amqtt ``plugins`` config enforcing device credentials and topics, and the platform's login.

    Refused logins, publishes and subscriptions are appended to ``audit_file`` (the
    API's audit log, ``<db>.audit.jsonl``) when given.

    >>> plugins, login = broker_plugins("auth.yaml")      # doctest: +SKIP
    >>> Broker({"listeners": ..., "plugins": plugins})      # doctest: +SKIP
    """
    login = BrokerLogin(PLATFORM_USER, secrets.token_urlsafe(24))
    config = {
        "auth_file": str(auth_file),
        "platform_username": login.username,
        "platform_password_hash": hash_password(login.password),
        "audit_file": str(audit_file or ""),
    }
    plugins = {
        f"{__name__}.DeviceAuthPlugin": dict(config),
        f"{__name__}.DeviceTopicPlugin": dict(config),
    }
    return plugins, login


@dataclass
class PluginConfig:
    auth_file: str = ""
    platform_username: str = PLATFORM_USER
    platform_password_hash: str = ""
    audit_file: str = ""


class _Denials:
    """Refusals on the broker, written to the shared audit log."""

    def __init__(self, settings: PluginConfig) -> None:
        self.log = AuditLog(settings.audit_file) if settings.audit_file else None

    def record(self, session: Session | None, action: str, reason: str, topic: str = "") -> None:
        if self.log is None:
            return
        username = (session.username if session is not None else None) or "anonymous"
        address = getattr(session, "remote_address", None)
        port = getattr(session, "remote_port", None)
        client = f"{address}:{port}" if address else None
        subject = username if username == PLATFORM_USER else f"device:{username}"
        self.log.record(
            AuditEntry(
                now_iso(), subject, action, "denied", resource=topic, client=client, reason=reason
            )
        )

    async def close(self) -> None:
        if self.log is not None:
            self.log.close()


def _devices(config: PluginConfig) -> dict[str, Device]:
    return AuthConfig.load(config.auth_file).devices if config.auth_file else {}


class DeviceAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]
    """Devices log in with their username and password; nobody logs in anonymously."""

    Config = PluginConfig

    def __init__(self, context: BaseContext) -> None:
        super().__init__(context)
        self.settings: PluginConfig = self.config
        self.devices = _devices(self.settings)
        self.denials = _Denials(self.settings)

    async def authenticate(self, *, session: Session) -> bool:
        if self._check(session):
            return True
        self.denials.record(session, "mqtt connect", "bad or missing credentials")
        return False

    def _check(self, session: Session) -> bool:
        username, password = session.username, session.password
        if not username or password is None:
            return False
        password = password.decode() if isinstance(password, bytes) else str(password)
        if username == self.settings.platform_username:
            stored = self.settings.platform_password_hash
            return bool(stored) and verify_password(password, stored)
        device = self.devices.get(username)
        return device is not None and verify_password(password, device.password)

    async def close(self) -> None:
        await self.denials.close()


class DeviceTopicPlugin(BaseTopicPlugin):  # type: ignore[misc]
    """A device publishes, subscribes and receives only below ``twinkit/<its twin>/``."""

    Config = PluginConfig

    def __init__(self, context: BaseContext) -> None:
        super().__init__(context)
        self.settings: PluginConfig = self.config
        self.twins = {name: d.twin for name, d in _devices(self.settings).items()}
        self.denials = _Denials(self.settings)

    async def topic_filtering(
        self,
        *,
        session: Session | None = None,
        topic: str | None = None,
        action: Action | None = None,
    ) -> bool:
        if session is None or topic is None:
            return False
        if session.username == self.settings.platform_username:
            return True
        twin = self.twins.get(session.username or "")
        if twin is not None and device_may(twin, topic):
            return True
        if action in (Action.PUBLISH, Action.SUBSCRIBE):  # RECEIVE: the broker's own filtering
            self.denials.record(session, f"mqtt {action.value}", "not the device's topics", topic)
        return False

    async def close(self) -> None:
        await self.denials.close()
