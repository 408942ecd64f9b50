"""The equipment register (UE-10-22 3.3.1-3.3.8, 3.4.3; issue 22): read with `health.read`
(IT support, the administrator, the head of internal security, the rector), kept with
`equipment.admin` (IT support, the administrator). No picture anywhere in it; a guard
sees cameras' states on the camera list, not the register."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kuzet.access.permissions import Perm, holds_somewhere
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.equipment import csvfile, schedule
from kuzet.equipment.fields import EntryKind, Kind, Passport, State, check_passport
from kuzet.equipment.passport import passport_of
from kuzet.equipment.register import Entry, ItemView, Register, audited, camera_adder
from kuzet.errors import Invalid, TooLarge, Unsupported
from kuzet.timefmt import campus_day, format_instant
from kuzet.web.deps import Require, refuse, services, source
from kuzet.web.errors import Refused
from kuzet.web.i18n import language, translator
from kuzet.web.replies import a_file
from kuzet.web.replies.equipment import (
    BadRowReply,
    DueReply,
    EntryReply,
    ImportReply,
    ItemAlarmReply,
    ItemDetailReply,
    ItemReply,
)
from kuzet.web.schemas import ItemFields, LogEntry, NewItem

router = APIRouter(prefix="/api", tags=["equipment"])
READ = Depends(Require(Perm.HEALTH_READ))
KEEP = Depends(Require(Perm.EQUIPMENT_ADMIN))
Filter = Annotated[str | None, Query(max_length=64)]
NameParam = Annotated[str, Query(max_length=64)]


def register(request: Request) -> Register:
    return services(request).equipment



def _reply(v: ItemView, alarms: dict[str, int]) -> ItemReply:
    return ItemReply(kind=v.kind, name=v.name, state=v.state, alarms=alarms.get(v.name, 0),
                     **v.values)


def _open_alarms(request: Request) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a in services(request).alarms.list():
        counts[a.subject] = counts.get(a.subject, 0) + 1
    return counts


def _entry(e: Entry) -> EntryReply:
    return EntryReply(id=e.id, kind=e.kind, at=format_instant(e.at_ns), by=e.by, what=e.what,
                      outcome=e.outcome, closes=e.closes_id, alarm=e.alarm_id, open=e.open)


@router.get("/equipment")
def items(request: Request, caller: Caller = READ, kind: Filter = None, state: Filter = None,
          building: Filter = None, q: Filter = None) -> list[ItemReply]:
    """The register, by kind then name, filtered by kind, state, building or any text."""
    alarms = _open_alarms(request)
    return [_reply(v, alarms) for v in register(request).items(
        kind=kind, state=state, building=building, text=q)]


@router.get("/equipment.csv", **a_file("text/csv"))
def export(request: Request, caller: Caller = READ) -> Response:
    """The register as CSV (no camera's URL), the form an import reads back."""
    svc = services(request)
    rows = register(request).items()
    svc.audit.act(caller.actor(source(request)), AuditAction.EQUIPMENT_EXPORT, "equipment",
                  rows=len(rows))
    return Response(csvfile.export(rows), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="equipment.csv"'})


@router.get("/equipment.pdf", **a_file("application/pdf"))
def passport(request: Request, caller: Caller = READ,
             lang: Annotated[str, Query(pattern="^(kk|ru|en)$")] = "kk") -> Response:
    """The technical passport of the whole complex (3.3.1-3.3.8) as a PDF, in `lang`:
    every item by kind, counts by state, open faults and checks due; audited."""
    svc = services(request)
    pdf = passport_of(register(request), organisation=svc.settings.organisation, lang=lang,
                      font=svc.settings.document_font, now_ns=svc.clock(),
                      zone=svc.settings.display_timezone,
                      intervals=svc.settings.check_interval_days)
    svc.audit.act(caller.actor(source(request)), AuditAction.EQUIPMENT_EXPORT, "equipment",
                  document="passport", lang=lang, bytes=len(pdf))
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": 'attachment; filename="equipment-passport.pdf"',
        "cache-control": "no-store"})


@router.get("/checks")
def due(request: Request, caller: Caller = READ,
        within: Annotated[int, Query(ge=0, le=366)] = 7) -> list[DueReply]:
    """Checks due within `within` days, and overdue ones, most overdue first."""
    return [DueReply(name=d.name, kind=d.kind, due=d.due.isoformat(), overdue=d.overdue,
                     last_check=d.last_check.isoformat() if d.last_check else None,
                     what=d.what) for d in due_checks(request, within)]


def _today(request: Request) -> dt.date:
    """The campus's day now (the display zone's)."""
    svc = services(request)
    return campus_day(svc.clock(), svc.settings.display_timezone)


def due_checks(request: Request, within: int) -> list[schedule.Due]:
    svc = services(request)
    reg = register(request)
    return schedule.due_checks(reg.items(), reg.last_checks(),
                               svc.settings.check_interval_days, _today(request),
                               svc.settings.display_timezone, within)


@router.get("/equipment/{name}")
def item(name: str, request: Request, caller: Caller = READ) -> ItemDetailReply:
    """An item with its log (newest first), its open alarms and what is linked to it."""
    reg = register(request)
    v = reg.item(name)
    alarms = [a for a in services(request).alarms.list() if a.subject == name]
    linked = reg.linked(name)
    return ItemDetailReply(
        item=_reply(v, {name: len(alarms)}), log=[_entry(e) for e in reg.history(name)],
        alarms=[ItemAlarmReply(kind=a.kind, severity=a.severity, message=a.message,
                               since=format_instant(a.raised_ns)) for a in alarms],
        linked=linked)


def _passport(request: Request, body: ItemFields) -> Passport:
    raw = body.model_dump(exclude={"state", "kind", "name"}, exclude_none=True)
    return check_passport(raw, register(request).buildings, _today(request))


@router.post("/equipment", status_code=201)
def add(body: NewItem, request: Request, caller: Caller = KEEP) -> ItemReply:
    """An item that is not a camera (a camera enters when it is added for recording)."""
    actor = caller.actor(source(request))
    v = register(request).add(Kind(body.kind), body.name, _passport(request, body),
                              by=actor.name, state=State(body.state or "in_service"),
                              audit=audited(actor, AuditAction.EQUIPMENT_ADD))
    return _reply(v, {})


@router.patch("/equipment/{name}")
def change(name: str, body: ItemFields, request: Request, caller: Caller = KEEP) -> ItemReply:
    """Change the fields given ("" clears one) and the state; the log keeps the old."""
    actor = caller.actor(source(request))
    svc = services(request)
    v = register(request).update(name, _passport(request, body), by=actor.name,
                                 state=State(body.state) if body.state else None,
                                 audit=audited(actor, AuditAction.EQUIPMENT_CHANGE))
    svc.cameras_changed()  # a camera's place is the camera tree's too
    return _reply(v, _open_alarms(request))


@router.post("/equipment/{name}/log", status_code=201)
def write_log(name: str, body: LogEntry, request: Request, caller: Caller = KEEP
              ) -> EntryReply:
    """A check (ok, or fault: which opens a fault), a fault, or a repair closing one."""
    actor = caller.actor(source(request))
    e = register(request).write_log(name, EntryKind(body.kind), body.what, by=actor.name,
                                    outcome=body.outcome, closes=body.closes,
                                    audit=audited(actor, AuditAction.EQUIPMENT_LOG))
    return _entry(e)


@router.post("/equipment/import", openapi_extra={"requestBody": {
    "required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def import_csv(request: Request, caller: Caller = KEEP,
                     good_rows: Annotated[bool, Query()] = False) -> ImportReply:
    """A spreadsheet saved as CSV (UTF-8) as the raw body. Every bad row is reported;
    nothing is imported from a file that has one unless `good_rows`. Rows of cameras not
    yet recorded add them (their url and zone given), which needs camera.admin too."""
    svc = services(request)
    cap = svc.settings.max_body_bytes
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > cap:
            raise TooLarge("the file is over {cap} bytes", cap=cap)
    if b"\0" in data:
        raise Unsupported("the file is not text: save the spreadsheet as CSV (UTF-8)")
    # the checks and the transaction off the event loop: a big file must not hold every
    # other request (logins, live views) while it is judged and written
    return await run_in_threadpool(_import, request, caller, bytes(data), good_rows)


def _import(request: Request, caller: Caller, data: bytes, good_rows: bool) -> ImportReply:
    svc = services(request)
    reg = register(request)
    try:
        plan = csvfile.read(data, csvfile.existing_of(reg.items()), reg.buildings,
                            today=_today(request), good_rows=good_rows)
    except csvfile.FileError as exc:
        raise Invalid(exc.phrase) from None
    actor = caller.actor(source(request))
    say = translator(language(request))
    bad = [BadRowReply(line=b.line, name=b.name, reason=b.reason.said(say)) for b in plan.bad]
    if plan.new_cameras and not holds_somewhere(caller.principal, Perm.CAMERA_ADMIN,
                                                svc.clock()):
        refuse(request, actor, Perm.CAMERA_ADMIN.value, "lacks camera.admin")
        raise Refused("refused: the file adds cameras for recording ({names}), which needs "
                      "{perms} (UE-10-22 {clauses})", perms=Perm.CAMERA_ADMIN.value,
                      clauses="3.4.2",
                      names=", ".join(plan.new_cameras[:10]), wanting={Perm.CAMERA_ADMIN},
                      yours=caller.principal.roles)
    if not plan.rows:
        return ImportReply(imported=False, added=0, changed=0, bad_rows=bad)

    added, changed = reg.import_rows(plan.rows, by=actor.name,
                                     add_camera=camera_adder(svc.catalog, actor),
                                     audit=audited(actor, AuditAction.EQUIPMENT_IMPORT))
    svc.cameras_changed()
    return ImportReply(imported=True, added=added, changed=changed, bad_rows=bad)

