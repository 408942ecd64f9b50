"""A planned move made before it is broken (issue 25): the node a camera is offered to, and
when that node began recording it beside its holder, so that the holder hands it over
only once the new node has the camera's stream.

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("camera_leases") as batch:
        batch.add_column(sa.Column("offered_to", sa.String(64), nullable=True))
        batch.add_column(sa.Column("ready_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("camera_leases") as batch:
        batch.drop_column("ready_ns")
        batch.drop_column("offered_to")
