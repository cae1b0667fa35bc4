"""The Org pages on the demo catalog: the groups tree, and the Members and Ownership tabs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import orjson
import pytest

from greenroom.catalog.query.predicates import Equals
from greenroom.catalog.query.service import QueryRequest
from greenroom.org import pages as org

from .conftest import Demo


def _entity(demo: Demo, ref: str) -> dict[str, Any]:
    body = demo.portal.catalog.queries.by_ref(ref)
    assert body is not None, ref
    return orjson.loads(body)


def _targets(entity: dict[str, Any], type_: str) -> set[str]:
    return {r["targetRef"] for r in entity.get("relations", []) if r["type"] == type_}


def _walk(nodes: list[dict[str, Any]], depth: int = 0):
    for node in nodes:
        yield node, depth
        yield from _walk(node["children"], depth + 1)


def _group_refs(demo: Demo) -> set[str]:
    page = demo.portal.catalog.queries.page(
        QueryRequest(predicate=Equals("kind", ("group",)), limit=1000)
    )
    return {
        f"group:{e['metadata']['namespace']}/{e['metadata']['name']}"
        for e in (orjson.loads(b) for b in page.items)
    }


# --- the groups tree ------------------------------------------------------------------------


def test_tree_nests_every_group_under_its_parent(demo: Demo) -> None:
    data = demo.client.get("/org?format=json").json()
    groups = _group_refs(demo)
    assert data["total"] == demo.portal.catalog.counts_by_kind()["Group"] == len(groups)
    assert not data["truncated"]
    seen = [node["ref"] for node, _ in _walk(data["roots"])]
    assert sorted(seen) == sorted(groups)  # every group, each once
    assert [root["ref"] for root in data["roots"]] == ["group:default/pantrypost"]
    for node, _ in _walk(data["roots"]):
        entity = _entity(demo, node["ref"])
        assert {c["ref"] for c in node["children"]} == _targets(entity, "parentOf")
        assert node["members"] == len(_targets(entity, "hasMember"))
        assert node["title"] == entity["spec"]["profile"]["displayName"]
        assert node["type"] == entity["spec"]["type"]
        assert node["url"] == f"/catalog/default/group/{entity['metadata']['name']}"
    titles = [c["title"] for c in data["roots"][0]["children"]]
    assert titles == sorted(titles, key=str.lower)
    assert data["users"] == demo.portal.catalog.counts_by_kind()["User"]
    assert {t["type"]: t["count"] for t in data["types"]} == {
        "organization": 1,
        "department": 4,
        "team": 13,
    }


def test_tree_page_is_nested_details_open_for_two_levels(demo: Demo) -> None:
    page = demo.client.get("/org")
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1") == 1
    assert '<a class="nav-item" href="/org" aria-current="page">' in html
    # pantrypost and its four departments have sub-groups: all within the first two levels
    assert html.count("<details open>") == 5
    assert html.count('<ul class="org-tree">') == 6
    assert 'href="/catalog/default/group/checkout-payments"' in html
    assert 'name="q"' in html and 'action="/org"' in html


def test_tree_macro_opens_only_the_first_levels(demo: Demo) -> None:
    def chain(depth: int) -> dict[str, Any]:
        node = {"url": f"/g/{depth}", "title": f"g{depth}", "name": f"g{depth}"}
        node.update(type=None, members=0, more_children=0, hit=None, matched=False)
        node["children"] = [chain(depth + 1)] if depth < 4 else []
        return node

    macros = demo.client.app.state.pages.env.get_template("org/macros.html").module
    html = str(macros.tree([chain(0)], 2))
    assert html.count("<details open>") == 2
    assert html.count("<details>") == 2  # levels 3 and 4 start closed
    assert str(macros.tree([chain(0)], 2, True)).count("<details open>") == 4  # filtered


def test_filter_keeps_matches_and_their_ancestors(demo: Demo) -> None:
    data = demo.client.get("/org?q=Payments&format=json").json()
    assert data["matches"] == 1
    nodes = {node["ref"]: (node, depth) for node, depth in _walk(data["roots"])}
    assert set(nodes) == {
        "group:default/pantrypost",
        "group:default/commerce-engineering",
        "group:default/checkout-payments",
    }
    match, depth = nodes["group:default/checkout-payments"]
    assert match["matched"] and depth == 2
    assert match["hit"] == [11, 19]  # "Checkout & Payments"
    assert not nodes["group:default/commerce-engineering"][0]["matched"]
    # sub-groups filtered out are a link away
    assert nodes["group:default/commerce-engineering"][0]["more_children"] == 3
    html = demo.client.get("/org?q=Payments").text
    assert "Checkout &amp; <mark>Payments</mark>" in html
    assert 'value="Payments"' in html


def test_filter_without_matches_and_hostile_text(demo: Demo) -> None:
    evil = '<script>alert("x")</script>'
    page = demo.client.get("/org?q=" + quote(evil))
    assert page.status_code == 200
    assert evil not in page.text
    assert "&lt;script&gt;" in page.text
    assert "No group" in page.text
    assert demo.client.get("/org?q=" + quote(evil) + "&format=json").json()["roots"] == []
    assert demo.client.get("/org?q=" + "x" * 300).status_code == 400


def test_tree_is_capped_and_says_so(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(org, "GROUP_CAP", 5)
    data = demo.client.get("/org?format=json").json()
    assert data["truncated"] and data["shown"] == 5 and data["total"] == 18
    assert len([n for n, _ in _walk(data["roots"])]) == 5
    assert "Showing the first 5 of 18 groups" in demo.client.get("/org").text


def test_group_names_are_escaped(demo: Demo) -> None:
    html = demo.client.get("/org").text
    assert "Search &amp; Discovery" in html and "Search & Discovery" not in html
    evil = '<img src=x onerror="alert(1)">'
    node = {"url": "/g", "title": evil, "name": evil, "type": evil, "members": 1}
    node.update(more_children=0, hit=None, matched=False, children=[])
    macros = demo.client.app.state.pages.env.get_template("org/macros.html").module
    for rendered in (macros.tree([node], 2), macros.group_list([node])):
        assert "<img" not in str(rendered) and "&lt;img" in str(rendered)
    person = {"url": "/u", "title": evil, "name": "u", "email": evil}
    assert "<img" not in str(macros.people([person]))


# --- the Members tab ------------------------------------------------------------------------


def test_group_pages_have_members_and_ownership_tabs(demo: Demo) -> None:
    group = demo.client.get("/catalog/default/group/search-discovery?format=json").json()
    assert [t["title"] for t in group["tabs"]][:3] == ["Overview", "Members", "Ownership"]
    user = demo.client.get("/catalog/default/user/diego.alvarez?format=json").json()
    titles = [t["title"] for t in user["tabs"]]
    assert "Ownership" in titles and "Members" not in titles


@pytest.mark.parametrize(
    "url",
    [
        "/catalog/default/user/diego.alvarez/members",
        "/catalog/default/component/accounts-service/members",
        "/catalog/default/component/accounts-service/ownership",
        "/catalog/default/group/no-such-group/members",
    ],
)
def test_tabs_on_the_wrong_kind_are_not_found(demo: Demo, url: str) -> None:
    assert demo.client.get(url).status_code == 404


def test_members_tab_lists_the_group_members(demo: Demo) -> None:
    page = demo.client.get("/catalog/default/group/search-discovery/members")
    assert page.status_code == 200
    data = demo.client.get("/catalog/default/group/search-discovery/members?format=json").json()
    tab = data["tab"]
    entity = _entity(demo, "group:default/search-discovery")
    assert {m["ref"] for m in tab["members"]} == _targets(entity, "hasMember")
    assert tab["member_total"] == tab["direct_members"] == 3
    for member in tab["members"]:
        user = _entity(demo, member["ref"])
        assert member["title"] == user["spec"]["profile"]["displayName"]
        assert member["email"] == user["spec"]["profile"]["email"]
        assert f'href="mailto:{member["email"]}"' in page.text
        assert f'href="{member["url"]}"' in page.text
    assert tab["profile"] == {
        "display_name": "Search & Discovery",
        "email": "search-discovery@pantrypost.example",
        "type": "team",
        "description": entity["metadata"]["description"],
    }
    assert tab["parent"]["ref"] == "group:default/commerce-engineering"
    assert tab["parent"]["title"] == "Commerce Engineering"
    assert tab["sub_groups"] == [] and tab["sub_group_total"] == 0
    assert tab["next_url"] is None and tab["prev_url"] is None


def test_members_tab_shows_sub_groups(demo: Demo) -> None:
    tab = demo.client.get("/catalog/default/group/commerce-engineering/members?format=json").json()[
        "tab"
    ]
    entity = _entity(demo, "group:default/commerce-engineering")
    assert {g["ref"] for g in tab["sub_groups"]} == _targets(entity, "parentOf")
    assert all(g["type"] == "team" and g["members"] > 0 for g in tab["sub_groups"])
    assert tab["parent"]["ref"] == "group:default/pantrypost"
    assert tab["toggle"]["aggregated"].endswith("/members?aggregate=1")


def test_aggregated_members_are_paged(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(org, "MEMBERS_PAGE", 7)
    url = "/catalog/default/group/pantrypost/members?aggregate=1&format=json"
    seen: list[str] = []
    pages = 0
    while url:
        tab = demo.client.get(url).json()["tab"]
        assert tab["aggregate"] and tab["aggregate_groups"] == 17
        assert len(tab["members"]) <= 7
        seen += [m["ref"] for m in tab["members"]]
        pages += 1
        url = tab["next_url"] and tab["next_url"] + "&format=json"
    assert pages == 6 and len(seen) == len(set(seen)) == 40
    assert tab["member_total"] == demo.portal.catalog.counts_by_kind()["User"]
    assert seen == sorted(seen)
    assert tab["prev_url"].endswith("aggregate=1&page=5")


# --- the Ownership tab ------------------------------------------------------------------------


def _catalog_total(demo: Demo, url: str) -> int:
    assert url.startswith("/catalog?")
    return demo.client.get(url + "&format=json").json()["total"]


def _params(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


@pytest.mark.parametrize("aggregate", ["0", "1"])
def test_ownership_counts_match_the_catalog(demo: Demo, aggregate: str) -> None:
    ref = "group:default/commerce-engineering"
    data = demo.client.get(
        f"/catalog/default/group/commerce-engineering/ownership?aggregate={aggregate}&format=json"
    ).json()
    tab = data["tab"]
    owners = {ref}
    if aggregate == "1":
        owners |= _targets(_entity(demo, ref), "parentOf")
    assert {o["ref"] for o in tab["owners"]} == owners
    owned = Equals("relations.ownedby", tuple(sorted(owners)))
    expected = demo.portal.catalog.queries.facets(["kind"], owned)["kind"]
    assert {r["kind"]: r["count"] for r in tab["kinds"]} == {
        e["value"]: e["count"] for e in expected
    }
    assert tab["total"] == sum(e["count"] for e in expected) > 0
    for row in tab["kinds"]:
        params = _params(row["url"])
        assert ("filters[kind]", row["kind"].lower()) in params
        assert {v for k, v in params if k == "filters[owners]"} == owners
        assert _catalog_total(demo, row["url"]) == row["count"]
        for item in row["types"]:
            assert ("filters[type]", item["type"]) in _params(item["url"])
            assert _catalog_total(demo, item["url"]) == item["count"]
        assert sum(t["count"] for t in row["types"]) + row["untyped"] == row["count"]
    assert len(tab["entities"]) == min(20, tab["total"])
    assert ("filters[kind]", "all") in _params(tab["all_url"])
    assert _catalog_total(demo, tab["all_url"]) == tab["total"]
    html = demo.client.get(
        f"/catalog/default/group/commerce-engineering/ownership?aggregate={aggregate}"
    ).text
    first = tab["kinds"][0]["url"].replace("&", "&amp;")
    assert f'href="{first}"' in html


def test_aggregated_ownership_adds_sub_groups(demo: Demo) -> None:
    base = "/catalog/default/group/commerce-engineering/ownership"
    direct = demo.client.get(base + "?format=json").json()["tab"]
    aggregated = demo.client.get(base + "?aggregate=1&format=json").json()["tab"]
    assert not direct["aggregate"] and aggregated["aggregate"]
    assert direct["total"] < aggregated["total"]
    assert aggregated["toggle"]["direct"] == base


def test_user_ownership_counts_their_groups(demo: Demo) -> None:
    base = "/catalog/default/user/diego.alvarez/ownership"
    tab = demo.client.get(base + "?format=json").json()["tab"]
    assert tab["is_user"] and tab["aggregate"]  # a user's page counts their teams by default
    assert [g["ref"] for g in tab["groups"]] == ["group:default/search-discovery"]
    assert tab["groups"][0]["title"] == "Search & Discovery"
    assert {o["ref"] for o in tab["owners"]} == {
        "user:default/diego.alvarez",
        "group:default/search-discovery",
    }
    team = demo.client.get("/catalog/default/group/search-discovery/ownership?format=json").json()[
        "tab"
    ]
    direct = demo.client.get(base + "?aggregate=0&format=json").json()["tab"]
    assert direct["total"] == 1
    assert direct["entities"][0]["owner"]["ref"] == "user:default/diego.alvarez"
    assert tab["total"] == team["total"] + direct["total"]
    assert _catalog_total(demo, direct["kinds"][0]["url"]) == 1
    html = demo.client.get(base).text
    assert "Search &amp; Discovery" in html
    assert re.search(r'aria-current="page">With their groups<', html)
