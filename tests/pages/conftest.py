"""Fixtures for page tests: the demo catalog behind the portal's ASGI app.

`demo` is built once per module on SQLite (the pages read through the same query
layer the API tests run on both databases). Tests that change the catalog or
stars must use `fresh_demo`, or undo what they did.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from greenroom.app import create_app
from greenroom.cli import demo_config
from greenroom.portal import Portal
from tests.conftest import fresh_database

from ..catalog.helpers import make_portal


@dataclass
class Demo:
    portal: Portal
    client: TestClient


def _demo(url: str, folder: Path) -> Iterator[Demo]:
    migrated = make_portal(url, folder)
    migrated.close()
    portal = Portal(demo_config(migrated.config))
    portal.catalog.process_until_idle()
    with TestClient(create_app(portal, run_workers=False)) as client:
        yield Demo(portal, client)
    portal.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo catalog, processed, on SQLite, shared by a module's tests."""
    folder = tmp_path_factory.mktemp("demo")
    with fresh_database("sqlite", folder) as url:
        yield from _demo(url, folder)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Demo]:
    """A demo catalog of the test's own, on each database."""
    with fresh_database(request.param, tmp_path) as url:
        yield from _demo(url, tmp_path)
