"""narrow refresh_state rows: the unprocessed body lives out of line (PostgreSQL)

Revision ID: 0007
Revises: 0006

Processing rewrites every `refresh_state` row it handles (its result hash, input
hash and errors). With the unprocessed body (most of the row) stored inline, each
such update wrote the whole body again and a new entry in every index. Stored out
of line (uncompressed: it is read once per processing, and compression costs more
than the space saves), an update copies a pointer; with free room left in each
page, it becomes a HOT update that touches no index.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE refresh_state SET (toast_tuple_target = 128, fillfactor = 70)")
        op.execute("ALTER TABLE refresh_state ALTER COLUMN unprocessed_entity SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE refresh_state ALTER COLUMN unprocessed_entity SET STORAGE EXTENDED")
        op.execute("ALTER TABLE refresh_state RESET (toast_tuple_target, fillfactor)")
