"""A transfer's footage held by its own hold, approved with the transfer
(issue 18, UE-10-22 3.3, 3.5.6).

`transfers.hold_id` names the hold its registration asked for. Transfers registered before
it get theirs back where the registration left it: the earliest hold whose incident is the
transfer's number and whose reason is the one registration wrote.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("hold_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_transfers_hold_id_holds", "holds", ["hold_id"], ["id"])
    transfers = sa.table("transfers", sa.column("id", sa.Integer),
                         sa.column("number", sa.String), sa.column("hold_id", sa.Integer))
    holds = sa.table("holds", sa.column("id", sa.Integer), sa.column("incident", sa.String),
                     sa.column("reason", sa.Text))
    asked = (sa.select(sa.func.min(holds.c.id))
             .where(holds.c.incident == transfers.c.number,
                    holds.c.reason == "footage asked for by transfer request "
                    + transfers.c.number)
             .scalar_subquery())
    op.get_bind().execute(transfers.update().values(hold_id=asked))


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.drop_constraint("fk_transfers_hold_id_holds", type_="foreignkey")
        batch.drop_column("hold_id")
