"""OIDC end to end: keys from a JWKS URL, a JWT bearer on the API, policies by group claim."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.access.conftest import AppMaker, Realm
from twinkit.access.config import AuthConfig
from twinkit.access.policy import load_policies

ISSUER = "https://id.test/"


@pytest.fixture
def jwks_url() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", key
    server.shutdown()
    server.server_close()
    thread.join()


async def test_jwt_bearer_from_jwks_url(
    make_app: AppMaker, jwks_url: tuple[str, rsa.RSAPrivateKey], tmp_path: Path
) -> None:
    url, key = jwks_url
    config = AuthConfig.from_json(
        {
            "oidc": {"issuer": ISSUER, "audience": "twinkit", "jwks_url": url},
            "policies": [
                {
                    "id": "readers",
                    "tenant": "acme",
                    "entries": {
                        "ops": {
                            "subjects": ["group:ops"],
                            "resources": {"twin:/": {"grant": ["READ"]}},
                        }
                    },
                },
            ],
        }
    )
    config.policies += load_policies(
        [
            {
                "id": "w",
                "entries": {
                    "w": {
                        "subjects": ["oidc:writer"],
                        "resources": {"twin:/": {"grant": ["WRITE"]}},
                    }
                },
            }
        ]
    )
    app = make_app(Realm(config, {}))

    def bearer(sub: str, **claims: object) -> dict[str, str]:
        body = {"iss": ISSUER, "aud": "twinkit", "sub": sub, "exp": int(time.time()) + 60, **claims}
        token = jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})
        return {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        put = await http.put(
            "/api/v1/twins/acme~p1", json={"reported": {"a": 1}}, headers=bearer("writer")
        )
        assert put.status_code == 201
        assert put.json() == {"id": "acme~p1", "revision": 1, "etag": '"1"'}  # may not read
        reader = bearer("u1", groups=["ops"])
        assert (await http.get("/api/v1/twins/acme~p1", headers=reader)).json()["reported"] == {
            "a": 1
        }
        assert (await http.get("/api/v1/twins/acme~p1", headers=bearer("u2"))).status_code == 403
        expired = bearer("u1", groups=["ops"], exp=int(time.time()) - 3600)
        assert (await http.get("/api/v1/twins/acme~p1", headers=expired)).status_code == 401
