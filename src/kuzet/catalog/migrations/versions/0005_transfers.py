"""Transfers of footage to third parties (clause 3.5.6): the request register with the
basis document, the rector's decision, the executed package; the permissions to
register requests (head of security, administrator) and decide them (rector), added to
the roles that have them by default.

Revision ID: 0005
Revises: 0004
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
ADDED_PERMS = {"head_of_security": ["transfer.register"], "administrator": ["transfer.register"],
               "rector": ["transfer.decide"]}


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requester_type", sa.String(length=32), nullable=False),
        sa.Column("requester", sa.Text(), nullable=False),
        sa.Column("requester_details", sa.Text(), nullable=False),
        sa.Column("basis_number", sa.String(length=64), nullable=False),
        sa.Column("basis_date", sa.String(length=10), nullable=False),
        sa.Column("basis_type", sa.String(length=32), nullable=True),
        sa.Column("basis_sha256", sa.String(length=64), nullable=True),
        sa.Column("basis", sa.LargeBinary(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cameras", sa.Text(), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_ns", sa.BigInteger(), nullable=False),
        sa.Column("registered_entry", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_ns", sa.BigInteger(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("decided_entry", sa.Integer(), nullable=True),
        sa.Column("approved_cameras", sa.Text(), nullable=True),
        sa.Column("approved_start_ns", sa.BigInteger(), nullable=True),
        sa.Column("approved_end_ns", sa.BigInteger(), nullable=True),
        sa.Column("expires_ns", sa.BigInteger(), nullable=True),
        sa.Column("executed_by", sa.String(length=64), nullable=True),
        sa.Column("executed_ns", sa.BigInteger(), nullable=True),
        sa.Column("executed_entry", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.Text(), nullable=True),
        sa.Column("recipient_document", sa.Text(), nullable=True),
        sa.Column("package_file", sa.Text(), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("package_bytes", sa.BigInteger(), nullable=True),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("exported", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("year", "seq"),
    )
    roles = sa.table("roles", sa.column("name", sa.String), sa.column("perms", sa.Text))
    conn = op.get_bind()
    for name, perms in ADDED_PERMS.items():
        row = conn.execute(sa.select(roles.c.perms).where(roles.c.name == name)).first()
        if row is not None:
            merged = sorted(set(json.loads(row[0])) | set(perms))
            conn.execute(roles.update().where(roles.c.name == name)
                         .values(perms=json.dumps(merged)))


def downgrade() -> None:
    op.drop_table("transfers")
