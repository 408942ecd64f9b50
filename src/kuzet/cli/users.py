"""`kuzet user …`: accounts from the server's command line.

The command line is the root of trust (docs/design/access.md): only here can the rector
role be given or taken, and an account be unlocked without another account. Every act is
audited with source `local` and the operating-system user who ran it.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from kuzet.access.accounts import Accounts
from kuzet.access.roles import Roles
from kuzet.cli.common import emit, fail, local_actor, open_catalog, read_settings
from kuzet.errors import KuzetError

user_app = typer.Typer(help="Accounts from the server's command line (rector-level roles "
                       "are given only here).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _services() -> tuple[Accounts, Roles]:
    catalog = open_catalog(read_settings())
    return Accounts(catalog.session), Roles(catalog.session)


@user_app.command("add")
def user_add(name: str,
             display_name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
             role: Annotated[str | None, typer.Option(help="Role to give (or request).")] = None,
             order: Annotated[str | None, typer.Option(help="Rector's order number "
                                                         "(administrator).")] = None,
             order_date: Annotated[str | None, typer.Option("--date", help="The order's date, "
                                                             "YYYY-MM-DD.")] = None) -> None:
    """Create an account with a one-time password; optionally give it a role."""
    accounts, roles = _services()
    now = time.time_ns()
    try:
        new = accounts.create(local_actor(), name, display_name, now)
        typer.echo(f"account {name}: one-time password {new.one_time_password} (shown once)")
        if role:
            view = roles.request(local_actor(), name, role, order_no=order, order_date=order_date,
                                 now_ns=now)
            typer.echo(f"role {role}: {view.state} (request {view.id})")
    except KuzetError as exc:
        raise fail(str(exc)) from exc


@user_app.command("role")
def user_role(name: str, role: str,
              group: Annotated[str | None, typer.Option(help="Camera group it covers.")] = None,
              order: Annotated[str | None, typer.Option(help="Rector's order number.")] = None,
              order_date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD.")]
              = None) -> None:
    """Give a role; one that reaches stored video waits for the rector (except rector)."""
    _, roles = _services()
    try:
        view = roles.request(local_actor(), name, role, group=group, order_no=order,
                             order_date=order_date, now_ns=time.time_ns())
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"role {role} for {name}: {view.state} (request {view.id})")


@user_app.command("revoke")
def user_revoke(assignment: int) -> None:
    """End a role assignment (by its number in `kuzet user list`)."""
    _, roles = _services()
    try:
        roles.revoke(local_actor(), assignment, time.time_ns())
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"role assignment {assignment} revoked")


@user_app.command("reset-password")
def user_reset_password(name: str) -> None:
    """A new one-time password; also lifts a lockout. The only way to reset the rector's
    or the vice-rector's; the second factor stays."""
    accounts, _ = _services()
    try:
        one_time = accounts.reset_password(local_actor(), name, time.time_ns())
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"account {name}: one-time password {one_time} (shown once); its second "
               "factor stays, so only its owner can log in with it")


@user_app.command("totp-reset")
def user_totp_reset(name: str) -> None:
    """Ask that a lost second factor be removed (when its owner has no recovery code
    left); the rector or the vice-rector confirms it in the console."""
    accounts, _ = _services()
    try:
        accounts.request_totp_reset(local_actor(), name, time.time_ns())
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"account {name}: second-factor reset asked; it takes effect when the rector "
               "or the vice-rector confirms it in the console (Approvals)")


@user_app.command("list")
def user_list(as_json: JsonOpt = False) -> None:
    """Accounts with their role assignments."""
    accounts, roles = _services()
    now = time.time_ns()
    by_user: dict[str, list[dict[str, Any]]] = {}
    for a in roles.assignments():
        by_user.setdefault(a.user, []).append({"id": a.id, "role": a.role, "group": a.group,
                                               "state": a.state, "order_no": a.order_no,
                                               "order_date": a.order_date})
    locked = accounts.locked(now)
    rows = [{"name": u.name, "display_name": u.display_name, "disabled": u.disabled,
             "locked": u.name in locked, "second_factor": u.totp_confirmed,
             "roles": by_user.get(u.name, [])} for u in accounts.list()]
    emit(rows, as_json, lambda r: f"{r['name']:<20} "
          + ", ".join(f"{a['role']}#{a['id']}({a['state']})" for a in r["roles"])
          + (" disabled" if r["disabled"] else "") + (" locked" if r["locked"] else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
