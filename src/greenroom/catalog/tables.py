"""The catalog's tables. Only the catalog package reads or writes them.

Entity identity is the canonical lowercase ref (`component:default/foo`), as in
Backstage. Inside the database an entity is also known by a small integer `id`
(refresh_state.id), which keys its served form, search rows and relations:
integer keys keep the biggest indexes compact and bulk writes fast. The uuid
served as `metadata.uid` is `entity_id`. Times are epoch seconds.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

# An integer key: BIGINT on PostgreSQL; SQLite wants exactly INTEGER for a rowid alias.
EntityKey = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

# One row per entity known to the catalog: its input and the state of its processing.
refresh_state = Table(
    "refresh_state",
    metadata,
    Column("id", EntityKey, primary_key=True, autoincrement=True),
    Column("entity_id", String(36), nullable=False, unique=True),
    Column("entity_ref", Text, nullable=False, unique=True),
    Column("unprocessed_entity", Text, nullable=False),
    Column("unprocessed_hash", String(40), nullable=False),
    # Hash of everything the last result was computed from, when that is only the
    # entity itself and the processing environment: equal again means skip it.
    Column("input_hash", String(40)),
    Column("result_hash", String(40)),
    Column("errors", Text),  # JSON list of serialized errors of the last run
    Column("location_key", Text),  # the file that emitted it; a second file conflicts
    Column("source_line", Integer),
    Column("last_discovery_at", Float, nullable=False),
)

# When each entity is due, apart from refresh_state so that scheduling (claims,
# leases, refreshes) rewrites only these narrow rows and their integer indexes,
# and result writes to refresh_state can be HOT updates. `next_update_at` doubles
# as the lease: claiming pushes it `leaseSeconds` ahead, so a worker that dies
# mid-batch simply lets its entities come due again.
refresh_schedule = Table(
    "refresh_schedule",
    metadata,
    Column("id", EntityKey, primary_key=True, autoincrement=False),  # refresh_state.id
    # Claim order among due entities (see processing.ranks): Locations first and one
    # at a time, then kinds that refer to others before the kinds they refer to.
    Column("claim_rank", SmallInteger, nullable=False),
    Column("next_update_at", Float, nullable=False),
    Index("refresh_schedule_due_idx", "claim_rank", "next_update_at"),
)

# The parent/child graph: who emitted whom. Drives orphaning and ancestry.
refresh_state_references = Table(
    "refresh_state_references",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_key", Text),  # a provider's name, for roots
    Column("source_entity_ref", Text),  # or the emitting entity
    Column("target_entity_ref", Text, nullable=False),
    Index("refresh_state_references_source_key_idx", "source_key"),
    Index("refresh_state_references_source_entity_idx", "source_entity_ref"),
    Index("refresh_state_references_target_idx", "target_entity_ref"),
)

# Relations, owned by the entity whose processing produced them (both directions).
relations = Table(
    "relations",
    metadata,
    Column("originating_entity_id", EntityKey, nullable=False),
    Column("source_entity_ref", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("target_entity_ref", Text, nullable=False),
    Index("relations_originating_idx", "originating_entity_id"),
    Index("relations_source_idx", "source_entity_ref"),
)

# Entities waiting to be stitched. `ticket` changes on every request, so a
# stitcher only removes the row if nobody asked again while it worked.
stitch_queue = Table(
    "stitch_queue",
    metadata,
    Column("entity_ref", Text, primary_key=True),
    Column("next_stitch_at", Float, nullable=False),
    Column("ticket", String(36), nullable=False),
    # Set while a stitcher holds the request: `next_stitch_at` is then its lease's end.
    Column("claimed", Boolean, nullable=False, server_default=false()),
    Index("stitch_queue_next_idx", "next_stitch_at"),
)

# The served entities, as the JSON text the API returns. While a later version of
# an entity fails processing, its last good version stays here (with the errors).
final_entities = Table(
    "final_entities",
    metadata,
    Column("id", EntityKey, primary_key=True, autoincrement=False),
    Column("entity_ref", Text, nullable=False, unique=True),
    # metadata.uid, kept beside the JSON: the default order of queries and the by-uid lookup.
    Column("uid", String(36), nullable=False, unique=True),
    Column("hash", String(40), nullable=False),
    Column("final_entity", Text, nullable=False),
    Column("last_updated_at", Float, nullable=False),
    Index("final_entities_updated_idx", "last_updated_at"),
)

# Flattened (key, value) rows of every served entity, for Backstage's filters,
# facets, ordering and full-text. `original_value` is NULL when it equals `value`.
search = Table(
    "search",
    metadata,
    Column("entity_id", EntityKey, nullable=False),
    Column("key", Text, nullable=False),
    Column("original_value", Text),
    Column("value", Text),
    # Not (key, value, entity_id): PostgreSQL stores equal (key, value) pairs once per
    # page (deduplication), which keeps this index a quarter of that size and bulk loads fast.
    Index("search_key_value_idx", "key", "value"),
    Index("search_entity_idx", "entity_id"),
)

# Locations registered through the API or CLI (config locations are not rows, as in Backstage).
locations = Table(
    "locations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("type", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("type", "target", name="locations_type_target_key"),
)


# What changed in the served catalog, in commit order, for search, pages and caches to
# follow (in this process or another). `generation` comes from catalog_generation,
# taken as the last step of the writing transaction: its row lock makes generations
# commit in order, so a reader that has seen generation G has seen every earlier one.
entity_events = Table(
    "entity_events",
    metadata,
    Column("id", EntityKey, primary_key=True, autoincrement=True),
    Column("generation", BigInteger, nullable=False),
    Column("action", String(8), nullable=False),  # added | updated | removed
    Column("entity_ref", Text, nullable=False),
    Column("uid", String(36), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("entity_events_generation_idx", "generation"),
)

# One row: the generation of the served catalog, bumped by every change to it.
catalog_generation = Table(
    "catalog_generation",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
)

# Entities a user starred, shown on their home page and as the catalog's "Starred" filter.
user_stars = Table(
    "user_stars",
    metadata,
    Column("user_ref", Text, primary_key=True),
    Column("entity_ref", Text, primary_key=True),
    Column("created_at", Float, nullable=False),
)
