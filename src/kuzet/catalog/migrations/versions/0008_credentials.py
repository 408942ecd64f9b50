"""Credentials under the regulation's order of authority (issue 16): recovery codes for a
lost second factor, a second-factor reset that waits for a second person, failed logins
counted per account and source address (so nobody locks out an account they do not sit
at), room for TOTP secrets encrypted at rest.

Revision ID: 0008
Revises: 0007
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("locked_until_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id", "address"),
    )
    with op.batch_alter_table("users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until_ns")
        batch.alter_column("totp_secret", type_=sa.String(length=255),
                           existing_type=sa.String(length=64))
        batch.add_column(sa.Column("recovery_codes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("totp_reset_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_reset_ns", sa.BigInteger(), nullable=True))
    _confirmers(add=True)


def _confirmers(add: bool) -> None:
    """The rector and the vice-rector confirm second-factor resets (a new permission)."""
    conn = op.get_bind()
    roles = sa.table("roles", sa.column("name", sa.String), sa.column("perms", sa.Text))
    for name, perms in conn.execute(sa.select(roles.c.name, roles.c.perms).where(
            roles.c.name.in_(("rector", "vice_rector")))):
        have = set(json.loads(perms)) - {"second_factor.reset"}
        if add:
            have.add("second_factor.reset")
        conn.execute(roles.update().where(roles.c.name == name)
                     .values(perms=json.dumps(sorted(have))))


def downgrade() -> None:
    _confirmers(add=False)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_reset_ns")
        batch.drop_column("totp_reset_by")
        batch.drop_column("recovery_codes")
        batch.alter_column("totp_secret", type_=sa.String(length=64),
                           existing_type=sa.String(length=255))
        batch.add_column(sa.Column("locked_until_ns", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.drop_table("login_failures")
