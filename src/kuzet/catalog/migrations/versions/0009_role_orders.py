"""Role edits and the bootstrap administrator rest on the rector's order
(issue 18, UE-10-22 3.4.2, 3.5.4, 4.1): each role keeps the number and date of the order its
last edit rests on, and `kuzet init`'s first account gets the installer role (cameras,
accounts, status; no picture, no stored video) while its administrator role waits for the
rector's order.

Revision ID: 0009
Revises: 0008

A frozen snapshot: the installer role below is kuzet.access.permissions.DEFAULT_ROLES's as
it was when this revision was written.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INSTALLER = {
    "name": "installer", "clause": "3.4.2",
    "titles": json.dumps({"kk": "Жүйені орнатушы", "ru": "Установщик системы",
                          "en": "System installer (until the administrator's appointment)"},
                         ensure_ascii=False),
    "perms": json.dumps(["camera.admin", "camera.status", "health.read", "user.admin"]),
}
_ROLES = sa.table("roles", sa.column("name", sa.String), sa.column("perms", sa.Text),
                  sa.column("clause", sa.String), sa.column("titles", sa.Text))


def upgrade() -> None:
    with op.batch_alter_table("roles") as batch:
        batch.add_column(sa.Column("order_no", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("order_date", sa.String(length=10), nullable=True))
    op.bulk_insert(_ROLES, [INSTALLER])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM role_assignments WHERE role = 'installer'"))
    op.execute(_ROLES.delete().where(_ROLES.c.name == "installer"))
    with op.batch_alter_table("roles") as batch:
        batch.drop_column("order_date")
        batch.drop_column("order_no")
