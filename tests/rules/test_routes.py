"""The rules and alerts routes, mounted on the real API app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.rules.conftest import PUMP_MODEL
from twinkit import Platform
from twinkit.api import create_app
from twinkit.rules import RuleEngine, rules_router
from twinkit.testing import FrozenClock

RULES_YAML = """
rules:
  - id: pump-hot
    models: [dtmi:acme:Pump;1]
    when: avg(telemetry.temperature, '1m') > 80
    for: 30s
    actions:
      - alert: {severity: critical, message: "{twin} runs hot"}
  - id: pump-fast
    twins: [p1]
    when: rpm > 3000
    severity: warning
"""


@pytest.fixture
async def client(tk: Platform, engine: RuleEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(tk)
    app.include_router(rules_router(engine))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        yield c


async def test_rules_posted_as_yaml_are_listed_read_and_deleted(
    client: httpx.AsyncClient, engine: RuleEngine
) -> None:
    r = await client.post(
        "/api/v1/rules", content=RULES_YAML, headers={"content-type": "application/yaml"}
    )
    assert r.status_code == 201, r.text
    assert [x["id"] for x in r.json()["rules"]] == ["pump-hot", "pump-fast"]
    listed = (await client.get("/api/v1/rules")).json()["rules"]
    assert [x["id"] for x in listed] == ["pump-fast", "pump-hot"]
    one = (await client.get("/api/v1/rules/pump-hot")).json()
    assert one["for"] == "30s" and one["kind"] == "declared"
    assert (await client.delete("/api/v1/rules/pump-hot")).status_code == 204
    assert (await client.get("/api/v1/rules/pump-hot")).status_code == 404
    assert [r.id for r in engine.list()] == ["pump-fast"]


async def test_rules_posted_as_json(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/rules", json={"id": "a", "when": "rpm > 1", "actions": ["alert"]}
    )
    assert r.status_code == 201
    r = await client.post(
        "/api/v1/rules", json=[{"id": "b", "when": "rpm > 1", "actions": ["alert"]}]
    )
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (
            [{"id": "ok", "when": "rpm > 1", "actions": ["alert"]}, {"id": "bad", "when": "rpm >"}],
            "/1/when",
        ),
        (
            {"rules": [{"id": "x", "when": "rpm > 1", "actions": [{"teleport": {}}]}]},
            "/rules/0/actions/0/teleport",
        ),
        ({"id": "x", "when": "avg(rpm, 'later') > 1", "actions": ["alert"]}, "/when"),
    ],
)
async def test_invalid_rules_get_the_error_shape_and_nothing_is_added(
    client: httpx.AsyncClient, engine: RuleEngine, body: object, pointer: str
) -> None:
    r = await client.post("/api/v1/rules", json=body)
    assert r.status_code == 400
    assert r.json()["error"]["path"] == pointer
    assert engine.list() == []


async def test_dry_run_of_a_saved_rule_and_of_a_draft(
    tk: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL)
    for value in (70, 90, 90, 60):
        await tk.twins.telemetry("p1", {"temperature": value})
        clock.advance(10)
    await client.post(
        "/api/v1/rules",
        json={"id": "hot", "when": "telemetry.temperature > 80", "actions": ["alert"]},
    )
    r = await client.post("/api/v1/rules/hot/dry-run", json={"twin": "p1"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["fired"] == 1
    assert [f["at"] for f in report["firings"]] == ["2026-01-01T00:00:10Z", "2026-01-01T00:00:30Z"]
    draft = {
        "rule": {"id": "cold", "when": "telemetry.temperature < 65", "actions": ["alert"]},
        "twin": "p1",
        "start": "2026-01-01T00:00:05Z",
    }
    r = await client.post("/api/v1/rules/dry-run", json=draft)
    assert [f["at"] for f in r.json()["firings"]] == ["2026-01-01T00:00:30Z"]
    assert (await client.post("/api/v1/rules/hot/dry-run", json={})).json()["error"][
        "path"
    ] == "/twin"
    assert (
        await client.post("/api/v1/rules/hot/dry-run", json={"twin": "ghost"})
    ).status_code == 404


async def test_alerts_are_listed_acknowledged_and_cleared(
    tk: Platform, client: httpx.AsyncClient, engine: RuleEngine
) -> None:
    await tk.twins.put("p1", model=PUMP_MODEL, reported={"rpm": 100.0})
    await client.post(
        "/api/v1/rules",
        json={"id": "fast", "when": "rpm > 3000", "actions": [{"alert": {"severity": "critical"}}]},
    )
    await tk.twins.patch("p1", "reported", {"rpm": 4000.0})
    await engine.settle()
    alerts = (await client.get("/api/v1/alerts", params={"severity": "critical"})).json()["alerts"]
    assert [(a["twin"], a["source"], a["state"]) for a in alerts] == [("p1", "rule:fast", "raised")]
    alert_id = alerts[0]["id"]
    r = await client.post(
        f"/api/v1/twins/p1/alerts/{alert_id}/acknowledge", headers={"x-actor": "alice"}
    )
    assert (r.json()["state"], r.json()["acknowledged_by"]) == ("acknowledged", "alice")
    doc = (await client.get("/api/v1/twins/p1")).json()
    assert doc["alerts"][alert_id]["state"] == "acknowledged"
    r = await client.post(f"/api/v1/twins/p1/alerts/{alert_id}/clear")
    assert r.json()["state"] == "cleared"
    assert (await client.get("/api/v1/alerts")).json()["alerts"] == []
    assert (await client.post("/api/v1/twins/p1/alerts/nope/clear")).status_code == 404
    assert (await client.get("/api/v1/alerts", params={"state": "gone"})).status_code == 400
