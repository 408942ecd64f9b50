"""The cluster's certificate authority (issue 25): its certificate, and its private key
sealed with the installation's key (the one every node's home holds), from which each
node issues its own certificate for the internal endpoint that serves footage between
nodes with mutual TLS.

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_ca",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("key_sealed", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cluster_ca")
