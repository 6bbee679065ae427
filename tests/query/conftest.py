"""Fixtures for the query tests: the corpus graph on every storage adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.query.fixture_graph import START, build
from twinkit import Platform
from twinkit.testing import FrozenClock

ADAPTERS = ["memory", "sqlite"]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=ADAPTERS)
async def graph(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    """The fixture graph, built once per module and adapter."""
    path: Path | None = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("query") / "graph.db"
    clock = FrozenClock(START)
    async with Platform.open(path, clock=clock) as platform:
        await build(platform, clock)
        yield platform
