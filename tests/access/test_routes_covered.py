"""Every route of /openapi.json (except /healthz) has an access rule, answers 401 without
credentials and 403 to a subject with no grant. New routes fail here until mapped."""

from __future__ import annotations

import re

import httpx

from tests.access.conftest import AppMaker, Realm
from twinkit.access.routes import ROUTES

SAMPLES = {
    "twin_id": "acme~p1",
    "twin": "acme~p1",
    "rel_id": "r1",
    "path": "telemetry/temp",
    "dtmi": "dtmi:acme:Pump;1",
    "name": "reboot",
    "policy_id": "acme",
}
BODIES = {
    "PUT": {"model": None, "reported": {"a": 1}},
    "PATCH": {"a": 1},
    "POST": {"values": {"t": 1}},
}


def concrete(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], template)


async def test_every_openapi_route_is_mapped_and_closed(
    make_app: AppMaker, tenants_realm: Realm
) -> None:
    app = make_app(tenants_realm)
    paths = app.openapi()["paths"]
    mapped = {(r.method, r.template) for r in ROUTES}
    operations = [
        (method.upper(), template)
        for template, item in paths.items()
        for method in item
        if template != "/healthz"
    ]
    assert len(operations) >= 25
    missing = [op for op in operations if op not in mapped]
    assert missing == [], f"routes without an access rule: {missing}"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        assert (await http.get("/healthz")).status_code == 200
        for method, template in operations:
            url = concrete(template)
            body = BODIES.get(method)
            anonymous = await http.request(method, url, json=body)
            assert anonymous.status_code == 401, (method, template)
            assert set(anonymous.json()["error"]) == {"code", "message", "path"}
            bad = await http.request(
                method, url, json=body, headers={"Authorization": "Bearer tk_x_y"}
            )
            assert bad.status_code == 401, (method, template)
            nobody = await http.request(
                method, url, json=body, headers=tenants_realm.headers("nobody")
            )
            assert nobody.status_code == 403, (method, template, nobody.text)
            assert nobody.json()["error"]["code"] == "forbidden"
