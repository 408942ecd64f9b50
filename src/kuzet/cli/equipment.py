"""`kuzet equipment …`: the equipment register from the server's command line (issue 22).

The IT office's first installation is a spreadsheet of hundreds of items, and its daily work
is a check, a fault or a repair written beside the item: both are here as on the console,
through the same `kuzet.equipment.Register`, so a row is refused in the same words on
either path. Every change is audited as `local:<operating-system user>@<host>` in the
change's own transaction, and that name is the log's `by`. A recorded camera enters the
register through `kuzet camera add` (or an import row with its url and zone); here its
passport is edited.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kuzet.audit.actions import AuditAction
from kuzet.cli.common import JsonOpt, emit, fail, local_actor, open_catalog, read_settings
from kuzet.equipment.fields import LINK_FIELDS, TEXT_FIELDS, EntryKind, Kind, State
from kuzet.errors import KuzetError

if TYPE_CHECKING:  # imported where used (kuzet.cli.common says why)

    from kuzet.catalog.store import Catalog
    from kuzet.config import Settings
    from kuzet.equipment.fields import Passport
    from kuzet.equipment.register import Audit, Entry, Register

equipment_app = typer.Typer(help="The equipment register (technical passport): cameras, "
                            "monitors, UPSes, servers, switches, storage, software; their "
                            "checks, faults and repairs.", no_args_is_help=True)

KINDS = ", ".join(Kind)
STATES = ", ".join(State)
FIELDS = (*TEXT_FIELDS, *LINK_FIELDS)
KindArg = Annotated[str, typer.Argument(help=f"One of {KINDS}.")]
StateOpt = Annotated[str | None, typer.Option(help=f"One of {STATES}.")]
# The passport's options, one per field, as `add` and `set` take them ("" clears a field).
Model = Annotated[str | None, typer.Option(help="Model.")]
Manufacturer = Annotated[str | None, typer.Option(help="Manufacturer.")]
Serial = Annotated[str | None, typer.Option(help="Serial number (unique in the register).")]
InventoryNo = Annotated[str | None, typer.Option(help="Inventory number (unique).")]
Firmware = Annotated[str | None, typer.Option(help="Firmware or software version.")]
Mac = Annotated[str | None, typer.Option(help="MAC address, aa:bb:cc:dd:ee:ff.")]
Ip = Annotated[str | None, typer.Option(help="IPv4 or IPv6 address.")]
Building = Annotated[str | None, typer.Option(help="Building (one of `buildings` if set).")]
Floor = Annotated[str | None, typer.Option(help="Floor.")]
Room = Annotated[str | None, typer.Option(help="Room or place (a camera's location).")]
Installed = Annotated[str | None, typer.Option(help="Installation date, YYYY-MM-DD.")]
Responsible = Annotated[str | None, typer.Option(help="The person responsible.")]
Uplink = Annotated[str | None, typer.Option(help="The switch it is connected to.")]
UplinkPort = Annotated[str | None, typer.Option(help="The switch's port.")]
Power = Annotated[str | None, typer.Option(help="The UPS it is powered from.")]
PartOf = Annotated[str | None, typer.Option(help="The array or server it belongs to.")]
Notes = Annotated[str | None, typer.Option(help="Free notes.")]


def _register() -> tuple[Register, Settings, Catalog]:
    from kuzet.equipment.register import Register

    settings = read_settings()
    catalog = open_catalog(settings)
    return Register(catalog.session, settings.buildings), settings, catalog


def _audit(action: AuditAction, **extra: Any) -> Audit:
    """The register's `Audit` callback for the server's command line: the local actor's."""
    from kuzet.equipment.register import audited

    return audited(local_actor(), action, **extra)


def _today(zone: str) -> dt.date:
    import time

    from kuzet.timefmt import campus_day

    return campus_day(time.time_ns(), zone)


def _given(options: dict[str, Any]) -> dict[str, str | None]:
    """The passport's fields among a command's options (None: not given)."""
    return {k: options[k] for k in (*TEXT_FIELDS, *LINK_FIELDS)}


def _passport(raw: dict[str, str | None], settings: Settings) -> Passport:
    """The options given, checked as the console's form and a CSV row are; an installation
    date after the campus's today is refused here, where today is known."""
    from kuzet.equipment.fields import check_passport

    return check_passport(raw, settings.buildings, _today(settings.display_timezone))


def _place(r: dict[str, Any]) -> str:
    return " / ".join(r[k] for k in ("building", "floor", "room") if r.get(k)) or "-"


@equipment_app.command("list")
def equipment_list(
    kind: Annotated[str | None, typer.Option(help=f"Only this kind: {KINDS}.")] = None,
    state: Annotated[str | None, typer.Option(help=f"Only this state: {STATES}.")] = None,
    building: Annotated[str | None, typer.Option(help="Only this building.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every item of the register (recorded cameras among them), by kind then name."""
    from kuzet.equipment.fields import check_kind, check_state

    reg, _settings, _catalog = _register()
    try:
        items = reg.items(kind=check_kind(kind).value if kind else None,
                          state=check_state(state).value if state else None,
                          building=building)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    emit([v.row() for v in items], as_json, lambda r: (
        f"{r['kind']:<9} {r['name']:<20} {r['state']:<15} {_place(r):<30} "
        f"{r['model'] or '-'}  serial {r['serial'] or '-'}"))


@equipment_app.command("show")
def equipment_show(name: str, as_json: JsonOpt = False) -> None:
    """An item's passport, the items linked to it, and its log (newest first)."""
    import json

    from kuzet.timefmt import display_instant, format_instant

    reg, settings, _catalog = _register()
    try:
        item = reg.item(name)
        log = reg.history(name)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    linked = reg.linked(name)
    if as_json:
        typer.echo(json.dumps({
            **item.row(), "linked": linked,
            "log": [{"id": e.id, "kind": e.kind, "at": format_instant(e.at_ns),
                     "at_ns": e.at_ns, "by": e.by, "what": e.what, "outcome": e.outcome,
                     "closes": e.closes_id, "alarm": e.alarm_id, "open": e.open}
                    for e in log]}, indent=1, ensure_ascii=False))
        return
    zone = settings.display_timezone
    typer.echo(f"{item.name}: {item.kind}, {item.state}")
    for key in FIELDS:
        if item.values.get(key):
            typer.echo(f"  {key}: {item.values[key]}")
    if linked:
        typer.echo(f"  linked to it: {', '.join(linked)}")
    typer.echo("log:" if log else "log: empty")
    for e in log:
        typer.echo(f"  {e.id:>5} {display_instant(e.at_ns, zone)}  {_entry_line(e)}")


def _entry_line(e: Entry) -> str:
    said = {"ok": " [ok]", "fault": " [FAULT]"}.get(e.outcome or "", "")
    closes = f" (closes {e.closes_id})" if e.closes_id is not None else ""
    still = " (OPEN)" if e.open else ""
    return f"{e.kind:<6} {e.what}{said}{closes}{still}  by {e.by}"


@equipment_app.command("add")
def equipment_add(
    kind: KindArg, name: str,
    model: Model = None, manufacturer: Manufacturer = None, serial: Serial = None,
    inventory_no: InventoryNo = None, firmware: Firmware = None, mac: Mac = None,
    ip: Ip = None, building: Building = None, floor: Floor = None, room: Room = None,
    installed: Installed = None, responsible: Responsible = None, uplink: Uplink = None,
    uplink_port: UplinkPort = None, power: Power = None, part_of: PartOf = None,
    notes: Notes = None, state: StateOpt = None,
) -> None:
    """Enter an item that is not a camera (a camera enters with `kuzet camera add`; then
    `kuzet equipment set` writes its passport)."""
    from kuzet.equipment.fields import check_kind, check_state

    raw = _given(locals())
    reg, settings, _catalog = _register()
    try:
        passport = _passport(raw, settings)
        item = reg.add(check_kind(kind), name, passport, by=local_actor().name,
                       state=check_state(state) if state else State.IN_SERVICE,
                       audit=_audit(AuditAction.EQUIPMENT_ADD))
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"added {item.kind} {item.name} ({item.state})")


@equipment_app.command("set")
def equipment_set(
    name: str,
    model: Model = None, manufacturer: Manufacturer = None, serial: Serial = None,
    inventory_no: InventoryNo = None, firmware: Firmware = None, mac: Mac = None,
    ip: Ip = None, building: Building = None, floor: Floor = None, room: Room = None,
    installed: Installed = None, responsible: Responsible = None, uplink: Uplink = None,
    uplink_port: UplinkPort = None, power: Power = None, part_of: PartOf = None,
    notes: Notes = None, state: StateOpt = None,
) -> None:
    """Change an item's passport or state: each option given is written, "" clears it; the
    item's log keeps what it was. A camera's building, floor and room are the camera's own
    (the console's tree)."""
    from kuzet.equipment.fields import check_state

    raw = _given(locals())
    if state is None and all(v is None for v in raw.values()):
        raise fail("say what to change: an option such as --serial, --uplink or --state")
    reg, settings, _catalog = _register()
    try:
        passport = _passport(raw, settings)
        before = reg.item(name).row()
        after = reg.update(name, passport, by=local_actor().name,
                           state=check_state(state) if state else None,
                           audit=_audit(AuditAction.EQUIPMENT_CHANGE)).row()
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    changed = [f"{k}: {before[k] or '-'} -> {v or '-'}" for k, v in after.items()
               if before[k] != v]
    typer.echo(f"{name}: " + ("; ".join(changed) if changed else "nothing changed"))


@equipment_app.command("log")
def equipment_log(
    name: str,
    kind: Annotated[str, typer.Argument(help="check, fault or repair.")],
    what: Annotated[str, typer.Argument(help="What was done or found.")],
    outcome: Annotated[str | None, typer.Option(help="A check's: ok or fault.")] = None,
    closes: Annotated[int | None, typer.Option(help=(
        "The fault (its number in `show`) a repair closes."))] = None,
) -> None:
    """Write a check (--outcome ok or fault: a failed check opens a fault and makes the
    item faulty), a fault (the item turns faulty), or a repair closing a fault (--closes;
    the item is back in service once none is open)."""
    if kind not in (EntryKind.CHECK, EntryKind.FAULT, EntryKind.REPAIR):
        raise fail(f"log entry {kind!r}: check, fault or repair (a change is written with "
                   "`kuzet equipment set`)")
    reg, _settings, _catalog = _register()
    try:
        entry = reg.write_log(name, EntryKind(kind), what, by=local_actor().name,
                              outcome=outcome, closes=closes,
                              audit=_audit(AuditAction.EQUIPMENT_LOG))
        state = reg.item(name).state
        opened = [e.id for e in reg.history(name) if e.open and e.at_ns == entry.at_ns]
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{name}: {entry.kind} {entry.id} written; state {state}")
    for fault in opened:
        typer.echo(f"fault {fault} open: `kuzet equipment log {name} repair WHAT "
                   f"--closes {fault}` closes it")


@equipment_app.command("import")
def equipment_import(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8), the columns `export` writes; "
                                         "a new camera's row adds url, zone, sub_url.")],
    good_rows: Annotated[bool, typer.Option("--good-rows", help=(
        "Import the good rows of a file that has bad ones (else nothing is)."))] = False,
) -> None:
    """Add or change the items of a spreadsheet, all in one transaction. Every bad row is
    reported (line, name, reason); a file with any imports nothing unless --good-rows.
    A camera not yet recorded is added for recording from its row's url and zone."""
    from kuzet.equipment import csvfile
    from kuzet.equipment.register import camera_adder

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}") from exc
    reg, settings, catalog = _register()
    try:
        plan = csvfile.read(data, csvfile.existing_of(reg.items()), tuple(settings.buildings),
                            today=_today(settings.display_timezone), good_rows=good_rows)
    except KuzetError as exc:
        raise fail(f"{file}: {exc}") from exc
    for bad in plan.bad:
        typer.echo(f"line {bad.line} ({bad.name or 'no name'}): {bad.reason}", err=True)
    if not plan.rows:
        if plan.bad:
            raise fail(f"{len(plan.bad)} bad row(s): nothing imported"
                       + ("" if good_rows else " (--good-rows imports the others)"))
        typer.echo("imported: 0 added, 0 changed (no rows)")
        return
    try:
        added, changed = reg.import_rows(
            plan.rows, by=local_actor().name, add_camera=camera_adder(catalog, local_actor()),
            audit=_audit(AuditAction.EQUIPMENT_IMPORT, file=file.name, rows=len(plan.rows),
                         bad_rows=len(plan.bad), cameras=plan.new_cameras))
    except KuzetError as exc:
        raise fail(f"nothing imported: {exc}") from exc
    typer.echo(f"imported: {added} added, {changed} changed"
               + (f" ({len(plan.bad)} bad row(s) left out)" if plan.bad else ""))


@equipment_app.command("export")
def equipment_export(file: Annotated[Path | None, typer.Argument(
        help="CSV file to write (default: standard output).")] = None) -> None:
    """The whole register as CSV (UTF-8), the columns `import` reads; never a camera's
    URL. Importing it back changes nothing."""
    from kuzet.equipment.csvfile import export

    reg, _settings, _catalog = _register()
    items = reg.items()
    text = export(items)
    if file is not None:
        try:
            with file.open("w", newline="", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise fail(f"cannot write {file}: {exc.strerror or exc}") from exc
        typer.echo(f"wrote {len(items)} items to {file}", err=True)
        return
    sys.stdout.flush()  # the CSV's CRLF rows as written, UTF-8 whatever the locale says
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


@equipment_app.command("passport")
def equipment_passport(
    file: Annotated[Path, typer.Argument(help="PDF file to write.")],
    lang: Annotated[str, typer.Option(help="kk, ru or en.")] = "kk",
) -> None:
    """The technical passport of the whole complex (UE-10-22 3.3.1-3.3.8) as a PDF: every
    item by kind, counts by state, open faults and checks due; audited."""
    import time

    from kuzet.cli.common import audited_read
    from kuzet.equipment.passport import passport_of

    if lang not in ("kk", "ru", "en"):
        raise fail("--lang must be kk, ru or en")
    reg, settings, catalog = _register()
    try:
        pdf = passport_of(reg, organisation=settings.organisation, lang=lang,
                          font=settings.document_font, now_ns=time.time_ns(),
                          zone=settings.display_timezone,
                          intervals=settings.check_interval_days)
        file.write_bytes(pdf)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"cannot write {file}: {exc.strerror or exc}") from exc
    audited_read(catalog, AuditAction.EQUIPMENT_EXPORT, "equipment", document="passport",
                 lang=lang, bytes=len(pdf))
    typer.echo(f"wrote the passport ({len(pdf)} bytes) to {file}")


@equipment_app.command("due")
def equipment_due(
    within: Annotated[int, typer.Option(min=0, max=3660, help=(
        "Also list checks due within this many days."))] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Scheduled checks overdue or due soon (setting `check_interval_days`), most overdue
    first; the campus's today is the display zone's."""
    from kuzet.equipment.schedule import due_checks

    reg, settings, _catalog = _register()
    zone = settings.display_timezone
    due = due_checks(reg.items(), reg.last_checks(), settings.check_interval_days,
                     _today(zone), zone, within_days=within)
    rows = [{"name": d.name, "kind": d.kind, "due": d.due.isoformat(), "overdue": d.overdue,
             "last_check": d.last_check.isoformat() if d.last_check else None,
             "what": d.what} for d in due]
    if not rows and not as_json:  # silence would read as a command that did nothing
        typer.echo(f"no checks due within {within} days")
        return
    emit(rows, as_json, lambda r: (
        f"{r['due']}  {'OVERDUE' if r['overdue'] else 'due':<7} {r['kind']:<9} "
        f"{r['name']:<20} {r['what']} (last check {r['last_check'] or 'never'})"))


@equipment_app.command("onvif")
def equipment_onvif(
    address: Annotated[str, typer.Argument(help=(
        "The camera: host, host:port or its device service URL (as `discover` lists it)."))],
    user: Annotated[str | None, typer.Option(help="The camera's ONVIF user.")] = None,
    password_file: Annotated[Path | None, typer.Option(help=(
        "A file whose first line is the password (else $KUZET_ONVIF_PASSWORD)."))] = None,
    add: Annotated[str | None, typer.Option("--add", metavar="NAME", help=(
        "Add it for recording under NAME (main and sub stream) and write its passport."))]
    = None,
    zone: Annotated[str | None, typer.Option(help="With --add: its installation zone.")]
    = None,
    timeout: Annotated[float, typer.Option(min=0.1, max=60, help=(
        "Seconds each ONVIF request may take."))] = 5.0,
    set_ntp: Annotated[list[str] | None, typer.Option("--set-ntp", metavar="SERVER", help=(
        "Point the camera's clock at this time server (the campus's, 3.4.1) first; repeat "
        "for more. Audited camera.ntp."))] = None,
    as_json: JsonOpt = False,
) -> None:
    """A camera over ONVIF: its make, model, serial and firmware, its media profiles, the
    main and sub stream URLs (password masked) and its clock against this server's. With
    --add it is added as `kuzet camera add` adds one, its passport written and its clock
    read by `kuzet serve` over ONVIF (`kuzet camera onvif`); with --set-ntp its clock is
    set to follow the campus's time servers."""
    from kuzet.cli.onvif import read_camera

    read_camera(address, user, password_file, add, zone, timeout, as_json, set_ntp)


@equipment_app.command("discover")
def equipment_discover(
    timeout: Annotated[float, typer.Option(min=0.2, max=30, help=(
        "Seconds to wait for answers."))] = 2.0,
    to: Annotated[str | None, typer.Option(help=(
        "Probe this host[:port] (3702) rather than the LAN's multicast group."))] = None,
    as_json: JsonOpt = False,
) -> None:
    """The ONVIF cameras on the LAN (WS-Discovery): each one's device service URL, name,
    hardware and location as it says them, and its endpoint address."""
    from kuzet.cli.onvif import discover

    discover(timeout, to, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(equipment_app, name="equipment")
