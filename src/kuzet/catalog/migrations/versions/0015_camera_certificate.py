"""An rtsps:// camera's TLS certificate pinned in the camera register (issue 20): the
SHA-256 its certificate must have, or none. Cameras' certificates are self-signed, so
without a pin whoever answers at the camera's address is recorded; with one, another
certificate is refused (`auth_failed`) and the gap says so.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("tls_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("tls_fingerprint")
