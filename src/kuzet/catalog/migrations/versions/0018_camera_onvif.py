"""A camera's ONVIF device service in the camera register (issue 22): where `kuzet serve`
reads its clock when its RTCP sender reports do not tell it (FFmpeg's client reads none,
some cameras send none). The URL holds no credentials: the camera's own RTSP ones are
used, as the same account serves both on the cameras the campus buys.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("onvif_url", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("onvif_url")
