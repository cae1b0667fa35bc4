"""Fixtures for the catalog REST API tests.

`example_api` is the Backstage example catalog (as ingested in
tests/catalog/test_backstage_examples.py) behind a TestClient, built once per module and
database. Tests that use it must not change the catalog; tests that do use their own portal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from greenroom.app import create_app
from greenroom.portal import Portal
from tests.conftest import EXAMPLES, fresh_database

from ..helpers import example_catalog_config, make_portal


@dataclass
class ExampleCatalog:
    """The example catalog: its portal, an API client, and where its files are."""

    portal: Portal
    client: TestClient
    examples: Path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like `database_url`, but one database for a whole module."""
    with fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="module")
def example_catalog(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleCatalog]:
    """The Backstage example catalog, processed, behind `create_app` (no workers)."""
    examples = EXAMPLES / "packages" / "catalog-model" / "examples"
    if not examples.is_dir():
        pytest.skip(f"the Backstage example catalog is not present (expected at {examples})")
    portal = make_portal(
        module_database_url,
        tmp_path_factory.mktemp("examples"),
        example_catalog_config(examples),
    )
    portal.catalog.process_until_idle()
    with TestClient(create_app(portal, run_workers=False)) as client:
        yield ExampleCatalog(portal, client, examples)
    portal.close()


@pytest.fixture(scope="module")
def example_api(example_catalog: ExampleCatalog) -> TestClient:
    """A client for /api/catalog of the example catalog (read-only use)."""
    return example_catalog.client
