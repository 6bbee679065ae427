"""Identities and their secrets: users and service accounts with API tokens, devices with
MQTT passwords. Only hashes are ever stored.

An API token is ``tk_<id>_<secret>``: the id finds the token in O(1), the secret
(32 random bytes) is checked against its SHA-256 in constant time. A slow hash is
not needed for secrets this long; it is for passwords people choose, so device
passwords use PBKDF2-SHA512 in Mosquitto's own ``$7$`` format, which lets the
same stored hash serve the embedded broker and a generated Mosquitto password file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twinkit.access.principal import Principal
from twinkit.model.errors import ValidationFailed

TOKEN_PREFIX = "tk"
PBKDF2_ITERATIONS = 101  # what mosquitto_passwd writes; the salt and 64-byte digest do the work
KINDS = ("user", "service")


def new_token_secret() -> tuple[str, str]:
    """A fresh (token id, secret)."""
    return secrets.token_hex(6), secrets.token_urlsafe(32)


def format_token(token_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


def split_token(raw: str) -> tuple[str, str] | None:
    """``tk_<id>_<secret>`` → (id, secret); None when it is not shaped like a token."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def hash_secret(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


@dataclass(slots=True)
class Token:
    id: str
    hash: str
    name: str = ""
    created_at: str | None = None
    expires_at: str | None = None

    def matches(self, secret: str, now: datetime) -> bool:
        if self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= now:
            return False
        return hmac.compare_digest(self.hash, hash_secret(secret))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "hash": self.hash}
        for key in ("name", "created_at", "expires_at"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, raw: Any, path: str) -> Token:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise ValidationFailed("a token has an id and a hash", path)
        token_hash = raw.get("hash")
        if not isinstance(token_hash, str) or not token_hash.startswith("sha256:"):
            raise ValidationFailed("a token hash is 'sha256:<hex>' (never the token)", path)
        return cls(
            raw["id"], token_hash, raw.get("name", ""), raw.get("created_at"), raw.get("expires_at")
        )


@dataclass(slots=True)
class Identity:
    """A user or a service account; its subject id is ``user:<name>`` / ``service:<name>``."""

    kind: str
    name: str
    tenant: str | None = None
    groups: tuple[str, ...] = ()
    tokens: list[Token] = field(default_factory=list)
    rate: float | None = None
    burst: float | None = None

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.name}"

    def principal(self) -> Principal:
        base = Principal.of(self.subject, groups=self.groups, tenant=self.tenant)
        return Principal(base.id, base.subjects, self.tenant, self.rate, self.burst)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.tenant:
            out["tenant"] = self.tenant
        if self.groups:
            out["groups"] = list(self.groups)
        if self.rate is not None:
            out["rate_limit"] = {"per_second": self.rate, "burst": self.burst or self.rate}
        out["tokens"] = [t.to_json() for t in self.tokens]
        return out

    @classmethod
    def from_json(cls, kind: str, name: str, raw: Any, path: str) -> Identity:
        if not isinstance(raw, dict):
            raise ValidationFailed("an identity is an object (tenant, groups, tokens)", path)
        groups = raw.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise ValidationFailed("groups is a list of strings", path + "/groups")
        tokens = [
            Token.from_json(t, f"{path}/tokens/{i}") for i, t in enumerate(raw.get("tokens", []))
        ]
        rate, burst = rate_of(raw.get("rate_limit"), path + "/rate_limit")
        return cls(kind, name, raw.get("tenant"), tuple(groups), tokens, rate, burst)


def rate_of(raw: Any, path: str) -> tuple[float | None, float | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict) or not isinstance(raw.get("per_second"), int | float):
        raise ValidationFailed("rate_limit is {per_second: n, burst: n}", path)
    rate = float(raw["per_second"])
    burst = raw.get("burst", rate)
    if rate <= 0 or not isinstance(burst, int | float) or burst < 1:
        raise ValidationFailed("per_second must be > 0 and burst >= 1", path)
    return rate, float(burst)


@dataclass(slots=True)
class Device:
    """A device's MQTT login: username ``name``, its own twin's topics only."""

    name: str
    twin: str
    password: str  # a $7$ (PBKDF2-SHA512) or $6$ (salted SHA-512) hash, never the password

    @property
    def subject(self) -> str:
        return f"device:{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"twin": self.twin, "password": self.password}

    @classmethod
    def from_json(cls, name: str, raw: Any, path: str) -> Device:
        if not isinstance(raw, dict) or not isinstance(raw.get("password"), str):
            raise ValidationFailed("a device has a twin and a password hash", path)
        if not raw["password"].startswith(("$7$", "$6$")):
            raise ValidationFailed("a device password is stored hashed ($7$…)", path + "/password")
        return cls(name, str(raw.get("twin") or name), raw["password"])


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Mosquitto's ``$7$`` format: PBKDF2-HMAC-SHA512, 12-byte salt, base64 parts."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS, 64)
    return f"$7${PBKDF2_ITERATIONS}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a ``$7$`` or ``$6$`` hash (mosquitto_passwd's formats)."""
    parts = stored.split("$")
    try:
        if stored.startswith("$7$") and len(parts) == 5:
            iterations, salt, expected = int(parts[2]), _unb64(parts[3]), _unb64(parts[4])
            digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
            return hmac.compare_digest(digest, expected)
        if stored.startswith("$6$") and len(parts) == 4:
            salt, expected = _unb64(parts[2]), _unb64(parts[3])
            digest = hashlib.sha512(password.encode() + salt).digest()
            return hmac.compare_digest(digest, expected)
    except (ValueError, TypeError):
        return False
    return False


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
