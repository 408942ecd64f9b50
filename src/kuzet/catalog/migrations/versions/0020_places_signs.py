"""Places under the cameras' view and their warning signs (UE-10-22 3.3.9-3.3.17, 3.4.5;
issue 23): the register of places with the cameras that cover them, and each place's
signs with their photographs and checks.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("building", sa.String(64), nullable=False),
        sa.Column("floor", sa.String(32)),
        sa.Column("room", sa.String(200), nullable=False),
        sa.Column("zone", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "place_cameras",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("place_id", sa.Integer(), sa.ForeignKey("places.id"), nullable=False),
        sa.Column("camera_id", sa.Integer(), sa.ForeignKey("cameras.id"), nullable=False,
                  unique=True),
    )
    op.create_table(
        "signs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("place_id", sa.Integer(), sa.ForeignKey("places.id"), nullable=False),
        sa.Column("position", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("installed", sa.String(10), nullable=False),
        sa.Column("checked", sa.String(10)),
        sa.Column("photo", sa.LargeBinary()),
        sa.Column("photo_type", sa.String(32)),
        sa.Column("removed", sa.String(10)),
    )


def downgrade() -> None:
    op.drop_table("signs")
    op.drop_table("place_cameras")
    op.drop_table("places")
