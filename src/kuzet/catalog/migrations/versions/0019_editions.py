"""The regulation's editions and amendments (UE-10-22 4.1, 4.3) and every account's
acquaintance with the one in force (3.1.4, 3.4.7; issue 23); `edition.prepare` given to
the head of internal security and the administrator, `edition.approve` to the rector.

Revision ID: 0019
Revises: 0018

The permissions are data; a frozen snapshot of which roles get them, not an import of
today's table.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None
GIVEN = {"edition.prepare": ("head_of_security", "administrator"),
         "edition.approve": ("rector",)}


def _give(add: bool) -> None:
    conn = op.get_bind()
    roles = sa.table("roles", sa.column("name", sa.String), sa.column("perms", sa.Text))
    for name, perms in list(conn.execute(sa.select(roles.c.name, roles.c.perms))):
        have = set(json.loads(perms)) - set(GIVEN)
        if add:
            have |= {p for p, to in GIVEN.items() if name in to}
        conn.execute(roles.update().where(roles.c.name == name)
                     .values(perms=json.dumps(sorted(have))))


def upgrade() -> None:
    op.create_table(
        "editions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text_kk", sa.Text(), nullable=False),
        sa.Column("text_ru", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text()),
        sa.Column("summary", sa.Text()),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("prepared_by", sa.String(64), nullable=False),
        sa.Column("prepared_ns", sa.BigInteger(), nullable=False),
        sa.Column("order_no", sa.String(64)),
        sa.Column("order_date", sa.String(10)),
        sa.Column("effective", sa.String(10), unique=True),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_ns", sa.BigInteger()),
        sa.Column("note", sa.Text()),
        sa.Column("scan", sa.LargeBinary()),
        sa.Column("scan_type", sa.String(32)),
    )
    op.create_table(
        "acquaintances",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("edition_id", sa.Integer(), sa.ForeignKey("editions.id"), nullable=False),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("account", "edition_id"),
    )
    _give(add=True)


def downgrade() -> None:
    _give(add=False)
    op.drop_table("acquaintances")
    op.drop_table("editions")
