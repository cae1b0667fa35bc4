"""The catalog page's state, in Backstage's URL format.

`/catalog?filters[kind]=component&filters[lifecycles]=production&filters[tags]=python`
is what Backstage's catalog page writes into its address bar; people share such
links, so they open the same view here. Lists may be written `filters[tags]=a&filters[tags]=b`
or `filters[tags][0]=a&filters[tags][1]=b` (the `qs` library writes both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from greenroom.catalog.model.refs import RefError, parse_entity_ref
from greenroom.catalog.query.predicates import (
    EVERYTHING,
    All,
    AnyOf,
    Equals,
    HasErrors,
    Predicate,
)
from greenroom.catalog.query.service import MAX_TERM_LENGTH, FullText, Order
from greenroom.errors import InputError

_PARAM = re.compile(r"^filters\[([a-zA-Z]+)\](?:\[\d*\])?$")
MAX_VALUES_PER_FACET = 50
TEXT_FIELDS = ("metadata.name", "metadata.title", "spec.profile.displayname")
PAGE_SIZES = (25, 50, 100)
ORPHAN_KEY = "metadata.annotations.backstage.io/orphan"

# Sortable columns: name in the URL -> field.
SORTS = {
    "name": "metadata.name",
    "title": "metadata.title",
    "system": "spec.system",
    "owner": "relations.ownedby",
    "type": "spec.type",
    "lifecycle": "spec.lifecycle",
}


@dataclass(frozen=True)
class Facet:
    """A multi-valued filter of the sidebar: its URL name, search key and heading."""

    param: str
    key: str
    title: str


# In the order the sidebar shows them (kind comes first, on its own).
FACETS: tuple[Facet, ...] = (
    Facet("type", "spec.type", "Type"),
    Facet("owners", "relations.ownedby", "Owner"),
    Facet("lifecycles", "spec.lifecycle", "Lifecycle"),
    Facet("tags", "metadata.tags", "Tags"),
    Facet("namespace", "metadata.namespace", "Namespace"),
)
FACETS_BY_PARAM = {f.param: f for f in FACETS}


@dataclass(frozen=True)
class CatalogState:
    """Everything the catalog page's URL says."""

    kind: str | None = "component"  # None: all kinds
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # facet param -> values
    user: str = "all"  # all | owned | starred
    text: str = ""
    orphan: bool = False
    error: bool = False
    sort: str = "name"
    descending: bool = False
    limit: int = PAGE_SIZES[0]

    @classmethod
    def from_params(cls, params: Iterable[tuple[str, str]]) -> CatalogState:
        values: dict[str, list[str]] = {}
        kind: str | None = "component"
        user, text, orphan, error = "all", "", False, False
        sort, descending, limit = "name", False, PAGE_SIZES[0]
        for name, raw in params:
            value = raw.strip()
            if name == "sort":
                descending = value.startswith("-")
                sort = value.lstrip("-") if value.lstrip("-") in SORTS else "name"
                continue
            if name == "limit":
                limit = int(value) if value.isdigit() and int(value) in PAGE_SIZES else limit
                continue
            match = _PARAM.match(name)
            if not match:
                continue
            filter_name = match.group(1)
            if filter_name == "kind":
                kind = None if value.lower() in ("", "all") else value.lower()
            elif filter_name == "user":
                user = value.lower() if value.lower() in ("all", "owned", "starred") else "all"
            elif filter_name == "text":
                if len(value) > MAX_TERM_LENGTH:
                    raise InputError(f"The text filter is longer than {MAX_TERM_LENGTH} characters")
                text = value
            elif filter_name == "orphan":
                orphan = value.lower() == "true"
            elif filter_name == "error":
                error = value.lower() == "true"
            elif filter_name in FACETS_BY_PARAM and value:
                chosen = values.setdefault(filter_name, [])
                if value not in chosen:
                    if len(chosen) >= MAX_VALUES_PER_FACET:
                        raise InputError(
                            f"Too many values for filters[{filter_name}], at most {MAX_VALUES_PER_FACET}"
                        )
                    chosen.append(_owner_ref(value) if filter_name == "owners" else value)
        return cls(
            kind=kind,
            values={k: tuple(v) for k, v in values.items()},
            user=user,
            text=text,
            orphan=orphan,
            error=error,
            sort=sort,
            descending=descending,
            limit=limit,
        )

    def params(self, *, without: str | None = None) -> list[tuple[str, str]]:
        """This state as URL parameters (leaving out one facet, for its "clear" link)."""
        out: list[tuple[str, str]] = [("filters[kind]", self.kind or "all")]
        for facet in FACETS:
            if facet.param != without:
                out += [(f"filters[{facet.param}]", v) for v in self.values.get(facet.param, ())]
        if self.user != "all":
            out.append(("filters[user]", self.user))
        if self.text and without != "text":
            out.append(("filters[text]", self.text))
        if self.orphan and without != "orphan":
            out.append(("filters[orphan]", "true"))
        if self.error and without != "error":
            out.append(("filters[error]", "true"))
        if self.sort != "name" or self.descending:
            out.append(("sort", ("-" if self.descending else "") + self.sort))
        if self.limit != PAGE_SIZES[0]:
            out.append(("limit", str(self.limit)))
        return out

    def sorted_by(self, column: str) -> CatalogState:
        """The state after clicking a column heading: by it, or the other way round."""
        return replace(
            self, sort=column, descending=not self.descending if self.sort == column else False
        )

    def predicate(
        self,
        *,
        without: str | None = None,
        owned_by: Iterable[str] = (),
        starred: Iterable[str] = (),
    ) -> Predicate:
        """The filter as a query predicate; `without` leaves one facet out (for its counts)."""
        parts: list[Predicate] = []
        if self.kind is not None and without != "kind":
            parts.append(Equals("kind", (self.kind,)))
        for facet in FACETS:
            chosen = self.values.get(facet.param)
            if chosen and facet.param != without:
                parts.append(Equals(facet.key, tuple(dict.fromkeys(v.lower() for v in chosen))))
        if self.user == "owned":
            parts.append(Equals("relations.ownedby", tuple(r.lower() for r in owned_by)))
        elif self.user == "starred":
            parts.append(_any_ref(starred))
        if self.orphan and without != "orphan":
            parts.append(Equals(ORPHAN_KEY, ("true",)))
        if self.error and without != "error":
            parts.append(HasErrors())
        if not parts:
            return EVERYTHING
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def full_text(self) -> FullText | None:
        return FullText.of(self.text, TEXT_FIELDS) if self.text else None

    def order(self) -> Order:
        return Order(SORTS[self.sort], self.descending)


def _owner_ref(value: str) -> str:
    """Owners are refs; a bare `team-a` means the group, as Backstage reads it."""
    try:
        return str(parse_entity_ref(value, default_kind="group"))
    except RefError:
        return value.lower()


def _any_ref(refs: Iterable[str]) -> Predicate:
    alternatives = []
    for ref in refs:
        try:
            parsed = parse_entity_ref(ref)
        except RefError:
            continue
        alternatives.append(
            All(
                (
                    Equals("kind", (parsed.kind.lower(),)),
                    Equals("metadata.namespace", (parsed.namespace.lower(),)),
                    Equals("metadata.name", (parsed.name.lower(),)),
                )
            )
        )
    return AnyOf(tuple(alternatives))
