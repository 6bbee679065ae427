"""``twinkit auth …`` edits the auth file; tokens and passwords are printed once, stored hashed."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from twinkit.access.audit import AuditEntry, AuditLog
from twinkit.access.commands import add_auth_parser, auth_command
from twinkit.access.config import AuthConfig
from twinkit.access.identities import verify_password
from twinkit.access.policy import Permission
from twinkit.model.errors import NotFound


def run(tmp: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="twinkit")
    add_auth_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["auth", "--file", str(tmp / "auth.yaml"), *argv])
    return auth_command(args)


def last_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_init_users_tokens_policies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "init") == 0
    admin_token = last_line(capsys).split(": ")[1]
    config = AuthConfig.load(tmp_path / "auth.yaml")
    root = config.authenticate(admin_token)
    assert root is not None
    assert config.evaluator().can(root, Permission.WRITE, "twin:/reported/x", twin="any")
    assert admin_token.split("_", 2)[2] not in (tmp_path / "auth.yaml").read_text()

    assert run(tmp_path, "users", "add", "alice", "--tenant", "acme", "--group", "ops") == 0
    assert run(tmp_path, "token", "create", "user:alice", "--expires-in", "30d") == 0
    alice_token = last_line(capsys)
    assert run(tmp_path, "services", "add", "etl", "--token") == 0
    capsys.readouterr()
    assert run(tmp_path, "users", "list") == 0
    listing = capsys.readouterr().out
    assert "user:alice tenant=acme groups=ops" in listing
    principal = AuthConfig.load(tmp_path / "auth.yaml").authenticate(alice_token)
    assert principal is not None and "tenant:acme" in principal.subjects

    policy = tmp_path / "ops.yaml"
    policy.write_text(
        "id: ops\ntenant: acme\nentries:\n  ops:\n    subjects: [group:ops]\n"
        "    resources:\n      'twin:/desired': {grant: [READ, WRITE]}\n"
    )
    assert run(tmp_path, "policy", "set", str(policy)) == 0
    assert run(tmp_path, "policy", "show", "ops") == 0
    assert "twin:/desired" in capsys.readouterr().out
    evaluator = AuthConfig.load(tmp_path / "auth.yaml").evaluator()
    assert evaluator.can(principal, Permission.WRITE, "twin:/desired/sp", twin="acme~p1")

    token_id = alice_token.split("_")[1]
    assert run(tmp_path, "token", "revoke", token_id) == 0
    assert AuthConfig.load(tmp_path / "auth.yaml").authenticate(alice_token) is None
    with pytest.raises(NotFound):
        run(tmp_path, "users", "remove", "nobody")


def test_devices_and_mosquitto_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(tmp_path, "init")
    assert run(tmp_path, "devices", "add", "pump-1", "--twin", "acme~pump-1") == 0
    password = last_line(capsys).split(": ")[1]
    device = AuthConfig.load(tmp_path / "auth.yaml").devices["pump-1"]
    assert verify_password(password, device.password)
    assert run(tmp_path, "mosquitto-config", "--out", str(tmp_path / "mq")) == 0
    acl = (tmp_path / "mq" / "acl").read_text()
    assert "user pump-1\ntopic readwrite twinkit/acme~pump-1/#" in acl
    assert f"pump-1:{device.password}" in (tmp_path / "mq" / "passwd").read_text()
    assert "allow_anonymous false" in (tmp_path / "mq" / "twinkit.conf").read_text()


def test_audit_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = AuditLog(tmp_path / "twinkit.db.audit.jsonl")
    log.record(AuditEntry("2026-01-01T00:00:00Z", "user:a", "PUT /x", "denied", 403))
    log.record(AuditEntry("2026-01-02T00:00:00Z", "user:b", "PUT /y", "allowed", 200))
    log.close()
    assert (
        run(tmp_path, "audit", "list", "--db", str(tmp_path / "twinkit.db"), "--outcome", "denied")
        == 0
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and '"subject": "user:a"' in out[0]
