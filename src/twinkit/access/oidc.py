"""JWT bearer tokens from an OIDC provider: issuer, audience and signing keys from a JWKS.

The keys come from a JWKS file (read once) or a JWKS URL (PyJWT's client, which
caches keys and refetches on an unknown ``kid``). A verified token becomes a
principal ``oidc:<sub>`` with ``group:<g>`` for each entry of the groups claim
and the tenant from the tenant claim, so policies can name either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from twinkit.access.principal import Principal
from twinkit.model.errors import ValidationFailed

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    audience: str
    jwks_file: str | None = None
    jwks_url: str | None = None
    subject_claim: str = "sub"
    groups_claim: str = "groups"
    tenant_claim: str = "tenant"
    leeway: float = 30.0

    @classmethod
    def from_json(cls, raw: Any, path: str = "/oidc") -> OidcSettings:
        if not isinstance(raw, dict) or not raw.get("issuer") or not raw.get("audience"):
            raise ValidationFailed("oidc needs issuer and audience", path)
        if not raw.get("jwks_file") and not raw.get("jwks_url"):
            raise ValidationFailed("oidc needs jwks_file or jwks_url for signing keys", path)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValidationFailed(f"unknown oidc setting {unknown[0]!r}", f"{path}/{unknown[0]}")
        return cls(**raw)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if getattr(self, k)}


class OidcVerifier:
    """Verifies JWTs against the configured issuer, audience and keys."""

    def __init__(self, settings: OidcSettings, base_dir: Path | None = None) -> None:
        self.settings = settings
        self._keys: dict[str, Any] = {}
        self._client: jwt.PyJWKClient | None = None
        if settings.jwks_file:
            path = Path(settings.jwks_file)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            keyset = jwt.PyJWKSet.from_dict(json.loads(path.read_text()))
            self._keys = {k.key_id or "": k for k in keyset.keys}
        else:
            assert settings.jwks_url is not None
            self._client = jwt.PyJWKClient(settings.jwks_url, cache_keys=True)

    def verify(self, token: str) -> Principal | None:
        """The principal of a valid token; None when the token is invalid for any reason."""
        try:
            kid = jwt.get_unverified_header(token).get("kid") or ""
            if self._client is not None:
                key = self._client.get_signing_key(kid).key
            else:
                found = self._keys.get(kid) or (
                    next(iter(self._keys.values())) if len(self._keys) == 1 else None
                )
                if found is None:
                    return None
                key = found.key
            s = self.settings
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway,
                options={"require": ["exp", "iss", "aud", s.subject_claim]},
            )
        except (jwt.PyJWTError, KeyError, ValueError):
            return None
        groups = claims.get(s.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        tenant = claims.get(s.tenant_claim)
        return Principal.of(
            f"oidc:{claims[s.subject_claim]}",
            groups=tuple(str(g) for g in groups),
            tenant=tenant if isinstance(tenant, str) else None,
        )
