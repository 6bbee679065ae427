"""The integration a server does: refuse unsafe binds, serve HTTPS from certificate files,
keep /healthz and the dashboard's static files open while the API is closed."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
from pathlib import Path

import httpx
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.access.conftest import AppMaker, Realm
from twinkit.access.config import AuthConfig, TlsSettings


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_from_certificate_files(
    make_app: AppMaker, tenants_realm: Realm, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    tls = AuthConfig.from_json({"tls": {"certfile": str(cert), "keyfile": str(key)}}).tls
    assert tls == TlsSettings(certfile=str(cert), keyfile=str(key))
    assert tls.broker_listener("127.0.0.1") == {
        "type": "tcp",
        "bind": "127.0.0.1:8883",
        "ssl": True,
        "certfile": str(cert),
        "keyfile": str(key),
    }
    app = make_app(tenants_realm)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", **tls.uvicorn_options())
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(
            verify=ssl.create_default_context(cafile=str(cert)),
            base_url=f"https://localhost:{port}",
        ) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/api/v1/twins")).status_code == 401
            ok = await http.get("/api/v1/twins", headers=tenants_realm.headers("root"))
            assert ok.status_code == 200
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


async def test_static_dashboard_and_openapi_stay_open(
    make_app: AppMaker, tenants_realm: Realm
) -> None:
    app = make_app(tenants_realm)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        assert (await http.get("/")).status_code in (200, 503)  # 503: bundle not built
        assert (await http.get("/openapi.json")).status_code == 200
        assert "/api/v1/audit" in (await http.get("/openapi.json")).json()["paths"]
        assert (
            await http.get("/api/v1/nothing-here", headers=tenants_realm.headers("root"))
        ).status_code == 404
        assert (await http.get("/metrics")).status_code == 401
        assert (
            await http.get("/metrics", headers=tenants_realm.headers("root"))
        ).status_code == 200
