"""``twinkit auth …``: identities, tokens, devices, policies, the audit log and Mosquitto files.

Every command edits the auth file (``--file``, default ``$TWINKIT_AUTH`` or
``./twinkit-auth.yaml``) in place; a new token or generated password is printed
exactly once and only its hash is stored. A running ``twinkit serve --auth``
picks the changes up on restart.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from twinkit.access.audit import AuditLog, audit_path_for
from twinkit.access.config import SECTIONS, AuthConfig
from twinkit.access.identities import (
    Device,
    Identity,
    Token,
    format_token,
    hash_password,
    hash_secret,
    new_token_secret,
)
from twinkit.access.mosquitto import write_mosquitto_config
from twinkit.access.policy import Policy
from twinkit.model.errors import NotFound, ValidationFailed
from twinkit.model.time import parse_duration

DEFAULT_FILE = "twinkit-auth.yaml"
ADMIN_KINDS = ("twin", "command", "model", "history", "policy", "audit", "metrics")


def add_auth_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``auth`` and its sub-commands to ``twinkit``'s sub-parsers."""
    auth: argparse.ArgumentParser = subparsers.add_parser(
        "auth", help="identities, tokens, devices, policies, audit"
    )
    auth.add_argument(
        "--file",
        default=os.environ.get("TWINKIT_AUTH", DEFAULT_FILE),
        help=f"the auth file (default $TWINKIT_AUTH or ./{DEFAULT_FILE})",
    )
    sub = auth.add_subparsers(dest="auth_command", required=True)

    init = sub.add_parser("init", help="a new auth file with an admin user; prints its token")
    init.add_argument("--admin", default="admin")

    for noun, kind in (("users", "user"), ("services", "service")):
        group = sub.add_parser(noun, help=f"{kind} identities").add_subparsers(
            dest="verb", required=True
        )
        add = group.add_parser("add")
        add.add_argument("name")
        add.add_argument("--tenant")
        add.add_argument("--group", action="append", default=[], dest="groups")
        add.add_argument("--token", action="store_true", help="also create a token (printed)")
        group.add_parser("list")
        group.add_parser("remove").add_argument("name")
        for p in group.choices.values():
            p.set_defaults(kind=kind)

    devices = sub.add_parser("devices", help="MQTT device logins").add_subparsers(
        dest="verb", required=True
    )
    dev_add = devices.add_parser("add")
    dev_add.add_argument("name", help="the MQTT user name")
    dev_add.add_argument("--twin", help="its twin id (default: the name)")
    dev_add.add_argument("--password", help="default: generated and printed once")
    devices.add_parser("list")
    devices.add_parser("remove").add_argument("name")

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="verb", required=True)
    create = token.add_parser("create", help="print a new token once")
    create.add_argument("subject", help="user:NAME or service:NAME")
    create.add_argument("--name", default="")
    create.add_argument("--expires-in", help="e.g. 30d, 12h")
    token.add_parser("revoke").add_argument("token_id")

    policy = sub.add_parser("policy", help="policies").add_subparsers(dest="verb", required=True)
    policy.add_parser("set", help="add or replace policies from a YAML/JSON file").add_argument(
        "path"
    )
    policy.add_parser("show").add_argument("id", nargs="?")
    policy.add_parser("remove").add_argument("id")

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(dest="verb", required=True)
    listing = audit.add_parser("list")
    listing.add_argument("--db", default="twinkit.db", help="the platform's SQLite file")
    listing.add_argument("--subject")
    listing.add_argument("--since")
    listing.add_argument("--outcome", choices=["allowed", "denied", "failed"])
    listing.add_argument("--limit", type=int, default=50)

    mosq = sub.add_parser("mosquitto-config", help="password, ACL and listener files")
    mosq.add_argument("--out", required=True, help="directory to write into")
    mosq.add_argument("--port", type=int, default=1883)
    mosq.add_argument("--host", default="127.0.0.1")
    mosq.add_argument("--platform-password", help="default: generated and printed once")
    return auth


def auth_command(args: argparse.Namespace) -> int:
    path = Path(args.file)
    command = args.auth_command
    if command == "init":
        return _init(path, args.admin)
    if command == "audit":
        return _audit(args, _load(path) if path.exists() else None)
    config = _load(path)
    handler = {
        "users": _identities,
        "services": _identities,
        "devices": _devices,
        "token": _token,
        "policy": _policy,
        "mosquitto-config": _mosquitto,
    }[command]
    code = handler(config, args)
    if command not in ("mosquitto-config",) and getattr(args, "verb", "") not in ("list", "show"):
        config.reindex()
        config.save(path)
    return code


def _load(path: Path) -> AuthConfig:
    if not path.exists():
        raise NotFound(f"no auth file at {path}: create one with `twinkit auth init`")
    return AuthConfig.load(path)


def _out(line: str) -> None:
    print(line, flush=True)


def _init(path: Path, admin: str) -> int:
    if path.exists():
        raise ValidationFailed(f"{path} exists already; edit it with `twinkit auth …`")
    config = AuthConfig()
    ident = Identity("user", admin)
    config.identities[ident.subject] = ident
    resources = {f"{kind}:/": {"grant": ["READ", "WRITE", "EXECUTE"]} for kind in ADMIN_KINDS}
    config.policies.append(
        Policy.from_json(
            {
                "id": "admins",
                "entries": {"admins": {"subjects": [ident.subject], "resources": resources}},
            }
        )
    )
    token = _new_token(ident, "created by init", None)
    config.reindex()
    config.save(path)
    _out(f"wrote {path} with user {admin!r} (full access)")
    _out(f"token (shown once): {token}")
    return 0


def _new_token(ident: Identity, name: str, expires_in: str | None) -> str:
    token_id, secret = new_token_secret()
    now = datetime.now(UTC)
    expires = now + parse_duration(expires_in, "/expires-in") if expires_in else None
    ident.tokens.append(
        Token(
            token_id,
            hash_secret(secret),
            name,
            now.isoformat(timespec="seconds"),
            expires.isoformat(timespec="seconds") if expires else None,
        )
    )
    return format_token(token_id, secret)


def _identities(config: AuthConfig, args: argparse.Namespace) -> int:
    kind = args.kind
    if args.verb == "list":
        for ident in sorted(config.identities.values(), key=lambda i: i.name):
            if ident.kind == kind:
                extra = f" tenant={ident.tenant}" if ident.tenant else ""
                groups = f" groups={','.join(ident.groups)}" if ident.groups else ""
                tokens = ",".join(t.id for t in ident.tokens) or "-"
                _out(f"{ident.subject}{extra}{groups} tokens={tokens}")
        return 0
    subject = f"{kind}:{args.name}"
    if args.verb == "remove":
        if config.identities.pop(subject, None) is None:
            raise NotFound(f"no {SECTIONS[kind][:-1].replace('_', ' ')} {args.name!r}")
        _out(f"removed {subject} and its tokens")
        return 0
    if subject in config.identities:
        raise ValidationFailed(f"{subject} exists already")
    ident = Identity(kind, args.name, args.tenant, tuple(args.groups))
    config.identities[subject] = ident
    _out(f"added {subject}")
    if args.token:
        _out(f"token (shown once): {_new_token(ident, '', None)}")
    return 0


def _devices(config: AuthConfig, args: argparse.Namespace) -> int:
    if args.verb == "list":
        for name, device in sorted(config.devices.items()):
            _out(f"{name} twin={device.twin}")
        return 0
    if args.verb == "remove":
        if config.devices.pop(args.name, None) is None:
            raise NotFound(f"no device {args.name!r}")
        _out(f"removed device {args.name}")
        return 0
    password = args.password or secrets.token_urlsafe(18)
    config.devices[args.name] = Device(args.name, args.twin or args.name, hash_password(password))
    _out(f"device {args.name} may use twinkit/{args.twin or args.name}/#")
    if not args.password:
        _out(f"password (shown once): {password}")
    return 0


def _token(config: AuthConfig, args: argparse.Namespace) -> int:
    if args.verb == "create":
        ident = config.identities.get(args.subject)
        if ident is None:
            raise NotFound(f"no identity {args.subject!r} (user:NAME or service:NAME)")
        _out(_new_token(ident, args.name, args.expires_in))
        print("(store it now: it is not shown again)", file=sys.stderr)
        return 0
    for ident in config.identities.values():
        kept = [t for t in ident.tokens if t.id != args.token_id]
        if len(kept) != len(ident.tokens):
            ident.tokens = kept
            _out(f"revoked token {args.token_id} of {ident.subject}")
            return 0
    raise NotFound(f"no token {args.token_id!r}")


def _policy(config: AuthConfig, args: argparse.Namespace) -> int:
    if args.verb == "show":
        chosen = [p for p in config.policies if args.id in (None, p.id)]
        if args.id and not chosen:
            raise NotFound(f"no policy {args.id!r}")
        _out(yaml.safe_dump([p.to_json() for p in chosen], sort_keys=False).rstrip())
        return 0
    if args.verb == "remove":
        before = len(config.policies)
        config.policies = [p for p in config.policies if p.id != args.id]
        if len(config.policies) == before:
            raise NotFound(f"no policy {args.id!r}")
        _out(f"removed policy {args.id}")
        return 0
    source = Path(args.path)
    raw = (
        json.loads(source.read_text())
        if source.suffix == ".json"
        else yaml.safe_load(source.read_text())
    )
    items = raw if isinstance(raw, list) else [raw]
    new = [Policy.from_json(item, f"/{i}") for i, item in enumerate(items)]
    ids = {p.id for p in new}
    config.policies = [p for p in config.policies if p.id not in ids] + new
    _out(f"set {len(new)} polic{'y' if len(new) == 1 else 'ies'}: {', '.join(sorted(ids))}")
    return 0


def _audit(args: argparse.Namespace, config: AuthConfig | None) -> int:
    path = (config.audit_file if config else None) or audit_path_for(args.db)
    log = AuditLog.reader(path)
    for entry in reversed(
        log.list(subject=args.subject, since=args.since, outcome=args.outcome, limit=args.limit)
    ):
        _out(json.dumps(entry, sort_keys=True))
    return 0


def _mosquitto(config: AuthConfig, args: argparse.Namespace) -> int:
    password = args.platform_password or secrets.token_urlsafe(18)
    files = write_mosquitto_config(config, args.out, password, port=args.port, host=args.host)
    _out(f"wrote {files.passwords}, {files.acl} and {files.conf}")
    _out(f"mosquitto.conf: include_dir {Path(args.out).resolve()}")
    if not args.platform_password:
        _out(f"platform login (shown once): --mqtt mqtt://twinkit-platform:{password}@HOST:PORT")
    return 0
