"""A policy scoped to a model covers the twins of every model that extends it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.access.conftest import ADMIN_POLICY, PEOPLE, AppMaker, realm
from twinkit.access.evaluator import Evaluator
from twinkit.access.policy import Permission, load_policies
from twinkit.access.principal import Principal
from twinkit.dtdl import interfaces as interfaces_from_json
from twinkit.model.interface import ModelRegistry


def interface(dtmi: str, extends: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": "dtmi:dtdl:context;3", "@id": dtmi, "@type": "Interface"}
    if extends:
        doc["extends"] = extends
    return doc


PUMP, HEAT_PUMP, BIG_HEAT_PUMP, VALVE = (
    "dtmi:acme:Pump;1",
    "dtmi:acme:HeatPump;1",
    "dtmi:acme:BigHeatPump;1",
    "dtmi:acme:Valve;1",
)
MODELS = [
    interface(PUMP),
    interface(HEAT_PUMP, PUMP),
    interface(BIG_HEAT_PUMP, HEAT_PUMP),
    interface(VALVE),
]
PUMP_READERS = {
    "id": "pump-readers",
    "model": PUMP,
    "entries": {
        "readers": {"subjects": ["user:alice"], "resources": {"twin:/": {"grant": ["READ"]}}}
    },
}


def test_model_scope_follows_extends_transitively() -> None:
    registry = ModelRegistry()
    registry.add(interfaces_from_json(list(MODELS)))
    ev = Evaluator(load_policies([PUMP_READERS]), registry=registry)
    alice = Principal.of("user:alice")
    for model in (PUMP, HEAT_PUMP, BIG_HEAT_PUMP):
        assert ev.can(alice, Permission.READ, "twin:/", twin="t", model=model), model
    assert not ev.can(alice, Permission.READ, "twin:/", twin="t", model=VALVE)
    assert not ev.can(alice, Permission.READ, "twin:/", twin="t", model="dtmi:acme:Unknown;1")
    # without a registry only the exact model matches
    exact = Evaluator(load_policies([PUMP_READERS]))
    assert exact.can(alice, Permission.READ, "twin:/", twin="t", model=PUMP)
    assert not exact.can(alice, Permission.READ, "twin:/", twin="t", model=HEAT_PUMP)


async def test_rest_and_queries_honour_extends(make_app: AppMaker) -> None:
    people = realm([ADMIN_POLICY, PUMP_READERS], {"root": PEOPLE["root"], "alice": {}})
    app = make_app(people, dashboard=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        root, alice = people.headers("root"), people.headers("alice")
        assert (await http.post("/api/v1/models", json=MODELS, headers=root)).status_code == 201
        for twin, model in (("p", PUMP), ("h", HEAT_PUMP), ("b", BIG_HEAT_PUMP), ("v", VALVE)):
            body = {"model": model, "reported": {}}
            assert (await http.put(f"/api/v1/twins/{twin}", json=body, headers=root)).is_success
        for twin in ("p", "h", "b"):
            assert (await http.get(f"/api/v1/twins/{twin}", headers=alice)).status_code == 200
        assert (await http.get("/api/v1/twins/v", headers=alice)).status_code == 403
        listed = (await http.get("/api/v1/twins", headers=alice)).json()["items"]
        assert sorted(t["id"] for t in listed) == ["b", "h", "p"]
