"""catalog queries: uid beside served entities, change events

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("final_entities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=36), nullable=True))
    op.execute(
        "UPDATE final_entities SET uid = (SELECT entity_id FROM refresh_state"
        " WHERE refresh_state.id = final_entities.id)"
    )
    with op.batch_alter_table("final_entities", schema=None) as batch_op:
        batch_op.alter_column("uid", existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint("final_entities_uid_key", ["uid"])

    op.create_table(
        "entity_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("entity_ref", sa.Text(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("entity_events", schema=None) as batch_op:
        batch_op.create_index("entity_events_generation_idx", ["generation"], unique=False)

    generation = op.create_table(
        "catalog_generation",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(generation, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    op.drop_table("catalog_generation")
    with op.batch_alter_table("entity_events", schema=None) as batch_op:
        batch_op.drop_index("entity_events_generation_idx")
    op.drop_table("entity_events")
    with op.batch_alter_table("final_entities", schema=None) as batch_op:
        batch_op.drop_constraint("final_entities_uid_key", type_="unique")
        batch_op.drop_column("uid")
