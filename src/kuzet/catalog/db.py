"""Engine creation and schema migration for SQLite (embedded) and PostgreSQL (multi-node)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError

MIGRATIONS = Path(__file__).parent / "migrations"
# What a catalog that cannot be reached raises (refused, cut, a standby's read-only answer
# during a failover): the recorder records on and catalogues later; any other error is a
# bug of its own.
UNREACHABLE = (OperationalError, InterfaceError, InternalError)
# Connections kept open. `kuzet serve` has up to 40 API worker threads (AnyIO's default)
# beside one thread per camera; a smaller pool makes every burst of requests open and
# close connections (measured: a third of the API's time went to connecting and to
# SQLite's per-connection pragmas). A SQLite connection costs a few hundred kilobytes;
# PostgreSQL ones are dearer and shared by several nodes, so fewer are kept there.
SQLITE_POOL = 40
POSTGRES_POOL = 15


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=SQLITE_POOL, max_overflow=SQLITE_POOL)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POSTGRES_POOL,
                         max_overflow=POSTGRES_POOL)


def alembic_config(engine: Engine) -> Config:
    cfg = alembic_config_bare()
    cfg.attributes["engine"] = engine
    return cfg


class SchemaTooNew(RuntimeError):
    """The catalog was migrated by a newer Kuzet than this one (a rolling upgrade's node
    not upgraded yet): this server must not write rows it does not know the shape of."""


def schema_head() -> str:
    """The newest migration this Kuzet knows."""
    head = ScriptDirectory.from_config(alembic_config_bare()).get_current_head()
    assert head is not None
    return head


def alembic_config_bare() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def schema_of(engine: Engine) -> str | None:
    """The migration the catalog is at (None: an empty catalog)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent); `SchemaTooNew`, naming both
    revisions, when the catalog is at one this Kuzet does not know."""
    current = schema_of(engine)
    script = ScriptDirectory.from_config(alembic_config_bare())
    if current is not None:
        try:
            script.get_revision(current)
        except (CommandError, ResolutionError):
            raise SchemaTooNew(
                f"the catalog's schema is at revision {current}, which this Kuzet "
                f"{version('kuzet')} (schema {script.get_current_head()}) does not know: a "
                f"newer Kuzet migrated it. Upgrade this server before starting it "
                f"(docs/guide/cluster.md, rolling upgrade)") from None
    command.upgrade(alembic_config(engine), "head")
