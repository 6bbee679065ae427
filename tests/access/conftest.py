"""An app with access control over an in-memory platform, and tokens for a few principals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from twinkit import Platform
from twinkit.access.audit import AuditLog
from twinkit.access.config import AuthConfig
from twinkit.access.identities import Identity, Token, format_token, hash_secret, new_token_secret
from twinkit.access.install import install_access
from twinkit.access.policy import load_policies
from twinkit.access.tenants import Tenants
from twinkit.api import create_app
from twinkit.dashboard import mount

ALL = ["READ", "WRITE", "EXECUTE"]
ADMIN_RESOURCES = {
    f"{kind}:/": {"grant": ALL}
    for kind in ("twin", "command", "model", "history", "policy", "audit", "metrics")
}


@dataclass
class Realm:
    config: AuthConfig
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def realm(policies: list[dict[str, Any]], people: dict[str, dict[str, Any]]) -> Realm:
    identities: dict[str, Identity] = {}
    tokens: dict[str, str] = {}
    for name, spec in people.items():
        token_id, secret = new_token_secret()
        ident = Identity(
            spec.get("kind", "user"),
            name,
            spec.get("tenant"),
            tuple(spec.get("groups", ())),
            [Token(token_id, hash_secret(secret))],
        )
        identities[ident.subject] = ident
        tokens[name] = format_token(token_id, secret)
    config = AuthConfig(
        identities=identities,
        policies=load_policies(policies),
        tenants=Tenants.of(["acme", "globex"]),
    )
    return Realm(config, tokens)


ADMIN_POLICY = {
    "id": "admins",
    "entries": {"admins": {"subjects": ["user:root"], "resources": ADMIN_RESOURCES}},
}
PEOPLE: dict[str, dict[str, Any]] = {
    "root": {},
    "nobody": {},
    "alice": {"tenant": "acme", "groups": ["operators"]},
    "gus": {"tenant": "globex"},
}
TENANT_POLICIES = [
    ADMIN_POLICY,
    {
        "id": "acme",
        "tenant": "acme",
        "entries": {
            "members": {
                "subjects": ["tenant:acme"],
                "resources": {
                    "twin:/": {"grant": ["READ"]},
                    "twin:/reported/patient": {"revoke": ["READ"]},
                    "twin:/desired": {"grant": ["WRITE"]},
                    "history:/telemetry": {"grant": ["READ"]},
                    "model:/": {"grant": ["READ"]},
                    "audit:/": {"grant": ["READ"]},
                    "command:/reboot": {"grant": ["EXECUTE"]},
                },
            }
        },
    },
    {
        "id": "globex",
        "tenant": "globex",
        "entries": {
            "members": {
                "subjects": ["tenant:globex"],
                "resources": {"twin:/": {"grant": ["READ", "WRITE"]}},
            }
        },
    },
]


@pytest.fixture
async def platform() -> AsyncIterator[Platform]:
    async with Platform.open(None) as tk:
        yield tk


AppMaker = Callable[..., FastAPI]


@pytest.fixture
def make_app(platform: Platform) -> AppMaker:
    def make(realm_: Realm, *, dashboard: bool = True, **options: Any) -> FastAPI:
        app = create_app(platform, feed_keepalive=0.2, **options)
        if dashboard:
            mount(app, platform)
        install_access(app, platform, realm_.config, audit=AuditLog(None))
        return app

    return make


@pytest.fixture
def tenants_realm() -> Realm:
    return realm(TENANT_POLICIES, PEOPLE)


@pytest.fixture
async def client(make_app: AppMaker, tenants_realm: Realm) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(tenants_realm)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://twinkit"
    ) as http:
        yield http
