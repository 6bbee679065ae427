"""Signing in to the dashboard of a real ``twinkit serve --auth`` server, in Chromium.

Everything goes through the command line a user types: ``twinkit auth init`` and
``twinkit auth users add … --token`` print the tokens, ``twinkit auth policy set``
installs a tenant policy, and ``twinkit serve --auth FILE`` runs as a subprocess on
127.0.0.1. The admin seeds twins of two tenants over HTTP; the browser then signs
in: a wrong token is refused with a visible message, a tenant member's token shows
the fleet as that member may read it — its tenant's twins, no other tenant's, and
no value of a field its policy revokes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.dashboard.conftest import free_port, screenshot

TWINKIT = str(Path(sys.executable).with_name("twinkit"))
SECRET = "P-4711-SECRET"  # a revoked field's value: must never reach the page
POLICY = """\
id: acme-members
tenant: acme
entries:
  members:
    subjects: [tenant:acme]
    resources:
      "twin:/": {grant: [READ]}
      "twin:/reported/patient": {revoke: [READ]}
      "history:/": {grant: [READ]}
      "model:/": {grant: [READ]}
"""


@dataclass
class AuthServer:
    url: str
    admin: str
    alice: str


def twinkit(folder: Path, *args: str) -> str:
    done = subprocess.run(
        [TWINKIT, *args], cwd=folder, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def printed_token(output: str) -> str:
    found = re.search(r"token \(shown once\): (\S+)", output)
    assert found, output
    return found.group(1)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    folder = tmp_path_factory.mktemp("auth-serve")
    auth = "--file=auth.yaml"
    admin = printed_token(twinkit(folder, "auth", auth, "init"))
    alice = printed_token(
        twinkit(folder, "auth", auth, "users", "add", "alice", "--tenant", "acme", "--token")
    )
    (folder / "acme.yaml").write_text(POLICY)
    twinkit(folder, "auth", auth, "policy", "set", "acme.yaml")
    port = free_port()
    command = [TWINKIT, "serve", "--db", "t.db", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-mqtt", "--auth", "auth.yaml"]
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen(
        command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, env={**os.environ}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (folder / "serve.log").read_text()
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "twinkit serve did not answer /healthz in 30 s"
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {admin}"}
        with httpx.Client(base_url=url, headers=headers, timeout=15) as api:
            for twin, reported in (
                ("acme~pump-1", {"temp": 21.5, "patient": SECRET}),
                ("acme~pump-2", {"temp": 19.0}),
                ("globex~fan-1", {"rpm": 900}),
            ):
                answer = api.put(f"/api/v1/twins/{twin}", json={"reported": reported})
                assert answer.status_code == 201, answer.text
        yield AuthServer(url, admin, alice)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        log.close()


def test_a_wrong_token_is_refused_and_a_member_sees_its_tenant(
    auth_server: AuthServer, page: Any
) -> None:
    page.goto(auth_server.url + "/")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("This server asks who you are")
    dialog.get_by_label("Access token").fill("tk_000000000000_not-a-token")
    dialog.get_by_role("button", name="Sign in").click()
    refused = page.get_by_role("dialog")
    expect(refused).to_contain_text("Your access token was refused")
    expect(refused.get_by_role("button", name="Forget the old token")).to_be_visible()
    expect(page.get_by_test_id("fleet-table")).to_have_count(0)
    screenshot(page, "auth-signin-refused", full_page=False)

    refused.get_by_label("Access token").fill(auth_server.alice)
    refused.get_by_role("button", name="Sign in").click()
    fleet = page.get_by_test_id("fleet-table")
    expect(fleet).to_contain_text("acme~pump-1")
    expect(fleet).to_contain_text("acme~pump-2")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(fleet).not_to_contain_text("globex~fan-1")
    expect(fleet.get_by_role("row").filter(has_text="acme~pump-1")).to_contain_text("21.5")
    assert SECRET not in page.content()
    screenshot(page, "auth-signin-tenant-fleet", full_page=False)

    # the same token, asked directly: the server's answer is what the page showed
    headers = {"Authorization": f"Bearer {auth_server.alice}"}
    rows = httpx.get(auth_server.url + "/api/v1/dashboard/fleet", headers=headers).json()
    assert sorted(r["id"] for r in rows["items"]) == ["acme~pump-1", "acme~pump-2"]
