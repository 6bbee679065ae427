"""Broker addresses: ``mqtt://user:password@host:port`` and ``mqtts://…`` (TLS).

A URL is the one thing an operator types to point twinkit at a broker, so it
carries everything needed to connect: credentials, TLS and an optional CA file
(``?ca=/path/ca.pem``) or ``?insecure=1`` to skip certificate checks in a lab.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from twinkit.model.errors import ValidationFailed

DEFAULT_PORTS = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a broker listens and how to log in to it."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    insecure: bool = False

    def url(self) -> str:
        """The address as a URL, without the password (safe to print and log)."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """Read a broker URL; raises :class:`ValidationFailed` with a readable reason."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValidationFailed(f"broker URL {url!r} must start with mqtt:// or mqtts://", "/mqtt")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValidationFailed(f"broker URL {url!r} has an invalid port", "/mqtt") from None
    if not parts.hostname:
        raise ValidationFailed(f"broker URL {url!r} names no host", "/mqtt")
    query = parse_qs(parts.query)
    tls = scheme in ("mqtts", "ssl")
    ca = query.get("ca", [None])[0]
    insecure = query.get("insecure", ["0"])[0].lower() in ("1", "true", "yes")
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        ca_file=ca,
        insecure=insecure,
    )
