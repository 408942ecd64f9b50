"""Console and first documents: bookmarks, wall layouts per user, each user's language,
where a camera hangs (building, floor) for the camera tree; incident protocols (clause
3.5.7), acts (3.5.8), viewing sessions (3.5.5), and the permissions to write and review
protocols and acts, added to the roles that have them by default (roles are data: an
installation's own edits are kept).

Revision ID: 0004
Revises: 0003
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
ADDED_PERMS = {"guard": ["protocol.write"], "head_of_security": ["protocol.write",
               "protocol.review", "act.write"], "rector": ["protocol.review"]}


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("building", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("floor", sa.String(length=32), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    op.create_table(
        "bookmarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bookmarks_camera_at", "bookmarks", ["camera_id", "at_ns"])
    op.create_table(
        "layouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name"),
    )
    op.create_table(
        "protocols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("circumstances", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("informed_ns", sa.BigInteger(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("bookmark_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_png", sa.LargeBinary(), nullable=True),
        sa.Column("submitted_ns", sa.BigInteger(), nullable=True),
        sa.Column("submitted_entry", sa.Integer(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_ns", sa.BigInteger(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["bookmark_id"], ["bookmarks.id"]),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("year", "seq"),
    )
    op.create_table(
        "acts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("protocol_ids", sa.Text(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("persons", sa.Text(), nullable=False),
        sa.Column("witnesses", sa.Text(), nullable=False),
        sa.Column("consequences", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("registered_ns", sa.BigInteger(), nullable=True),
        sa.Column("registered_entry", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("year", "seq"),
    )
    op.create_table(
        "viewing_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("cameras", sa.Text(), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("conducted_by", sa.String(length=64), nullable=False),
        sa.Column("held_ns", sa.BigInteger(), nullable=False),
        sa.Column("entry", sa.Integer(), nullable=False),
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
    op.drop_table("viewing_sessions")
    op.drop_table("acts")
    op.drop_table("protocols")
    op.drop_table("layouts")
    op.drop_index("ix_bookmarks_camera_at", table_name="bookmarks")
    op.drop_table("bookmarks")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("floor")
        batch.drop_column("building")
