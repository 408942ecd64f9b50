"""Motion activity: per-camera motion settings (sensitivity, masks, activity kept) and
a row of motion levels per camera-minute for the archive's bar; an event's time range
(its objects first and last seen).

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_analytics",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("activity", sa.Boolean(), nullable=False),
        sa.Column("sensitivity", sa.Float(), nullable=False),
        sa.Column("masks", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"]),
        sa.PrimaryKeyConstraint("camera_id"),
    )
    op.create_table(
        "motion_minutes",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("minute_ns", sa.BigInteger(), nullable=False),
        sa.Column("levels", sa.LargeBinary(), nullable=False),
        sa.Column("grid", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"]),
        sa.PrimaryKeyConstraint("camera_id", "minute_ns"),
    )
    op.add_column("events", sa.Column("start_ns", sa.BigInteger(), nullable=True))
    op.add_column("events", sa.Column("end_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("end_ns")
        batch.drop_column("start_ns")
    op.drop_table("motion_minutes")
    op.drop_table("camera_analytics")
