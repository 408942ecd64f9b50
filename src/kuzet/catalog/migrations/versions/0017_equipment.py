"""The equipment register and its maintenance log (issue 22, UE-10-22 3.3.1-3.3.8, 3.4.3),
and `equipment.admin`, editing the register, given to the roles that keep the complex
(the administrator 3.4.2, IT support 3.4.3, the installer until the administrator's
appointment).

Revision ID: 0017
Revises: 0016

The permission is data; a frozen snapshot of which roles get it, not an import of today's
table.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None
PERM = "equipment.admin"
ROLES = ("administrator", "it_support", "installer")


def _give(add: bool) -> None:
    conn = op.get_bind()
    roles = sa.table("roles", sa.column("name", sa.String), sa.column("perms", sa.Text))
    for name, perms in conn.execute(sa.select(roles.c.name, roles.c.perms)
                                    .where(roles.c.name.in_(ROLES))):
        have = set(json.loads(perms)) - {PERM}
        if add:
            have.add(PERM)
        conn.execute(roles.update().where(roles.c.name == name)
                     .values(perms=json.dumps(sorted(have))))


def upgrade() -> None:
    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("camera_id", sa.Integer(), sa.ForeignKey("cameras.id"), unique=True),
        sa.Column("model", sa.String(128)),
        sa.Column("manufacturer", sa.String(128)),
        sa.Column("serial", sa.String(64), unique=True),
        sa.Column("inventory_no", sa.String(64), unique=True),
        sa.Column("firmware", sa.String(64)),
        sa.Column("mac", sa.String(17)),
        sa.Column("ip", sa.String(45)),
        sa.Column("building", sa.String(64)),
        sa.Column("floor", sa.String(32)),
        sa.Column("room", sa.Text()),
        sa.Column("installed", sa.String(10)),
        sa.Column("responsible", sa.String(128)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("uplink_id", sa.Integer(), sa.ForeignKey("equipment.id")),
        sa.Column("uplink_port", sa.String(32)),
        sa.Column("power_id", sa.Integer(), sa.ForeignKey("equipment.id")),
        sa.Column("part_of_id", sa.Integer(), sa.ForeignKey("equipment.id")),
        sa.Column("notes", sa.Text()),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "equipment_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("equipment.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("closes_id", sa.Integer(), sa.ForeignKey("equipment_log.id")),
        sa.Column("alarm_id", sa.Integer()),
    )
    op.create_index("ix_equipment_log_item", "equipment_log", ["item_id", "at_ns"])
    op.create_index("ix_equipment_log_alarm", "equipment_log", ["alarm_id"])
    op.create_index("ux_equipment_log_closes", "equipment_log", ["closes_id"], unique=True)
    _give(add=True)


def downgrade() -> None:
    _give(add=False)
    op.drop_index("ux_equipment_log_closes", "equipment_log")
    op.drop_index("ix_equipment_log_alarm", "equipment_log")
    op.drop_index("ix_equipment_log_item", "equipment_log")
    op.drop_table("equipment_log")
    op.drop_table("equipment")
