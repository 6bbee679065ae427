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
    expect(page.get_by_text(re.compile(r"\d+ twins"))).to_be_visible()
    screenshot(page, "fleet")
    # the feed carries only the twins on screen, and their values move without a reload
    wait_live(page, "north-pump-1")
    chip = row.locator('[data-value="pressure"]')
    before = chip.inner_text()
    expect(chip).not_to_have_text(before, timeout=3000)


def wait_live(page: Any, wanted: str) -> None:
    """Wait until the page's change feed is connected with a filter containing ``wanted``
    (pages ask the server only for the twins or kinds they show)."""
    status = page.get_by_test_id("live-status")
    expect(status).to_have_attribute("data-filter", re.compile(re.escape(wanted)))
    expect(status).to_have_text("Live")


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
    wait_live(page, "twin=e2e-pump")
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
    wait_live(page, "twin=north-pump-2")
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


def test_fleet_search_model_filter_and_query_box(demo_server: RunningServer, page: Any) -> None:
    page.goto(demo_server.url + "/")
    table = page.get_by_test_id("fleet-table")
    page.get_by_label("Search twin ids").fill("south-tank")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(page).to_have_url(re.compile(r"q=south-tank"))
    page.get_by_label("Search twin ids").fill("")
    page.get_by_label("Filter by model").select_option("dtmi:twinkit:demo:Room;1")
    expect(table.locator("tbody tr")).to_have_count(16)
    expect(table).not_to_contain_text("pump")
    page.get_by_label("Search twin ids").fill("no-such-twin")
    expect(page.get_by_text("No twin matches")).to_be_visible()

    page.goto(demo_server.url + "/")
    page.get_by_text("Query the twin graph").click()
    page.get_by_label("Query").fill(
        "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:twinkit:demo:Tank;1')"
    )
    page.get_by_role("button", name="Run query").click()
    result = page.get_by_test_id("query-result")
    expect(result).to_contain_text("8 rows")
    expect(result).to_contain_text("north-tank-1")
    screenshot(page, "fleet-query")
    page.get_by_role("button", name="Show as graph").click()
    expect(page.get_by_test_id("graph").locator("[data-node]")).to_have_count(8)


def test_query_syntax_error_is_shown(demo_server: RunningServer, page: Any) -> None:
    page.goto(demo_server.url + "/")
    page.get_by_text("Query the twin graph").click()
    page.get_by_label("Query").fill("SELECT FROM WHERE")
    page.get_by_role("button", name="Run query").click()
    expect(page.get_by_role("alert")).to_be_visible()


def test_graph_around_a_site_is_clickable(demo_server: RunningServer, page: Any) -> None:
    page.goto(demo_server.url + "/graph?twin=site-north&depth=2")
    graph = page.get_by_test_id("graph")
    expect(graph.locator('[data-node="site-north"]')).to_be_visible()
    expect(graph.locator('[data-node="north-pump-1"]')).to_be_visible()
    expect(graph.locator('[data-node="north-tank-4"]')).to_be_visible()
    expect(graph.locator('[data-node="south-pump-1"]')).to_have_count(0)
    expect(graph).to_contain_text("feeds")
    screenshot(page, "graph")
    edges = graph.locator("g.edge")
    before = edges.count()
    wait_live(page, "RelationshipAdded")
    with demo_server.api() as api:
        added = api.put(
            "/api/v1/twins/north-pump-1/relationships/feeds-extra",
            json={"name": "feeds", "target": "north-tank-3"},
        )
        assert added.status_code in (200, 201), added.text
    expect(edges).to_have_count(before + 1, timeout=3000)
    graph.locator('[data-node="north-pump-2"]').click()
    selection = page.get_by_test_id("graph-selection")
    expect(selection).to_contain_text("north-pump-2")
    expect(selection).to_contain_text("feeds")
    selection.get_by_role("link", name="Open twin").click()
    expect(page.get_by_test_id("twin-id")).to_have_text("north-pump-2")


def test_models_are_cards_and_upload_errors_point_at_the_line(
    demo_server: RunningServer, page: Any
) -> None:
    page.goto(demo_server.url + "/models")
    pump = page.locator(".model-card", has_text="dtmi:twinkit:demo:Pump;1")
    expect(pump).to_contain_text("pressure")
    expect(pump).to_contain_text("bar")
    expect(pump).to_contain_text("writable")
    expect(pump).to_contain_text("flush")
    expect(pump).to_contain_text(re.compile(r"1[23] twins"))
    screenshot(page, "models")
    page.get_by_role("button", name="Upload models").click()
    broken = (
        '{\n  "@context": "dtmi:dtdl:context;3",\n  "@id": "dtmi:e2e:Broken;1",\n'
        '  "@type": "Interface",\n  "contents": [\n'
        '    { "@type": "Telemetry", "name": "t", "schema": "nonsense" }\n  ]\n}'
    )
    page.get_by_label("DTDL JSON").fill(broken)
    page.get_by_role("button", name="Validate and upload").click()
    error = page.get_by_test_id("upload-error")
    expect(error).to_contain_text("/contents/0")
    expect(error).to_contain_text("line 6")
    screenshot(page, "models-upload-error", full_page=False)
    page.get_by_label("DTDL JSON").fill(broken.replace('"nonsense"', '"double"'))
    page.get_by_role("button", name="Validate and upload").click()
    expect(page.locator(".model-card", has_text="dtmi:e2e:Broken;1")).to_be_visible()


def test_alerts_appear_live(demo_server: RunningServer, page: Any) -> None:
    from twinkit.model.events import EventKind

    # a twin without a simulated device, so nothing but the alert changes it
    twin = "site-south"
    page.goto(demo_server.url + "/alerts")
    # the demo's own rules may already have raised alerts on the simulated fleet
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    expect(page.get_by_text("Water on the floor")).to_have_count(0)
    wait_live(page, "kind=AlertAcknowledged,AlertCleared,AlertRaised")
    raised = {"id": "flood", "severity": "critical", "message": "Water on the floor"}
    demo_server.call(
        demo_server.platform.twins.record(twin, EventKind.ALERT_RAISED, {"alert": raised})
    )
    table = page.get_by_test_id("alerts-table")
    expect(table).to_contain_text("Water on the floor", timeout=2000)
    expect(table).to_contain_text(twin)
    expect(table).to_contain_text("critical")
    screenshot(page, "alerts")
    page.goto(demo_server.url + f"/?q={twin}")
    expect(page.locator(f'tr[data-twin="{twin}"]')).to_contain_text("1 open")
    page.goto(demo_server.url + f"/twins/{twin}")
    expect(page.get_by_test_id("twin-alerts")).to_contain_text("Water on the floor")
    wait_live(page, f"twin={twin}")
    demo_server.call(
        demo_server.platform.twins.record(twin, EventKind.ALERT_CLEARED, {"id": "flood"})
    )
    expect(page.get_by_test_id("twin-alerts")).to_have_count(0, timeout=2000)
    page.goto(demo_server.url + "/alerts?state=cleared")
    expect(page.get_by_test_id("alerts-table")).to_contain_text("Water on the floor")


def test_events_stream_live_with_filters(demo_server: RunningServer, page: Any) -> None:
    page.goto(demo_server.url + "/events?twin=north-room-2")
    events = page.get_by_test_id("event-list")
    expect(events).to_contain_text("north-room-2", timeout=5000)
    expect(events).not_to_contain_text("south-")
    page.get_by_role("button", name="DesiredChanged").click()
    wait_live(page, "kind=DesiredChanged")
    with demo_server.api() as api:
        api.patch("/api/v1/twins/north-room-2/desired", json={"setpoint": 22.5})
    expect(events).to_contain_text("setpoint = 22.5", timeout=2000)
    expect(events).not_to_contain_text("TelemetryReceived")
    screenshot(page, "events")


def test_unknown_twin_and_unknown_page_say_what_to_do(
    demo_server: RunningServer, page: Any
) -> None:
    page.goto(demo_server.url + "/twins/does-not-exist")
    expect(page.get_by_role("alert")).to_contain_text("does-not-exist")
    expect(page.get_by_role("alert")).to_contain_text("go back to the fleet")
    page.goto(demo_server.url + "/nowhere")
    expect(page.get_by_text("There is no page here")).to_be_visible()


def test_pages_fit_a_phone_width(demo_server: RunningServer, phone: Any) -> None:
    for name, path in [
        ("fleet", "/"),
        ("twin", "/twins/north-pump-1"),
        ("graph", "/graph?twin=north-tank-1"),
        ("models", "/models"),
        ("alerts", "/alerts?state=all"),
        ("events", "/events"),
    ]:
        phone.goto(demo_server.url + path)
        phone.wait_for_timeout(1200)  # the feed keeps the network busy: no "networkidle"
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} is wider than the phone by {overflow}px"
        screenshot(phone, f"phone-{name}", full_page=False)


def test_chart_zooms_into_history_and_returns_to_live(
    demo_server: RunningServer, page: Any
) -> None:
    page.goto(demo_server.url + "/twins/north-pump-4?range=1h")
    chart = page.get_by_test_id("chart-flow")
    expect(chart.get_by_role("button", name="1h")).to_have_class(re.compile("active"))
    expect(chart).to_contain_text("points shown")
    with page.expect_request(re.compile(r"/series/flow\?")) as zoomed:
        over = chart.locator(".u-over")
        box = over.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.5, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.9, y, steps=5)
        page.mouse.up()
    assert "every=" in zoomed.value.url
    back = chart.get_by_role("button", name="Back to live")
    expect(back).to_be_visible()
    back.click()
    expect(chart.locator(".live-pill")).to_be_visible()
