"""The Org pages: the groups tree, and the Members and Ownership tabs of groups and users.

Like every page, each builds plain data from catalog queries (`?format=json` returns
it). Nothing here reads the whole catalog: the tree is drawn a level or two at a time
(a page of top-level groups, or one group's sub-tree at `?root=`) with its counts from
cached facets, members come as pages of users, ownership as facet counts plus a short
list.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request, Response

from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.model.refs import RefError, parse_entity_ref, stringify_entity_ref
from greenroom.catalog.pages import views
from greenroom.catalog.pages.filters import MAX_VALUES_PER_FACET, TEXT_FIELDS
from greenroom.catalog.query.predicates import EVERYTHING, All, Equals, Exists, Not, Predicate
from greenroom.catalog.query.service import (
    MAX_TERM_LENGTH,
    EntityQueries,
    FullText,
    Order,
    QueryRequest,
)
from greenroom.errors import InputError, NotFoundError
from greenroom.permissions import CATALOG_ENTITY_READ, Identity
from greenroom.web.guard import require
from greenroom.web.pages import pages_of, query_url

# The tree: what one page of /org draws.
TIER_PAGE = 100  # top-level groups (or sub-groups of the focused group) per page
CHILDREN_SHOWN = 100  # sub-groups drawn under one group below that; more are a link away
NODE_BUDGET = 200  # groups drawn on a page: a deeper level is drawn only if it all fits
TREE_LEVELS = 3  # levels drawn at most, the first included; deeper ones are a link away
MATCHES_SHOWN = 50  # groups matching `q`, each shown under its parents
ANCESTOR_LEVELS = 20  # parents looked up for a match or a breadcrumb
MAX_MISSING_PARENTS = 1000  # parents not in the catalog whose sub-groups count as roots
# The tabs.
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
    return {entity_ref_of(entity): entity for entity in found}


def _item(entity: dict[str, Any]) -> dict[str, Any]:
    ref = entity_ref_of(entity)
    return {
        "ref": ref,
        "url": views.entity_url(ref),
        "name": str((entity.get("metadata") or {}).get("name", "")),
        "title": display_name(entity),
    }


def group_item(entity: dict[str, Any]) -> dict[str, Any]:
    """A group as lists show it: its link, display name, type and direct member count."""
    return {
        **_item(entity),
        "type": _text(_spec(entity).get("type")),
        "members": len(_relations(entity, "hasMember")),
    }


def person_item(entity: dict[str, Any]) -> dict[str, Any]:
    """A user as member lists show them: link, display name and email."""
    return {**_item(entity), "email": _text(_profile(entity).get("email"))}


def _missing(ref: str) -> dict[str, Any]:
    return {**views.ref_link(ref), "title": views.display_ref(ref), "missing": True}


def descendants(queries: EntityQueries, entity: dict[str, Any]) -> tuple[list[str], bool]:
    """The refs of a group's sub-groups at any depth (at most AGGREGATE_GROUPS), and
    whether some were left out."""
    seen = {entity_ref_of(entity)}
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
    def org_index(
        request: Request, q: str = "", root: str = "", identity: Identity = Depends(read)
    ) -> Response:
        """The groups tree a level or two at a time: the top-level groups, or the sub-tree
        of `root`; `q` finds groups by name and shows them in place."""
        term = q.strip()
        if len(term) > MAX_TERM_LENGTH:
            raise InputError(f"The filter is longer than {MAX_TERM_LENGTH} characters")
        focus = _group_ref(root) if root.strip() and not term else None
        data = org_tree(queries, term, focus, _page_number(request))
        title = "Org" if data["focus"] is None else f"{data['focus']['title']} · Org"
        return pages_of(request).render(request, "org/index.html", data, title=title)

    return router


def _group_ref(raw: str) -> str:
    """The canonical ref of a group from `?root=` (`name`, `ns/name` or `group:ns/name`)."""
    try:
        parsed = parse_entity_ref(raw.strip(), default_kind="group")
    except RefError as error:
        raise InputError(f"Invalid group reference {raw!r}: {error}") from None
    if parsed.kind.lower() != "group":
        raise InputError(f"{raw!r} is not a group: the tree shows groups only")
    return stringify_entity_ref(parsed.kind, parsed.namespace, parsed.name)


def org_url(ref: str, page: int = 1) -> str:
    """The tree focused on a group (`/org?root=group:default/team-a`), readable in the
    address bar: `:` and `/` need no escaping in a query."""
    url = "/org?root=" + quote(ref, safe=":/")
    return url + f"&page={page}" if page > 1 else url


class _Derived:
    """Values computed from shared facet lists (which must not change), kept as long
    as the lists are: facet answers are cached per catalog generation, so new lists
    mean new counts. Keyed on the lists' identities; the entry holds the lists, so an
    identity is not reused while it is kept."""

    def __init__(self, size: int = 16) -> None:
        self._entries: OrderedDict[tuple[str, tuple[int, ...]], tuple[tuple[object, ...], Any]]
        self._entries = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, name: str, sources: tuple[list[Any], ...], build: Callable[[], Any]) -> Any:
        key = (name, tuple(id(source) for source in sources))
        with self._lock:
            found = self._entries.get(key)
            if found is not None and all(a is b for a, b in zip(found[0], sources, strict=True)):
                self._entries.move_to_end(key)
                return found[1]
        value = build()
        with self._lock:
            self._entries[key] = (sources, value)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value


_derived = _Derived()


def _by_value(items: list[dict[str, Any]]) -> dict[str, int]:
    """A facet's counts by lowercased value (refs in the search index are lowercase)."""
    counts: dict[str, int] = {}
    for item in items:
        value = str(item["value"]).lower()
        counts[value] = counts.get(value, 0) + int(item["count"])
    return counts


class _Counts:
    """Direct members and sub-groups of every group, and the groups by type, from cached
    facet queries."""

    def __init__(self, queries: EntityQueries) -> None:
        members = queries.facets(["relations.memberof"], USER, recent=True)["relations.memberof"]
        of_groups = queries.facets(
            ["relations.childof", "spec.type", "metadata.name"], GROUP, recent=True
        )
        children = of_groups["relations.childof"]
        self.types = of_groups["spec.type"]
        self.members = _derived.get("by-value", (members,), lambda: _by_value(members))
        self.children = _derived.get("by-value", (children,), lambda: _by_value(children))
        self._lists = (children, of_groups["metadata.name"])

    def missing_parents(self) -> list[str]:
        """Parents named by sub-groups that are not groups of the catalog (their
        children are shown as top-level groups), at most MAX_MISSING_PARENTS.

        A parent in the catalog is a group of that name (its namespace is left out: a
        missing parent that shares its name with a group of another namespace is taken
        for present, a rare mistake that costs no query)."""

        def find() -> list[str]:
            names = set(_by_value(self._lists[1]))
            return sorted(p for p in self.children if p.rpartition("/")[2] not in names)

        return _derived.get("missing", self._lists, find)[:MAX_MISSING_PARENTS]

    def node(self, entity: dict[str, Any]) -> dict[str, Any]:
        """A group as the tree draws it; `children` are filled in by who draws it."""
        ref = entity_ref_of(entity)
        sub_groups = self.children.get(ref, 0)
        return {
            "ref": ref,
            "url": views.entity_url(ref),
            "org_url": org_url(ref),
            "name": str((entity.get("metadata") or {}).get("name", "")),
            "title": display_name(entity),
            "type": _text(_spec(entity).get("type")),
            "members": self.members.get(ref, 0),
            "sub_groups": sub_groups,
            "children": [],
            "more_children": sub_groups,  # sub-groups not drawn under it
            "matched": False,
            "hit": None,
        }


def _entities(bodies: list[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(body) for body in bodies]


def _children_of(
    queries: EntityQueries, parents: list[str], limit: int, offset: int = 0
) -> tuple[list[dict[str, Any]], int, bool]:
    """Sub-groups of some groups, by name: at most `limit` after `offset`, how many rows
    that was, and whether more follow (no count query: the facet counts say how many).

    Only groups have `childOf` relations (Backstage's Group `spec.parent` and
    `spec.children`): the kind is checked here rather than in SQL, where it would be
    one more probe per row."""
    page = queries.page(
        QueryRequest(
            predicate=Equals("relations.childof", tuple(parents)),
            order=BY_NAME,
            limit=limit,
            offset=offset,
            include_total=False,
        )
    )
    found = [e for e in _entities(page.items) if str(e.get("kind", "")).lower() == "group"]
    return found, len(page.items), page.next_cursor is not None


def _attach(
    frontier: list[dict[str, Any]],
    entities: list[dict[str, Any]],
    counts: _Counts,
    drawn: set[str],
    cap: int,
) -> list[dict[str, Any]]:
    """Put each entity under the first group of `frontier` it is a child of (each group
    drawn once, at most `cap` under one parent); returns the nodes added."""
    by_ref = {node["ref"]: node for node in frontier}
    added: list[dict[str, Any]] = []
    for entity in entities:
        ref = entity_ref_of(entity)
        if ref in drawn:
            continue
        for parent in _relations(entity, "childOf"):
            node = by_ref.get(parent)
            if node is not None and len(node["children"]) < cap:
                child = counts.node(entity)
                node["children"].append(child)
                added.append(child)
                drawn.add(ref)
                break
    for node in frontier:
        node["more_children"] = max(0, node["sub_groups"] - len(node["children"]))
    return added


def _expand(
    queries: EntityQueries,
    counts: _Counts,
    frontier: list[dict[str, Any]],
    drawn: set[str],
    levels: int,
) -> None:
    """Draw the levels below `frontier` while a whole level fits in NODE_BUDGET groups:
    one query per level, plus one per group with more than CHILDREN_SHOWN sub-groups
    (few: each of those takes CHILDREN_SHOWN of the budget)."""
    for _ in range(levels):
        parents = [node for node in frontier if node["sub_groups"]]
        need = sum(min(node["sub_groups"], CHILDREN_SHOWN) for node in parents)
        if not need or len(drawn) + need > NODE_BUDGET:
            return
        small = [n["ref"] for n in parents if n["sub_groups"] <= CHILDREN_SHOWN]
        large = [n["ref"] for n in parents if n["sub_groups"] > CHILDREN_SHOWN]
        entities: list[dict[str, Any]] = []
        if small:
            # The counts may lag the catalog a little: leave room for a few more.
            limit = sum(counts.children.get(ref, 0) for ref in small) + CHILDREN_SHOWN
            entities += _children_of(queries, small, limit)[0]
        for ref in large:
            entities += _children_of(queries, [ref], CHILDREN_SHOWN)[0]
        frontier = _attach(parents, entities, counts, drawn, CHILDREN_SHOWN)


def org_tree(
    queries: EntityQueries, term: str = "", root: str | None = None, page: int = 1
) -> dict[str, Any]:
    """What /org shows: the top-level groups (a page of them) and a level or two below,
    the sub-tree of `root` with the path to it, or the groups matching `term` placed
    under their parents; and the counts the header shows."""
    counts = _Counts(queries)
    kinds = _by_value(queries.facets(["kind"], EVERYTHING, recent=True)["kind"])
    types = counts.types
    data: dict[str, Any] = {
        "q": term,
        "focus": None,
        "breadcrumb": [],
        "breadcrumb_truncated": False,
        "tree": [],
        "total": kinds.get("group", 0),
        "users": kinds.get("user", 0),
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
        "matches": None,
        "truncated": False,
        "cap": MATCHES_SHOWN,
        **_pager(0, 1, ""),
    }
    if term:
        data.update(_matches(queries, counts, term))
    elif root is not None:
        data.update(_focus(queries, counts, root, page))
    else:
        data.update(_top(queries, counts, page))
    return data


def _pager(total: int, page: int, base: str) -> dict[str, Any]:
    """Page `page` of a list of `total` shown TIER_PAGE at a time (`base`: the first page)."""
    pages = max(1, -(-total // TIER_PAGE))
    page = min(page, pages)

    def url(n: int) -> str | None:
        if not 1 <= n <= pages:
            return None
        return base if n == 1 else base + ("&" if "?" in base else "?") + f"page={n}"

    return {
        "tier_total": total,
        "page": page,
        "pages": pages,
        "first_index": (page - 1) * TIER_PAGE + 1 if total else 0,
        "next_url": url(page + 1),
        "prev_url": url(page - 1),
    }


def _top(queries: EntityQueries, counts: _Counts, page: int) -> dict[str, Any]:
    """The top-level groups, a page at a time, and the levels below that fit."""
    # Root names come from a cached facet: a query for the roots themselves, ordered
    # by name, walks every entity of the catalog before it finds the few groups.
    missing = counts.missing_parents()
    kinds_of_root: list[Predicate] = [Not(Exists("relations.childof"))]
    if missing:  # sub-groups of a parent that is not in the catalog are roots too
        kinds_of_root.append(Equals("relations.childof", tuple(missing)))
    lists = tuple(
        queries.facets(["metadata.name"], All((GROUP, is_root)), recent=True)["metadata.name"]
        for is_root in kinds_of_root
    )

    def merge() -> tuple[dict[str, int], list[str], int]:
        names: dict[str, int] = {}
        for items in lists:
            for name, count in _by_value(items).items():
                names[name] = names.get(name, 0) + count
        return names, sorted(names), sum(names.values())

    names, ordered, roots = _derived.get("roots", lists, merge)
    pager = _pager(len(ordered), page, "/org")
    start = (pager["page"] - 1) * TIER_PAGE
    wanted = tuple(ordered[start : start + TIER_PAGE])
    entities: list[dict[str, Any]] = []
    for is_root in kinds_of_root if wanted else []:
        found = queries.page(
            QueryRequest(
                predicate=All((GROUP, is_root, Equals("metadata.name", wanted))),
                order=BY_NAME,
                limit=sum(names[n] for n in wanted) + TIER_PAGE,
                include_total=False,
            )
        )
        entities += _entities(found.items)
    drawn: set[str] = set()
    tree: list[dict[str, Any]] = []
    for entity in sorted(entities, key=lambda e: (_name(e), entity_ref_of(e))):
        if entity_ref_of(entity) not in drawn:
            drawn.add(entity_ref_of(entity))
            tree.append(counts.node(entity))
    _expand(queries, counts, tree, drawn, TREE_LEVELS - 1)
    return {**pager, "tier_total": roots, "tree": tree}


def _name(entity: dict[str, Any]) -> str:
    return str((entity.get("metadata") or {}).get("name", "")).lower()


def _focus(queries: EntityQueries, counts: _Counts, ref: str, page: int) -> dict[str, Any]:
    """A group, a page of its sub-groups and the level below them if it fits, and the
    path from the top of the tree to it."""
    body = queries.by_ref(ref)
    if body is None:
        raise NotFoundError(f"There is no group {ref} in the catalog")
    entity = orjson.loads(body)
    focus = counts.node(entity)
    total = counts.children.get(ref, 0)
    start = (page - 1) * TIER_PAGE
    children, rows, more = _children_of(queries, [ref], TIER_PAGE, offset=start)
    if not rows and page > 1:  # past the end: the last page
        start = (max(1, -(-total // TIER_PAGE)) - 1) * TIER_PAGE
        children, rows, more = _children_of(queries, [ref], TIER_PAGE, offset=start)
    # The count is a cached facet, which may lag the catalog: what the page found wins.
    total = max(total, start + rows + 1) if more else start + rows
    pager = _pager(total, start // TIER_PAGE + 1, org_url(ref))
    drawn = {ref}
    tier = _attach([focus], children, counts, drawn, TIER_PAGE)
    focus["more_children"] = 0  # the pager leads to the others
    _expand(queries, counts, tier, drawn, TREE_LEVELS - 2)
    crumbs, truncated = _ancestors(queries, entity)
    return {
        **pager,
        "focus": {k: v for k, v in focus.items() if k != "children"},
        "breadcrumb": crumbs,
        "breadcrumb_truncated": truncated,
        "tree": tier,
    }


def _crumb(ref: str, entity: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "ref": ref,
        "title": display_name(entity) if entity else views.display_ref(ref, context_kind="group"),
        "url": views.entity_url(ref),
        "org_url": org_url(ref),
        "missing": entity is None,
    }


def _ancestors(queries: EntityQueries, entity: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The groups above `entity`, the top first (its first parent at each level; one
    query a level, at most ANCESTOR_LEVELS), and whether the path was cut short."""
    seen = {entity_ref_of(entity)}
    path: list[dict[str, Any]] = []
    current: dict[str, Any] | None = entity
    for _ in range(ANCESTOR_LEVELS):
        parents = _relations(current, "childOf") if current else []
        if not parents or parents[0] in seen:  # the top, or a cycle
            return path[::-1], False
        parent = parents[0]
        seen.add(parent)
        body = queries.by_ref(parent)
        current = orjson.loads(body) if body is not None else None
        path.append(_crumb(parent, current))
    return path[::-1], bool(current and _relations(current, "childOf"))


def _matches(queries: EntityQueries, counts: _Counts, term: str) -> dict[str, Any]:
    """The first MATCHES_SHOWN groups matching `term`, each under its ancestors."""
    page = queries.page(
        QueryRequest(
            predicate=GROUP,
            order=BY_NAME,
            full_text=FullText.of(term, TEXT_FIELDS),
            limit=MATCHES_SHOWN,
        )
    )
    groups = {entity_ref_of(e): e for e in _entities(page.items)}
    matched = set(groups)
    newest = list(groups.values())
    for _ in range(ANCESTOR_LEVELS):  # one query a level brings in every match's parents
        wanted = sorted({p for e in newest for p in _relations(e, "childOf")} - set(groups))
        if not wanted:
            break
        found = _load(queries, wanted)
        groups.update(found)
        newest = list(found.values())

    nodes = {ref: counts.node(entity) for ref, entity in groups.items()}
    parent_of = {
        ref: next((p for p in _relations(e, "childOf") if p in groups), None)
        for ref, e in groups.items()
    }
    for ref in matched:
        node = nodes[ref]
        node["matched"] = True
        at = node["title"].lower().find(term.lower())
        node["hit"] = [at, at + len(term)] if at >= 0 else None
    below: dict[str, list[str]] = {}
    for ref, parent in parent_of.items():
        if parent is not None:
            below.setdefault(parent, []).append(ref)
    placed: set[str] = set()

    def place(ref: str) -> dict[str, Any]:
        placed.add(ref)
        node = nodes[ref]
        children = sorted(below.get(ref, []), key=_order(nodes))
        node["children"] = [place(r) for r in children if r not in placed]
        node["more_children"] = max(0, node["sub_groups"] - len(node["children"]))
        return node

    top = sorted((r for r, p in parent_of.items() if p is None), key=_order(nodes))
    tree = [place(ref) for ref in top]
    # Groups in a cycle of parents have no top: show them at the top.
    tree += [place(ref) for ref in sorted(groups, key=_order(nodes)) if ref not in placed]
    return {
        "tree": tree,
        "matches": page.total,
        "truncated": page.total > len(page.items),
    }


def _order(nodes: dict[str, dict[str, Any]]) -> Callable[[str], tuple[str, str]]:
    return lambda ref: (nodes[ref]["name"].lower(), ref)


# --- the Members tab of a group -----------------------------------------------------------------


def members_tab(portal: Any, request: Request, entity: dict[str, Any]) -> dict[str, Any]:
    """The group's profile, parent, sub-groups and a page of its members."""
    queries: EntityQueries = portal.catalog.queries
    ref = entity_ref_of(entity)
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
    ref = entity_ref_of(entity)
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
