"""The console's screen lock kept in the session's row (issue 21): `locked_ns` (since
when the screen is locked, NULL while it is not) and `unlock_failures` (wrong unlocks
since; five end the session). In the row rather than one process's memory, so that a
restart of the API or another node of a distributed install keeps the lock.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("locked_ns", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("unlock_failures", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("unlock_failures")
        batch.drop_column("locked_ns")
