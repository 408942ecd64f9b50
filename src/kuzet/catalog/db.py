"""Engine creation and schema migration for SQLite (embedded) and PostgreSQL (multi-node)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

MIGRATIONS = Path(__file__).parent / "migrations"
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
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    command.upgrade(alembic_config(engine), "head")
