"""Video without sound unless an order says otherwise, and a closed list of installation zones
(issue 18, UE-10-22 3.1.2, 3.3.1, 3.3.9-3.3.17).

Revision ID: 0010
Revises: 0009

A camera keeps its sound only on the rector's order, whose number and date the camera's
row records; the rector gets the permission to record it (`camera.audio`). Zones the
closed list names one to one are renamed ("sports" becomes "sports_leisure"); the rest
("dormitory", which the list splits into entrance groups and floors, "other", free text,
none) are left for a person to choose: `kuzet verify` and the console list them.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

RENAMED = {"sports": "sports_leisure"}


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("audio_order_no", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("audio_order_date", sa.String(length=10), nullable=True))
    cameras = sa.table("cameras", sa.column("zone", sa.String))
    for old, new in RENAMED.items():
        op.execute(cameras.update().where(cameras.c.zone == old).values(zone=new))
    _rector_records_audio(add=True)


def _rector_records_audio(add: bool) -> None:
    conn = op.get_bind()
    roles = sa.table("roles", sa.column("name", sa.String), sa.column("perms", sa.Text))
    for name, perms in conn.execute(sa.select(roles.c.name, roles.c.perms).where(
            roles.c.name == "rector")):
        have = set(json.loads(perms)) - {"camera.audio"}
        if add:
            have.add("camera.audio")
        conn.execute(roles.update().where(roles.c.name == name)
                     .values(perms=json.dumps(sorted(have))))


def downgrade() -> None:
    _rector_records_audio(add=False)
    cameras = sa.table("cameras", sa.column("zone", sa.String))
    for old, new in RENAMED.items():
        op.execute(cameras.update().where(cameras.c.zone == new).values(zone=old))
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("audio_order_date")
        batch.drop_column("audio_order_no")
