"""served entity bodies compressed with lz4 (PostgreSQL)

Revision ID: 0009
Revises: 0008

A tenth of the served bodies (teams with many members, systems with many parts)
are long enough to be compressed. PostgreSQL's default, pglz, is the slowest part
of writing them; lz4 writes a load's served entities a fifth faster and reads them
a tenth faster, for the same size (bench/README.md). Servers built without lz4 keep
pglz.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DO $$ BEGIN"
            " ALTER TABLE final_entities ALTER COLUMN final_entity SET COMPRESSION lz4;"
            " EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN"
            " RAISE NOTICE 'served bodies keep the default compression: %', SQLERRM;"
            " END $$"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE final_entities ALTER COLUMN final_entity SET COMPRESSION default")
