"""Breadth-first collection of the entities around a root, as drawable edges."""

from __future__ import annotations

import random

import pytest

from greenroom.catalog.graph import Edge, Neighbourhood, neighbourhood
from tests.catalog.graph.catalog import Fetcher, entity, served, shop

A, B, C, D = (f"component:default/{x}" for x in "abcd")
TEAM = "group:default/team"


def chain() -> dict:
    """a -> b -> c -> d (dependsOn), each owned by the team."""
    return served(
        entity(A, ("dependsOn", B), ("ownedBy", TEAM)),
        entity(B, ("dependsOn", C)),
        entity(C, ("dependsOn", D)),
        entity(D),
        entity(TEAM),
    )


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        (0, {A: 0}),
        (1, {A: 0, B: 1, TEAM: 1}),
        (2, {A: 0, B: 1, TEAM: 1, C: 2}),
        (3, {A: 0, B: 1, TEAM: 1, C: 2, D: 3}),
    ],
)
def test_depth_limits_the_walk(depth: int, expected: dict[str, int]) -> None:
    hood = neighbourhood(A, Fetcher(chain()), depth=depth)
    assert {ref: node.depth for ref, node in hood.nodes.items()} == expected
    assert not hood.truncated
    assert hood.left_out == 0


def test_one_fetch_per_level_with_every_new_ref() -> None:
    fetch = Fetcher(chain())
    neighbourhood(A, fetch, depth=3)
    assert fetch.calls == [[A], [B, TEAM], [C], [D]]


def test_walk_stops_fetching_when_nothing_new_is_reached() -> None:
    fetch = Fetcher(chain())
    neighbourhood(A, fetch, depth=10)
    assert len(fetch.calls) == 4


def test_root_ref_is_normalised() -> None:
    hood = neighbourhood("Component:Default/A", Fetcher(chain()), depth=0)
    assert hood.root == A
    assert hood.nodes[A].name == "a"


def test_found_nodes_carry_kind_title_and_type() -> None:
    hood = neighbourhood("component:default/checkout", Fetcher(shop()), depth=1)
    node = hood.nodes["component:default/checkout"]
    assert (node.kind, node.namespace, node.name) == ("Component", "default", "checkout")
    assert (node.title, node.type, node.missing) == ("Checkout service", "service", False)


def test_relation_types_filter_what_is_followed_and_drawn() -> None:
    hood = neighbourhood(A, Fetcher(chain()), depth=3, relation_types={"dependsOn"})
    assert set(hood.nodes) == {A, B, C, D}
    assert {edge.label for edge in hood.edges} == {"dependsOn"}


def test_relation_types_match_without_case() -> None:
    hood = neighbourhood(A, Fetcher(chain()), depth=1, relation_types=["OWNEDBY"])
    assert set(hood.nodes) == {A, TEAM}
    assert hood.edges == [Edge(A, TEAM, "ownedBy")]


def test_a_single_relation_type_as_a_string() -> None:
    assert set(neighbourhood(A, Fetcher(chain()), relation_types="dependsOn").nodes) == {A, B}


def test_relation_types_are_the_stored_types() -> None:
    # From the group's side the relation is stored as ownerOf; asking for
    # ownedBy only follows relations stored as ownedBy (as in Backstage).
    assert set(neighbourhood(TEAM, Fetcher(chain()), relation_types={"ownedBy"}).nodes) == {TEAM}
    hood = neighbourhood(TEAM, Fetcher(chain()), relation_types={"ownedBy", "ownerOf"})
    assert hood.edges == [Edge(A, TEAM, "ownedBy")]


def test_an_empty_filter_follows_nothing() -> None:
    hood = neighbourhood(A, Fetcher(chain()), depth=2, relation_types=())
    assert set(hood.nodes) == {A}
    assert hood.edges == []


@pytest.mark.parametrize("root", [A, TEAM])
def test_relation_pairs_become_one_edge_in_the_canonical_direction(root: str) -> None:
    hood = neighbourhood(root, Fetcher(chain()), depth=1)
    assert Edge(A, TEAM, "ownedBy") in hood.edges
    assert all(edge.label != "ownerOf" for edge in hood.edges)
    assert len({(e.source, e.target) for e in hood.edges}) == len(hood.edges)


def test_every_known_pair_is_merged() -> None:
    hood = neighbourhood("component:default/checkout", Fetcher(shop()), depth=3)
    labels = {edge.label for edge in hood.edges}
    assert labels == {
        "childOf",
        "consumesApi",
        "dependsOn",
        "memberOf",
        "ownedBy",
        "partOf",
        "providesApi",
    }
    # Each fact appears once although the catalog stores it on both ends.
    assert len(hood.edges) == len(set(hood.edges))
    assert Edge("user:default/bob", "group:default/payments", "memberOf") in hood.edges
    assert Edge("group:default/team-shop", "group:default/engineering", "childOf") in hood.edges


def test_unknown_relation_types_are_drawn_as_stored() -> None:
    entities = served(entity(A, ("watches", B)), entity(B))
    hood = neighbourhood(A, Fetcher(entities))
    assert hood.edges == [Edge(A, B, "watches")]


def test_edges_between_nodes_of_the_last_level_are_drawn() -> None:
    # From the component at depth 1: its system and its owner, and the system
    # is owned by the same group although neither was expanded.
    hood = neighbourhood("component:default/storefront", Fetcher(shop()), depth=1)
    assert Edge("system:default/shop", "group:default/team-shop", "ownedBy") in hood.edges


def test_dangling_targets_are_missing_nodes() -> None:
    hood = neighbourhood("component:default/storefront", Fetcher(shop()), depth=1)
    cms = hood.nodes["component:default/legacy-cms"]
    assert cms.missing
    assert (cms.kind, cms.namespace, cms.name, cms.title, cms.depth) == (
        "component",
        "default",
        "legacy-cms",
        None,
        1,
    )
    assert Edge("component:default/storefront", cms.ref, "dependsOn") in hood.edges
    assert sum(node.missing for node in hood.nodes.values()) == 1


def test_a_missing_root_is_a_single_missing_node() -> None:
    fetch = Fetcher(chain())
    hood = neighbourhood("component:default/nope", fetch, depth=3)
    assert list(hood.nodes) == ["component:default/nope"]
    assert hood.nodes["component:default/nope"].missing
    assert hood.edges == []
    assert fetch.calls == [["component:default/nope"]]


def test_malformed_relations_are_skipped() -> None:
    entities = served(entity(A, ("dependsOn", B)), entity(B))
    entities[A]["relations"] += [
        {"type": "dependsOn"},
        {"targetRef": B},
        "x",
        {"type": 1, "targetRef": 2},
    ]
    entities[B]["relations"] = None
    hood = neighbourhood(A, Fetcher(entities), depth=2)
    assert set(hood.nodes) == {A, B}
    assert hood.edges == [Edge(A, B, "dependsOn")]


def star(count: int) -> dict:
    leaves = [f"component:default/leaf-{i:02}" for i in range(count)]
    return served(entity(A, *(("dependsOn", leaf) for leaf in leaves)), *map(entity, leaves))


def test_cap_keeps_the_first_refs_and_counts_the_rest() -> None:
    fetch = Fetcher(star(10))
    hood = neighbourhood(A, fetch, depth=2, max_nodes=5)
    assert list(hood.nodes) == [A] + [f"component:default/leaf-{i:02}" for i in range(4)]
    assert hood.truncated
    assert hood.left_out == 6
    assert hood.known == 11
    # Left-out entities are never fetched, and the walk stops at the cap.
    assert fetch.calls == [[A], list(hood.nodes)[1:]]
    assert {(e.source, e.target) for e in hood.edges} == {(A, ref) for ref in list(hood.nodes)[1:]}


def test_cap_on_a_deeper_level() -> None:
    fetch = Fetcher(chain())
    hood = neighbourhood(A, fetch, depth=3, max_nodes=4)
    assert set(hood.nodes) == {A, B, TEAM, C}
    assert (hood.truncated, hood.left_out) == (True, 1)  # d, reached from c
    assert fetch.calls == [[A], [B, TEAM], [C]]
    hood = neighbourhood(A, Fetcher(chain()), depth=3, max_nodes=5)
    assert (len(hood.nodes), hood.truncated, hood.left_out) == (5, False, 0)


def test_exactly_max_nodes_is_not_truncated() -> None:
    hood = neighbourhood(A, Fetcher(star(4)), max_nodes=5)
    assert len(hood.nodes) == 5
    assert not hood.truncated


def test_max_nodes_one_is_the_root_alone() -> None:
    hood = neighbourhood(A, Fetcher(star(3)), max_nodes=1)
    assert list(hood.nodes) == [A]
    assert (hood.truncated, hood.left_out, hood.edges) == (True, 3, [])


@pytest.mark.parametrize(("depth", "max_nodes"), [(-1, 10), (1, 0)])
def test_bad_limits_are_refused(depth: int, max_nodes: int) -> None:
    with pytest.raises(ValueError):
        neighbourhood(A, Fetcher(chain()), depth=depth, max_nodes=max_nodes)


def shuffled(entities: dict) -> dict:
    rng = random.Random(7)
    out = {}
    for ref in rng.sample(list(entities), len(entities)):
        copy = dict(entities[ref])
        copy["relations"] = rng.sample(copy["relations"], len(copy["relations"]))
        out[ref] = copy
    return out


def _snapshot(hood: Neighbourhood) -> tuple:
    return (hood.root, list(hood.nodes.items()), hood.edges, hood.truncated, hood.left_out)


def test_same_catalog_same_neighbourhood_whatever_the_order() -> None:
    first = neighbourhood("group:default/team-shop", Fetcher(shop()), depth=2, max_nodes=9)
    again = neighbourhood(
        "group:default/team-shop", Fetcher(shuffled(shop())), depth=2, max_nodes=9
    )
    assert _snapshot(first) == _snapshot(again)
    assert first.truncated
