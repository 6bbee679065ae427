"""Tokens, passwords, OIDC JWTs and the auth file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from twinkit.access.config import AuthConfig, UnsafeBind, check_bind
from twinkit.access.identities import (
    Identity,
    Token,
    format_token,
    hash_password,
    hash_secret,
    new_token_secret,
    verify_password,
)


def config_with_token() -> tuple[AuthConfig, str]:
    token_id, secret = new_token_secret()
    alice = Identity(
        "user", "alice", "acme", ("operators",), [Token(token_id, hash_secret(secret))]
    )
    return AuthConfig(identities={alice.subject: alice}), format_token(token_id, secret)


def test_api_token_authenticates_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    config, token = config_with_token()
    principal = config.authenticate(token)
    assert principal is not None
    assert principal.id == "user:alice"
    assert principal.subjects == {"user:alice", "group:operators", "tenant:acme"}
    assert config.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert config.authenticate("tk_nope_x") is None
    path = tmp_path / "auth.yaml"
    config.save(path)
    assert token.split("_", 2)[2] not in path.read_text()
    assert AuthConfig.load(path).authenticate(token) is not None


def test_expired_token_is_refused() -> None:
    token_id, secret = new_token_secret()
    ident = Identity(
        "service",
        "etl",
        tokens=[Token(token_id, hash_secret(secret), expires_at="2020-01-01T00:00:00+00:00")],
    )
    config = AuthConfig(identities={ident.subject: ident})
    assert config.authenticate(format_token(token_id, secret)) is None


def test_mosquitto_style_password_hashes() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("$7$101$")
    assert verify_password("s3cret", stored)
    assert not verify_password("s3cre", stored)
    assert not verify_password("s3cret", "$7$garbage")


def make_jwks(tmp_path: Path) -> tuple[rsa.RSAPrivateKey, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = "k1"
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return key, path


def test_oidc_jwt(tmp_path: Path) -> None:
    key, jwks = make_jwks(tmp_path)
    config = AuthConfig.from_json(
        {"oidc": {"issuer": "https://id.test/", "audience": "twinkit", "jwks_file": str(jwks)}}
    )
    claims = {
        "iss": "https://id.test/",
        "aud": "twinkit",
        "sub": "u-42",
        "exp": int(time.time()) + 60,
        "groups": ["ops"],
        "tenant": "acme",
    }
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    principal = config.authenticate(good)
    assert principal is not None
    assert principal.subjects == {"oidc:u-42", "group:ops", "tenant:acme"}
    for bad_claims in (
        {**claims, "aud": "other"},
        {**claims, "iss": "https://evil/"},
        {**claims, "exp": int(time.time()) - 600},
    ):
        bad = jwt.encode(bad_claims, key, algorithm="RS256", headers={"kid": "k1"})
        assert config.authenticate(bad) is None
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "k1"})
    assert config.authenticate(forged) is None


def test_check_bind_refuses_open_public_address() -> None:
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    with pytest.raises(UnsafeBind, match=r"refusing to listen on 0\.0\.0\.0"):
        check_bind("0.0.0.0", None)
    config, _ = config_with_token()
    check_bind("0.0.0.0", config)
