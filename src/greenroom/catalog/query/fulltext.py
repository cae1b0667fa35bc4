"""Finding the entities whose fields contain a term (`fullTextFilterTerm`).

A `%term%` pattern cannot use a b-tree, so matches are found first, on their own: on
PostgreSQL through one partial trigram index per key (migration 0003 indexes
metadata.name, metadata.title and spec.profile.displayName); other keys, and SQLite,
scan the key's values.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from greenroom.catalog.query.sql import SqlBuilder, escape_like

# More matches than this and a full-text query goes the plain SQL way.
MAX_TEXT_MATCHES = 100_000
_UID_CHARACTERS = frozenset("0123456789abcdef-")


def text_matches(conn: Connection, term: str, fields: list[str]) -> list[int] | None:
    """Ids of entities where any of `fields` contains `term`; None if there are too many."""
    if "metadata.uid" in fields and not set(term) <= _UID_CHARACTERS:
        # No uid can contain this term: skip reading a million uids to find that out.
        fields = [f for f in fields if f != "metadata.uid"]
    if not fields:
        return []
    sql = SqlBuilder()
    pattern = sql.bind("%" + escape_like(term) + "%")
    # One SELECT per key: on PostgreSQL each matches one partial trigram index exactly.
    parts = [
        f"SELECT entity_id FROM search WHERE key = {sql.bind(f)}"
        f" AND value LIKE {pattern} ESCAPE '\\'"
        for f in dict.fromkeys(fields)
    ]
    statement = " UNION ".join(parts) + f" LIMIT {MAX_TEXT_MATCHES + 1}"
    ids = list(conn.execute(text(statement), sql.params).scalars())
    return None if len(ids) > MAX_TEXT_MATCHES else ids
