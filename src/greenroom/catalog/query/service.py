"""Reading served entities: lookups, filtered pages, facets, ancestry.

Everything is answered in SQL from final_entities and the search index; entity
JSON is passed through as the text that was stored, and parsed only when a
`fields` projection asks for part of it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, text

from greenroom.catalog.processing import store
from greenroom.catalog.query.cache import (
    GenerationCache,
    RecentAnswers,
    cache_key,
    catalog_generation,
)
from greenroom.catalog.query.cursors import decode_cursor, encode_cursor
from greenroom.catalog.query.fields import project
from greenroom.catalog.query.fulltext import text_matches
from greenroom.catalog.query.predicates import (
    EVERYTHING,
    Predicate,
    parse_predicate,
    to_json,
)
from greenroom.catalog.query.sql import SqlBuilder
from greenroom.errors import InputError

DEFAULT_LIMIT = 200
MAX_OFFSET = 1_000_000_000  # limits and offsets beyond are input errors, not SQL errors
MAX_ORDER_FIELDS = 10
MAX_TEXT_FIELDS = 20
MAX_TERM_LENGTH = 256
# No API read may hold a database connection longer than this (answered with 503).
QUERY_TIMEOUT_MS = 30_000
# Bigger pages are cut to this size; their nextCursor leads on, so nothing is lost.
MAX_LIMIT = 10_000
MAX_FACETS = 50
MAX_REFS = 10_000
_REF_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Order:
    field: str  # lowercased dotted path
    descending: bool = False


@dataclass(frozen=True, slots=True)
class FullText:
    term: str
    fields: tuple[str, ...] = ()

    @classmethod
    def of(cls, term: str, fields: Iterable[str]) -> FullText:
        """From client input: trimmed, fields lowercased, sizes checked."""
        cleaned = tuple(dict.fromkeys(f.strip().lower() for f in fields if f.strip()))
        if len(cleaned) > MAX_TEXT_FIELDS:
            raise InputError(f"Too many full-text fields, at most {MAX_TEXT_FIELDS} are allowed")
        term = term.strip()
        if len(term) > MAX_TERM_LENGTH:
            raise InputError(f"Full-text term is longer than {MAX_TERM_LENGTH} characters")
        return cls(term, cleaned)


@dataclass
class QueryRequest:
    """One page of `/entities/by-query`, from parameters or from a cursor."""

    predicate: Predicate = EVERYTHING
    order: Order | None = None
    full_text: FullText | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    include_total: bool = True
    # Keyset position from a cursor: (order value or None, uid), and the direction.
    after: tuple[str | None, str] | None = None
    before: tuple[str | None, str] | None = None
    total: int | None = None


@dataclass
class Page:
    items: list[bytes]
    total: int
    next_cursor: str | None = None
    prev_cursor: str | None = None


class EntityQueries:
    """The read side of the catalog API."""

    def __init__(self, db: Engine) -> None:
        self.db = db
        self._cache = GenerationCache()
        # Full-text results hold up to MAX_TEXT_MATCHES keys each: only a few are kept.
        self._text_cache = GenerationCache(size=16)
        self._recent = RecentAnswers()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for one request's reads, bounded in time on PostgreSQL."""
        with self.db.connect() as conn:
            if conn.dialect.name == "postgresql":
                # No parallel workers: starting them costs more than these short,
                # LIMITed queries take, and they would compete with other requests.
                conn.exec_driver_sql(
                    f"SET LOCAL statement_timeout = {QUERY_TIMEOUT_MS};"
                    " SET LOCAL max_parallel_workers_per_gather = 0"
                )
            yield conn

    def _sql(self) -> SqlBuilder:
        """A builder for this database. SQLite's planner cannot turn a filter around on
        its own, so on SQLite the builder asks how selective a condition is."""
        if self.db.dialect.name == "sqlite":
            return SqlBuilder(selective=self._is_selective)
        return SqlBuilder()

    def _is_selective(self, key: str, values: tuple[str, ...]) -> bool:
        """Whether few entities have `key` with one of `values` (an index range count)."""
        listed = ", ".join(f":v{i}" for i in range(len(values)))
        params = {"key": key, **{f"v{i}": v for i, v in enumerate(values)}}
        with self.db.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM search WHERE key = :key"
                    f" AND value IN ({listed}) LIMIT {_SELECTIVE_ROWS})"
                ),
                params,
            ).scalar_one()
        return found < _SELECTIVE_ROWS

    # --- single entities ---------------------------------------------------------------

    def by_ref(self, ref: str) -> bytes | None:
        with self._read() as conn:
            body = _body_by_ref(conn, ref.lower())
        return body.encode() if body is not None else None

    def by_uid(self, uid: str) -> bytes | None:
        with self._read() as conn:
            body = conn.execute(
                text("SELECT final_entity FROM final_entities WHERE uid = :uid"), {"uid": uid}
            ).scalar_one_or_none()
        return body.encode() if body is not None else None

    def by_refs(
        self,
        refs: Sequence[str],
        predicate: Predicate = EVERYTHING,
        fields: list[list[str]] | None = None,
    ) -> list[bytes | None]:
        """Entities in the order of `refs`; None where missing or filtered out.

        Refs match the canonical lowercase form exactly, as upstream does.
        """
        if len(refs) > MAX_REFS:
            raise InputError(f"Too many entityRefs, at most {MAX_REFS} are allowed")
        found: dict[str, str] = {}
        wanted = sorted({r for r in refs if r})
        with self._read() as conn:
            for start in range(0, len(wanted), _REF_CHUNK):
                sql = self._sql()
                part = wanted[start : start + _REF_CHUNK]
                listed = ", ".join(sql.bind(r) for r in part)
                condition = sql.where(predicate)
                rows = conn.execute(
                    text(
                        "SELECT entity_ref, final_entity FROM final_entities fe"
                        f" WHERE fe.entity_ref IN ({listed}) AND {condition}"
                    ),
                    sql.params,
                )
                found.update((ref, body) for ref, body in rows)
        return [_render(found[r], fields) if r in found else None for r in refs]

    # --- pages ---------------------------------------------------------------------------

    def page(self, request: QueryRequest, fields: list[list[str]] | None = None) -> Page:
        """One page of a by-query request, with cursors to the pages beside it."""
        if request.full_text is not None and request.full_text.term:
            with self._read() as conn:
                found = self._text_result(conn, request)
                if found is not None:
                    return self._page_of(conn, request, found, fields)
        limit = min(request.limit, MAX_LIMIT)
        backwards = request.before is not None
        sql = self._sql()
        order = request.order
        joins, conditions = self._page_conditions(sql, request)
        select = "SELECT fe.uid, fe.final_entity"
        direction = order.descending if order else False
        if backwards:
            direction = not direction
        word = "DESC" if direction else "ASC"
        if order is not None:
            select += ", o.value"
            order_by = f"o.value {word}, fe.uid {word}"
        else:
            order_by = f"fe.uid {word}"
        position = request.before if backwards else request.after
        if position is not None:
            conditions.append(_keyset(sql, order is not None, position, direction))
        where = " AND ".join(conditions) or "1=1"
        statement = f"{select} FROM final_entities fe{joins} WHERE {where} ORDER BY {order_by}"
        statement += f" LIMIT {limit + 1}"
        if request.offset and position is None:
            statement += f" OFFSET {int(request.offset)}"
        with self._read() as conn:
            rows = conn.execute(text(statement), sql.params).all() if limit > 0 else []
            total = request.total
            if total is None:
                total = self.count(conn, request) if request.include_total else 0
        more = len(rows) > limit
        rows = rows[:limit]
        if backwards:
            rows.reverse()
        page = Page(items=[_render(row[1], fields) for row in rows], total=total)
        if not rows:
            return page

        has_next = (not backwards and more) or backwards
        has_prev = (backwards and more) or (
            not backwards and (position is not None or request.offset > 0)
        )
        value = 2 if order is not None else None
        _add_cursors(page, request, (rows[0], rows[-1]), value, 0, has_next, has_prev)
        return page

    # --- full text ----------------------------------------------------------------------------

    def _text_result(self, conn: Connection, request: QueryRequest) -> list[_Key] | None:
        """Every match of a full-text request, as sorted page keys; None when there are
        too many to hold (the plain SQL path answers those).

        A `%term%` pattern cannot use a b-tree, so the matches are found first (through
        trigram indexes on PostgreSQL) and sorted here. The list is kept per catalog
        generation: the next pages, and the same search again, start from it.
        """
        assert request.full_text is not None
        order = request.order
        fields = list(request.full_text.fields) or [order.field if order else "metadata.uid"]
        term = request.full_text.term.lower()
        key = (
            "text",
            catalog_generation(conn),
            request.predicate,
            order,
            term,
            tuple(fields),
        )

        def compute() -> list[_Key] | None:
            ids = text_matches(conn, term, fields)
            if ids is None:
                return None
            return self._keys_of(conn, ids, request)

        return self._text_cache.get_or_compute(key, compute)

    def _keys_of(self, conn: Connection, ids: list[int], request: QueryRequest) -> list[_Key]:
        """Ascending page keys of the entities among `ids` that match the request."""
        postgres = conn.dialect.name == "postgresql"
        # PostgreSQL takes the ids as one array (a literal list of thousands is slow to
        # plan); SQLite as literal lists, in chunks under its expression limits.
        chunk = len(ids) or 1 if postgres else _ID_CHUNK
        keys: list[_Key] = []
        for start in range(0, len(ids), chunk):
            sql = self._sql()
            part = [int(i) for i in ids[start : start + chunk]]
            if postgres:
                among = f"fe.id = ANY(CAST({sql.bind(part)} AS bigint[]))"
            else:
                among = f"fe.id IN ({', '.join(map(str, part))})"
            condition = sql.where(request.predicate)
            if request.order is not None:
                statement = (
                    "SELECT o.value, fe.uid, fe.id FROM final_entities fe JOIN search o"
                    f" ON o.entity_id = fe.id AND o.key = {sql.bind(request.order.field)}"
                    " AND o.value IS NOT NULL"
                )
            else:
                statement = "SELECT NULL, fe.uid, fe.id FROM final_entities fe"
            statement += f" WHERE {among} AND {condition}"
            keys.extend(
                (v or "", uid, i) for v, uid, i in conn.execute(text(statement), sql.params)
            )
        keys.sort()
        return keys

    def _page_of(
        self,
        conn: Connection,
        request: QueryRequest,
        keys: list[_Key],
        fields: list[list[str]] | None,
    ) -> Page:
        """A page cut from ascending keys, by the same keyset rules as the SQL path.

        A descending request reads the list from the end, so its "after" is to the left.
        """
        limit = min(request.limit, MAX_LIMIT)
        descending = request.order.descending if request.order else False
        size = len(keys)

        def at(position: tuple[str | None, str], right: bool) -> int:
            target = (position[0] or "", position[1])
            find = bisect.bisect_right if right else bisect.bisect_left
            return find(keys, target, key=lambda k: (k[0], k[1]))

        if request.after is not None:
            if descending:
                hi = at(request.after, right=False)
                lo = max(0, hi - limit)
            else:
                lo = at(request.after, right=True)
                hi = min(size, lo + limit)
        elif request.before is not None:
            if descending:
                lo = at(request.before, right=True)
                hi = min(size, lo + limit)
            else:
                hi = at(request.before, right=False)
                lo = max(0, hi - limit)
        elif descending:
            hi = max(0, size - request.offset)
            lo = max(0, hi - limit)
        else:
            lo = min(size, request.offset)
            hi = min(size, lo + limit)
        chosen = keys[lo:hi] if limit > 0 else []
        if descending:
            chosen.reverse()
        # Lower in the list is earlier in ascending order, later in descending order.
        more_after, more_before = (lo > 0, hi < size) if descending else (hi < size, lo > 0)
        listed = ", ".join(str(int(k[2])) for k in chosen) or "NULL"
        rows = conn.execute(
            text(f"SELECT id, final_entity FROM final_entities WHERE id IN ({listed})")
        )
        bodies = {row_id: body for row_id, body in rows}
        total = size if request.include_total else 0
        if request.total is not None:
            total = request.total
        page = Page(
            items=[_render(bodies[k[2]], fields) for k in chosen if k[2] in bodies], total=total
        )
        if chosen:
            value = 0 if request.order is not None else None
            _add_cursors(page, request, (chosen[0], chosen[-1]), value, 1, more_after, more_before)
        return page

    def count(self, conn: Connection, request: QueryRequest) -> int:
        """How many entities the request matches (cached per catalog generation)."""
        sql = self._sql()
        joins, conditions = self._page_conditions(sql, request, for_count=True)
        where = " AND ".join(conditions) or "1=1"
        statement = f"SELECT count(*) FROM final_entities fe{joins} WHERE {where}"
        key = cache_key("count", catalog_generation(conn), statement, sql)
        return self._cache.get_or_compute(
            key, lambda: conn.execute(text(statement), sql.params).scalar_one()
        )

    def _page_conditions(
        self, sql: SqlBuilder, request: QueryRequest, *, for_count: bool = False
    ) -> tuple[str, list[str]]:
        conditions: list[str] = []
        joins = ""
        if request.order is not None:
            if for_count:
                # Entities without the order field are left out, as upstream does.
                conditions.append(
                    "EXISTS (SELECT 1 FROM search s WHERE s.entity_id = fe.id"
                    f" AND s.key = {sql.bind(request.order.field)} AND s.value IS NOT NULL)"
                )
            else:
                joins = (
                    " JOIN search o ON o.entity_id = fe.id"
                    f" AND o.key = {sql.bind(request.order.field)} AND o.value IS NOT NULL"
                )
        if request.predicate != EVERYTHING:
            conditions.append(sql.where(request.predicate))
        full_text = request.full_text
        if full_text is not None and full_text.term:
            fields = list(full_text.fields) or [
                request.order.field if request.order else "metadata.uid"
            ]
            conditions.append(sql.full_text(full_text.term, fields))
        return joins, conditions

    def request_from_cursor(self, cursor: str) -> QueryRequest:
        """The request a cursor we issued continues; anything else is an InputError."""
        data = decode_cursor(cursor)
        try:
            predicate = parse_predicate(data.get("query") or {})
            order_fields = data.get("orderFields") or []
            order = None
            if order_fields:
                first = order_fields[0]
                order = Order(_text(first["field"]).lower(), first.get("order") == "desc")
            full_text = None
            if data.get("fullTextFilter"):
                ft = data["fullTextFilter"]
                fields = ft.get("fields") or []
                if not isinstance(fields, list):
                    raise InputError("Malformed cursor: fullTextFilter")
                full_text = FullText.of(_text(ft["term"]), [_text(f) for f in fields])
            total = data.get("totalItems")
            if not isinstance(total, int) or isinstance(total, bool):
                raise InputError("Malformed cursor: totalItems")
            request = QueryRequest(
                predicate=predicate, order=order, full_text=full_text, total=total
            )
            if data.get("isPrevious"):
                request.before = _position(data.get("before"))
            else:
                request.after = _position(data.get("after"))
        except (KeyError, TypeError, AttributeError, IndexError):
            raise InputError("Malformed cursor") from None
        return request

    # --- legacy list -------------------------------------------------------------------------

    def list_page(
        self,
        predicate: Predicate,
        orders: list[Order],
        limit: int | None,
        offset: int,
        fields: list[list[str]] | None,
    ) -> tuple[list[bytes], bool]:
        """GET /entities with paging: sorted by the order fields (missing values last),
        then by ref; returns the items and whether more exist."""
        sql = self._sql()
        where = sql.where(predicate)
        order_by = []
        for order in orders:
            value = (
                "(SELECT min(s.value) FROM search s WHERE s.entity_id = fe.id"
                f" AND s.key = {sql.bind(order.field)})"
            )
            word = "DESC" if order.descending else "ASC"
            order_by.append(f"CASE WHEN {value} IS NULL THEN 1 ELSE 0 END, {value} {word}")
        order_by.append("fe.entity_ref ASC" if not orders else "fe.uid ASC")
        statement = (
            f"SELECT fe.final_entity FROM final_entities fe WHERE {where}"
            f" ORDER BY {', '.join(order_by)}"
        )
        if limit is not None:
            statement += f" LIMIT {min(limit, MAX_LIMIT) + 1}"
        elif offset and self.db.dialect.name == "sqlite":
            statement += " LIMIT -1"  # SQLite takes OFFSET only after a LIMIT
        if offset:
            statement += f" OFFSET {int(offset)}"
        with self._read() as conn:
            rows = conn.execute(text(statement), sql.params).scalars().all()
        more = limit is not None and len(rows) > min(limit, MAX_LIMIT)
        if limit is not None:
            rows = rows[: min(limit, MAX_LIMIT)]
        return [_render(r, fields) for r in rows], more

    def list_all(
        self, predicate: Predicate, order: Order | None, fields: list[list[str]] | None
    ) -> list[bytes] | Iterator[list[bytes]]:
        """GET /entities without paging: the whole matching set.

        A small set comes back as a list. A large one as chunks read through a
        server-side cursor, so memory stays flat at a million entities; streaming
        costs a few round trips more, which only pays off for large sets.
        """
        sql = self._sql()
        where = sql.where(predicate)
        if order is None:
            statement = (
                f"SELECT fe.final_entity FROM final_entities fe WHERE {where} ORDER BY fe.uid"
            )
        else:
            word = "DESC" if order.descending else "ASC"
            statement = (
                "SELECT fe.final_entity FROM final_entities fe JOIN search o ON o.entity_id = fe.id"
                f" AND o.key = {sql.bind(order.field)} AND o.value IS NOT NULL"
                f" WHERE {where} ORDER BY o.value {word}, fe.uid {word}"
            )
        with self._read() as conn:
            first = (
                conn.execute(text(f"{statement} LIMIT {_STREAM_CHUNK + 1}"), sql.params)
                .scalars()
                .all()
            )
        if len(first) <= _STREAM_CHUNK:
            return [_render(body, fields) for body in first]
        return self._stream(statement, sql.params, fields)

    def _stream(
        self, statement: str, params: dict[str, Any], fields: list[list[str]] | None
    ) -> Iterator[list[bytes]]:
        with self._read() as conn:
            result = conn.execution_options(stream_results=True, yield_per=_STREAM_CHUNK).execute(
                text(statement), params
            )
            # Chunks, not single entities: each piece of a streamed response costs a
            # hop between threads, which would dominate the time of a large list.
            for part in result.scalars().partitions():
                yield [_render(body, fields) for body in part]

    # --- facets and ancestry -----------------------------------------------------------------

    def facets(
        self, names: Sequence[str], predicate: Predicate, *, recent: bool = False
    ) -> dict[str, list[dict[str, Any]]]:
        """Value counts per facet, keyed by the facet as requested (values keep their case).

        With `recent`, an answer from a generation or two ago may be served while the
        current one is computed (see RecentAnswers); pages use it for their sidebars, the
        API never. The lists are shared with later calls: callers must not change them.
        """
        if len(names) > MAX_FACETS:
            raise InputError(f"Too many facets, at most {MAX_FACETS} are allowed")
        unique = list(dict.fromkeys(names))
        counts = self.facet_counts([(name, predicate) for name in unique], recent=recent)
        return dict(zip(unique, counts, strict=True))

    def facet_counts(
        self, requests: Sequence[tuple[str, Predicate]], *, recent: bool = False
    ) -> list[list[dict[str, Any]]]:
        """`facets` for several (facet, predicate) pairs on one connection: a page's
        sidebar counts each facet under the other facets' filters."""
        out: list[list[dict[str, Any]]] = []
        with self._read() as conn:
            generation = catalog_generation(conn)
            for name, predicate in requests:
                sql = self._sql()
                # `f`, not `s`: the filter's own subqueries use `s` and would shadow it.
                statement = (
                    "SELECT coalesce(f.original_value, f.value), count(*) FROM search f"
                    f" WHERE f.key = {sql.bind(name.strip().lower())} AND f.value IS NOT NULL"
                )
                if predicate != EVERYTHING:
                    statement += f" AND {sql.where(predicate, entity='f.entity_id')}"
                statement += " GROUP BY coalesce(f.original_value, f.value)"
                key = cache_key("facet", generation, statement, sql)
                if recent:
                    out.append(
                        self._recent.get(
                            key[:1] + key[2:],
                            generation,
                            lambda st=statement, p=sql.params: self._facet_counts(None, st, p),
                        )
                    )
                else:
                    # The formatted list is what is cached: a facet may have many thousands
                    # of values (owners at a million entities), too many to rebuild per call.
                    out.append(
                        self._cache.get_or_compute(
                            key,
                            lambda st=statement, p=sql.params: self._facet_counts(conn, st, p),
                        )
                    )
        return out

    def _facet_counts(
        self, conn: Connection | None, statement: str, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if conn is None:  # computed in the background, on a connection of its own
            with self._read() as own:
                return self._facet_counts(own, statement, params)
        rows = conn.execute(text(statement), params).all()
        return [{"value": value, "count": count} for value, count in sorted(rows)]

    def ancestry(self, ref: str) -> tuple[str, list[tuple[bytes, list[str]]]] | None:
        """The entity and every entity that brought it in, each with its parents' refs."""
        ref = ref.lower()
        items: list[tuple[bytes, list[str]]] = []
        seen: set[str] = set()
        frontier = [ref]
        with self._read() as conn:
            while frontier:
                current = frontier.pop(0)
                if current in seen:
                    continue
                seen.add(current)
                body = _body_by_ref(conn, current)
                if body is None:
                    if current == ref:
                        return None
                    continue
                parents = sorted(store.parents_of(conn, [current]))
                items.append((body.encode(), parents))
                frontier.extend(parents)
        return ref, items


# Page keys of a full-text result, ascending: (order value, or "" when unordered; uid; id).
_Key = tuple[str, str, int]
_ID_CHUNK = 5000
_STREAM_CHUNK = 1000
# A condition matching fewer search rows than this drives a SQLite query (see _sql).
_SELECTIVE_ROWS = 2000


def _body_by_ref(conn: Connection, ref: str) -> str | None:
    """The served JSON text of the entity with this canonical (lowercase) ref."""
    return conn.execute(
        text("SELECT final_entity FROM final_entities WHERE entity_ref = :ref"), {"ref": ref}
    ).scalar_one_or_none()


def _render(body: str, fields: list[list[str]] | None) -> bytes:
    if fields is None:
        return body.encode()
    return orjson.dumps(project(orjson.loads(body), fields))


def _keyset(
    sql: SqlBuilder, ordered: bool, position: tuple[str | None, str], descending: bool
) -> str:
    """Rows strictly after `position` in the page order (value, uid)."""
    value, uid = position
    op = "<" if descending else ">"
    if not ordered:
        return f"fe.uid {op} {sql.bind(uid)}"
    v = sql.bind(value)
    # Split so the range on o.value can use the index on search(key, value).
    return f"o.value {op}= {v} AND (o.value {op} {v} OR fe.uid {op} {sql.bind(uid)})"


def _add_cursors(
    page: Page,
    request: QueryRequest,
    ends: tuple[Sequence[Any], Sequence[Any]],
    value: int | None,
    uid: int,
    has_next: bool,
    has_prev: bool,
) -> None:
    """Cursors from the first and last rows of a page: their order value (at index
    `value`, None when unordered) and uid (at index `uid`) are where the next page starts."""
    base = _cursor_base(request, page.total)

    def position(row: Sequence[Any]) -> list[Any]:
        return [row[value] if value is not None else None, row[uid]]

    if has_next:
        page.next_cursor = encode_cursor({**base, "after": position(ends[1]), "isPrevious": False})
    if has_prev:
        page.prev_cursor = encode_cursor({**base, "before": position(ends[0]), "isPrevious": True})


def _cursor_base(request: QueryRequest, total: int) -> dict[str, Any]:
    base: dict[str, Any] = {"query": to_json(request.predicate), "totalItems": total}
    if request.order is not None:
        base["orderFields"] = [
            {"field": request.order.field, "order": "desc" if request.order.descending else "asc"}
        ]
    if request.full_text is not None:
        base["fullTextFilter"] = {
            "term": request.full_text.term,
            "fields": list(request.full_text.fields),
        }
    return base


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise InputError("Malformed cursor")
    return value


def _position(value: Any) -> tuple[str | None, str]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not (value[0] is None or isinstance(value[0], str))
        or not isinstance(value[1], str)
    ):
        raise InputError("Malformed cursor: position")
    return value[0], value[1]
