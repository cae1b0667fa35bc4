"""The Org pages on the demo catalog (and a small catalog of groups of its own): the groups
tree, and the Members and Ownership tabs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import orjson
import pytest
from fastapi.testclient import TestClient

from greenroom.app import create_app
from greenroom.catalog.query.predicates import All, Equals
from greenroom.catalog.query.service import QueryRequest
from greenroom.org import pages as org
from greenroom.portal import Portal
from tests.conftest import fresh_database

from ..catalog.helpers import make_portal, write
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


def _members_in_catalog(demo: Demo, ref: str) -> int:
    """Users that say they are members of the group, counted by the catalog."""
    predicate = All((Equals("kind", ("user",)), Equals("relations.memberof", (ref,))))
    return demo.portal.catalog.queries.page(QueryRequest(predicate=predicate, limit=0)).total


def _check_node(demo: Demo, node: dict[str, Any]) -> None:
    """A node's fields are those of its group, and its counts are the catalog's."""
    entity = _entity(demo, node["ref"])
    name = entity["metadata"]["name"]
    assert node["name"] == name
    assert node["title"] == entity["spec"]["profile"]["displayName"]
    assert node["type"] == entity["spec"]["type"]
    assert node["url"] == f"/catalog/default/group/{name}"
    assert node["org_url"] == f"/org?root=group:default/{name}"
    assert node["members"] == _members_in_catalog(demo, node["ref"])
    assert node["members"] == len(_targets(entity, "hasMember"))
    assert node["sub_groups"] == len(_targets(entity, "parentOf"))
    assert node["more_children"] == node["sub_groups"] - len(node["children"])
    names = [c["name"] for c in node["children"]]
    assert names == sorted(names)  # by name, as the pages of sub-groups are


def test_tree_shows_the_top_level_groups_and_the_levels_below(demo: Demo) -> None:
    data = demo.client.get("/org?format=json").json()
    groups = _group_refs(demo)
    counts = demo.portal.catalog.counts_by_kind()
    assert data["total"] == counts["Group"] == len(groups) == 18
    assert data["users"] == counts["User"]
    assert data["focus"] is None and data["breadcrumb"] == [] and data["matches"] is None
    assert [root["ref"] for root in data["tree"]] == ["group:default/pantrypost"]
    assert data["tier_total"] == 1 and data["pages"] == 1 and data["next_url"] is None
    # Eighteen groups fit in the budget: every one is drawn, each once.
    seen = [node["ref"] for node, _ in _walk(data["tree"])]
    assert sorted(seen) == sorted(groups)
    for node, depth in _walk(data["tree"]):
        _check_node(demo, node)
        assert {c["ref"] for c in node["children"]} == _targets(
            _entity(demo, node["ref"]), "parentOf"
        )
        assert node["more_children"] == 0 and depth < org.TREE_LEVELS
    assert {t["type"]: t["count"] for t in data["types"]} == {
        "organization": 1,
        "department": 4,
        "team": 13,
    }
    for chip in data["types"]:
        assert _catalog_total(demo, chip["url"]) == chip["count"]


def test_tree_page_is_nested_lists_without_disclosure_widgets(demo: Demo) -> None:
    page = demo.client.get("/org")
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1") == 1
    assert '<a class="nav-item" href="/org" aria-current="page">' in html
    # No <details>/<summary>: a link inside a summary is interactive content in a control.
    assert "<details" not in html and "<summary" not in html
    # pantrypost's list, and one per department
    assert html.count('<ul class="org-tree">') == 6
    assert html.count('<div class="org-node">') == 18
    assert 'href="/catalog/default/group/checkout-payments"' in html
    assert 'name="q"' in html and 'action="/org"' in html
    assert "Checkout &amp; Payments" in html and "3 members" in html


def test_deeper_levels_are_drawn_only_when_they_fit(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1 root + 4 departments fit; their 13 teams do not: the departments link to them.
    monkeypatch.setattr(org, "NODE_BUDGET", 10)
    data = demo.client.get("/org?format=json").json()
    (root,) = data["tree"]
    assert len(root["children"]) == 4 and root["more_children"] == 0
    for department in root["children"]:
        _check_node(demo, department)
        assert department["children"] == []
        assert department["more_children"] == department["sub_groups"] > 0
    html = demo.client.get("/org").text
    assert html.count('<div class="org-node">') == 5
    link = (
        '<a class="org-open" href="/org?root=group:default/commerce-engineering">4 sub-groups'
        '<span class="visually-hidden"> of Commerce Engineering</span></a>'
    )
    assert link in html
    # One level at most: the same, whatever the budget.
    monkeypatch.setattr(org, "NODE_BUDGET", 1000)
    monkeypatch.setattr(org, "TREE_LEVELS", 2)
    assert demo.client.get("/org?format=json").json()["tree"] == data["tree"]


def test_sub_groups_drawn_under_a_group_are_capped(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(org, "CHILDREN_SHOWN", 2)
    data = demo.client.get("/org?format=json").json()
    (root,) = data["tree"]
    assert [c["name"] for c in root["children"]] == [
        "commerce-engineering",
        "customer-engineering",
    ]
    assert root["more_children"] == 2
    for department in root["children"]:
        _check_node(demo, department)  # counts stay the whole catalog's
        teams = sorted(
            t.split("/")[1] for t in _targets(_entity(demo, department["ref"]), "parentOf")
        )
        assert [c["name"] for c in department["children"]] == teams[:2]
    html = demo.client.get("/org").text
    assert (
        '<li class="org-more"><a href="/org?root=group:default/pantrypost">2 more sub-groups'
        '<span class="visually-hidden"> of Pantrypost</span></a></li>'
    ) in html
    assert 'href="/org?root=group:default/commerce-engineering">2 more sub-groups' in html


def test_focus_on_a_group_shows_its_sub_tree_and_the_path_to_it(demo: Demo) -> None:
    data = demo.client.get("/org?root=group:default/commerce-engineering&format=json").json()
    focus = data["focus"]
    assert focus["ref"] == "group:default/commerce-engineering"
    assert focus["title"] == "Commerce Engineering" and focus["sub_groups"] == 4
    assert focus["members"] == _members_in_catalog(demo, focus["ref"])
    assert [c["ref"] for c in data["breadcrumb"]] == ["group:default/pantrypost"]
    assert data["breadcrumb"][0]["org_url"] == "/org?root=group:default/pantrypost"
    assert not data["breadcrumb_truncated"]
    assert [n["name"] for n in data["tree"]] == [
        "checkout-payments",
        "mobile-apps",
        "search-discovery",
        "web-storefront",
    ]
    for node, _ in _walk(data["tree"]):
        _check_node(demo, node)
    assert data["tier_total"] == 4 and data["pages"] == 1
    # The same group by its short ref; the tree of the whole organization from its top.
    short = demo.client.get("/org?root=commerce-engineering&format=json").json()
    assert short["focus"]["ref"] == focus["ref"] and short["tree"] == data["tree"]
    top = demo.client.get("/org?root=group:default/pantrypost&format=json").json()
    assert top["breadcrumb"] == [] and len(top["tree"]) == 4
    assert sum(len(n["children"]) for n in top["tree"]) == 13  # two levels below it

    html = demo.client.get("/org?root=group:default/commerce-engineering").text
    assert '<nav class="org-crumbs" aria-label="Breadcrumb">' in html
    assert '<li><a href="/org">All groups</a></li>' in html
    assert '<li><a href="/org?root=group:default/pantrypost">Pantrypost</a></li>' in html
    assert '<span aria-current="page">Commerce Engineering</span>' in html
    assert "<title>Commerce Engineering · Org" in html
    leaf = demo.client.get("/org?root=group:default/checkout-payments").text
    assert "has no sub-groups" in leaf
    assert [
        c["ref"]
        for c in demo.client.get("/org?root=group:default/checkout-payments&format=json").json()[
            "breadcrumb"
        ]
    ] == ["group:default/pantrypost", "group:default/commerce-engineering"]


def test_sub_groups_of_the_focused_group_come_in_pages(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(org, "TIER_PAGE", 3)
    base = "/org?root=group:default/pantrypost"
    first = demo.client.get(base + "&format=json").json()
    assert (first["page"], first["pages"], first["tier_total"]) == (1, 2, 4)
    assert first["next_url"] == base + "&page=2" and first["prev_url"] is None
    second = demo.client.get(first["next_url"] + "&format=json").json()
    assert second["prev_url"] == base and second["next_url"] is None
    names = [n["name"] for n in first["tree"] + second["tree"]]
    assert names == sorted(
        t.split("/")[1] for t in _targets(_entity(demo, "group:default/pantrypost"), "parentOf")
    )
    assert len(first["tree"]) == 3 and second["first_index"] == 4
    html = demo.client.get(base).text
    assert (
        "1\N{EN DASH}3 of 4 sub-groups" in html
        and 'href="/org?root=group:default/pantrypost&amp;page=2"' in html
    )
    # A page past the end shows the last one.
    assert demo.client.get(base + "&page=99&format=json").json()["tree"] == second["tree"]


def test_pages_follow_the_catalog_when_the_cached_counts_lag(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts come from facets a generation or two old: what the query finds wins."""
    counted = org._Counts.__init__

    def lagging(self: Any, queries: Any) -> None:
        counted(self, queries)
        self.children = {**self.children, "group:default/pantrypost": 1}

    monkeypatch.setattr(org._Counts, "__init__", lagging)
    monkeypatch.setattr(org, "TIER_PAGE", 3)
    first = demo.client.get("/org?root=group:default/pantrypost&format=json").json()
    assert len(first["tree"]) == 3 and first["pages"] == 2 and first["next_url"]
    second = demo.client.get(first["next_url"] + "&format=json").json()
    assert len(second["tree"]) == 1 and second["tier_total"] == 4


def test_breadcrumb_is_capped(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(org, "ANCESTOR_LEVELS", 1)
    data = demo.client.get("/org?root=group:default/checkout-payments&format=json").json()
    assert [c["ref"] for c in data["breadcrumb"]] == ["group:default/commerce-engineering"]
    assert data["breadcrumb_truncated"]
    assert (
        'title="More parent groups">…<'
        in demo.client.get("/org?root=group:default/checkout-payments").text
    )


@pytest.mark.parametrize(
    ("root", "status"),
    [
        ("group:default/no-such-group", 404),
        ("component:default/accounts-service", 400),
        ("user:diego.alvarez", 400),
        ("group:", 400),
    ],
)
def test_focus_on_what_is_not_a_group(demo: Demo, root: str, status: int) -> None:
    assert demo.client.get("/org?root=" + quote(root)).status_code == status


def test_filter_keeps_matches_and_their_ancestors(demo: Demo) -> None:
    data = demo.client.get("/org?q=Payments&format=json").json()
    assert data["matches"] == 1 and not data["truncated"]
    nodes = {node["ref"]: (node, depth) for node, depth in _walk(data["tree"])}
    assert set(nodes) == {
        "group:default/pantrypost",
        "group:default/commerce-engineering",
        "group:default/checkout-payments",
    }
    match, depth = nodes["group:default/checkout-payments"]
    assert match["matched"] and depth == 2
    assert match["hit"] == [11, 19]  # "Checkout & Payments"
    assert not nodes["group:default/commerce-engineering"][0]["matched"]
    for node, _ in nodes.values():
        _check_node(demo, node)
    # sub-groups filtered out are a link away
    assert nodes["group:default/commerce-engineering"][0]["more_children"] == 3
    html = demo.client.get("/org?q=Payments").text
    assert "Checkout &amp; <mark>Payments</mark>" in html
    assert 'value="Payments"' in html
    assert 'href="/org?root=group:default/commerce-engineering">3 more sub-groups' in html
    # the filter wins over a focus
    both = demo.client.get("/org?q=Payments&root=group:default/messaging&format=json").json()
    assert both["focus"] is None and both["tree"] == data["tree"]


def test_filter_matches_display_names_and_is_capped(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = demo.client.get("/org?q=e&format=json").json()
    matched = [n for n, _ in _walk(every["tree"]) if n["matched"]]
    assert len(matched) == every["matches"] > 2
    monkeypatch.setattr(org, "MATCHES_SHOWN", 2)
    data = demo.client.get("/org?q=e&format=json").json()
    assert data["truncated"] and data["matches"] == every["matches"]
    assert len([n for n, _ in _walk(data["tree"]) if n["matched"]]) == 2
    assert (
        f"Showing the first 2 of {every['matches']} matching groups"
        in demo.client.get("/org?q=e").text
    )


def test_filter_without_matches_and_hostile_text(demo: Demo) -> None:
    evil = '<script>alert("x")</script>'
    page = demo.client.get("/org?q=" + quote(evil))
    assert page.status_code == 200
    assert evil not in page.text
    assert "&lt;script&gt;" in page.text
    assert "No group" in page.text
    assert demo.client.get("/org?q=" + quote(evil) + "&format=json").json()["tree"] == []
    assert demo.client.get("/org?q=" + "x" * 300).status_code == 400
    focus = demo.client.get("/org?root=" + quote(evil))
    assert focus.status_code == 404 and evil not in focus.text


def test_group_names_are_escaped(demo: Demo) -> None:
    html = demo.client.get("/org").text
    assert "Search &amp; Discovery" in html and "Search & Discovery" not in html
    evil = '<img src=x onerror="alert(1)">'
    node = {"url": "/g", "org_url": "/org?root=g", "title": evil, "name": evil, "type": evil}
    node.update(members=1, sub_groups=2, more_children=2, hit=None, matched=False, children=[])
    parent = {**node, "children": [dict(node)]}
    macros = demo.client.app.state.pages.env.get_template("org/macros.html").module
    for rendered in (macros.tree([node]), macros.tree([parent], True), macros.group_list([node])):
        assert "<img" not in str(rendered) and "&lt;img" in str(rendered)
    person = {"url": "/u", "title": evil, "name": "u", "email": evil}
    assert "<img" not in str(macros.people([person]))


# --- the tree of a catalog with several top-level groups ----------------------------------

ORG_CATALOG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{name: {name}}}
spec:
  type: {type}
  children: []
{parent}
"""


@dataclass
class Orgs:
    portal: Portal
    client: TestClient


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def orgs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Orgs]:
    """Five top-level groups (one under a parent that is not in the catalog), a
    department of twelve teams, and two groups that are each other's parent."""
    folder = tmp_path_factory.mktemp("orgs")
    groups = [("alpha", "team", None), ("beta", "department", None), ("delta", "team", None)]
    groups += [("gamma", "team", None), ("stray", "team", "ghost")]
    groups += [(f"beta-{i:02}", "team", "beta") for i in range(12)]
    groups += [("loop-a", "team", "loop-b"), ("loop-b", "team", "loop-a")]
    documents = [
        ORG_CATALOG.format(name=name, type=type_, parent=f"  parent: {parent}" if parent else "")
        for name, type_, parent in groups
    ]
    catalog = write(folder / "catalog" / "groups.yaml", "---".join(documents))
    with fresh_database(request.param, folder) as url:
        portal = make_portal(
            url, folder, catalog={"locations": [{"type": "file", "target": str(catalog)}]}
        )
        portal.catalog.process_until_idle()
        with TestClient(create_app(portal, run_workers=False)) as client:
            yield Orgs(portal, client)
        portal.close()


def test_groups_under_a_missing_parent_are_at_the_top(orgs: Orgs) -> None:
    data = orgs.client.get("/org?format=json").json()
    assert data["total"] == 19
    assert [n["name"] for n in data["tree"]] == ["alpha", "beta", "delta", "gamma", "stray"]
    assert data["tier_total"] == 5
    (beta,) = [n for n in data["tree"] if n["name"] == "beta"]
    assert [c["name"] for c in beta["children"]] == [f"beta-{i:02}" for i in range(12)]
    assert beta["sub_groups"] == 12 and beta["members"] == 0
    # Groups in a cycle have no top: the filter finds them, at the top of its tree.
    loop = orgs.client.get("/org?q=loop&format=json").json()
    assert loop["matches"] == 2 and len(loop["tree"]) == 1
    assert loop["tree"][0]["children"][0]["name"] in ("loop-a", "loop-b")


def test_top_level_groups_come_in_pages(orgs: Orgs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(org, "TIER_PAGE", 2)
    seen: list[str] = []
    url: str | None = "/org"
    pages = 0
    while url:
        data = orgs.client.get(url + ("&" if "?" in url else "?") + "format=json").json()
        assert data["tier_total"] == 5 and data["pages"] == 3
        seen += [n["name"] for n in data["tree"]]
        pages += 1
        url = data["next_url"]
    assert pages == 3 and seen == ["alpha", "beta", "delta", "gamma", "stray"]
    assert orgs.client.get("/org?page=2&format=json").json()["prev_url"] == "/org"
    html = orgs.client.get("/org?page=2").text
    assert "3\N{EN DASH}4 of 5 top-level groups" in html


def test_a_big_group_is_capped_and_its_sub_groups_paged(
    orgs: Orgs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(org, "CHILDREN_SHOWN", 5)
    data = orgs.client.get("/org?format=json").json()
    (beta,) = [n for n in data["tree"] if n["name"] == "beta"]
    assert [c["name"] for c in beta["children"]] == [f"beta-{i:02}" for i in range(5)]
    assert beta["more_children"] == 7
    monkeypatch.setattr(org, "TIER_PAGE", 5)
    last = orgs.client.get("/org?root=group:default/beta&page=3&format=json").json()
    assert [n["name"] for n in last["tree"]] == ["beta-10", "beta-11"]
    assert last["first_index"] == 11 and last["focus"]["sub_groups"] == 12


def test_a_cycle_of_parents_ends_the_breadcrumb(orgs: Orgs) -> None:
    data = orgs.client.get("/org?root=group:default/loop-a&format=json").json()
    assert [c["ref"] for c in data["breadcrumb"]] == ["group:default/loop-b"]
    assert [n["ref"] for n in data["tree"]] == ["group:default/loop-b"]
    stray = orgs.client.get("/org?root=group:default/stray&format=json").json()
    assert stray["breadcrumb"] == [
        {
            "ref": "group:default/ghost",
            "title": "ghost",
            "url": "/catalog/default/group/ghost",
            "org_url": "/org?root=group:default/ghost",
            "missing": True,
        }
    ]
    assert orgs.client.get("/org?root=group:default/ghost").status_code == 404


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
