"""The Management Board reads registered protocols and acknowledges them (issue 18, UE-10-22 3.5.7).

Revision ID: 0012
Revises: 0011

A protocol is addressed to the Management Board: a new role, `board_member`, reads
registered protocols and acts (`protocol.read`) and sees no footage; the rector, Chairman
of the Board, gets `protocol.read` too, so the Board's acknowledgements include the
Chairman's. Each member's acknowledgement of a protocol is a row (once per member). Roles
are data: an installation's own edits of the rector's role are kept, only the permission
is added (and taken away again on downgrade).
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BOARD = ("board_member", "3.5.7",
         {"kk": "Басқарма мүшесі", "ru": "Член Правления", "en": "Management Board member"},
         ["protocol.read"])


def upgrade() -> None:
    op.create_table(
        "protocol_acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=64), nullable=False),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.Column("entry", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["protocol_id"], ["protocols.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("protocol_id", "member"),
    )
    roles = _roles()
    name, clause, titles, perms = BOARD
    op.bulk_insert(roles, [{"name": name, "perms": json.dumps(perms), "clause": clause,
                            "titles": json.dumps(titles, ensure_ascii=False)}])
    _rector_reads(add=True)


def _roles() -> sa.TableClause:
    return sa.table("roles", sa.column("name", sa.String), sa.column("perms", sa.Text),
                    sa.column("clause", sa.String), sa.column("titles", sa.Text))


def _rector_reads(add: bool) -> None:
    conn = op.get_bind()
    roles = _roles()
    for name, perms in conn.execute(sa.select(roles.c.name, roles.c.perms).where(
            roles.c.name == "rector")):
        have = set(json.loads(perms)) - {"protocol.read"}
        if add:
            have.add("protocol.read")
        conn.execute(roles.update().where(roles.c.name == name)
                     .values(perms=json.dumps(sorted(have))))


def downgrade() -> None:
    _rector_reads(add=False)
    assignments = sa.table("role_assignments", sa.column("role", sa.String))
    op.execute(assignments.delete().where(assignments.c.role == BOARD[0]))
    roles = _roles()
    op.execute(roles.delete().where(roles.c.name == BOARD[0]))
    op.drop_table("protocol_acknowledgements")
