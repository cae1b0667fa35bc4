"""Registering a component (/catalog-import), the admin pages (/admin) and Settings.

Tests that change a catalog build a small portal of their own on both databases,
with the `catalog` settings they need (file locations, read-only, orphans kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from greenroom.app import create_app
from greenroom.catalog.pages.register import classify_target
from greenroom.permissions import (
    CATALOG_ENTITY_DELETE,
    CATALOG_ENTITY_REFRESH,
    CATALOG_LOCATION_CREATE,
    CATALOG_LOCATION_DELETE,
    Identity,
    Permission,
    Permissions,
)
from greenroom.portal import Portal
from greenroom.web.pages import THEME_COOKIE
from greenroom.web.settings import local_path

from ..catalog.helpers import component, make_portal, write
from .conftest import Demo

CROSS_SITE = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
BAD_NAME_LINE = 13  # the line of `name: Bad Name!` in bad.yaml


@contextmanager
def site(database_url: str, tmp_path: Path, **catalog: Any) -> Iterator[tuple[Portal, TestClient]]:
    portal = make_portal(database_url, tmp_path, catalog=catalog)
    with TestClient(create_app(portal, run_workers=False)) as client:
        yield portal, client
    portal.close()


def catalog_files(folder: Path) -> Path:
    """A root Location leading to good, broken, badly named and missing files."""
    write(folder / "good.yaml", component("alpha") + "---\n" + component("beta"))
    write(folder / "broken.yaml", "apiVersion: backstage.io/v1alpha1\nkind: [oops\n")
    write(folder / "bad.yaml", component("gamma") + "---\n" + component("Bad Name!"))
    return write(
        folder / "all.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata:
          name: all
        spec:
          targets: [./good.yaml, ./broken.yaml, ./bad.yaml, ./missing.yaml]
        """,
    )


def analyze(client: TestClient, target: str, **headers: str) -> Any:
    return client.post(
        "/catalog-import/analyze?format=json", data={"target": target}, headers=headers
    )


def flash(response: Any) -> tuple[str, dict[str, list[str]]]:
    """The path a 303 leads to and its query."""
    assert response.status_code == 303, response.text
    parts = urlsplit(response.headers["location"])
    return parts.path, parse_qs(parts.query)


# --- register ---------------------------------------------------------------------------------


def test_analyze_shows_entities_and_errors_with_positions_and_stores_nothing(
    database_url: str, tmp_path: Path
) -> None:
    root = catalog_files(tmp_path / "repo")
    with site(database_url, tmp_path, allowedLocationTypes=["url", "file"]) as (portal, client):
        response = analyze(client, str(root))
        assert response.status_code == 200
        data = response.json()
        assert data["step"] == "analyze"
        assert data["location"] == {
            "type": "file",
            "target": str(root),
            "ref": f"file:{root}",
        }
        names = {(e["kind"], e["name"]) for e in data["entities"]}
        assert {("Location", "all"), ("Component", "alpha"), ("Component", "beta")} <= names
        assert ("Component", "gamma") in names
        assert not any(e["exists"] for e in data["entities"])
        [generated] = [e for e in data["entities"] if e["generated"]]
        assert generated["kind"] == "Location"
        assert data["location_errors"] == []
        by_file = {Path(e["file"].removeprefix("file:")).name: e for e in data["errors"]}
        assert by_file["broken.yaml"]["line"] == 2
        assert "YAML" in by_file["broken.yaml"]["message"]
        assert by_file["bad.yaml"]["line"] == BAD_NAME_LINE
        assert by_file["bad.yaml"]["field"] == "metadata.name"
        assert by_file["missing.yaml"]["name"] == "NotFoundError"
        assert data["can_import"] is True
        # nothing was stored
        assert portal.catalog.locations.list() == []
        assert portal.catalog.entity_count() == 0

        html = client.post("/catalog-import/analyze", data={"target": str(root)}).text
        assert "alpha" in html and "Bad Name!" in html
        assert f"line </span><strong>{BAD_NAME_LINE}</strong>" in html
        assert 'action="/catalog-import/import"' in html
        assert f'name="target" value="{root}"' in html


def test_import_registers_and_the_entities_arrive(database_url: str, tmp_path: Path) -> None:
    root = catalog_files(tmp_path / "repo")
    with site(database_url, tmp_path, allowedLocationTypes=["file"]) as (portal, client):
        response = client.post(
            "/catalog-import/import", data={"target": str(root)}, follow_redirects=False
        )
        path, _ = flash(response)
        [location] = portal.catalog.locations.list()
        assert (location.type, location.target) == ("file", str(root))
        assert path == f"/catalog-import/locations/{location.id}"

        before = client.get(path + "?format=json").json()
        assert before["step"] == "done" and before["processed"] is False
        page = client.get(path).text
        assert "processed in the background" in page
        assert f'href="{before["registered"]["entity"]["url"]}"' in page

        portal.catalog.process_until_idle()
        after = client.get(path + "?format=json").json()
        assert after["processed"] is True
        assert {"alpha", "beta", "gamma"} <= {e["name"] for e in after["entities"]}
        assert after["error_count"] >= 2
        assert client.get("/catalog/default/component/alpha").status_code == 200
        assert client.get(after["registered"]["entity"]["url"]).status_code == 200

        # Analyzing again links what exists; importing again is a conflict.
        again = analyze(client, str(root)).json()
        alpha = next(e for e in again["entities"] if e["name"] == "alpha")
        assert alpha["exists"] and alpha["url"] == "/catalog/default/component/alpha"
        assert again["registered"]["id"] == location.id
        assert again["can_import"] is False
        conflict = client.post("/catalog-import/import", data={"target": str(root)})
        assert conflict.status_code == 409
        assert "Already registered" in conflict.text
        assert f'href="/catalog-import/locations/{location.id}"' in conflict.text
        json_conflict = client.post(
            "/catalog-import/import?format=json", data={"target": str(root)}
        )
        assert json_conflict.status_code == 409
        assert json_conflict.json()["error"]["name"] == "ConflictError"
        assert len(portal.catalog.locations.list()) == 1


def test_import_json_twin_answers_the_registration(database_url: str, tmp_path: Path) -> None:
    root = write(tmp_path / "one.yaml", component("solo"))
    with site(database_url, tmp_path, allowedLocationTypes=["file"]) as (portal, client):
        response = client.post("/catalog-import/import?format=json", data={"target": str(root)})
        assert response.status_code == 201
        data = response.json()
        assert data["location"]["ref"] == f"file:{root}"
        assert data["registered"]["id"] == portal.catalog.locations.list()[0].id


def test_relative_paths_start_at_the_config_folder(tmp_path: Path) -> None:
    assert classify_target(" repo/all.yaml ", tmp_path) == (
        "file",
        str((tmp_path / "repo" / "all.yaml").resolve()),
    )
    assert classify_target("https://x.example/c.yaml", tmp_path) == (
        "url",
        "https://x.example/c.yaml",
    )
    assert classify_target("git:https://x.example/r.git//c.yaml", tmp_path) == (
        "git",
        "https://x.example/r.git//c.yaml",
    )


def test_a_url_on_a_host_not_allowed_is_a_clear_location_error(
    database_url: str, tmp_path: Path
) -> None:
    with site(database_url, tmp_path) as (portal, client):
        data = analyze(client, "https://evil.example.com/catalog-info.yaml").json()
        [error] = data["location_errors"]
        assert error["name"] == "NotAllowedError"
        assert "reading.allow" in error["message"]
        assert data["can_import"] is False
        html = client.post(
            "/catalog-import/analyze", data={"target": "https://evil.example.com/catalog-info.yaml"}
        ).text
        assert "The location itself has errors" in html and "reading.allow" in html
        assert 'action="/catalog-import/import"' not in html
        assert portal.catalog.locations.list() == []


def test_only_allowed_location_types_are_accepted(database_url: str, tmp_path: Path) -> None:
    root = write(tmp_path / "one.yaml", component("solo"))
    with site(database_url, tmp_path) as (portal, client):  # default: url only
        form = client.get("/catalog-import?format=json").json()
        assert form["allowed_types"] == ["url"] and form["file_allowed"] is False
        assert "URL of a catalog-info.yaml file" in client.get("/catalog-import").text
        for step in ("analyze", "import"):
            response = client.post(f"/catalog-import/{step}", data={"target": str(root)})
            assert response.status_code == 400
            assert "Registered locations must be of an allowed type" in response.text
            assert '<form class="card section import-form"' in response.text  # the form again
            twin = client.post(f"/catalog-import/{step}?format=json", data={"target": str(root)})
            assert twin.json()["error"]["name"] == "InputError"
        assert client.post("/catalog-import/analyze", data={"target": "  "}).status_code == 400
        # The API says the same, through the same check.
        api = client.post("/api/catalog/locations", json={"type": "file", "target": str(root)})
        assert api.status_code == 400
        assert portal.catalog.locations.list() == []
    with site(database_url, tmp_path / "git", allowedLocationTypes=["git"]) as (_, client):
        refused = client.post(
            "/catalog-import/analyze?format=json", data={"target": "https://x.example/c.yaml"}
        )
        assert refused.status_code == 400


def test_readonly_catalog_refuses_registration_and_removal(
    database_url: str, tmp_path: Path
) -> None:
    root = write(tmp_path / "one.yaml", component("solo"))
    with site(database_url, tmp_path, readonly=True, allowedLocationTypes=["file"]) as (
        portal,
        client,
    ):
        page = client.get("/catalog-import")
        assert "Registration is disabled" in page.text
        assert client.get("/catalog-import?format=json").json()["readonly"] is True
        # A dry run stores nothing, so it stays available (as the API's dryRun does).
        data = analyze(client, str(root)).json()
        assert [e["name"] for e in data["entities"] if not e["generated"]] == ["solo"]
        assert data["can_import"] is False
        refused = client.post("/catalog-import/import", data={"target": str(root)})
        assert refused.status_code == 403
        assert "readonly" in refused.text
        assert portal.catalog.locations.list() == []

        location, _ = portal.catalog.add_location("file", str(root))  # e.g. from before
        admin = client.get("/admin")
        assert "read-only" in admin.text and "/delete" not in admin.text
        assert client.get(f"/admin/locations/{location.id}/delete").status_code == 403
        assert client.post(f"/admin/locations/{location.id}/delete").status_code == 403
        assert len(portal.catalog.locations.list()) == 1


# --- admin ------------------------------------------------------------------------------------


def test_admin_lists_refreshes_and_removes_locations(database_url: str, tmp_path: Path) -> None:
    root = catalog_files(tmp_path / "repo")
    good = write(tmp_path / "solo.yaml", component("solo"))
    with site(database_url, tmp_path, allowedLocationTypes=["file"]) as (portal, client):
        broken, _ = portal.catalog.add_location("file", str(root))
        fine, _ = portal.catalog.add_location("file", str(good))
        pending = client.get("/admin?format=json").json()
        assert {item["status"] for item in pending["locations"]} == {"pending"}
        portal.catalog.process_until_idle()

        data = client.get("/admin?format=json").json()
        assert data["total"] == 2
        rows = {item["id"]: item for item in data["locations"]}
        assert rows[fine.id]["status"] == "ok"
        assert rows[fine.id]["entity"]["ref"] == fine.entity_ref
        html = client.get("/admin").text
        assert str(good) in html and 'href="/admin/locations/' in html
        assert 'aria-label="Admin"' in html and "Processing errors" in html

        # Refresh: a redirect back to where it was sent from, saying what was done.
        response = client.post(
            rows[fine.id]["refresh_url"], data={"back": "/admin?page=1"}, follow_redirects=False
        )
        path, query = flash(response)
        assert path == "/admin"
        assert query == {"page": ["1"], "done": ["refreshed"], "what": [f"file:{good}"]}
        shown = client.get(response.headers["location"]).text
        assert f"Refresh of file:{good} scheduled" in shown
        # Never back to another site.
        away = client.post(
            rows[fine.id]["refresh_url"],
            data={"back": "//evil.example/admin"},
            follow_redirects=False,
        )
        assert flash(away)[0] == "/admin"
        twin = client.post(rows[fine.id]["refresh_url"] + "?format=json")
        assert twin.json()["done"] == "refreshed"

        # Remove: a confirmation page first (a form, so no script is needed), then the post.
        confirm = client.get(rows[broken.id]["delete_url"])
        assert confirm.status_code == 200
        assert (
            f'<form class="card admin-confirm" method="post" action="{rows[broken.id]["delete_url"]}">'
            in confirm.text
        )
        assert portal.catalog.locations.get(broken.id) is not None
        response = client.post(rows[broken.id]["delete_url"], follow_redirects=False)
        path, query = flash(response)
        assert (path, query["done"]) == ("/admin", ["location-deleted"])
        assert portal.catalog.locations.get(broken.id) is None
        assert portal.catalog.entity_by_ref("component:default/alpha") is None
        assert portal.catalog.entity_by_ref("component:default/solo") is not None
        assert client.post(rows[broken.id]["delete_url"]).status_code == 404


def test_the_flash_message_is_written_by_the_portal(demo: Demo) -> None:
    spoof = demo.client.get("/admin?done=Your+password+expired&what=x")
    assert 'role="status"' not in spoof.text
    assert (
        demo.client.get("/admin?done=Your+password+expired&what=x&format=json").json()["done"]
        is None
    )
    escaped = demo.client.get("/admin?done=refreshed&what=<script>alert(1)</script>").text
    assert "<script>alert(1)" not in escaped and "&lt;script&gt;alert(1)" in escaped


def test_admin_lists_processing_errors_with_positions(database_url: str, tmp_path: Path) -> None:
    root = catalog_files(tmp_path / "repo")
    with site(database_url, tmp_path, allowedLocationTypes=["file"]) as (portal, client):
        portal.catalog.add_location("file", str(root))
        portal.catalog.process_until_idle()
        data = client.get("/admin/errors?format=json").json()
        assert data["total"] == portal.catalog.processing_error_count() == 2
        items = {item["ref"]: item for item in data["entities"]}
        bad = items["component:default/bad name!"]
        assert bad["served"] is False  # rejected: no page to link to
        [error] = bad["errors"]
        assert (error["line"], error["field"]) == (BAD_NAME_LINE, "metadata.name")
        assert error["file"].endswith("bad.yaml")
        parent = items["location:default/all"]
        assert parent["served"] is True
        assert {Path(e["file"]).name for e in parent["errors"]} == {"broken.yaml", "missing.yaml"}
        html = client.get("/admin/errors").text
        assert f"line <strong>{BAD_NAME_LINE}</strong>" in html
        assert 'href="/catalog/default/location/all"' in html
        # Pages go on after the last ref shown.
        rest = client.get("/admin/errors?format=json&after=component:default/bad name!").json()
        assert [item["ref"] for item in rest["entities"]] == ["location:default/all"]


def test_admin_deletes_orphans(database_url: str, tmp_path: Path) -> None:
    file = write(tmp_path / "two.yaml", component("keep-me") + "---\n" + component("left-over"))
    with site(database_url, tmp_path, allowedLocationTypes=["file"], orphanStrategy="keep") as (
        portal,
        client,
    ):
        portal.catalog.add_location("file", str(file))
        portal.catalog.process_until_idle()
        assert client.get("/admin/orphans?format=json").json()["total"] == 0
        write(file, component("keep-me"))
        portal.catalog.refresh_all()
        portal.catalog.process_until_idle()

        data = client.get("/admin/orphans?format=json").json()
        assert data["total"] == 1
        [orphan] = data["orphans"]
        assert orphan["name"] == "left-over" and orphan["origin"] == f"file:{file}"
        assert "orphanStrategy: keep" in client.get("/admin/orphans").text

        confirm = client.get(orphan["delete_url"])
        assert confirm.status_code == 200 and "Delete this entity?" in confirm.text
        response = client.post(orphan["delete_url"], follow_redirects=False)
        path, query = flash(response)
        assert (path, query["done"]) == ("/admin/orphans", ["entity-deleted"])
        assert portal.catalog.entity_by_ref("component:default/left-over") is None
        assert client.get("/admin/orphans?format=json").json()["total"] == 0

        # Only orphans: anything else would come straight back from its location.
        kept = portal.catalog.entity_by_ref("component:default/keep-me")
        assert kept is not None
        uid = kept["metadata"]["uid"]
        assert client.post(f"/admin/orphans/{uid}/delete").status_code == 400
        assert portal.catalog.entity_by_ref("component:default/keep-me") is not None


# --- forms are same-origin and need the API's permissions ----------------------------------


class _Recorder:
    """Refuses everything and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def allows(self, identity: Identity, permission: Permission) -> bool:
        self.asked.append(permission.name)
        return False


def test_every_form_refuses_cross_site_posts(database_url: str, tmp_path: Path) -> None:
    file = write(tmp_path / "two.yaml", component("a") + "---\n" + component("b"))
    with site(database_url, tmp_path, allowedLocationTypes=["file"], orphanStrategy="keep") as (
        portal,
        client,
    ):
        location, _ = portal.catalog.add_location("file", str(file))
        portal.catalog.process_until_idle()
        write(file, component("a"))
        portal.catalog.refresh_all()
        portal.catalog.process_until_idle()
        [orphan] = client.get("/admin/orphans?format=json").json()["orphans"]
        forms = [
            ("/catalog-import/analyze", {"target": str(file)}),
            ("/catalog-import/import", {"target": str(tmp_path / "other.yaml")}),
            (f"/admin/locations/{location.id}/refresh", {}),
            (f"/admin/locations/{location.id}/delete", {}),
            (orphan["delete_url"], {}),
            ("/settings/theme", {"theme": "dark", "next": "/"}),
        ]
        for url, data in forms:
            for headers in (CROSS_SITE, {"origin": "http://evil.example"}):
                response = client.post(url, data=data, headers=headers, follow_redirects=False)
                assert response.status_code == 403, (url, response.text)
                assert "set-cookie" not in response.headers
        assert len(portal.catalog.locations.list()) == 1
        assert portal.catalog.entity_by_ref("component:default/b") is not None
        # The same posts from the portal's own pages go through.
        same = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
        assert client.post(forms[0][0], data=forms[0][1], headers=same).status_code == 200


def test_each_action_needs_the_permission_of_its_api_endpoint(tmp_path: Path) -> None:
    portal = make_portal(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    policy = _Recorder()
    portal.permissions = Permissions(policy)
    expected = [
        ("/catalog-import/analyze", CATALOG_LOCATION_CREATE),
        ("/catalog-import/import", CATALOG_LOCATION_CREATE),
        ("/admin/locations/x/refresh", CATALOG_ENTITY_REFRESH),
        ("/admin/locations/x/delete", CATALOG_LOCATION_DELETE),
        ("/admin/orphans/x/delete", CATALOG_ENTITY_DELETE),
    ]
    with TestClient(create_app(portal, run_workers=False)) as client:
        for url, permission in expected:
            policy.asked.clear()
            response = client.post(url, data={"target": "https://x.example/c.yaml"})
            assert response.status_code == 403, url
            assert policy.asked == [permission.name], url
        for url in ("/catalog-import", "/admin", "/admin/errors", "/admin/orphans"):
            assert client.get(url).status_code == 403, url
    portal.close()


# --- settings ---------------------------------------------------------------------------------


def test_settings_shows_identity_theme_and_api_docs(demo: Demo) -> None:
    data = demo.client.get("/settings?format=json").json()
    assert data["identity"]["user"]["ref"] == "user:default/guest"
    assert data["identity"]["guest"] is True
    assert data["current_theme"] == "system"
    assert [t["value"] for t in data["themes"]] == ["system", "light", "dark"]
    [api] = data["apis"]
    assert (api["docs_url"], api["openapi_url"]) == (
        "/api/catalog/docs",
        "/api/catalog/openapi.json",
    )
    html = demo.client.get("/settings").text
    assert 'href="/api/catalog/docs"' in html and 'href="/api/catalog/openapi.json"' in html
    assert 'name="theme" value="system" checked' in html
    assert "user:default/guest" in html
    assert demo.client.get("/api/catalog/openapi.json").status_code == 200


def test_the_theme_cookie_is_set_and_the_browser_sent_back(demo: Demo) -> None:
    client = TestClient(demo.client.app)  # its own cookie jar
    response = client.post(
        "/settings/theme",
        data={"theme": "dark", "next": "/catalog?filters[kind]=api"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/catalog?filters[kind]=api"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{THEME_COOKIE}=dark;")
    assert "Max-Age=31536000" in cookie and "Path=/" in cookie
    assert re.search(r"SameSite=lax", cookie, re.IGNORECASE)
    assert "HttpOnly" not in cookie  # the header's toggle writes it from script too
    assert 'data-theme="dark"' in client.get("/settings").text
    assert 'name="theme" value="dark" checked' in client.get("/settings").text
    twin = client.post("/settings/theme?format=json", data={"theme": "light", "next": "/"})
    assert twin.json() == {"theme": "light", "next": "/"}
    assert 'data-theme="light"' in client.get("/").text
    assert client.post("/settings/theme", data={"theme": "neon"}).status_code == 400


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_the_theme_form_never_redirects_to_another_site(demo: Demo, next_url: str) -> None:
    client = TestClient(demo.client.app)
    response = client.post(
        "/settings/theme", data={"theme": "light", "next": next_url}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/settings"
    assert local_path(next_url) is None


def test_new_pages_share_the_layout(demo: Demo) -> None:
    for url in ("/catalog-import", "/admin", "/admin/errors", "/admin/orphans", "/settings"):
        html = demo.client.get(url).text
        assert '<main id="main"' in html and html.count("<h1") == 1, url
    nav = demo.client.get("/").text
    assert '<a class="nav-item" href="/admin"' in nav
    assert 'href="/admin" aria-current="page"' in demo.client.get("/admin/errors").text


def test_a_bad_document_in_the_registered_file_itself_does_not_stop_the_import(
    database_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "catalog-info.yaml"
    target.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: fine\n"
        "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n---\n"
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Not Fine!\n"
        "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
    with site(database_url, tmp_path, allowedLocationTypes=["url", "file"]) as (_, client):
        data = analyze(client, str(target)).json()
        assert data["location_errors"] == []
        [error] = data["errors"]
        assert error["line"] == 13 and error["field"] == "metadata.name"
        assert data["can_import"] is True
        # A file that is not there is the location's own error: nothing to import.
        missing = analyze(client, str(tmp_path / "nope.yaml")).json()
        assert missing["location_errors"] and missing["can_import"] is False
