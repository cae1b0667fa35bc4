"""bulk loads: indexes set aside while a catalog is first loaded; no statistics on bodies

Revision ID: 0005
Revises: 0004

`deferred_indexes` holds the definitions of indexes dropped for a bulk load until
they are built again (see greenroom.db.deferred_indexes).

The engine runs ANALYZE while a bulk load grows the tables. Statistics on the JSON
bodies and hashes are never used by a plan (they are only ever fetched by key) but
are the most expensive part of sampling those tables, so they are not gathered.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNPLANNED_COLUMNS = {
    "refresh_state": ("unprocessed_entity", "unprocessed_hash", "input_hash", "result_hash"),
    "final_entities": ("final_entity", "hash"),
}


def _set_statistics(target: int) -> None:
    for table, columns in UNPLANNED_COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {c} SET STATISTICS {target}" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade() -> None:
    op.create_table(
        "deferred_indexes",
        sa.Column("index_name", sa.Text(), primary_key=True),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _set_statistics(0)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set_statistics(-1)
    op.drop_table("deferred_indexes")
