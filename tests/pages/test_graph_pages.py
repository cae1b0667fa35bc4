"""The catalog graph page and the entity page's Dependencies tab, on the demo catalog."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .conftest import Demo

SVG = "{http://www.w3.org/2000/svg}"


def _svg(html: str) -> ET.Element:
    start = html.index('<svg xmlns="http://www.w3.org/2000/svg" class="gr-graph"')
    end = html.index("</svg>", start) + len("</svg>")
    return ET.fromstring(html[start:end])


def test_dependencies_tab_draws_the_neighbourhood_as_links(demo: Demo) -> None:
    url = "/catalog/default/component/accounts-service/dependencies"
    data = demo.client.get(url + "?format=json").json()
    graph = data["tab"]
    assert graph["root"]["ref"] == "component:default/accounts-service"
    refs = {node["ref"] for node in graph["nodes"]}
    entity = demo.client.get("/catalog/default/component/accounts-service?format=json").json()
    related = {r["targetRef"] for r in entity["entity"]["relations"]}
    assert refs == related | {"component:default/accounts-service"}
    svg = _svg(demo.client.get(url).text)
    hrefs = {a.get("href") for a in svg.iter(f"{SVG}a")}
    assert "/catalog/default/group/identity-accounts" in hrefs
    assert len(hrefs) == len(refs)


def test_depth_and_relation_types_narrow_the_graph(demo: Demo) -> None:
    base = "/catalog-graph?rootEntityRefs[]=component:default/accounts-service"
    one = demo.client.get(base + "&format=json").json()["graph"]
    two = demo.client.get(base + "&maxDepth=2&format=json").json()["graph"]
    assert len(two["nodes"]) > len(one["nodes"])
    owned = demo.client.get(base + "&selectedRelations[]=ownedBy&format=json").json()["graph"]
    assert {n["ref"] for n in owned["nodes"]} == {
        "component:default/accounts-service",
        "group:default/identity-accounts",
    }
    assert [e["type"] for e in owned["edges"]] == ["ownedBy"]
    # The inverse name selects the same pair; depth is capped.
    inverse = demo.client.get(base + "&selectedRelations[0]=ownerOf&maxDepth=99&format=json")
    assert inverse.json()["graph"]["depth"] == 4
    assert {n["ref"] for n in inverse.json()["graph"]["nodes"]} >= {
        n["ref"] for n in owned["nodes"]
    }


def test_large_neighbourhoods_are_capped_with_a_message(demo: Demo) -> None:
    data = demo.client.get(
        "/catalog-graph?rootEntityRefs[]=group:default/identity-accounts&maxDepth=4&format=json"
    ).json()["graph"]
    assert len(data["nodes"]) <= 100
    if data["truncated"]:
        page = demo.client.get(
            "/catalog-graph?rootEntityRefs[]=group:default/identity-accounts&maxDepth=4"
        )
        assert "Showing 100 of" in page.text


def test_graph_page_without_a_root_asks_for_one_and_bad_roots_are_clear(demo: Demo) -> None:
    page = demo.client.get("/catalog-graph")
    assert page.status_code == 200 and 'name="rootEntityRefs[]"' in page.text
    missing = demo.client.get("/catalog-graph?rootEntityRefs[]=component:default/nope")
    assert missing.status_code == 404
    bad = demo.client.get("/catalog-graph?rootEntityRefs[]=component:")
    assert bad.status_code == 400
