"""mqtts:// with a private CA and a password: the connector logs in over TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.mqtt_device import eventually
from twinkit.ingest.broker_url import parse_broker_url
from twinkit.ingest.connector import MqttConnector
from twinkit.ingest.mosquitto import Mosquitto, free_port, wait_for_port
from twinkit.platform import Platform


def write_pki(folder: Path) -> None:
    """A CA and a server certificate for 127.0.0.1, as PEM files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "twinkit test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(cert.public_bytes(pem))
    (folder / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


async def test_mqtts_with_a_private_ca_and_credentials(tk: Platform, tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    folder.mkdir()
    write_pki(folder)
    passwd = shutil.which("mosquitto_passwd")
    assert passwd, "mosquitto_passwd (package mosquitto) is needed"
    subprocess.run([passwd, "-b", "-c", str(folder / "passwd"), "ann", "s3cret"], check=True)
    tls_port = free_port()
    settings = "\n".join(
        [
            "allow_anonymous false",
            f"password_file {folder / 'passwd'}",
            f"listener {tls_port} 127.0.0.1",
            f"cafile {folder / 'ca.pem'}",
            f"certfile {folder / 'server.pem'}",
            f"keyfile {folder / 'server.key'}",
        ]
    )
    with Mosquitto(folder, settings=settings):
        wait_for_port("127.0.0.1", tls_port)
        url = f"mqtts://ann:s3cret@127.0.0.1:{tls_port}?ca={folder / 'ca.pem'}"
        connector = MqttConnector(tk, parse_broker_url(url))
        await connector.start()
        try:
            connector.link.publish("twinkit/pump-1/telemetry", b'{"temperature": 3.5}', 1)

            async def arrived() -> bool:
                return (await tk.twins.get("pump-1")).telemetry.get("temperature") == 3.5

            await eventually(arrived, what="telemetry over TLS (our own publish, looped back)")
        finally:
            await connector.close()
        wrong = MqttConnector(
            tk, parse_broker_url(url.replace("s3cret", "wrong")), client_id="intruder"
        )
        try:
            await wrong.start(wait=2)
            raise AssertionError("a wrong password must not connect")
        except ConnectionError:
            pass
