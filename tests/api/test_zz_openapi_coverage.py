"""Every operation in /openapi.json is exercised by the API tests at least once.

Runs last (file order) and reads what the other tests' apps counted in their
metrics; run alone it has nothing to check and skips.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import EXERCISED


async def test_every_openapi_operation_was_exercised(client: httpx.AsyncClient) -> None:
    if len({route for _, route in EXERCISED}) < 10:
        pytest.skip("run the whole tests/api folder to check route coverage")
    schema = (await client.get("/openapi.json")).json()
    operations = {
        (method.upper(), path) for path, item in schema["paths"].items() for method in item
    }
    missing = sorted(operations - EXERCISED)
    assert missing == []
