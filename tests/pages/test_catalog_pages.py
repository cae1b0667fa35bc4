"""Home, the catalog table, entity pages, stars and the header search, on the demo catalog."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from greenroom.catalog.pages.filters import CatalogState
from greenroom.catalog.query.predicates import All, Equals, HasErrors

from .conftest import Demo


def test_home_counts_kinds_and_links_them(demo: Demo) -> None:
    page = demo.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    data = demo.client.get("/?format=json").json()
    kinds = {item["kind"]: item["count"] for item in data["kinds"]}
    assert kinds["Component"] == demo.portal.catalog.counts_by_kind()["Component"]
    assert data["total"] == demo.portal.catalog.entity_count()
    assert 'href="/catalog?filters%5Bkind%5D=component"' in page.text
    assert len(data["recent"]) == 10


def test_every_page_has_landmarks_a_skip_link_and_one_h1(demo: Demo) -> None:
    for url in ("/", "/catalog", "/catalog/default/component/accounts-service", "/nope"):
        html = demo.client.get(url).text
        assert '<main id="main"' in html and 'aria-label="Main"' in html
        assert 'href="#main"' in html
        assert html.count("<h1") == 1, url


def test_catalog_defaults_to_components_like_backstage(demo: Demo) -> None:
    data = demo.client.get("/catalog?format=json").json()
    assert data["state"]["kind"] == "component"
    assert {item["kind"] for item in data["items"]} == {"Component"}
    assert data["total"] == demo.portal.catalog.counts_by_kind()["Component"]


def test_backstage_filter_links_open_the_same_view(demo: Demo) -> None:
    url = "/catalog?filters[kind]=component&filters[lifecycles]=production&filters[tags]=kotlin&format=json"
    data = demo.client.get(url).json()
    assert data["items"]
    for item in data["items"]:
        assert item["lifecycle"] == "production" and "kotlin" in item["tags"]
    # qs's indexed form means the same
    indexed = demo.client.get(
        "/catalog?filters[kind]=component&filters[lifecycles][0]=production"
        "&filters[tags][0]=kotlin&format=json"
    ).json()
    assert indexed["total"] == data["total"]


def test_several_values_of_one_facet_are_alternatives(demo: Demo) -> None:
    one = demo.client.get("/catalog?filters[type]=service&format=json").json()["total"]
    other = demo.client.get("/catalog?filters[type]=website&format=json").json()["total"]
    both = demo.client.get(
        "/catalog?filters[type]=service&filters[type]=website&format=json"
    ).json()["total"]
    assert both == one + other


def test_facet_counts_leave_out_their_own_filter(demo: Demo) -> None:
    data = demo.client.get("/catalog?filters[type]=service&format=json").json()
    types = next(f for f in data["facets"] if f["param"] == "type")
    counts = {o["value"]: o["count"] for o in types["options"]}
    assert counts["service"] == data["total"]
    assert counts.get("website", 0) > 0  # still offered, with its own count
    chosen = [o["value"] for o in types["options"] if o["chosen"]]
    assert chosen == ["service"]


def test_owner_filter_takes_a_bare_group_name(demo: Demo) -> None:
    full = demo.client.get(
        "/catalog?filters[owners]=group:default/identity-accounts&format=json"
    ).json()
    bare = demo.client.get("/catalog?filters[owners]=identity-accounts&format=json").json()
    assert full["total"] == bare["total"] > 0
    assert {i["owner"]["ref"] for i in bare["items"]} == {"group:default/identity-accounts"}


def test_text_filter_and_kind_all(demo: Demo) -> None:
    data = demo.client.get("/catalog?filters[kind]=all&filters[text]=ACCOUNTS&format=json").json()
    assert data["items"]
    for item in data["items"]:
        assert "accounts" in (item["name"] + " " + (item["title"] or "")).lower()
    assert len({item["kind"] for item in data["items"]}) > 1


def test_sorting_by_a_column_and_back(demo: Demo) -> None:
    up = demo.client.get("/catalog?sort=owner&format=json").json()
    owners = [i["owner"]["ref"] for i in up["items"] if i["owner"]]
    assert owners == sorted(owners)
    down = demo.client.get("/catalog?sort=-name&format=json").json()
    names = [i["name"] for i in down["items"]]
    assert names == sorted(names, reverse=True)
    assert "sort=-owner" in up["sort_urls"]["owner"]


def test_cursor_pages_walk_the_whole_table(demo: Demo) -> None:
    seen: list[str] = []
    url = "/catalog?filters[kind]=all&limit=25&format=json"
    pages = 0
    while url:
        data = demo.client.get(url if "format=json" in url else url + "&format=json").json()
        seen += [item["ref"] for item in data["items"]]
        url = data["next_url"]
        pages += 1
    assert len(seen) == len(set(seen)) == demo.portal.catalog.entity_count()
    assert pages > 2
    html = demo.client.get("/catalog?filters[kind]=all&limit=25").text
    assert 'rel="next"' in html and 'rel="prev"' not in html


def test_processing_status_filters(demo: Demo) -> None:
    data = demo.client.get("/catalog?filters[kind]=all&filters[error]=true&format=json").json()
    assert data["total"] == data["with_errors"]
    assert all(item["error_count"] for item in data["items"]) or not data["items"]
    orphans = demo.client.get("/catalog?filters[kind]=all&filters[orphan]=true&format=json").json()
    assert orphans["total"] == 0


def test_state_round_trips_through_the_url() -> None:
    params = [
        ("filters[kind]", "API"),
        ("filters[lifecycles]", "production"),
        ("filters[owners]", "team-a"),
        ("filters[text]", "pay"),
        ("filters[error]", "true"),
        ("sort", "-type"),
        ("limit", "50"),
        ("unrelated", "x"),
    ]
    state = CatalogState.from_params(params)
    assert state.kind == "api"
    assert state.values["owners"] == ("group:default/team-a",)
    assert CatalogState.from_params(state.params()) == state
    predicate = state.predicate()
    assert isinstance(predicate, All)
    assert Equals("kind", ("api",)) in predicate.parts
    assert HasErrors() in predicate.parts


def test_bad_filter_input_is_a_400_page_not_a_crash(demo: Demo) -> None:
    response = demo.client.get("/catalog?filters[text]=" + "x" * 300)
    assert response.status_code == 400
    assert "longer than" in response.text
    forged = demo.client.get("/catalog?cursor=not-a-cursor")
    assert forged.status_code == 400
    assert forged.headers["content-type"].startswith("text/html")


def test_entity_page_shows_about_relations_and_links(demo: Demo) -> None:
    page = demo.client.get("/catalog/default/component/accounts-service")
    assert page.status_code == 200
    data = demo.client.get("/catalog/default/component/accounts-service?format=json").json()
    assert data["summary"]["owner"]["ref"] == "group:default/identity-accounts"
    titles = [card["title"] for card in data["tab"]["cards"]]
    assert "Part of" in titles and "Provides APIs" in titles
    assert data["tabs"][0] == {
        "title": "Overview",
        "url": "/catalog/default/component/accounts-service",
        "current": True,
    }
    assert 'href="/catalog/default/group/identity-accounts"' in page.text
    assert "Runbook" in page.text


def test_entity_names_are_case_insensitive_and_unknown_ones_404(demo: Demo) -> None:
    assert demo.client.get("/catalog/default/Component/Accounts-Service").status_code == 200
    missing = demo.client.get("/catalog/default/component/no-such-thing")
    assert missing.status_code == 404
    assert "No component named no-such-thing" in missing.text
    assert demo.client.get("/catalog/default/component/accounts-service/nope").status_code == 404
    as_json = demo.client.get("/catalog/default/component/no-such-thing?format=json")
    assert as_json.status_code == 404 and as_json.json()["error"]["name"] == "NotFoundError"


def test_header_search_jumps_to_one_match_or_filters(demo: Demo) -> None:
    one = demo.client.get("/go?q=accounts-service", follow_redirects=False)
    assert one.status_code == 303
    assert one.headers["location"] == "/catalog/default/component/accounts-service"
    ref = demo.client.get("/go?q=group:identity-accounts", follow_redirects=False)
    assert ref.headers["location"] == "/catalog/default/group/identity-accounts"
    many = demo.client.get("/go?q=service", follow_redirects=False)
    assert many.headers["location"].startswith("/catalog?")
    assert "filters%5Btext%5D=service" in many.headers["location"]


def test_user_text_is_escaped_everywhere(demo: Demo) -> None:
    evil = '<script>alert("x")</script>'
    page = demo.client.get("/catalog?filters[text]=" + quote(evil))
    assert evil not in page.text
    assert "&lt;script&gt;" in page.text
    missing = demo.client.get("/catalog/default/component/" + quote(evil, safe=""))
    assert evil not in missing.text


def test_static_files_are_cached_and_pages_compressed(demo: Demo) -> None:
    html = demo.client.get("/", headers={"accept-encoding": "gzip"})
    assert html.headers.get("content-encoding") == "gzip"
    css = re.search(r'href="(/static/greenroom\.css\?v=[0-9a-f]+)"', html.text)
    assert css
    asset = demo.client.get(css.group(1))
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    api = demo.client.get("/api/catalog/entities?limit=5", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in api.headers


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_stars_are_kept_per_user_and_listed_on_home(fresh_demo: Demo, kind: str) -> None:
    client = fresh_demo.client
    url = "/catalog/default/component/accounts-service/star"
    response = client.post(url, data={"starred": "1"}, headers={"accept": "application/json"})
    assert response.json() == {"starred": True}
    home = client.get("/?format=json").json()
    assert [item["ref"] for item in home["starred"]] == ["component:default/accounts-service"]
    entity = client.get("/catalog/default/component/accounts-service?format=json").json()
    assert entity["starred"] is True
    starred = client.get("/catalog?filters[user]=starred&format=json").json()
    assert [item["ref"] for item in starred["items"]] == ["component:default/accounts-service"]
    # Without JavaScript, the form posts and comes back to the page.
    back = client.post(url, data={"starred": "0"}, follow_redirects=False)
    assert back.status_code == 303
    assert client.get("/?format=json").json()["starred"] == []


def test_forms_from_other_sites_are_refused(demo: Demo) -> None:
    url = "/catalog/default/component/accounts-service/star"
    response = demo.client.post(
        url, data={"starred": "1"}, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 403
    cross = demo.client.post(url, data={"starred": "1"}, headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    assert demo.portal.catalog.stars.starred("user:default/guest") == []


def test_api_explorer_lists_only_apis_with_their_facets(demo: Demo) -> None:
    data = demo.client.get("/api-docs?filters[kind]=component&format=json").json()
    assert data["state"]["kind"] == "api" and data["kind_locked"]
    assert data["total"] == demo.portal.catalog.counts_by_kind()["API"]
    assert {item["kind"] for item in data["items"]} == {"API"}
    types = next(f for f in data["facets"] if f["param"] == "type")
    assert "openapi" in {o["value"] for o in types["options"]}
    page = demo.client.get("/api-docs?filters[type]=openapi")
    assert 'action="/api-docs"' in page.text and 'id="filter-kind"' not in page.text
    assert all(url.startswith("/api-docs?") for url in data["sort_urls"].values())


def test_an_unexpected_error_is_a_500_page_in_the_portals_look(demo: Demo) -> None:
    from fastapi.testclient import TestClient

    from greenroom.app import create_app

    app = create_app(demo.portal, run_workers=False)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/boom")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text and 'class="sidebar"' in page.text
    assert "secret internals" not in page.text
    twin = client.get("/boom?format=json")
    assert twin.status_code == 500 and twin.json()["error"]["message"] == "Internal server error"
