"""Several recording servers on one PostgreSQL catalog (issue 25): the nodes, the lease
under which each camera is recorded by exactly one of them, the node a camera is pinned
to, the node whose disk a volume is, and the lease epoch each segment was written under.

Revision ID: 0023
Revises: 0022

Every new column is nullable: a server of the revision before (a single server, or a node
during a rolling upgrade) writes its rows as it did, and they read as "no node, no epoch".
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("instance", sa.String(32), nullable=False),
        sa.Column("addresses", sa.Text(), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("schema", sa.String(16), nullable=False),
        sa.Column("max_cameras", sa.Integer(), nullable=False),
        sa.Column("max_mbps", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_ns", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_ns", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
    )
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.Integer(), sa.ForeignKey("cameras.id"), primary_key=True),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("since_ns", sa.BigInteger(), nullable=False),
        sa.Column("expires_ns", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_camera_leases_node", "camera_leases", ["node"])
    op.add_column("cameras", sa.Column("pinned_node", sa.String(64)))
    op.add_column("volumes", sa.Column("node", sa.String(64)))
    op.add_column("segments", sa.Column("epoch", sa.BigInteger()))


def downgrade() -> None:
    op.drop_column("segments", "epoch")
    op.drop_column("volumes", "node")
    op.drop_column("cameras", "pinned_node")
    op.drop_table("camera_leases")
    op.drop_table("nodes")
