"""The layered layout: every node placed, no boxes overlapping, edges attached."""

from __future__ import annotations

import itertools
import random

import pytest

from greenroom.catalog.graph import Edge, Layout, Neighbourhood, Node, layout_graph, neighbourhood
from greenroom.catalog.graph.layout import node_text, text_width
from tests.catalog.graph.catalog import Fetcher, entity, served, shop


def node(ref: str, depth: int = 1, **fields) -> Node:
    kind, rest = ref.split(":")
    namespace, name = rest.split("/")
    values = {"title": None, "type": None, "missing": False} | fields
    return Node(ref, kind, namespace, name, depth=depth, **values)


def graph(edges: list[tuple[str, str]], *extra: str, label: str = "dependsOn") -> Neighbourhood:
    refs = sorted({r for e in edges for r in e} | set(extra))
    return Neighbourhood(
        root=refs[0],
        nodes={ref: node(ref, 0 if ref == refs[0] else 1) for ref in refs},
        edges=sorted(Edge(a, b, label) for a, b in edges),
    )


def c(name: str) -> str:
    return f"component:default/{name}"


def check(hood: Neighbourhood, layout: Layout) -> None:
    """What every layout must satisfy."""
    assert list(layout.nodes) == [hood.root, *sorted(set(hood.nodes) - {hood.root})]
    boxes = list(layout.nodes.values())
    for box in boxes:
        assert box.x >= 0 and box.x + box.width <= layout.width
        assert box.y >= 0 and box.y + box.height <= layout.height
    # No two boxes overlap, within a layer or across layers.
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a.x + a.width <= b.x
                or b.x + b.width <= a.x
                or a.y + a.height <= b.y
                or b.y + b.height <= a.y
            )
            assert apart, (a, b)
    assert [(r.source, r.target, r.label) for r in layout.edges] == [
        (e.source, e.target, e.label) for e in hood.edges
    ]
    for route in layout.edges:
        points = [route.start, route.label_at] + [p for curve in route.curves for p in curve]
        for x, y in points:
            assert 0 <= x <= layout.width and 0 <= y <= layout.height, route
        source, target = layout.nodes[route.source], layout.nodes[route.target]
        end = route.curves[-1][2]
        if route.self_loop:
            assert route.start[1] == end[1] == source.y
            continue
        # Edges leave and enter boxes on their left or right side.
        assert route.start[0] in (source.x, source.x + source.width)
        assert end[0] in (target.x, target.x + target.width)
        assert source.y <= route.start[1] <= source.y + source.height
        assert target.y <= end[1] <= target.y + target.height


def test_a_single_node() -> None:
    hood = graph([], c("alone"))
    layout = layout_graph(hood)
    check(hood, layout)
    box = layout.nodes[c("alone")]
    assert (box.layer, box.caption, box.label) == (0, "component", "alone")
    assert layout.width == pytest.approx(box.width + 24)


def test_disconnected_nodes_are_stacked_without_overlap() -> None:
    hood = graph([], c("a"), c("b"), c("c"))
    layout = layout_graph(hood)
    check(hood, layout)
    assert {box.layer for box in layout.nodes.values()} == {0}


def test_edges_point_right() -> None:
    hood = graph([(c("a"), c("b")), (c("b"), c("c")), (c("a"), c("c"))])
    layout = layout_graph(hood)
    check(hood, layout)
    assert [layout.nodes[c(x)].layer for x in "abc"] == [0, 1, 2]
    assert not any(route.reversed for route in layout.edges)
    # a -> c skips a layer: it passes the middle column beside b, not through it.
    long = next(r for r in layout.edges if (r.source, r.target) == (c("a"), c("c")))
    assert len(long.curves) == 3


def test_cycles_are_broken_by_reversing_one_edge() -> None:
    hood = graph([(c("a"), c("b")), (c("b"), c("c")), (c("c"), c("a"))])
    layout = layout_graph(hood)
    check(hood, layout)
    assert [route.reversed for route in layout.edges] == [False, False, True]
    reversed_route = layout.edges[2]
    # Drawn right to left: leaves c on its left side, enters a on its right side.
    assert reversed_route.start[0] == layout.nodes[c("c")].x
    a = layout.nodes[c("a")]
    assert reversed_route.curves[-1][2][0] == a.x + a.width


def test_two_node_cycle_gets_two_separate_curves() -> None:
    hood = graph([(c("a"), c("b")), (c("b"), c("a"))])
    layout = layout_graph(hood)
    check(hood, layout)
    first, second = layout.edges
    assert first.start[1] != second.curves[-1][2][1]
    assert first.label_at != second.label_at


def test_self_loops_are_drawn_above_their_node() -> None:
    hood = graph([(c("a"), c("a")), (c("a"), c("b"))])
    layout = layout_graph(hood)
    check(hood, layout)
    loop = layout.edges[0]
    assert loop.self_loop
    assert loop.label_at[1] < layout.nodes[c("a")].y
    assert all(p[1] <= layout.nodes[c("a")].y for p in loop.curves[0])


def test_a_node_with_only_a_self_loop() -> None:
    hood = graph([(c("a"), c("a"))])
    check(hood, layout_graph(hood))


def test_parallel_edges_with_different_labels() -> None:
    hood = graph([(c("a"), c("b"))])
    hood.edges = [Edge(c("a"), c("b"), "dependsOn"), Edge(c("a"), c("b"), "watches")]
    layout = layout_graph(hood)
    check(hood, layout)
    assert layout.edges[0].label_at != layout.edges[1].label_at


def test_realistic_catalog() -> None:
    hood = neighbourhood("component:default/checkout", Fetcher(shop()), depth=3)
    layout = layout_graph(hood)
    check(hood, layout)
    layer = {ref: box.layer for ref, box in layout.nodes.items()}
    # Relations point right: a component left of its API, system and owner.
    assert layer["component:default/checkout"] < layer["api:default/checkout-api"]
    assert layer["component:default/checkout"] < layer["system:default/shop"]
    assert layer["system:default/shop"] < layer["group:default/team-shop"]
    assert layer["user:default/alice"] == layer["group:default/team-shop"] - 1
    assert not any(route.reversed for route in layout.edges)
    # Labels in the same gap do not overprint each other.
    seen: dict[float, list[float]] = {}
    for route in layout.edges:
        seen.setdefault(route.label_at[0], []).append(route.label_at[1])
    for ys in seen.values():
        ys.sort()
        assert all(b - a >= 10 for a, b in itertools.pairwise(ys))


def random_graph(count: int, edge_count: int, seed: int) -> Neighbourhood:
    rng = random.Random(seed)
    refs = [c(f"n{i:03}") for i in range(count)]
    edges = {(refs[0], refs[i]) for i in range(1, 20)}
    edges |= {(rng.choice(refs), rng.choice(refs)) for _ in range(edge_count)}  # cycles, loops
    return graph(sorted(edges), *refs)


def test_random_graphs_keep_every_rule() -> None:
    for seed in range(5):
        hood = random_graph(40, 80, seed)
        check(hood, layout_graph(hood))


def test_five_hundred_random_nodes() -> None:
    # Random relations make long dependency chains; the layout gives up on
    # longest-path layers for layers by distance, with arcs within a layer.
    hood = random_graph(500, 1000, seed=1)
    layout = layout_graph(hood)
    assert len(layout.nodes) == 500
    assert len(layout.edges) == len(hood.edges)
    assert max(box.layer for box in layout.nodes.values()) < 10
    check(hood, layout)


def big_team(count: int) -> dict:
    """A group owning ``count`` services spread over systems and APIs, with members."""
    team = "group:default/platform"
    systems = [f"system:default/sys-{i:02}" for i in range(count // 15)]
    apis = [f"api:default/api-{i:03}" for i in range(count // 3)]
    entities = [entity(team, ("childOf", "group:default/engineering"))]
    entities += [entity(s, ("ownedBy", team)) for s in systems]
    entities += [
        entity(a, ("ownedBy", team), ("partOf", systems[i % len(systems)]))
        for i, a in enumerate(apis)
    ]
    for i in range(count):
        entities.append(
            entity(
                c(f"svc-{i:03}"),
                ("ownedBy", team),
                ("partOf", systems[i % len(systems)]),
                ("providesApi", apis[i % len(apis)]),
                ("consumesApi", apis[(i * 7) % len(apis)]),
                type="service",
            )
        )
    entities += [entity(f"user:default/u{i:02}", ("memberOf", team)) for i in range(count // 5)]
    return served(*entities)


def test_five_hundred_catalog_nodes() -> None:
    fetch = Fetcher(big_team(300))
    hood = neighbourhood("group:default/platform", fetch, depth=2, max_nodes=500)
    assert len(hood.nodes) == 482
    assert len(fetch.calls) == 2  # everything is one relation away from the team
    layout = layout_graph(hood)
    check(hood, layout)
    assert max(box.layer for box in layout.nodes.values()) == 4


def test_long_chains_fall_back_to_layers_by_distance() -> None:
    chain = [c(f"n{i:02}") for i in range(40)]
    edges = [(c("a-root"), x) for x in chain] + list(itertools.pairwise(chain))
    hood = graph(edges)
    layout = layout_graph(hood)
    check(hood, layout)
    assert {box.layer for box in layout.nodes.values()} == {0, 1}
    arcs = [r for r in layout.edges if r.source in chain and r.target in chain]
    assert len(arcs) == 39
    for route in arcs:
        # Out of the right side of one box and back into the right side of the other.
        source, target = layout.nodes[route.source], layout.nodes[route.target]
        assert route.start[0] == source.x + source.width
        assert route.curves[-1][2][0] == target.x + target.width
        assert max(p[0] for curve in route.curves for p in curve) > source.x + source.width


def test_same_graph_same_layout() -> None:
    hood = random_graph(60, 120, seed=3)
    assert layout_graph(hood) == layout_graph(hood)


def test_long_titles_are_cut_to_fit() -> None:
    long = node(c("x"), title="A very long title " * 10)
    caption, label = node_text(long)
    assert label.endswith("…")
    assert text_width(label, 13) <= 220
    assert caption == "component"


def test_node_text() -> None:
    assert node_text(node(c("x"), type="service")) == ("component · service", "x")
    assert node_text(node("component:team-a/x")) == ("component", "team-a/x")
    assert node_text(node(c("x"), missing=True)) == ("component · not found", "x")
    assert node_text(node(c("x"), title="Shiny")) == ("component", "Shiny")
