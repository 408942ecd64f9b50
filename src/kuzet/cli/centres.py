"""`kuzet centre`: the centres that receive live video, read from the server's command
line (UE-10-22 3.2.11; issue 24). A centre, and each change of its cameras, comes into
force only by the rector's approval, with the rector's own account and second factor in
the console or the API: `approve` and `reject` here are refused by the approval machine,
the attempt audited. `disable` sends less video, never more, and is taken here too (IT on
duty at night may have to stop a feed at once)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from kuzet.cli.common import (
    JsonOpt,
    emit,
    fail,
    local_actor,
    open_catalog,
    read_settings,
    refused_always,
)
from kuzet.errors import KuzetError

if TYPE_CHECKING:  # imported where used (kuzet.cli.common says why)
    from kuzet.restream.centres import Centres, CentreView

centre_app = typer.Typer(help="Centres that receive live video (3.2.11): the register; the "
                         "rector decides in the console.", no_args_is_help=True)


def _centres() -> Centres:
    from kuzet.access.secretbox import SecretBox, key_path
    from kuzet.restream.centres import Centres

    settings = read_settings()
    return Centres(open_catalog(settings).session, SecretBox(key_path(settings.home)),
                   settings.display_timezone, time.time_ns)


def _row(c: CentreView) -> dict[str, object]:
    pending = [r.id for r in c.requests if r.state == "pending"]
    return {"id": c.id, "name": c.name, "kind": c.kind, "state": c.state,
            "addresses": c.addresses, "cameras": c.cameras, "username": c.username,
            "valid_from": c.valid_from, "valid_until": c.valid_until,
            "basis": f"{c.basis_no} of {c.basis_date}", "pending_requests": pending}


@centre_app.command("list")
def centre_list(as_json: JsonOpt = False) -> None:
    """Every centre: its state, addresses, the cameras in force and requests pending."""
    rows = [_row(c) for c in _centres().listing()]
    if not rows and not as_json:
        typer.echo("no centre in the register")
        return
    emit(rows, as_json, lambda r: (
        f"{r['id']:>4}  {r['name']:<28} {r['state']:<9} from {', '.join(r['addresses'])}"
        f"  cameras: {', '.join(f'{k}/{v}' for k, v in r['cameras'].items()) or '-'}"
        + (f"  pending: {', '.join(map(str, r['pending_requests']))}"
           if r["pending_requests"] else "")))


@centre_app.command("disable")
def centre_disable(centre: int) -> None:
    """No more video to the centre, at once (its sessions end within a second)."""
    try:
        c = _centres().disable(local_actor(), centre, time.time_ns())
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"centre {c.name}: disabled")


def _refused(decide: Callable[[Centres], object]) -> None:
    """A decision of the rector's tried on the command line: refused and audited."""
    raise refused_always(lambda: decide(_centres()), "a centre request")


@centre_app.command("approve")
def centre_approve(request: int) -> None:
    """Refused, always: only the rector approves a centre or its cameras, in the console
    or the API (3.2.11). The attempt is audited."""
    _refused(lambda c: c.approve(local_actor(), request, time.time_ns()))


@centre_app.command("reject")
def centre_reject(request: int,
                  note: Annotated[str, typer.Option(help="Why.")] = "") -> None:
    """Refused, always: only the rector rejects a centre request (3.2.11). Audited."""
    _refused(lambda c: c.reject(local_actor(), request, note, time.time_ns()))


def register(app: typer.Typer) -> None:
    app.add_typer(centre_app, name="centre")
