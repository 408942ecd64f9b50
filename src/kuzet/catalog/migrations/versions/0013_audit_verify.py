"""IT support's information-security duty (issue 18, UE-10-22 3.4.3): `audit.verify`,
checking the audit log's integrity without reading its entries, given to the roles that
have it by default (IT support, the rector, the head of internal security).

Revision ID: 0013
Revises: 0012

Data only; a frozen snapshot of which roles get it, not an import of today's table.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None
PERM = "audit.verify"
ROLES = ("it_support", "rector", "head_of_security")


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
    _give(add=True)


def downgrade() -> None:
    _give(add=False)
