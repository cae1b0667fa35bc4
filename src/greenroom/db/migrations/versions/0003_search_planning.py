"""search planning (PostgreSQL): key/value statistics, a covering index for common keys,
trigram indexes for full text

Revision ID: 0003
Revises: 0002

The planner assumes `key` and `value` are independent and so believes that
`key = 'spec.lifecycle' AND value = 'production'` matches a few hundred rows when it
matches a third of the catalog; multivariate statistics (MCV lists over both
columns) fix the estimates that pick index-walk plans for filtered pages.

`%term%` searches (fullTextFilterTerm) on the keys clients search by are served by
one partial trigram index per key: one per key, so the planner never combines it
with the b-tree on `key`. pg_trgm is a trusted extension (PostgreSQL 13+); where it
is missing, full text still works, by scanning.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FACT_KEYS = (
    "kind",
    "metadata.namespace",
    "metadata.name",
    "spec.type",
    "spec.lifecycle",
    "spec.owner",
    "metadata.tags",
    "relations.ownedby",
    "relations.partof",
)
# The keys clients search full text by (see greenroom.catalog.query.fulltext).
TEXT_INDEXED_KEYS = ("metadata.name", "metadata.title", "spec.profile.displayname")


def _index_name(key: str) -> str:
    return "search_trgm_" + key.replace(".", "_") + "_idx"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE STATISTICS IF NOT EXISTS search_key_value_stats (mcv, dependencies) ON key, value FROM search"
    )
    # The keys portals filter, facet and sort by most: with entity_id and the original
    # value in the index, counts and facets over them are index-only scans instead of
    # heap reads scattered over the whole table (4 s -> 0.3 s at a million entities).
    keys = ", ".join(f"'{key}'" for key in FACT_KEYS)
    op.execute(
        "CREATE INDEX IF NOT EXISTS search_facts_idx ON search (key, value, entity_id)"
        f" INCLUDE (original_value) WHERE key IN ({keys})"
    )
    creates = " ".join(
        "EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON search USING gin (value %I.gin_trgm_ops)"
        f" WHERE key = %L', '{_index_name(key)}', trgm_schema, '{key}');"
        for key in TEXT_INDEXED_KEYS
    )
    # In `public` (not the first schema of search_path), so that an installation in a
    # schema of its own, or a test schema being dropped, never takes it along.
    op.execute(
        "DO $$ DECLARE trgm_schema text; BEGIN"
        " CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;"
        " SELECT n.nspname INTO trgm_schema FROM pg_extension e"
        " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';"
        f" {creates}"
        " EXCEPTION WHEN OTHERS THEN"
        " RAISE NOTICE 'pg_trgm unavailable, full-text search will scan: %', SQLERRM;"
        " END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for key in TEXT_INDEXED_KEYS:
        op.execute(f"DROP INDEX IF EXISTS {_index_name(key)}")
    op.execute("DROP INDEX IF EXISTS search_facts_idx")
    op.execute("DROP STATISTICS IF EXISTS search_key_value_stats")
