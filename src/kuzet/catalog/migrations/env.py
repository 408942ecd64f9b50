"""Alembic environment: runs on the engine handed in by kuzet.catalog.db.migrate."""

from __future__ import annotations

from alembic import context

import kuzet.access.models  # registers the access tables
import kuzet.analytics.models  # and detection's, and so on
import kuzet.console.models  # and the console's
import kuzet.governance.models  # noqa: F401  (and the documents')
from kuzet.catalog.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
