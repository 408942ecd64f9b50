"""`kuzet hold`, `kuzet volume`, `kuzet alarms` and `kuzet audit`: storage administration.

None of these commands deletes or edits a recording: holds only protect footage, a
volume is removed only once it holds nothing (tests/test_no_edit_path.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kuzet.audit.actions import AuditAction
from kuzet.cli.common import (
    JsonOpt,
    audited,
    audited_read,
    emit,
    fail,
    instant,
    local_actor,
    open_catalog,
    open_volumes,
    read_settings,
    refused_always,
    shown,
)
from kuzet.errors import KuzetError
from kuzet.timefmt import display_instant, format_instant

if TYPE_CHECKING:  # imported where used (kuzet.cli.common says why)
    from kuzet.audit.log import Actor
    from kuzet.governance.holds import Holds

hold_app = typer.Typer(help="Holds: special retention of incident footage (clause 3.3). "
                       "The rector decides them in the console (Approvals), never here.",
                       no_args_is_help=True)
volume_app = typer.Typer(help="Media volumes: add, list, drain, enable, remove.",
                         no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """Bytes from '10G', '500M', '1048576'."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1] if t and t[-1] in _UNITS else ""
    try:
        value = float(t[: len(t) - len(unit)])
    except ValueError as exc:
        raise ValueError(f"size {text!r} is not a number with an optional K, M, G or T") from exc
    if value < 0:
        raise ValueError("a size cannot be negative")
    return int(value * _UNITS[unit])


def _holds() -> Holds:
    from kuzet.governance.holds import Holds

    settings = read_settings()
    return Holds(open_catalog(settings), settings.hold_decision_window_days)


@hold_app.command("request")
def hold_request(
    camera: Annotated[list[str], typer.Option("--camera", help="Camera (repeat for several).")],
    start: Annotated[str, typer.Option("--from", help="ISO 8601 with offset.")],
    end: Annotated[str, typer.Option("--to", help="ISO 8601 with offset.")],
    reason: Annotated[str, typer.Option(help="Why the footage must be kept.")],
    incident: Annotated[str, typer.Option(help="The protocol or act it belongs to.")],
) -> None:
    """Request a hold, as `local:<operating-system user>@<host>` (who asks for it on
    whose behalf belongs in the reason). Its footage is protected while the rector decides,
    which the rector does in the console (Approvals) with their own account and second
    factor (clause 3.3): no command decides a hold."""
    holds = _holds()
    start_ns, end_ns = instant(start), instant(end)
    assert start_ns is not None
    assert end_ns is not None
    actor = local_actor()
    try:
        hold = holds.request(camera, start_ns, end_ns, reason=reason, incident=incident,
                             by=actor.name, via=actor)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    from kuzet.storage.retention import pending_ends_ns

    until = pending_ends_ns(hold.requested_ns, end_ns, holds.window_ns)
    if until <= hold.requested_ns:
        typer.echo(f"hold {hold.id} requested; its footage is past 30 days and the decision "
                   "window, so nothing is kept for it unless the rector approves it "
                   "(clause 3.3; in the console: Approvals)")
        return
    typer.echo(f"hold {hold.id} requested; its footage is protected until "
               f"{display_instant(until, read_settings().display_timezone)} unless the "
               "rector decides before (clause 3.3; in "
               "the console: Approvals)")


def _refused(decide: Callable[[Holds, Actor], object]) -> None:
    """A decision of the rector's tried on the command line: the approval machine refuses
    it (clause 3.3), the refusal is in the audit log with the operating-system user and
    host, and the command exits 2 naming the clause. Nothing changes."""
    raise refused_always(lambda: decide(_holds(), local_actor()), "a hold")


@hold_app.command("approve")
def hold_approve(hold: int, until: Annotated[str, typer.Option(
        "--until", help="ISO 8601 with offset: the end the rector would give.")]) -> None:
    """Refused, always: only the rector approves a hold, in the console (clause 3.3). The
    attempt is audited."""
    expires_ns = instant(until)
    assert expires_ns is not None
    _refused(lambda holds, actor: holds.approve(hold, actor, expires_ns=expires_ns))


@hold_app.command("reject")
def hold_reject(hold: int, note: Annotated[str, typer.Option(help="Why.")]) -> None:
    """Refused, always: only the rector rejects a hold, in the console (clause 3.3). The
    attempt is audited."""
    _refused(lambda holds, actor: holds.reject(hold, actor, note=note))


@hold_app.command("release")
def hold_release(hold: int,
                 note: Annotated[str, typer.Option(help="Why.")] = "") -> None:
    """Refused, always: only the rector ends a hold early, in the console or the API
    (clause 3.3). The attempt is audited."""
    _refused(lambda holds, actor: holds.release(hold, actor, note=note))


@hold_app.command("list")
def hold_list(as_json: JsonOpt = False) -> None:
    """Every hold with its state, ranges and decision trail (the reading is audited)."""
    holds = _holds()
    rows: list[dict[str, Any]] = []
    for v in holds.list():
        h = v.hold
        rows.append({
            "id": h.id, "state": v.state.value, "incident": h.incident, "reason": h.reason,
            "requested_by": h.requested_by, "requested": format_instant(h.requested_ns),
            "approved_by": h.approved_by,
            "approved": format_instant(h.approved_ns) if h.approved_ns else None,
            "expires": format_instant(h.expires_ns) if h.expires_ns else None,
            "rejected_by": h.rejected_by, "released_by": h.released_by,
            "note": h.decision_note,
            "ranges": [{"camera": c, "from": format_instant(a), "to": format_instant(b)}
                       for c, a, b in v.ranges]})
    audited_read(holds.catalog, AuditAction.HOLDS_READ, "holds", count=len(rows))
    zone = read_settings().display_timezone
    emit(rows, as_json, lambda r: (
        f"{r['id']:>4} {r['state']:<9} {r['incident']:<16} "
        f"{', '.join(sorted({x['camera'] for x in r['ranges']}))}  "
        f"expires {shown(r['expires'], zone)}  ({r['reason']})"))


@volume_app.command("add")
def volume_add(name: str, path: Path,
               floor: Annotated[str | None, typer.Option(
                   help="Free space to keep, e.g. 10G (default: settings).")] = None) -> None:
    """Add a disk or mount for new recordings."""
    from kuzet.audit.log import append_act

    settings = read_settings()
    catalog = open_catalog(settings)
    actor = local_actor()
    try:
        vol = open_volumes(settings, catalog).add(
            name, path, parse_size(floor) if floor else None,
            audit=lambda s, v: append_act(s, actor, AuditAction.VOLUME_ADD, v.name, path=v.path,
                                          floor_bytes=v.floor_bytes))
    except (KuzetError, ValueError) as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"added volume {vol.name} at {vol.path}")


def _set_state(name: str, state: str) -> None:
    """`state`: a `kuzet.storage.volumes.VolumeState` value."""
    from kuzet.storage.volumes import VolumeState

    settings = read_settings()
    catalog = open_catalog(settings)
    try:
        open_volumes(settings, catalog).set_state(
            name, VolumeState(state), audit=audited(AuditAction.VOLUME_STATE, name, state=state))
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"volume {name}: {state}")


@volume_app.command("drain")
def volume_drain(name: str) -> None:
    """Stop writing to a volume; its recordings stay and age out by retention."""
    _set_state(name, "draining")


@volume_app.command("enable")
def volume_enable(name: str) -> None:
    """Write to a drained volume again."""
    _set_state(name, "enabled")


@volume_app.command("remove")
def volume_remove(name: str) -> None:
    """Forget a drained volume that holds no more recordings."""
    _set_state(name, "removed")


@volume_app.command("list")
def volume_list(as_json: JsonOpt = False) -> None:
    """Volumes with their state, free space, floor and segment count."""
    settings = read_settings()
    volumes = open_volumes(settings, open_catalog(settings))
    rows: list[dict[str, Any]] = []
    for v in volumes.catalog.volumes(include_removed=True):
        present = volumes.present(v)
        usage = volumes.usage(v) if present else None
        rows.append({"name": v.name, "path": v.path, "state": v.state, "present": present,
                     "total_bytes": usage.total if usage else None,
                     "free_bytes": usage.free if usage else None,
                     "floor_bytes": usage.floor if usage else v.floor_bytes,
                     "segments": volumes.segment_count(v.id)})
    def line(r: dict[str, Any]) -> str:
        free = f"{r['free_bytes'] / 1e9:.1f} GB free" if r["free_bytes"] is not None \
            else "MISSING"
        return f"{r['name']:<12} {r['state']:<9} {free:<16} {r['segments']:>8} segments  " \
               f"{r['path']}"

    emit(rows, as_json, line)


def alarms(all_: Annotated[bool, typer.Option("--all", help="Include cleared alarms.")] = False,
           as_json: JsonOpt = False) -> None:
    """Alarms that need a person: storage (disk pressure, missing volumes, integrity),
    cameras not recording, detection, access and the audit's destinations."""
    from kuzet.catalog.alarms import Alarms

    rows: list[dict[str, Any]] = [
            {"id": a.id, "kind": a.kind, "severity": a.severity, "subject": a.subject,
             "message": a.message, "raised": format_instant(a.raised_ns),
             "updated": format_instant(a.updated_ns),
             "cleared": format_instant(a.cleared_ns) if a.cleared_ns else None, "value": a.value}
            for a in Alarms(open_catalog(read_settings()).session).list(active_only=not all_)]
    if not rows and not as_json:  # silence would read as a command that did nothing
        typer.echo("no alarms" if all_ else "no active alarms (--all lists cleared ones)")
        return
    zone = read_settings().display_timezone
    emit(rows, as_json, lambda r: (
        f"{shown(r['raised'], zone)}  {r['severity']:<8} {r['kind']:<15} {r['message']}"
        f"{'  (cleared ' + shown(r['cleared'], zone) + ')' if r['cleared'] else ''}"))


@audit_app.command("list")
def audit_list(action: Annotated[str | None, typer.Option()] = None,
               limit: Annotated[int, typer.Option(min=1)] = 100,
               as_json: JsonOpt = False) -> None:
    """The newest audit entries (the reading is itself audited, after them)."""
    from kuzet.audit.log import AuditLog

    catalog = open_catalog(read_settings())
    entries = AuditLog(catalog.session).entries(action=action, limit=limit)
    audited_read(catalog, AuditAction.AUDIT_READ, "audit", filter={"action": action},
                 limit=limit, count=len(entries))
    rows = [{"seq": e.seq, "at": format_instant(e.at_ns), "actor": e.actor, "action": e.action,
             "subject": e.subject, "detail": json.loads(e.detail)} for e in entries]
    zone = read_settings().display_timezone
    emit(rows, as_json, lambda r: (
        f"{r['seq']:>6} {shown(r['at'], zone)}  {r['actor']:<12} {r['action']:<20} "
        f"{r['subject']}  {json.dumps(r['detail'], ensure_ascii=False)}"))


@audit_app.command("export")
def audit_export(
    start: Annotated[str | None, typer.Option("--from", help="ISO 8601 with offset.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="ISO 8601 with offset.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="CSV file (default: standard output).")]
    = None,
) -> None:
    """Write audit entries in [--from, --to) as CSV, with their hashes for checking."""
    import io
    import sys

    from kuzet.audit.export import write_csv
    from kuzet.audit.log import AuditLog

    catalog = open_catalog(read_settings())
    entries = AuditLog(catalog.session).entries(since_ns=instant(start), until_ns=instant(end))
    audited_read(catalog, AuditAction.AUDIT_EXPORT, "audit", range=[start, end],
                 count=len(entries))
    if output:
        with output.open("w", newline="", encoding="utf-8") as f:
            write_csv(entries, f)
    else:  # UTF-8 and the CSV's CRLF rows as written, whatever the locale says
        sys.stdout.flush()
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            write_csv(entries, out)
            out.flush()
        finally:
            out.detach()  # standard output stays open for whatever follows
    if output:
        typer.echo(f"wrote {len(entries)} audit entries to {output}", err=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain and every signed checkpoint; exit 1 naming the first
    entry or span that is not what was written."""
    from kuzet.audit.anchor import Anchor
    from kuzet.audit.log import AuditLog
    from kuzet.signing import grouped

    settings = read_settings()
    verdict, anchors = Anchor(AuditLog(open_catalog(settings).session), settings.home).verify()
    for problem in verdict.problems:
        typer.echo(f"audit log: {problem}")
    if not verdict.ok:
        raise typer.Exit(1)
    typer.echo(f"audit log: {verdict.entries} entries, hash chain intact")
    last = verdict.anchor
    if last is None:
        typer.echo(f"audit log: no checkpoint in {anchors.where} yet, so nothing shows that "
                   "the log was not rewritten whole (kuzet audit checkpoint makes one)")
        return
    keys = ", ".join(grouped(k) for k in sorted(anchors.keys))
    typer.echo(f"audit log: {verdict.checkpoints} checkpoints match, signed by key {keys}")
    # both: UTC as the checkpoint file records it, the display zone as the console says it
    typer.echo(f"audit log: entries 1-{last.seq} anchored by the checkpoint of "
               f"{format_instant(last.at_ns)} "
               f"({display_instant(last.at_ns, settings.display_timezone)}); "
               f"{verdict.entries - last.seq} entries after it are not anchored yet")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the audit log's head now and append it to the checkpoint file (kuzet serve
    does so hourly and at every stop)."""
    from kuzet.audit.anchor import Anchor
    from kuzet.audit.log import AuditLog
    from kuzet.signing import grouped

    settings = read_settings()
    anchor = Anchor(AuditLog(open_catalog(settings).session), settings.home)
    signed = anchor.checkpoint(local_actor())
    c = signed.checkpoint
    at = f"{format_instant(c.at_ns)} ({display_instant(c.at_ns, settings.display_timezone)})"
    typer.echo(f"checkpoint: entry {c.seq} with hash {c.head} at {at}, "
               f"signed by key {grouped(signed.key)}, appended to {anchor.path}")


def register(app: typer.Typer) -> None:
    app.add_typer(hold_app, name="hold")
    app.add_typer(volume_app, name="volume")
    app.add_typer(audit_app, name="audit")
    app.command("alarms")(alarms)
