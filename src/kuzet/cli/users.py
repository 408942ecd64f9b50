"""`kuzet user …`: accounts from the server's command line, and `kuzet init`'s first ones.

The command line makes accounts, asks for roles and unlocks an account without another
account; it takes none of the rector's decisions (docs/design/access.md). Only here is the
rector role asked for: given at once while no rector is active (the first rector, a
one-time step on the server), else waiting for the current rector in the console. A role
that reaches stored video, once active, is taken away by the rector alone, and one that
shows a picture waits for the rector too (whoever has a shell sees no stored video). Every
act is audited as `local:<operating-system user>@<host>`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kuzet.cli.common import emit, fail, local_actor, open_catalog, read_settings
from kuzet.errors import KuzetError

if TYPE_CHECKING:  # imported where used (kuzet.cli.common says why)
    from kuzet.access.accounts import Accounts
    from kuzet.access.roles import Roles
    from kuzet.catalog.store import Catalog

user_app = typer.Typer(help="Accounts from the server's command line (the rector role is "
                       "asked for only here; the rector decides in the console).",
                       no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _services() -> tuple[Accounts, Roles]:
    from kuzet.access.accounts import Accounts
    from kuzet.access.roles import Roles

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
            typer.echo(f"role {role}: {view.state} (request {view.id}){_waits(view.state)}")
    except KuzetError as exc:
        raise fail(str(exc)) from exc


def _waits(state: str) -> str:
    return ("; it takes effect when the rector approves it in the console (Approvals)"
            if state == "pending" else "")


@user_app.command("role")
def user_role(name: str, role: str,
              group: Annotated[str | None, typer.Option(help="Camera group it covers.")] = None,
              order: Annotated[str | None, typer.Option(help="Rector's order number.")] = None,
              order_date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD.")]
              = None) -> None:
    """Give a role; one that reaches stored video or shows a picture waits for the
    rector, and so does the rector role while a rector is active."""
    _, roles = _services()
    try:
        view = roles.request(local_actor(), name, role, group=group, order_no=order,
                             order_date=order_date, now_ns=time.time_ns())
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"role {role} for {name}: {view.state} (request {view.id}){_waits(view.state)}")


@user_app.command("revoke")
def user_revoke(assignment: int) -> None:
    """End a role assignment (by its number in `kuzet user list`): a pending one asked for
    here, or an active one that reaches no stored video; the rest are the rector's
    (refused here, audited)."""
    _, roles = _services()
    try:
        roles.revoke(local_actor(), assignment, time.time_ns())
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"role assignment {assignment} revoked")


@user_app.command("reset-password")
def user_reset_password(name: str) -> None:
    """A new one-time password; also lifts a lockout. The only way to reset the rector's
    or the vice-rector's; the second factor stays. Refused (audited) for an account that
    holds or awaits a role reaching stored video or a rector's decision and has no second
    factor."""
    accounts, _ = _services()
    try:
        one_time = accounts.reset_password(local_actor(), name, time.time_ns())
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    guarded = any(u.totp_confirmed for u in accounts.list() if u.name == name)
    typer.echo(f"account {name}: one-time password {one_time} (shown once); "
               + ("its second factor stays, so only its owner can log in with it" if guarded
                  else "it has no second factor: give the password to its owner in person"))


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


def first_administrator(catalog: Catalog) -> str | None:
    """On an empty system, `admin`: the installer role at once (cameras, accounts, status;
    no picture, clause 3.4.2) and the administrator role asked for, waiting for the rector
    to approve it with the order's number and date. Its one-time password, or None when
    accounts exist."""
    from kuzet.access.accounts import Accounts
    from kuzet.access.roles import Roles

    accounts, roles = Accounts(catalog.session), Roles(catalog.session)
    if accounts.list():
        return None
    actor, now = local_actor(), time.time_ns()
    new = accounts.create(actor, "admin", "Administrator", now)
    roles.request(actor, "admin", "administrator", now_ns=now, bootstrap=True)
    roles.request(actor, "admin", "installer", now_ns=now)
    return new.one_time_password


def demo_rector(catalog: Catalog) -> str | None:
    """`kuzet demo`'s rector, made as `kuzet user add rector --role rector` would be, while
    no rector is active and no account has the name: its one-time password, or None."""
    from kuzet.access.accounts import Accounts
    from kuzet.access.roles import RECTOR, Roles

    accounts, roles = Accounts(catalog.session), Roles(catalog.session)
    if any(u.name == RECTOR for u in accounts.list()) or any(
            a.role == RECTOR for a in roles.assignments(state="active")):
        return None
    actor, now = local_actor(), time.time_ns()
    new = accounts.create(actor, RECTOR, "Rector (demo)", now)
    roles.request(actor, RECTOR, RECTOR, now_ns=now)
    return new.one_time_password


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
