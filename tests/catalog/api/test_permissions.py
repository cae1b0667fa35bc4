"""Every catalog route goes through the one permission check, before it does anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from greenroom.app import create_app
from greenroom.permissions import Identity, Permission, Permissions
from greenroom.web.guard import PERMISSION_EXTRA

from ..helpers import make_portal


class _Deny:
    """Refuses everything and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def allows(self, identity: Identity, permission: Permission) -> bool:
        self.asked.append((identity.user_entity_ref, permission.name))
        return False


def _operations(client: TestClient) -> list[tuple[str, str, str]]:
    """(method, path, permission) of every operation the OpenAPI document lists."""
    document = client.get("/api/catalog/openapi.json").json()
    return [
        (method.upper(), path, operation.get(PERMISSION_EXTRA))
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _example_path(path: str) -> str:
    return (
        path.replace("{uid}", "00000000-0000-0000-0000-000000000000")
        .replace("{kind}", "component")
        .replace("{namespace}", "default")
        .replace("{name}", "x")
        .replace("{id}", "00000000-0000-0000-0000-000000000000")
    )


@pytest.fixture
def denied(tmp_path: Path):
    portal = make_portal(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    policy = _Deny()
    portal.permissions = Permissions(policy)
    app = create_app(portal, run_workers=False)
    with TestClient(app) as client:
        yield app, client, policy
    portal.close()


def test_every_route_declares_a_permission(denied) -> None:
    _, client, _ = denied
    operations = _operations(client)
    assert len(operations) >= 20
    for method, path, permission in operations:
        assert permission, (method, path)


def test_a_denying_policy_blocks_every_route(denied) -> None:
    _, client, policy = denied
    for method, path, permission in _operations(client):
        policy.asked.clear()
        response = client.request(
            method, "/api/catalog" + _example_path(path), json={}, params={"facet": "kind"}
        )
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["name"] == "NotAllowedError"
        assert policy.asked == [("user:default/guest", permission)], (method, path)
