"""`kuzet place`: places under the cameras' view, their warning signs and the coverage
report, read from the server's command line (UE-10-22 3.4.5; issue 23). They are kept in
the console or the API (`equipment.admin`); here they are read, for a script or an
inspection."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from kuzet.cli.common import JsonOpt, emit, open_catalog, read_settings

if TYPE_CHECKING:  # imported where used (kuzet.cli.common says why)
    from kuzet.catalog.store import Catalog
    from kuzet.notice.coverage import Finding, PlaceFacts

place_app = typer.Typer(help="Places under the cameras' view and their warning signs "
                        "(3.4.5): the register and the coverage report.",
                        no_args_is_help=True)


def findings(catalog: Catalog) -> tuple[list[Finding], list[PlaceFacts]]:
    """The coverage report's findings on the campus's today, and the places: what `kuzet
    place coverage` prints and `kuzet verify` warns of."""
    from kuzet.notice.places import Places

    settings = read_settings()
    return Places(catalog.session, settings.buildings, time.time_ns,
                  settings.display_timezone).findings(catalog.cameras(),
                                                      settings.sign_check_days)


@place_app.command("list")
def place_list(as_json: JsonOpt = False) -> None:
    """Every place with its zone, cameras and signs in place."""
    _, places = findings(open_catalog(read_settings()))
    rows = [{"name": p.name, "building": p.building, "floor": p.floor, "room": p.room,
             "zone": p.zone, "kind": p.kind, "cameras": list(p.cameras),
             "signs": sum(1 for s in p.signs if s.removed is None)} for p in places]
    if not rows and not as_json:  # silence would read as a command that did nothing
        typer.echo("no place in the register")
        return
    emit(rows, as_json, lambda r: (
        f"{r['name']:<20} {r['building']}, {r['floor'] or '-'}, {r['room']} ({r['zone']}, "
        f"{r['kind']}): cameras {' '.join(r['cameras']) or '-'}; signs {r['signs']}"))


@place_app.command("coverage")
def place_coverage(as_csv: Annotated[bool, typer.Option("--csv", help=(
        "The report as CSV, as the console's export writes it."))] = False,
                   as_json: JsonOpt = False) -> None:
    """The coverage report: cameras covering no place, places with cameras and no sign
    (rooms 3.4.5 names marked), signs overdue for a check."""
    from kuzet.notice.printed import coverage_csv

    found, _ = findings(open_catalog(read_settings()))
    if as_csv:
        typer.echo(coverage_csv(found), nl=False)
        return
    rows = [{"finding": f.finding, "building": f.building, "floor": f.floor,
             "place": f.place, "room": f.room, "zone": f.zone, "named_room": f.named,
             "cameras": list(f.cameras), "sign": f.sign, "since": f.since} for f in found]
    if not rows and not as_json:
        typer.echo("nothing found: a sign stands before every place with cameras")
        return
    emit(rows, as_json, lambda r: (
        f"{r['finding'] + (' (3.4.5 room)' if r['named_room'] else ''):<22} "
        f"{r['building'] or '-'}, {r['floor'] or '-'}, {r['place'] or '-'}: "
        f"cameras {' '.join(r['cameras'])}" + (f"; since {r['since']}" if r["since"] else "")))


def register(app: typer.Typer) -> None:
    app.add_typer(place_app, name="place")
