"""The Org pages: the groups tree, and the Members and Ownership tabs of groups and users.

Like every page, each builds plain data from catalog queries (`?format=json` returns
it). Nothing here reads the whole catalog: groups are fetched as one capped page,
members as pages of users, ownership as facet counts plus a short list.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response

from greenroom.catalog.pages import views
from greenroom.catalog.pages.filters import MAX_VALUES_PER_FACET, TEXT_FIELDS
from greenroom.catalog.query.predicates import All, Equals, Predicate
from greenroom.catalog.query.service import (
    MAX_TERM_LENGTH,
    EntityQueries,
    FullText,
    Order,
    QueryRequest,
)
from greenroom.errors import InputError
from greenroom.permissions import CATALOG_ENTITY_READ, Identity
from greenroom.web.guard import require
from greenroom.web.pages import pages_of, query_url

GROUP_CAP = 5000  # groups shown in the tree; more are reached by filtering
TREE_DEPTH = 12  # levels nested in the tree; deeper groups are a link away
OPEN_LEVELS = 2  # tree levels shown open when nothing is filtered
ANCESTOR_LEVELS = 50  # parents looked up to place a filtered group in its tree
MEMBERS_PAGE = 50
SUBGROUPS_SHOWN = 100
OWNED_SHOWN = 20
AGGREGATE_GROUPS = 1000  # sub-groups an aggregated view takes in
GROUPS_SHOWN = 100  # a user's groups listed on their Ownership tab

GROUP = Equals("kind", ("group",))
USER = Equals("kind", ("user",))
BY_NAME = Order("metadata.name")


# --- small helpers ---------------------------------------------------------------------


def _spec(entity: dict[str, Any]) -> dict[str, Any]:
    spec = entity.get("spec")
    return spec if isinstance(spec, dict) else {}


def _profile(entity: dict[str, Any]) -> dict[str, Any]:
    profile = _spec(entity).get("profile")
    return profile if isinstance(profile, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def display_name(entity: dict[str, Any]) -> str:
    """What Backstage's org cards call a group or user: profile name, title, or name."""
    metadata = entity.get("metadata") or {}
    return (
        _text(_profile(entity).get("displayName"))
        or _text(metadata.get("title"))
        or str(metadata.get("name", ""))
    )


def _relations(entity: dict[str, Any], type_: str, kind: str | None = None) -> list[str]:
    """Target refs of one relation type (of one target kind), sorted, without duplicates."""
    prefix = kind + ":" if kind else ""
    return sorted(
        {
            target
            for relation in entity.get("relations") or []
            if relation.get("type") == type_
            and isinstance(target := relation.get("targetRef"), str)
            and target.startswith(prefix)
        }
    )


def _load(queries: EntityQueries, refs: list[str]) -> dict[str, dict[str, Any]]:
    found = (orjson.loads(body) for body in queries.by_refs(refs) if body is not None)
    return {views.ref_of(entity): entity for entity in found}


def group_item(entity: dict[str, Any]) -> dict[str, Any]:
    """A group as lists show it: its link, display name, type and direct member count."""
    ref = views.ref_of(entity)
    return {
        "ref": ref,
        "url": views.entity_url(ref),
        "name": str((entity.get("metadata") or {}).get("name", "")),
        "title": display_name(entity),
        "type": _text(_spec(entity).get("type")),
        "members": len(_relations(entity, "hasMember")),
    }


def person_item(entity: dict[str, Any]) -> dict[str, Any]:
    """A user as member lists show them: link, display name and email."""
    ref = views.ref_of(entity)
    return {
        "ref": ref,
        "url": views.entity_url(ref),
        "name": str((entity.get("metadata") or {}).get("name", "")),
        "title": display_name(entity),
        "email": _text(_profile(entity).get("email")),
    }


def _missing(ref: str) -> dict[str, Any]:
    return {**views.ref_link(ref), "title": views.display_ref(ref), "missing": True}


def descendants(queries: EntityQueries, entity: dict[str, Any]) -> tuple[list[str], bool]:
    """The refs of a group's sub-groups at any depth (at most AGGREGATE_GROUPS), and
    whether some were left out."""
    seen = {views.ref_of(entity)}
    found: list[str] = []
    frontier = [entity]
    while frontier:
        wanted: list[str] = []
        for group in frontier:
            for child in _relations(group, "parentOf"):
                if child in seen:
                    continue
                if len(found) >= AGGREGATE_GROUPS:
                    return found, True
                seen.add(child)
                found.append(child)
                wanted.append(child)
        frontier = list(_load(queries, wanted).values()) if wanted else []
    return found, False


def _aggregate(request: Request, default: bool) -> bool:
    raw = request.query_params.get("aggregate")
    return default if raw not in ("0", "1") else raw == "1"


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 1_000_000)) if raw.isdigit() else 1


# --- /org: the groups tree ----------------------------------------------------------------


def org_pages(portal: Any) -> APIRouter:
    router = APIRouter()
    queries: EntityQueries = portal.catalog.queries
    read = require(CATALOG_ENTITY_READ)

    @router.get("/org")
    def org_index(request: Request, q: str = "", identity: Identity = Depends(read)) -> Response:
        """Every group, nested under its parent; `q` keeps the groups whose name has it."""
        term = q.strip()
        if len(term) > MAX_TERM_LENGTH:
            raise InputError(f"The filter is longer than {MAX_TERM_LENGTH} characters")
        data = org_tree(queries, term)
        return pages_of(request).render(request, "org/index.html", data, title="Org")

    return router


def org_tree(queries: EntityQueries, term: str = "") -> dict[str, Any]:
    """The groups tree as nested nodes, with the counts the page header shows."""
    page = queries.page(
        QueryRequest(
            predicate=GROUP,
            order=BY_NAME,
            full_text=FullText.of(term, TEXT_FIELDS) if term else None,
            limit=GROUP_CAP,
        )
    )
    groups = {views.ref_of(e): e for e in (orjson.loads(body) for body in page.items)}
    matched = set(groups) if term else set()
    if term:
        # Bring in the ancestors of every match, so each is shown in its place.
        newest = list(groups.values())
        for _ in range(ANCESTOR_LEVELS):
            wanted = sorted({p for e in newest for p in _relations(e, "childOf")} - set(groups))[
                :GROUP_CAP
            ]
            if not wanted:
                break
            found = _load(queries, wanted)
            groups.update(found)
            newest = list(found.values())

    parent_of = {
        ref: next((p for p in _relations(e, "childOf") if p in groups), None)
        for ref, e in groups.items()
    }
    children: dict[str, list[str]] = {}
    for ref, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(ref)
    items = {ref: group_item(e) for ref, e in groups.items()}

    def order(refs: list[str]) -> list[str]:
        return sorted(refs, key=lambda r: (items[r]["title"].lower(), r))

    placed: set[str] = set()

    def hide(ref: str) -> None:
        """Mark a sub-tree too deep to draw as placed (a link on its ancestor leads on)."""
        stack = [ref]
        while stack:
            current = stack.pop()
            if current not in placed:
                placed.add(current)
                stack.extend(children.get(current, []))

    def node(ref: str, depth: int) -> dict[str, Any]:
        placed.add(ref)
        entity = groups[ref]
        below = [c for c in order(children.get(ref, [])) if c not in placed]
        all_children = _relations(entity, "parentOf")
        out = {**items[ref], "matched": ref in matched, "hit": None, "children": []}
        if ref in matched:
            at = out["title"].lower().find(term.lower())
            out["hit"] = [at, at + len(term)] if at >= 0 else None
        for child in below:
            if child in placed:
                continue
            if depth + 1 < TREE_DEPTH:
                out["children"].append(node(child, depth + 1))
            else:
                hide(child)
        # Sub-groups not drawn here: beyond the depth, past the cap, or filtered out.
        out["more_children"] = max(0, len(all_children) - len(out["children"]))
        return out

    roots = [node(ref, 0) for ref in order([r for r, p in parent_of.items() if p is None])]
    # Groups in a parent cycle have no root above them: show them at the top.
    for ref in order(list(groups)):
        if ref not in placed:
            roots.append(node(ref, 0))

    types = queries.facets(["spec.type"], GROUP)["spec.type"]
    total_groups = (
        page.total if not term else queries.page(QueryRequest(predicate=GROUP, limit=0)).total
    )
    return {
        "q": term,
        "roots": roots,
        "total": total_groups,
        "shown": len(groups),
        "matches": page.total if term else None,
        "truncated": page.total > len(page.items),
        "cap": GROUP_CAP,
        "open_levels": OPEN_LEVELS,
        "users": queries.page(QueryRequest(predicate=USER, limit=0)).total,
        "types": [
            {
                "type": item["value"],
                "count": item["count"],
                "url": query_url(
                    "/catalog", [("filters[kind]", "group"), ("filters[type]", item["value"])]
                ),
            }
            for item in sorted(types, key=lambda item: (-item["count"], item["value"]))
        ],
    }


# --- the Members tab of a group -----------------------------------------------------------------


def members_tab(portal: Any, request: Request, entity: dict[str, Any]) -> dict[str, Any]:
    """The group's profile, parent, sub-groups and a page of its members."""
    queries: EntityQueries = portal.catalog.queries
    ref = views.ref_of(entity)
    base = views.entity_url(ref) + "/members"
    aggregate = _aggregate(request, default=False)
    parent_ref = next(iter(_relations(entity, "childOf")), None)
    child_refs = _relations(entity, "parentOf")
    related = _load(queries, ([parent_ref] if parent_ref else []) + child_refs[:SUBGROUPS_SHOWN])

    sub_refs, sub_truncated = descendants(queries, entity) if aggregate else ([], False)
    member_of = (ref, *sub_refs)
    number = _page_number(request)
    page = queries.page(
        QueryRequest(
            predicate=All((USER, Equals("relations.memberof", member_of))),
            order=BY_NAME,
            limit=MEMBERS_PAGE,
            offset=(number - 1) * MEMBERS_PAGE,
        )
    )
    pages = max(1, -(-page.total // MEMBERS_PAGE))

    def page_url(n: int) -> str | None:
        if n < 1 or n > pages:
            return None
        return query_url(
            base, [("aggregate", "1" if aggregate else ""), ("page", str(n) if n > 1 else "")]
        )

    profile = _profile(entity)
    sub_groups = [
        group_item(related[c]) if c in related else _missing(c)
        for c in child_refs[:SUBGROUPS_SHOWN]
    ]
    return {
        "profile": {
            "display_name": display_name(entity),
            "email": _text(profile.get("email")),
            "type": _text(_spec(entity).get("type")),
            "description": _text((entity.get("metadata") or {}).get("description")),
        },
        "parent": (
            (group_item(related[parent_ref]) if parent_ref in related else _missing(parent_ref))
            if parent_ref
            else None
        ),
        "sub_groups": sub_groups,
        "sub_group_total": len(child_refs),
        "direct_members": len(_relations(entity, "hasMember")),
        "aggregate": aggregate,
        "aggregate_groups": len(sub_refs),
        "aggregate_truncated": sub_truncated,
        "toggle": {
            "direct": query_url(base, []),
            "aggregated": query_url(base, [("aggregate", "1")]),
        },
        "members": [person_item(orjson.loads(body)) for body in page.items],
        "member_total": page.total,
        "page": number,
        "pages": pages,
        "first_index": (number - 1) * MEMBERS_PAGE + 1 if page.items else 0,
        "next_url": page_url(number + 1),
        "prev_url": page_url(number - 1),
    }


# --- the Ownership tab of a group or a user -----------------------------------------------------


def ownership_tab(portal: Any, request: Request, entity: dict[str, Any]) -> dict[str, Any]:
    """What the entity owns by kind and type, directly or with its sub-groups (a group)
    or its groups (a user), and the first few owned entities."""
    queries: EntityQueries = portal.catalog.queries
    ref = views.ref_of(entity)
    base = views.entity_url(ref) + "/ownership"
    is_user = ref.startswith("user:")
    # Backstage's user page counts what the user's teams own too; a group's its own.
    aggregate = _aggregate(request, default=is_user)
    group_refs = _relations(entity, "memberOf", kind="group") if is_user else []
    truncated = False
    if not aggregate:
        extra: list[str] = []
    elif is_user:
        extra = group_refs
    else:
        extra, truncated = descendants(queries, entity)
    owners = tuple(dict.fromkeys((ref, *extra)))
    owned = Equals("relations.ownedby", owners)
    # The catalog page takes a limited number of owners in one link.
    linkable = len(owners) <= MAX_VALUES_PER_FACET
    owner_params = [("filters[owners]", o) for o in owners]

    def catalog_url(kind: str, type_: str | None = None) -> str | None:
        if not linkable:
            return None
        params = [("filters[kind]", kind)]
        if type_ is not None:
            params.append(("filters[type]", type_))
        return query_url("/catalog", [*params, *owner_params])

    kinds = queries.facets(["kind"], owned)["kind"]
    rows = []
    for item in sorted(kinds, key=lambda item: (-item["count"], item["value"])):
        kind = item["value"]
        predicate: Predicate = All((owned, Equals("kind", (kind.lower(),))))
        types = queries.facets(["spec.type"], predicate)["spec.type"]
        typed = sum(t["count"] for t in types)
        rows.append(
            {
                "kind": kind,
                "count": item["count"],
                "url": catalog_url(kind.lower()),
                "types": [
                    {
                        "type": t["value"],
                        "count": t["count"],
                        "url": catalog_url(kind.lower(), t["value"]),
                    }
                    for t in sorted(types, key=lambda t: (-t["count"], t["value"]))
                ],
                "untyped": max(0, item["count"] - typed),
            }
        )
    first = queries.page(QueryRequest(predicate=owned, order=BY_NAME, limit=OWNED_SHOWN))
    groups: list[dict[str, Any]] = []
    if is_user:
        found = _load(queries, group_refs[:GROUPS_SHOWN])
        groups = [
            group_item(found[g]) if g in found else _missing(g) for g in group_refs[:GROUPS_SHOWN]
        ]
    return {
        "is_user": is_user,
        "aggregate": aggregate,
        "owners": [views.ref_link(o, context_kind="group") for o in owners],
        "owners_truncated": truncated,
        "toggle": {
            "direct": query_url(base, [("aggregate", "0" if is_user else "")]),
            "aggregated": query_url(base, [("aggregate", "" if is_user else "1")]),
        },
        "kinds": rows,
        "total": sum(row["count"] for row in rows),
        "entities": [views.summary(orjson.loads(body)) for body in first.items],
        "all_url": query_url("/catalog", [("filters[kind]", "all"), *owner_params])
        if linkable
        else None,
        "groups": groups,
        "group_total": len(group_refs),
    }
