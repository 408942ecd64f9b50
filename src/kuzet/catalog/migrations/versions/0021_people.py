"""General meetings where people were told (UE-10-22 3.4.6) and the acquaintance of staff
and students against signature (3.1.4, 3.4.7; issue 23): the lists from the HR and student
offices, sign-off sheets with their signed scans, and each person's mark per edition;
`acquaintance.keep` given to the rector and the head of internal security, and a new role,
`hr_officer`, holding it alone (personal data of thousands: assigned by the rector).

Revision ID: 0021
Revises: 0020

Roles are data: an installation's own edits are kept, only the permission is added.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None
PERM = "acquaintance.keep"
GIVEN = ("rector", "head_of_security")
HR = ("hr_officer", "3.1.4, 3.4.7",
      {"kk": "Кадр қызметінің уәкілетті қызметкері", "ru": "Уполномоченный сотрудник "
       "кадровой службы", "en": "HR officer (designated)"}, [PERM])


def _roles() -> sa.TableClause:
    return sa.table("roles", sa.column("name", sa.String), sa.column("perms", sa.Text),
                    sa.column("clause", sa.String), sa.column("titles", sa.Text))


def _give(add: bool) -> None:
    conn = op.get_bind()
    roles = _roles()
    for name, perms in list(conn.execute(sa.select(roles.c.name, roles.c.perms)
                                         .where(roles.c.name.in_(GIVEN)))):
        have = set(json.loads(perms)) - {PERM}
        if add:
            have.add(PERM)
        conn.execute(roles.update().where(roles.c.name == name)
                     .values(perms=json.dumps(sorted(have))))


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("held", sa.String(10), nullable=False),
        sa.Column("audience", sa.String(200), nullable=False),
        sa.Column("informed_by", sa.String(200), nullable=False),
        sa.Column("attendees", sa.Integer()),
        sa.Column("notes", sa.Text()),
        sa.Column("minutes", sa.LargeBinary()),
        sa.Column("minutes_type", sa.String(32)),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_ns", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.String(32), nullable=False, unique=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("group", sa.String(64)),
        sa.Column("start", sa.String(10), nullable=False),
    )
    op.create_table(
        "signoff_sheets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("edition_id", sa.Integer(), sa.ForeignKey("editions.id"), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("group", sa.String(64)),
        sa.Column("people", sa.Text(), nullable=False),
        sa.Column("made_by", sa.String(64), nullable=False),
        sa.Column("made_ns", sa.BigInteger(), nullable=False),
        sa.Column("scan", sa.LargeBinary()),
        sa.Column("scan_type", sa.String(32)),
        sa.Column("scan_sha256", sa.String(64)),
    )
    op.create_table(
        "person_marks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("edition_id", sa.Integer(), sa.ForeignKey("editions.id"), nullable=False),
        sa.Column("sheet_id", sa.Integer(), sa.ForeignKey("signoff_sheets.id"),
                  nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("marked_by", sa.String(64), nullable=False),
        sa.Column("marked_ns", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("person_id", "edition_id"),
    )
    op.create_index("ix_person_marks_sheet", "person_marks", ["sheet_id"])
    op.create_index("ix_person_marks_edition", "person_marks", ["edition_id", "outcome"])
    name, clause, titles, perms = HR
    op.bulk_insert(_roles(), [{"name": name, "perms": json.dumps(perms), "clause": clause,
                               "titles": json.dumps(titles, ensure_ascii=False)}])
    _give(add=True)


def downgrade() -> None:
    _give(add=False)
    assignments = sa.table("role_assignments", sa.column("role", sa.String))
    op.execute(assignments.delete().where(assignments.c.role == HR[0]))
    roles = _roles()
    op.execute(roles.delete().where(roles.c.name == HR[0]))
    op.drop_index("ix_person_marks_edition", "person_marks")
    op.drop_index("ix_person_marks_sheet", "person_marks")
    op.drop_table("person_marks")
    op.drop_table("signoff_sheets")
    op.drop_table("people")
    op.drop_table("meetings")
