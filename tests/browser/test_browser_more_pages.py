"""Pages other features add: visited and checked with axe (light and dark) once they answer 200.

A path that answers 404 is skipped with a reason (the feature is not built yet), so
adding a page to this list before it exists is fine.
"""

from __future__ import annotations

import re

import pytest

from .conftest import Browsing, Server

pytestmark = pytest.mark.browser

PATHS = [
    "/org",
    "/catalog-import",
    "/admin",
    "/settings",
    "/api-docs",
    "/catalog-graph",
    "/catalog-graph?rootEntityRefs[]={component}",
    "/catalog-graph?rootEntityRefs[]={component}&maxDepth=2",
]


@pytest.mark.parametrize("path", PATHS)
def test_page_is_accessible_when_it_exists(browsing: Browsing, server: Server, path: str) -> None:
    path = path.format(component=server.first_entity("component")["ref"])
    status = server.get(path).status_code
    if status == 404:
        pytest.skip(f"{path} answers 404: not built yet")
    assert status == 200, f"{path}: HTTP {status}"
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    page = browsing.visit(path, name, dark_screenshot=True)
    assert page.locator("h1").count() == 1


def test_the_error_page_is_accessible(browsing: Browsing) -> None:
    browsing.visit("/catalog/default/component/no-such-thing", "error-404", status=404)
