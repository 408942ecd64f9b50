"""Alembic environment: runs on the engine handed in by kuzet.catalog.db.migrate.

Every run is one transaction. On SQLite it follows SQLite's own recipe for changing a
table's shape (https://sqlite.org/lang_altertable.html, "other kinds of table schema
changes"): batch mode rebuilds a table (copy, drop the old, rename the copy), and dropping
`roles` or `cameras` while foreign keys are enforced fails as soon as another row refers to
them. So foreign keys are switched off for the run (a pragma SQLite ignores inside a
transaction, hence before BEGIN), checked as a whole before COMMIT, a dangling reference
rolling the whole run back, and switched on again before the connection returns to the pool.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import kuzet.access.models  # registers the access tables
import kuzet.analytics.models  # and detection's, and so on
import kuzet.console.models  # and the console's
import kuzet.equipment.models  # the equipment register's
import kuzet.governance.models  # and the documents'
import kuzet.notice.models  # and the regulation's editions, places, signs
import kuzet.restream.models  # noqa: F401  (and the centres that receive live video)
from kuzet.catalog.models import Base
from kuzet.errors import Unavailable


def run(connection: Connection) -> None:
    """Run the pending revisions as one transaction; on SQLite, check foreign keys before
    committing, since they are off for the run."""
    sqlite = connection.dialect.name == "sqlite"
    with connection.begin():
        if sqlite:
            # The driver opens a transaction only before a data change, so the DDL that
            # starts most revisions would otherwise commit statement by statement.
            connection.exec_driver_sql("BEGIN")
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if dangling:
                refs = sorted({f"{table} → {parent}" for table, _, parent, _ in dangling})
                raise Unavailable(f"the catalog's migration left {len(dangling)} rows "
                                  f"referring to rows that do not exist ({', '.join(refs)}); "
                                  "it was rolled back, nothing changed")


engine = context.config.attributes["engine"]
with engine.connect() as connection:
    if connection.dialect.name != "sqlite":
        run(connection)
    else:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        try:
            run(connection)
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
