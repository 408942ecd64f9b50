"""What the `kuzet` command's modules share: the settings, the catalog and volumes a
command opens, its errors and instants, the operating-system user who runs it and the
audit entries of its changes, rows printed for people or programs.

`cli.main` builds the command from the sub-command modules (`storage`, `users`, `export`,
`analytics`); they build on this module, never on `cli.main`. The catalog, the audit log
and the rest are imported by the functions that use them, not at the top: every `kuzet`
process imports all the command modules to know its commands, and their top-level
imports cost 2.6 s of CPU at each start (`kuzet sim`, `kuzet status`), 1.2 s now.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from kuzet.audit.actions import AuditAction
from kuzet.config import Settings, load_settings
from kuzet.timefmt import TimeFormatError, display_instant, parse_instant

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kuzet.audit.log import Actor
    from kuzet.catalog.store import Catalog
    from kuzet.storage.volumes import Volumes

JsonOpt = Annotated[bool, typer.Option("--json")]
ACTOR_CHARS = 64  # the audit log's actor column


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def refused_always(decide: Callable[[], object], what: str) -> typer.Exit:
    """A decision of the rector's tried on the command line: the approval machine refuses
    it, the refusal is in the audit log with the operating-system user and host, and the
    command exits 2 naming the clause. Nothing changes. (`what`: "a hold", "an edition".)"""
    from kuzet.errors import KuzetError

    try:
        decide()
    except KuzetError as exc:
        return fail(str(exc))
    return fail(f"the command line decided {what}: a bug, tell the developers")


def read_settings(**given: Any) -> Settings:
    try:
        return load_settings(**given)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise fail("invalid settings: " + "; ".join(lines)) from exc


SQLITE_NODE = ("a node of a cluster records into a shared PostgreSQL catalog: set "
               "database_url to it (postgresql+psycopg://...). SQLite is the single "
               "server's catalog: start without --node / KUZET_NODE")


def open_catalog(settings: Settings) -> Catalog:
    """The catalog, migrated to this Kuzet's schema; refused, naming why, when this
    server is a node (`node`) on SQLite or the catalog is newer than this Kuzet."""
    from kuzet.catalog.db import SchemaTooNew, make_engine, migrate
    from kuzet.catalog.store import Catalog

    logging.getLogger("alembic").setLevel(logging.WARNING)
    if settings.node is not None and settings.catalog_url.startswith("sqlite"):
        raise fail(SQLITE_NODE)
    engine = make_engine(settings.catalog_url)
    try:
        migrate(engine)
    except SchemaTooNew as exc:
        raise fail(str(exc)) from exc
    return Catalog(engine, settings.node)


def open_volumes(settings: Settings, catalog: Catalog) -> Volumes:
    from kuzet.catalog.alarms import Alarms
    from kuzet.storage.volumes import Volumes

    return Volumes(catalog, settings, Alarms(catalog.session))


def instant(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except TimeFormatError as exc:
        raise fail(str(exc)) from exc


def shown(iso: str | None, zone: str, *, fraction: bool = False) -> str:
    """A row's instant (UTC ISO 8601, as `--json` prints it) as a person reads it: the
    display zone's wall time with its offset, the console's time (issue 21); `-` for
    none."""
    return "-" if iso is None else display_instant(parse_instant(iso), zone,
                                                   fraction=fraction)


def local_actor() -> Actor:
    """Whoever runs `kuzet` on the server: `local:<operating-system user>@<host>`, source
    `local`, holding no role. Never a name typed on the command line: a shell is not a
    person's account, so the audit log names what the operating system knows (4.2): the
    effective user id's account, not LOGNAME or USER, which whoever runs the command sets
    as they like (`getpass.getuser` reads them first). Under sudo the account it was run
    from (SUDO_USER) goes into each entry's detail as `sudo_user`: sudo sets it, but so
    could anyone, so it is what the caller claims beside what the system knows. The host
    is its first label, cut so that the name fits the audit log's 64 characters."""
    import os
    import pwd
    import socket

    from kuzet.audit.log import Actor

    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:  # a user id with no account (a container's): the number itself
        user = f"uid{uid}"
    host = socket.gethostname().split(".")[0]
    name = f"local:{user}@{host}"
    sudo = os.environ.get("SUDO_USER")
    return Actor(name[:ACTOR_CHARS], (), "local",
                 (("sudo_user", sudo[:ACTOR_CHARS]),) if sudo else ())


def audited_read(catalog: Catalog, action: AuditAction, subject: str, **detail: Any) -> None:
    """A read on the server's command line, in the audit log like the API's (4.2): what
    was read and how much, by the operating-system user and host."""
    from kuzet.audit.log import AuditLog

    AuditLog(catalog.session).act(local_actor(), action, subject, **detail)


def audited(action: AuditAction, subject: str,
            **detail: Any) -> Callable[[Session, object], object]:
    """The audit entry (4.2) of a configuration change made on the server's command line,
    for the change to write in its own transaction (`Catalog.add_camera(audit=...)`)."""
    from kuzet.audit.log import append_act

    actor = local_actor()
    return lambda s, _row: append_act(s, actor, action, subject, **detail)


def emit(rows: list[dict[str, Any]], as_json: bool,
         line: Callable[[dict[str, Any]], str]) -> None:
    """Rows as JSON for programs, or one line each for people."""
    if as_json:
        typer.echo(json.dumps(rows, indent=1, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(line(r))
