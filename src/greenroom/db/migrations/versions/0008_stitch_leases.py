"""stitch leases told apart from requests waiting for processing

Revision ID: 0008
Revises: 0007

A stitch request's `next_stitch_at` is either when it is due, or, once a stitcher
has claimed it, when that claim's lease runs out. A stitcher with nothing else to
do also takes requests due a little later (those waiting for the entity's own
processing); without `claimed` it could not tell those from requests another
stitcher is working on, and stitched the same entities again, waiting on their
row locks.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stitch_queue") as batch_op:
        batch_op.add_column(
            sa.Column("claimed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("stitch_queue") as batch_op:
        batch_op.drop_column("claimed")
