"""`kuzet edition`: the regulation's editions and amendments read from the server's command
line (UE-10-22 4.1, 4.3; issue 23). Deciding one is the rector's, with the rector's own
account and second factor in the console: `approve` and `reject` here are refused by the
approval machine, the attempt audited, as `kuzet hold approve` is."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from kuzet.cli.common import (
    JsonOpt,
    emit,
    local_actor,
    open_catalog,
    read_settings,
    refused_always,
)

if TYPE_CHECKING:  # imported where used (kuzet.cli.common says why)
    from kuzet.notice.editions import Editions

edition_app = typer.Typer(help="The regulation's editions and amendments (4.1, 4.3): the "
                          "register and the one in force; the rector decides in the console.",
                          no_args_is_help=True)


def _editions() -> Editions:
    from kuzet.notice.editions import Editions

    settings = read_settings()
    return Editions(open_catalog(settings).session, settings.display_timezone)


@edition_app.command("list")
def edition_list(as_json: JsonOpt = False) -> None:
    """Every edition and amendment, newest first, with its state, the rector's order and
    the day it takes effect; the one in force marked."""
    editions = _editions()
    force = editions.in_force(time.time_ns())
    rows = [{"id": e.id, "label": e.label(), "title": e.title, "state": e.state,
             "order_no": e.order_no, "order_date": e.order_date, "effective": e.effective,
             "in_force": force is not None and force.id == e.id,
             "prepared_by": e.prepared_by, "decided_by": e.decided_by}
            for e in editions.listing()]
    if not rows and not as_json:  # silence would read as a command that did nothing
        typer.echo("no edition of the regulation in the register")
        return
    emit(rows, as_json, lambda r: (
        f"{r['id']:>4}  {r['label']:<28} {r['state']:<10} "
        + (f"order {r['order_no']} of {r['order_date']}, effective {r['effective']}"
           if r["order_no"] else "-")
        + ("  IN FORCE" if r["in_force"] else "") + f"  {r['title']}"))


def _refused(decide: Callable[[Editions], object]) -> None:
    """A decision of the rector's tried on the command line: the approval machine refuses
    it (4.1, 4.3), the refusal is audited with the operating-system user, and the command
    exits 2 naming the clauses. Nothing changes."""
    raise refused_always(lambda: decide(_editions()), "an edition")


@edition_app.command("approve")
def edition_approve(
    edition: int,
    order_no: Annotated[str, typer.Option(help="The rector's order.")],
    order_date: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    effective: Annotated[str, typer.Option(help="YYYY-MM-DD: the day it takes effect.")],
) -> None:
    """Refused, always: only the rector approves an edition, in the console (4.1, 4.3).
    The attempt is audited."""
    _refused(lambda e: e.approve(local_actor(), edition, order_no, order_date, effective,
                                 time.time_ns()))


@edition_app.command("reject")
def edition_reject(edition: int, note: Annotated[str, typer.Option(help="Why.")] = "") -> None:
    """Refused, always: only the rector rejects an edition, in the console (4.1). The
    attempt is audited."""
    _refused(lambda e: e.reject(local_actor(), edition, note, time.time_ns()))


def register(app: typer.Typer) -> None:
    app.add_typer(edition_app, name="edition")
