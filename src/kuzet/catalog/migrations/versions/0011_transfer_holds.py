"""A transfer's footage held by its own hold, approved with the transfer
(issue 18, UE-10-22 3.3, 3.5.6).

`transfers.hold_id` names the hold its registration asked for, decided with the transfer.
A transfer registered before it and still awaiting the rector gets its hold back where the
registration left it (the earliest hold whose incident is the transfer's number and whose
reason is the one registration wrote) if that hold awaits a decision too. A hold the
rector decided on its own, or one whose transfer is decided, stays independent: the rector
keeps deciding and releasing it as before, and the transfer's decisions leave it alone.

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
                         sa.column("number", sa.String), sa.column("state", sa.String),
                         sa.column("hold_id", sa.Integer))
    holds = sa.table("holds", sa.column("id", sa.Integer), sa.column("incident", sa.String),
                     sa.column("reason", sa.Text), sa.column("approved_ns", sa.BigInteger),
                     sa.column("rejected_ns", sa.BigInteger),
                     sa.column("released_ns", sa.BigInteger))
    asked = (sa.select(sa.func.min(holds.c.id))
             .where(holds.c.incident == transfers.c.number,
                    holds.c.reason == "footage asked for by transfer request "
                    + transfers.c.number)
             .scalar_subquery())
    decided = sa.select(holds.c.id).where(holds.c.approved_ns.is_not(None)
                                          | holds.c.rejected_ns.is_not(None)
                                          | holds.c.released_ns.is_not(None))
    bind = op.get_bind()
    bind.execute(transfers.update().where(transfers.c.state == "pending")
                 .values(hold_id=asked))
    bind.execute(transfers.update().where(transfers.c.hold_id.in_(decided))
                 .values(hold_id=None))


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.drop_constraint("fk_transfers_hold_id_holds", type_="foreignkey")
        batch.drop_column("hold_id")
