"""The archive timeline read from the key's index alone on PostgreSQL (issue 19): the
segments key's index also carries `volume_id` and `deleting`, so the timeline route's read
of (start, end, volume) for a camera-day, which tells it which folder to list for missing
files, leaving out rows being deleted, never visits the table. The key is rebuilt under a
lock on the table: on a large catalog, run the upgrade while recording is stopped. SQLite
keeps the table in key order already (WITHOUT ROWID): nothing changes there.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _key(include: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    # named by whichever table 0002 built it on: looked up, not assumed
    name = conn.execute(sa.text("SELECT conname FROM pg_constraint WHERE contype = 'p' "
                                "AND conrelid = 'segments'::regclass")).scalar_one()
    op.execute(f'ALTER TABLE segments DROP CONSTRAINT "{name}"')
    op.execute(f'ALTER TABLE segments ADD CONSTRAINT "{name}" PRIMARY KEY '
               f"(camera_id, stream, start_ns) INCLUDE ({include})")


def upgrade() -> None:
    _key("end_ns, volume_id, deleting")


def downgrade() -> None:
    _key("end_ns")
