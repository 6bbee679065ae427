"""Access control: identities, path-level policies, tenants, device credentials, audit.

    config = AuthConfig.load("twinkit-auth.yaml")
    check_bind(host, config)                      # refuses 0.0.0.0 without authentication
    install_access(app, platform, config)         # every /api/v1 route authenticated + authorized
    plugins, login = broker_plugins(path)         # embedded broker: device logins and topics

See docs/access.md.
"""

from twinkit.access.audit import AuditEntry, AuditLog
from twinkit.access.broker import BrokerLogin, broker_plugins, device_may
from twinkit.access.commands import add_auth_parser, auth_command
from twinkit.access.config import AuthConfig, TlsSettings, UnsafeBind, check_bind, is_loopback
from twinkit.access.evaluator import Decisions, Evaluator
from twinkit.access.install import install_access
from twinkit.access.mosquitto import write_mosquitto_config
from twinkit.access.policy import Permission, Policy, Resource
from twinkit.access.principal import Principal
from twinkit.access.tenants import Tenants

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuthConfig",
    "BrokerLogin",
    "Decisions",
    "Evaluator",
    "Permission",
    "Policy",
    "Principal",
    "Resource",
    "Tenants",
    "TlsSettings",
    "UnsafeBind",
    "add_auth_parser",
    "auth_command",
    "broker_plugins",
    "check_bind",
    "device_may",
    "install_access",
    "is_loopback",
    "write_mosquitto_config",
]
