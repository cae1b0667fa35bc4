"""Served entities built by hand, with the relations the catalog would add.

The catalog stores each relation on both ends (``ownedBy`` on the component,
``ownerOf`` on the group); ``served`` does the same, so tests write each fact
once, as a forward relation, like a ``catalog-info.yaml`` would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from greenroom.catalog.graph import RELATION_PAIRS

INVERSE = {a: b for a, b in RELATION_PAIRS} | {b: a for a, b in RELATION_PAIRS}


KINDS = {
    k.lower(): k for k in ("API", "Component", "Domain", "Group", "Resource", "System", "User")
}


def entity(
    ref: str,
    *relations: tuple[str, str],
    title: str | None = None,
    type: str | None = None,
) -> dict[str, Any]:
    """An entity with forward ``relations`` as ``(type, targetRef)``; ref is ``kind:ns/name``."""
    kind, rest = ref.split(":", 1)
    kind = KINDS.get(kind, kind)
    namespace, name = rest.split("/", 1)
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if title is not None:
        metadata["title"] = title
    spec = {"type": type} if type is not None else {}
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": metadata,
        "spec": spec,
        "relations": [{"type": t, "targetRef": target} for t, target in relations],
    }


def served(*entities: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Entities keyed by lowercase ref, each with its reverse relations added and sorted."""
    by_ref = {_ref(e): e for e in entities}
    pairs = {(ref, r["type"], r["targetRef"]) for ref, e in by_ref.items() for r in e["relations"]}
    for source, type_, target in list(pairs):
        if type_ in INVERSE and target in by_ref:
            pairs.add((target, INVERSE[type_], source))
    for e in by_ref.values():
        e["relations"] = []
    for source, t, target in sorted(pairs, key=lambda p: (p[1], p[2])):
        by_ref[source]["relations"].append({"type": t, "targetRef": target})
    return by_ref


class Fetcher:
    """``fetch`` over a dict of served entities, remembering every call."""

    def __init__(self, entities: Mapping[str, dict[str, Any]]) -> None:
        self.entities = entities
        self.calls: list[list[str]] = []

    def __call__(self, refs: list[str]) -> dict[str, dict[str, Any]]:
        self.calls.append(list(refs))
        return {ref: self.entities[ref] for ref in refs if ref in self.entities}


def shop() -> dict[str, dict[str, Any]]:
    """A small but realistic catalog: a system, its components and APIs, owners, members."""
    team, shop_system = "group:default/team-shop", "system:default/shop"
    return served(
        entity("domain:default/commerce", ("ownedBy", "group:default/engineering")),
        entity(shop_system, ("ownedBy", team), ("partOf", "domain:default/commerce"), title="Shop"),
        entity(
            "component:default/checkout",
            ("ownedBy", team),
            ("partOf", shop_system),
            ("providesApi", "api:default/checkout-api"),
            ("consumesApi", "api:default/payments-api"),
            ("dependsOn", "resource:default/orders-db"),
            ("dependsOn", "component:default/payments-lib"),
            type="service",
            title="Checkout service",
        ),
        entity(
            "component:default/storefront",
            ("ownedBy", team),
            ("partOf", shop_system),
            ("consumesApi", "api:default/checkout-api"),
            ("dependsOn", "component:default/legacy-cms"),  # dangling: nobody registered it
            type="website",
        ),
        entity(
            "component:default/payments-lib",
            ("ownedBy", "group:default/payments"),
            type="library",
        ),
        entity(
            "api:default/checkout-api", ("ownedBy", team), ("partOf", shop_system), type="openapi"
        ),
        entity("api:default/payments-api", ("ownedBy", "group:default/payments"), type="grpc"),
        entity(
            "resource:default/orders-db",
            ("ownedBy", team),
            ("partOf", shop_system),
            type="database",
        ),
        entity("group:default/team-shop", ("childOf", "group:default/engineering"), type="team"),
        entity("group:default/payments", ("childOf", "group:default/engineering"), type="team"),
        entity("group:default/engineering", type="department", title="Engineering"),
        entity("user:default/alice", ("memberOf", team)),
        entity("user:default/bob", ("memberOf", team), ("memberOf", "group:default/payments")),
    )


def _ref(e: Mapping[str, Any]) -> str:
    m = e["metadata"]
    return f"{e['kind']}:{m['namespace']}/{m['name']}".lower()
