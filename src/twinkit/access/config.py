"""The auth file (``twinkit serve --auth PATH``): identities, devices, policies, tenants, OIDC,
rate limits and TLS, in YAML or JSON. See docs/access.md for a worked example.

It holds only hashes, so it can be checked into a config repository; ``twinkit
auth …`` edits it and prints a new token exactly once.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from twinkit.access.evaluator import Evaluator
from twinkit.access.identities import KINDS, Device, Identity, rate_of, split_token
from twinkit.access.oidc import OidcSettings, OidcVerifier
from twinkit.access.policy import Policy, load_policies
from twinkit.access.principal import Principal
from twinkit.access.tenants import Tenants
from twinkit.model.errors import TwinkitError, ValidationFailed
from twinkit.model.interface import ModelRegistry

SECTIONS = {"user": "users", "service": "service_accounts"}


class UnsafeBind(TwinkitError):
    code = "unsafe_bind"
    status = 503


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Certificate files for HTTPS (uvicorn) and MQTT over TLS (the embedded broker)."""

    certfile: str | None = None
    keyfile: str | None = None
    mqtt_certfile: str | None = None
    mqtt_keyfile: str | None = None
    mqtt_port: int = 8883

    def uvicorn_options(self) -> dict[str, Any]:
        """``uvicorn.Config(app, **tls.uvicorn_options())``."""
        if not self.certfile:
            return {}
        return {"ssl_certfile": self.certfile, "ssl_keyfile": self.keyfile}

    def broker_listener(self, host: str) -> dict[str, Any] | None:
        """An amqtt listener entry for MQTT over TLS, or None when not configured."""
        cert = self.mqtt_certfile or self.certfile
        key = self.mqtt_keyfile or self.keyfile
        if not cert:
            return None
        return {
            "type": "tcp",
            "bind": f"{host}:{self.mqtt_port}",
            "ssl": True,
            "certfile": cert,
            "keyfile": key,
        }


@dataclass(slots=True)
class AuthConfig:
    identities: dict[str, Identity] = field(default_factory=dict)  # by subject id
    devices: dict[str, Device] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)
    tenants: Tenants = field(default_factory=Tenants)
    oidc: OidcSettings | None = None
    rate: float | None = None  # default requests/s per identity; None: unlimited
    burst: float | None = None
    tls: TlsSettings = field(default_factory=TlsSettings)
    audit_file: str | None = None
    path: Path | None = None
    _tokens: dict[str, Identity] = field(default_factory=dict, repr=False)
    _principals: dict[str, Principal] = field(default_factory=dict, repr=False)
    _verifier: OidcVerifier | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.reindex()

    # -- files -----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> AuthConfig:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise ValidationFailed(f"cannot read the auth file {path}: {exc.strerror}") from None
        try:
            raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise ValidationFailed(f"the auth file {path} is not valid YAML/JSON: {exc}") from None
        config = cls.from_json(raw or {})
        config.path = path
        return config

    def save(self, path: str | Path | None = None) -> None:
        """Write atomically (temp file + rename), readable only by the owner."""
        target = Path(path or self.path or "twinkit-auth.yaml")
        data = self.to_json()
        text = (
            json.dumps(data, indent=2) + "\n"
            if target.suffix == ".json"
            else yaml.safe_dump(data, sort_keys=False)
        )
        tmp = target.with_name(target.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, target)
        self.path = target

    @classmethod
    def from_json(cls, raw: Any) -> AuthConfig:
        if not isinstance(raw, dict):
            raise ValidationFailed("the auth file is an object (users, policies, …)")
        known = {
            "version",
            "users",
            "service_accounts",
            "devices",
            "policies",
            "tenants",
            "oidc",
            "rate_limit",
            "tls",
            "audit_file",
        }
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValidationFailed(f"unknown auth setting {unknown[0]!r}", f"/{unknown[0]}")
        identities: dict[str, Identity] = {}
        for kind in KINDS:
            section = SECTIONS[kind]
            for name, body in (raw.get(section) or {}).items():
                ident = Identity.from_json(kind, str(name), body or {}, f"/{section}/{name}")
                identities[ident.subject] = ident
        devices = {
            str(n): Device.from_json(str(n), b, f"/devices/{n}")
            for n, b in (raw.get("devices") or {}).items()
        }
        tenants_raw = raw.get("tenants") or {}
        if not isinstance(tenants_raw, dict):
            raise ValidationFailed("tenants is an object: name -> {models: [prefixes]}", "/tenants")
        tenants = Tenants.of(
            tenants_raw, {n: (b or {}).get("models") or () for n, b in tenants_raw.items()}
        )
        rate, burst = rate_of(raw.get("rate_limit"), "/rate_limit")
        tls_raw = raw.get("tls") or {}
        try:
            tls = TlsSettings(**tls_raw)
        except TypeError:
            raise ValidationFailed("tls has certfile, keyfile, mqtt_certfile, …", "/tls") from None
        return cls(
            identities=identities,
            devices=devices,
            policies=load_policies(raw.get("policies") or []),
            tenants=tenants,
            oidc=OidcSettings.from_json(raw["oidc"]) if raw.get("oidc") else None,
            rate=rate,
            burst=burst,
            tls=tls,
            audit_file=raw.get("audit_file"),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": 1}
        if self.tenants.model_prefixes:
            out["tenants"] = {
                n: {"models": list(p)} for n, p in self.tenants.model_prefixes.items()
            }
        for kind in KINDS:
            section = {i.name: i.to_json() for i in self.identities.values() if i.kind == kind}
            if section:
                out[SECTIONS[kind]] = section
        if self.devices:
            out["devices"] = {n: d.to_json() for n, d in self.devices.items()}
        if self.oidc:
            out["oidc"] = self.oidc.to_json()
        if self.rate is not None:
            out["rate_limit"] = {"per_second": self.rate, "burst": self.burst or self.rate}
        tls = {k: v for k, v in vars_of(self.tls).items() if v and k != "mqtt_port"}
        if tls:
            out["tls"] = {**tls, "mqtt_port": self.tls.mqtt_port}
        if self.audit_file:
            out["audit_file"] = self.audit_file
        out["policies"] = [p.to_json() for p in self.policies]
        return out

    # -- use -------------------------------------------------------------------------------

    def reindex(self) -> None:
        """Index tokens by id; declare every tenant an identity or a policy names."""
        self._tokens = {t.id: i for i in self.identities.values() for t in i.tokens}
        # one Principal per identity: its frozenset of subjects keys the evaluator's caches
        self._principals = {s: i.principal() for s, i in self.identities.items()}
        named = {i.tenant for i in self.identities.values() if i.tenant}
        named |= {p.scope.value for p in self.policies if p.scope.kind == "tenant"}
        missing = named - set(self.tenants.model_prefixes)
        if missing:
            known = dict(self.tenants.model_prefixes)
            known.update(Tenants.of(sorted(missing)).model_prefixes)
            self.tenants = Tenants(known)

    def evaluator(self, registry: ModelRegistry | None = None) -> Evaluator:
        """An evaluator of these policies; with ``registry``, model scopes follow ``extends``."""
        self.reindex()
        return Evaluator(self.policies, self.tenants, registry)

    @property
    def enabled(self) -> bool:
        """Authentication is possible: some identity, device or OIDC provider exists."""
        return bool(self.identities or self.oidc or self.devices)

    def authenticate(self, credential: str) -> Principal | None:
        """The principal for an API token or a JWT; None when it is not valid."""
        parts = split_token(credential)
        if parts is not None:
            identity = self._tokens.get(parts[0])
            if identity is None:
                return None
            now = datetime.now(UTC)
            token = next(t for t in identity.tokens if t.id == parts[0])
            if not token.matches(parts[1], now):
                return None
            return self._principals.get(identity.subject) or identity.principal()
        if self.oidc is None or credential.count(".") != 2:
            return None
        if self._verifier is None:
            base = self.path.parent if self.path else None
            self._verifier = OidcVerifier(self.oidc, base)
        return self._verifier.verify(credential)


def vars_of(tls: TlsSettings) -> dict[str, Any]:
    return {k: getattr(tls, k) for k in tls.__dataclass_fields__}


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth: AuthConfig | None) -> None:
    """Refuse to serve a non-loopback address without authentication (one clear line)."""
    if is_loopback(host) or (auth is not None and auth.enabled):
        return
    raise UnsafeBind(
        f"refusing to listen on {host} without authentication: pass --auth PATH "
        "(see docs/access.md) or bind 127.0.0.1"
    )
