"""The part of the catalog around one entity, as nodes and drawable edges.

A served entity lists its relations both ways round: a component says
``ownedBy group:default/team-a`` and the group says ``ownerOf`` the component.
Drawing both would show two arrows for one fact, so each pair is merged into
one edge in a canonical direction (the direction of ``ownedBy``, ``partOf``,
``dependsOn``...). Entities are fetched a whole breadth-first level at a time,
so a neighbourhood costs ``depth + 1`` queries however wide it is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from greenroom.catalog.model.refs import RefError, parse_entity_ref, split_entity_ref

__all__ = [
    "RELATION_PAIRS",
    "Edge",
    "Fetch",
    "Neighbourhood",
    "Node",
    "canonical_relation",
    "neighbourhood",
]

#: ``fetch(refs)`` -> served entities keyed by lowercase ref; unknown refs are absent.
Fetch = Callable[[list[str]], Mapping[str, Mapping[str, Any]]]

#: (drawn direction, its inverse) for every well-known relation pair (catalog.md §6).
RELATION_PAIRS: tuple[tuple[str, str], ...] = (
    ("ownedBy", "ownerOf"),
    ("partOf", "hasPart"),
    ("dependsOn", "dependencyOf"),
    ("providesApi", "apiProvidedBy"),
    ("consumesApi", "apiConsumedBy"),
    ("memberOf", "hasMember"),
    ("childOf", "parentOf"),
)

_INVERSE_TO_CANONICAL = {inverse: canonical for canonical, inverse in RELATION_PAIRS}


@dataclass(frozen=True, slots=True)
class Node:
    """One entity in the drawing; ``missing`` when a relation points at nothing served."""

    ref: str
    kind: str
    namespace: str
    name: str
    title: str | None
    type: str | None
    depth: int
    missing: bool = False


@dataclass(frozen=True, slots=True, order=True)
class Edge:
    """One drawn relation, already in its canonical direction."""

    source: str
    target: str
    label: str


@dataclass(slots=True)
class Neighbourhood:
    """Entities within ``depth`` relations of ``root``, at most ``max_nodes`` of them.

    ``left_out`` counts entities that were reached but not drawn because of the
    cap, so a page can say "showing 100 of 412".
    """

    root: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False
    left_out: int = 0

    @property
    def known(self) -> int:
        """Entities reached, drawn or not."""
        return len(self.nodes) + self.left_out


def canonical_relation(source: str, type_: str, target: str) -> Edge:
    """The drawn edge for a stored relation: inverses are turned round."""
    canonical = _INVERSE_TO_CANONICAL.get(type_)
    if canonical is None:
        return Edge(source, target, type_)
    return Edge(target, source, canonical)


def neighbourhood(
    root_ref: str,
    fetch: Fetch,
    *,
    depth: int = 1,
    relation_types: Collection[str] | None = None,
    max_nodes: int = 100,
) -> Neighbourhood:
    """Walk relations breadth-first from ``root_ref`` up to ``depth`` hops.

    Only relations whose stored type is in ``relation_types`` are followed and
    drawn (matched without regard to case, since query strings tend to arrive
    lowercased; ``None`` means every type). ``fetch`` is called once per level
    with every new ref of that level. Targets that ``fetch`` does not return
    stay in the drawing as ``missing`` nodes, as in Backstage. Within a level,
    refs are taken in sorted order, so the cap always keeps the same ones.
    """
    if depth < 0:
        raise ValueError("depth must be 0 or more")
    if max_nodes < 1:
        raise ValueError("max_nodes must be at least 1")
    if isinstance(relation_types, str):
        relation_types = [relation_types]  # not its letters
    wanted = None if relation_types is None else {t.lower() for t in relation_types}
    root = str(parse_entity_ref(root_ref))

    hood = Neighbourhood(root=root)
    entities: dict[str, Mapping[str, Any]] = {}

    def add_level(refs: list[str], level: int) -> list[str]:
        served = fetch(list(refs)) if refs else {}
        found = []
        for ref in refs:
            entity = served.get(ref)
            if isinstance(entity, Mapping):
                entities[ref] = entity
                found.append(ref)
            hood.nodes[ref] = _node(ref, entity, level)
        return found

    frontier = add_level([root], 0)
    for level in range(1, depth + 1):
        new_refs = sorted(
            {
                target
                for ref in frontier
                for _type, target in _relations(entities[ref], wanted)
                if target not in hood.nodes
            }
        )
        if not new_refs:
            break
        room = max_nodes - len(hood.nodes)
        if len(new_refs) > room:
            hood.truncated = True
            hood.left_out = len(new_refs) - room
            new_refs = new_refs[:room]
        frontier = add_level(new_refs, level)
        if hood.truncated:
            # Deeper levels would only grow a count nobody can see; stop here.
            break

    # Edges come from every served node, including the last level, so that two
    # drawn entities related to each other are connected even when the walk
    # reached them by different paths.
    edges = {
        canonical_relation(ref, type_, target)
        for ref in sorted(entities)
        for type_, target in _relations(entities[ref], wanted)
        if target in hood.nodes
    }
    hood.edges = sorted(edges)
    return hood


def _relations(entity: Mapping[str, Any], wanted: set[str] | None) -> Iterator[tuple[str, str]]:
    """``(type, lowercase targetRef)`` of the entity's relations that pass the filter."""
    relations = entity.get("relations")
    if not isinstance(relations, list):
        return
    for relation in relations:
        if not isinstance(relation, Mapping):
            continue
        type_ = relation.get("type")
        target = relation.get("targetRef")
        if not isinstance(type_, str) or not isinstance(target, str) or not type_ or not target:
            continue
        if wanted is not None and type_.lower() not in wanted:
            continue
        yield type_, target.lower()


def _node(ref: str, entity: Mapping[str, Any] | None, depth: int) -> Node:
    kind, namespace, name = _ref_parts(ref)
    if entity is None:
        return Node(ref, kind, namespace, name, None, None, depth, missing=True)
    metadata = _mapping(entity.get("metadata"))
    spec = _mapping(entity.get("spec"))
    return Node(
        ref=ref,
        kind=_text(entity.get("kind")) or kind,
        namespace=_text(metadata.get("namespace")) or namespace,
        name=_text(metadata.get("name")) or name,
        title=_text(metadata.get("title")),
        type=_text(spec.get("type")),
        depth=depth,
    )


def _ref_parts(ref: str) -> tuple[str, str, str]:
    # A dangling targetRef is whatever the source YAML said; the drawing must
    # survive one that does not parse.
    try:
        kind, namespace, name = split_entity_ref(ref)
    except RefError:
        return "unknown", "default", ref
    return kind or "unknown", namespace or "default", name


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
