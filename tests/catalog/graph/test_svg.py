"""The rendered SVG: well-formed, accessible, linked, styled by classes, and escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from greenroom.catalog.graph import Neighbourhood, Node, layout_graph, neighbourhood, render_svg
from tests.catalog.graph.catalog import Fetcher, entity, served, shop

NS = "{http://www.w3.org/2000/svg}"


def href(node: Node) -> str:
    return f"/catalog/{node.namespace}/{node.kind.lower()}/{node.name}"


def draw(hood: Neighbourhood, link=href, **options) -> tuple[str, ET.Element]:
    svg = render_svg(hood, layout_graph(hood), href=link, **options)
    return svg, ET.fromstring(svg)


def shop_svg() -> tuple[Neighbourhood, str, ET.Element]:
    hood = neighbourhood("component:default/storefront", Fetcher(shop()), depth=2)
    return hood, *draw(hood)


def test_root_element_is_an_accessible_image() -> None:
    hood, _, root = shop_svg()
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "group"  # not "img": an image may not hold the node links
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox"))
    assert "gr-graph" in root.get("class").split()
    title_id, desc_id = root.get("aria-labelledby").split()
    title = root.find(f"{NS}title")
    desc = root.find(f"{NS}desc")
    assert (title.get("id"), desc.get("id")) == (title_id, desc_id)
    assert title.text == "Relations of storefront"
    assert desc.text.startswith(f"{len(hood.nodes)} entities and {len(hood.edges)} relations")
    assert "1 referenced entity is not in the catalog" in desc.text


def test_every_node_is_a_link() -> None:
    hood, _, root = shop_svg()
    links = root.findall(f".//{NS}a")
    assert len(links) == len(hood.nodes)
    by_ref = {a.get("data-ref"): a for a in links}
    assert set(by_ref) == set(hood.nodes)
    for ref, a in by_ref.items():
        assert a.get("href") == href(hood.nodes[ref])
        assert a.find(f"{NS}rect") is not None
        kind, name = a.findall(f"{NS}text")
        assert kind.get("class") == "gr-graph-node-kind"
        assert name.get("class") == "gr-graph-node-name"
        assert f"({ref})" in a.find(f"{NS}title").text


def test_node_classes() -> None:
    _, _, root = shop_svg()
    classes = {a.get("data-ref"): a.get("class").split() for a in root.iter(f"{NS}a")}
    assert classes["component:default/storefront"] == [
        "gr-graph-node",
        "kind-component",
        "gr-graph-node--root",
    ]
    assert classes["component:default/legacy-cms"] == [
        "gr-graph-node",
        "kind-component",
        "gr-graph-node--missing",
    ]
    assert classes["api:default/checkout-api"] == ["gr-graph-node", "kind-api"]
    assert classes["group:default/team-shop"] == ["gr-graph-node", "kind-group"]


def test_edges_share_one_arrowhead_and_have_labels() -> None:
    hood, _, root = shop_svg()
    markers = root.findall(f"{NS}defs/{NS}marker")
    assert len(markers) == 1
    marker_id = markers[0].get("id")
    paths = [p for p in root.iter(f"{NS}path") if "gr-graph-edge" in p.get("class", "").split()]
    assert len(paths) == len(hood.edges)
    for path, edge in zip(paths, hood.edges, strict=True):
        assert path.get("marker-end") == f"url(#{marker_id})"
        assert (path.get("data-source"), path.get("data-target")) == (edge.source, edge.target)
        assert re.fullmatch(r"M[-\d. ]+(C[-\d. ]+)+", path.get("d"))
        assert f"relation-{edge.label.lower()}" in path.get("class").split()
    labels = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "gr-graph-label"]
    assert labels == [edge.label for edge in hood.edges]


def test_styling_is_left_to_the_page() -> None:
    _, svg, root = shop_svg()
    assert "<script" not in svg and "<style" not in svg and "<image" not in svg
    assert all(el.get("style") is None for el in root.iter())
    assert not [el for el in root.iter() if any(k.startswith("on") for k in el.attrib)]
    colours = {el.get(a) for el in root.iter() for a in ("fill", "stroke") if el.get(a)}
    assert colours <= {"none", "currentColor"}
    # Only same-document references: the arrowhead.
    assert set(re.findall(r"url\(([^)]*)\)", svg)) == {"#gr-graph-arrow"}


def hostile() -> Neighbourhood:
    nasty = """<script>alert("x")</script> & 'quoted' \"double\" ]]> <!-- -->"""
    entities = served(
        entity(
            "component:default/root",
            ("dependsOn", "component:default/x"),
            ("dependsOn", 'component:default/"><script>alert(1)</script>'),
            title=nasty,
            type='<b onmouseover="x">',
        ),
        entity("component:default/x", title="a\x00b\x1fc\ud800d"),
    )
    entities["component:default/x"]["kind"] = 'Weird Kind"><script>'
    return neighbourhood("component:default/root", Fetcher(entities))


def test_user_text_is_escaped_everywhere() -> None:
    hood = hostile()
    svg, root = draw(hood)
    assert "<script" not in svg
    assert "<b " not in svg
    assert [el.tag for el in root.iter()].count(f"{NS}a") == 3  # no element smuggled in
    assert not [key for el in root.iter() for key in el.attrib if key.startswith("on")]
    texts = {t.text for t in root.iter(f"{NS}text")}
    # What the user wrote comes back intact once parsed, only shortened to fit.
    name = next(t for t in texts if t.startswith("<script>"))
    assert name.startswith("""<script>alert("x")</script> &""")
    tooltips = {t.text for t in root.iter(f"{NS}title")}
    assert f"{hood.nodes['component:default/root'].title} (component:default/root)" in tooltips
    assert 'Component · <b onmouseover="x">' in texts
    assert "abcd" in texts  # characters XML cannot hold are dropped
    refs = {a.get("data-ref") for a in root.iter(f"{NS}a")}
    assert 'component:default/"><script>alert(1)</script>' in refs
    classes = next(a.get("class") for a in root.iter(f"{NS}a") if a.get("data-ref").endswith("/x"))
    assert classes == "gr-graph-node kind-weird-kind-script"


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " \tjava\nscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
    ],
)
def test_links_that_would_run_code_are_replaced(bad: str) -> None:
    svg, root = draw(hostile(), link=lambda node: bad)
    assert {a.get("href") for a in root.iter(f"{NS}a")} == {"#"}
    assert "script:" not in svg.lower().replace("<script>", "")


def test_hrefs_are_escaped_and_kept() -> None:
    link = '/catalog/default/component/x?a=1&b="2"&c=<3>'
    svg, root = draw(hostile(), link=lambda node: link)
    assert {a.get("href") for a in root.iter(f"{NS}a")} == {link}
    assert 'href="/catalog/default/component/x?a=1&amp;b=&quot;2&quot;&amp;c=&lt;3&gt;"' in svg
    for safe in ("https://example.com/a", "mailto:team@example.com", "?q=1", "#here", "x/y:z"):
        _, root = draw(hostile(), link=lambda node, safe=safe: safe)
        assert {a.get("href") for a in root.iter(f"{NS}a")} == {safe}


def test_truncated_neighbourhood_says_so() -> None:
    hood = neighbourhood("group:default/team-shop", Fetcher(shop()), max_nodes=4)
    _, root = draw(hood)
    assert f"Showing 4 of {hood.known} entities." in root.find(f"{NS}desc").text


def test_id_prefix_names_the_ids() -> None:
    hood = neighbourhood("group:default/team-shop", Fetcher(shop()))
    svg, root = draw(hood, id_prefix="other-graph")
    assert root.get("aria-labelledby") == "other-graph-title other-graph-desc"
    assert 'marker-end="url(#other-graph-arrow)"' in svg
    with pytest.raises(ValueError):
        render_svg(hood, layout_graph(hood), href=href, id_prefix='x" onload="y')


def test_single_node_and_self_loop() -> None:
    entities = served(entity("component:default/a", ("dependsOn", "component:default/a")))
    hood = neighbourhood("component:default/a", Fetcher(entities))
    _, root = draw(hood)
    assert len(root.findall(f".//{NS}a")) == 1
    assert root.find(f"{NS}desc").text == "1 entity and 1 relation around component:default/a."


def test_same_input_same_markup() -> None:
    assert shop_svg()[1] == shop_svg()[1]
