"""portal pages: starred entities; entities with errors and recent changes at hand

Revision ID: 0004
Revises: 0003

The catalog page filters and counts "has errors"; few entities have errors, so a
partial index holds exactly those and the filter never reads the whole table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_stars",
        sa.Column("user_ref", sa.Text(), nullable=False),
        sa.Column("entity_ref", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("user_ref", "entity_ref"),
    )
    op.create_index(
        "refresh_state_errors_idx",
        "refresh_state",
        ["id"],
        postgresql_where=sa.text("errors IS NOT NULL"),
        sqlite_where=sa.text("errors IS NOT NULL"),
    )
    # Home's "recently changed".
    op.create_index("final_entities_updated_idx", "final_entities", ["last_updated_at"])


def downgrade() -> None:
    op.drop_index("final_entities_updated_idx", table_name="final_entities")
    op.drop_index("refresh_state_errors_idx", table_name="refresh_state")
    op.drop_table("user_stars")
