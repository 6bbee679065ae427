"""Every page in real headless Chromium against a running demo server."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.dashboard.conftest import RunningServer, screenshot


def test_fleet_lists_twins_with_models_status_and_values_with_units(
    demo_server: RunningServer, page: Any
) -> None:
    page.goto(demo_server.url + "/")
    table = page.get_by_test_id("fleet-table")
    expect(table).to_be_visible()
    row = table.locator('tr[data-twin="north-pump-1"]')
    expect(row).to_contain_text("Pump")
    expect(row).to_contain_text("online")
    expect(row.locator('[data-value="pressure"]')).to_contain_text(re.compile(r"\d bar"))
    expect(table.locator('tr[data-twin="north-room-1"]')).to_contain_text("°C")
    expect(page.get_by_text(re.compile(r"38 twins"))).to_be_visible()
    screenshot(page, "fleet")


def publish(server: RunningServer, topic: str, body: dict[str, Any]) -> None:
    """Publish one QoS 1 message to the server's broker, as a device would."""
    import orjson
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="e2e-device")
    client.connect("127.0.0.1", server.broker_port)
    client.loop_start()
    try:
        client.publish(topic, orjson.dumps(body), qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def test_twin_chart_shows_a_published_value_within_a_second(
    demo_server: RunningServer, page: Any
) -> None:
    with demo_server.api() as api:
        created = api.put("/api/v1/twins/e2e-pump", json={"model": "dtmi:twinkit:demo:Pump;1"})
        assert created.status_code in (200, 201), created.text
        first = api.post("/api/v1/twins/e2e-pump/telemetry", json={"values": {"pressure": 2.5}})
        assert first.status_code < 300, first.text
    page.goto(demo_server.url + "/twins/e2e-pump")
    value = page.get_by_test_id("chart-value-pressure")
    expect(value).to_have_text("2.5 bar")
    expect(page.get_by_test_id("live-status")).to_have_text("Live")
    canvas = page.get_by_test_id("chart-pressure").locator(".chart-canvas")
    expect(canvas).to_have_attribute("data-points", "1")
    publish(demo_server, "twinkit/e2e-pump/telemetry", {"values": {"pressure": 7.75}})
    expect(value).to_have_text("7.75 bar", timeout=1000)
    expect(canvas).to_have_attribute("data-points", "2", timeout=1000)
    expect(page.get_by_test_id("telemetry-pressure")).to_have_text("7.75 bar")


def test_twin_page_shows_state_relationships_and_journal(
    demo_server: RunningServer, page: Any
) -> None:
    page.goto(demo_server.url + "/twins/north-pump-1")
    expect(page.get_by_test_id("twin-id")).to_have_text("north-pump-1")
    expect(page.get_by_test_id("reported-firmware")).to_contain_text("1.4.2")
    expect(page.get_by_test_id("chart-value-pressure")).to_contain_text(" bar")
    expect(page.get_by_test_id("chart-value-temperature")).to_contain_text("°C")
    relationships = page.get_by_test_id("relationships")
    expect(relationships).to_contain_text("feeds")
    expect(relationships).to_contain_text("north-tank-1")
    expect(relationships).to_contain_text("site-north")
    expect(page.get_by_test_id("journal")).to_contain_text("TwinCreated")
    expect(page.get_by_test_id("journal")).to_contain_text("TelemetryReceived")
    page.wait_for_timeout(1500)  # let the charts fill
    screenshot(page, "twin")
    relationships.get_by_role("link", name="north-tank-1").click()
    expect(page.get_by_test_id("twin-id")).to_have_text("north-tank-1")
    expect(page).to_have_url(re.compile(r"/twins/north-tank-1$"))


def test_desired_value_reaches_the_simulated_device(demo_server: RunningServer, page: Any) -> None:
    page.goto(demo_server.url + "/twins/north-pump-2")
    form = page.locator('form[data-desired="speed"]')
    form.locator("input").fill("not a number")
    form.get_by_role("button", name="Set").click()
    expect(form).to_contain_text("must be a number")
    form.locator("input").fill("1234")
    form.get_by_role("button", name="Set").click()
    expect(page.get_by_test_id("desired-speed")).to_contain_text("1,234")
    # the simulated device follows its desired state and reports it back
    expect(page.get_by_test_id("reported-speed")).to_contain_text("1,234", timeout=10_000)
    row = page.locator('tr[data-property="speed"]')
    expect(row).to_contain_text("in sync")
    with demo_server.api() as api:
        doc = api.get("/api/v1/twins/north-pump-2").json()
    assert doc["reported"]["speed"] == 1234
    assert "speed" not in doc["delta"]


def test_command_form_validates_then_shows_the_device_answer(
    demo_server: RunningServer, page: Any
) -> None:
    page.goto(demo_server.url + "/twins/north-pump-3")
    form = page.locator('form[data-command="flush"]')
    form.locator("#cmd-flush").fill("1.5")
    form.get_by_role("button", name="Send flush").click()
    expect(form).to_contain_text("must be a whole number")
    form.locator("#cmd-flush").fill("5")
    form.get_by_role("button", name="Send flush").click()
    result = page.get_by_test_id("command-result-flush")
    expect(result).to_contain_text("200", timeout=10_000)
    expect(result).to_contain_text("Answered")
    screenshot(page, "twin-command")
    with demo_server.api() as api:
        events = api.get("/api/v1/twins/north-pump-3/events").json()
    kinds = [e["kind"] for e in (events["items"] if isinstance(events, dict) else events)]
    assert "CommandSent" in kinds
