"""External centres that receive live video (UE-10-22 3.2.11; issue 24): their register,
the requests of the rector's approval that make or change one, and every restream
session; `centre.prepare` given to the head of internal security and the administrator,
`centre.approve` to the rector, `restream.cut` to the head of internal security and the
rector, `restream.push` (an incident's camera to a centre for a few hours) to the head of
internal security and the guard.

Revision ID: 0022
Revises: 0021

Roles are data: an installation's own edits are kept, only the permissions are added.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None
GIVEN = {"centre.prepare": ("head_of_security", "administrator"),
         "centre.approve": ("rector",),
         "restream.cut": ("head_of_security", "rector"),
         "restream.push": ("head_of_security", "guard")}


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
        "centres",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("contact", sa.String(200), nullable=False),
        sa.Column("basis_no", sa.String(64), nullable=False),
        sa.Column("basis_date", sa.String(10), nullable=False),
        sa.Column("basis_scan", sa.LargeBinary()),
        sa.Column("basis_type", sa.String(32)),
        sa.Column("addresses", sa.Text(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("ha1", sa.String(200), nullable=False),
        sa.Column("client_cert", sa.Text()),
        sa.Column("client_sha256", sa.String(64)),
        sa.Column("max_streams", sa.Integer(), nullable=False),
        sa.Column("max_kbps", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.String(10), nullable=False),
        sa.Column("valid_until", sa.String(10), nullable=False),
        sa.Column("guard_push", sa.Boolean(), nullable=False),
        sa.Column("disabled_by", sa.String(64)),
        sa.Column("disabled_ns", sa.BigInteger()),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "centre_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("centre_id", sa.Integer(), sa.ForeignKey("centres.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cameras", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_ns", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_ns", sa.BigInteger()),
        sa.Column("note", sa.Text()),
        sa.Column("expires_ns", sa.BigInteger()),
        sa.Column("incident", sa.String(32)),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("reviewed_ns", sa.BigInteger()),
    )
    op.create_index("ix_centre_requests_centre", "centre_requests", ["centre_id", "state"])
    op.create_table(
        "restream_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("centre_id", sa.Integer(), sa.ForeignKey("centres.id"), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("stream", sa.String(8), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("transport", sa.String(8), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger()),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("frames", sa.BigInteger(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
        sa.Column("ended", sa.String(200)),
    )
    op.create_index("ix_restream_sessions_start", "restream_sessions", ["start_ns"])
    _give(add=True)


def downgrade() -> None:
    _give(add=False)
    op.drop_table("restream_sessions")
    op.drop_table("centre_requests")
    op.drop_table("centres")
