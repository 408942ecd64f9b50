"""Meetings where people were told (UE-10-22 3.4.6) and the acquaintance of staff and
students against signature (3.1.4, 3.4.7); `kuzet.notice.people` holds the rules. Only
`acquaintance.keep` (the head of internal security, the rector, the designated HR staff):
the lists are personal data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kuzet.access.permissions import Perm
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.errors import Conflict, Invalid
from kuzet.notice.editions import EditionView
from kuzet.notice.people import MeetingView, PersonRow, SheetView, parse_people
from kuzet.notice.printed import sheet_pdf
from kuzet.timefmt import format_instant
from kuzet.web.deps import Require, services, source
from kuzet.web.i18n import language, translator
from kuzet.web.replies import a_file
from kuzet.web.replies.acquaintance import (
    BadRowReply,
    ImportReply,
    MeetingReply,
    PersonReply,
    ProgressReply,
    SheetReply,
    SheetSummaryReply,
)
from kuzet.web.scans import body_of, scan_of
from kuzet.web.schemas import NewMeeting, NewSheet, RowId, SheetMarks
from kuzet.web.services import Services

router = APIRouter(prefix="/api", tags=["documents"])
KEEP = Depends(Require(Perm.ACQUAINTANCE_KEEP))
NO_EDITION = "no edition of the regulation is in force: nothing to be acquainted with"


def _in_force(svc: Services) -> EditionView:
    """The edition in force (its amendments since come with it on the sheets): what staff
    and students sign for, an amendment being part of it, not a new campaign."""
    force = svc.editions.force(svc.clock())
    if not force:
        raise Conflict(NO_EDITION)
    return force[0]


def _meeting(m: MeetingView) -> MeetingReply:
    return MeetingReply(id=m.id, held=m.held, audience=m.audience, informed_by=m.informed_by,
                        attendees=m.attendees, notes=m.notes, minutes_type=m.minutes_type,
                        recorded_by=m.recorded_by)


def _person(p: PersonRow) -> PersonReply:
    return PersonReply(person_id=p.person_id, full_name=p.full_name, kind=p.kind,
                       unit=p.unit, group=p.group, start=p.start)


def _sheet(s: SheetView) -> SheetReply:
    return SheetReply(id=s.id, edition=s.edition_id, unit=s.unit, group=s.group,
                      people=[_person(p) for p in s.people], made_by=s.made_by,
                      made=format_instant(s.made_ns), scan_type=s.scan_type,
                      scan_sha256=s.scan_sha256, marks=s.marks)


@router.get("/meetings")
def meetings(request: Request, caller: Caller = KEEP) -> list[MeetingReply]:
    """The register of general meetings, the latest first."""
    return [_meeting(m) for m in services(request).people.meetings()]


@router.post("/meetings", status_code=201)
def record_meeting(body: NewMeeting, request: Request, caller: Caller = KEEP
                   ) -> MeetingReply:
    svc = services(request)
    return _meeting(svc.people.record_meeting(caller.actor(source(request)), body.held,
                                              body.audience, body.informed_by,
                                              body.attendees, body.notes))


@router.put("/meetings/{meeting}/minutes")
async def attach_minutes(meeting: RowId, request: Request, caller: Caller = KEEP
                         ) -> MeetingReply:
    """The minutes as the raw body: PDF, JPEG or PNG, told by their first bytes."""
    svc = services(request)
    data, kind = await scan_of(request)
    return _meeting(svc.people.attach_minutes(caller.actor(source(request)), meeting, data,
                                              kind))


@router.get("/meetings/{meeting}/minutes",
            **a_file("application/pdf", "image/jpeg", "image/png"))
def meeting_minutes(meeting: RowId, request: Request, caller: Caller = KEEP) -> Response:
    data, kind = services(request).people.minutes(meeting)
    return Response(data, media_type=kind, headers={"x-content-type-options": "nosniff",
                                                    "cache-control": "no-store"})


@router.post("/people/import", response_model=ImportReply,
             responses={422: {"model": ImportReply, "description": "bad rows, none imported"}})
async def import_people(request: Request, caller: Caller = KEEP) -> ImportReply | JSONResponse:
    """The HR or student office's list as the raw CSV body (UTF-8; columns person_id,
    full_name, kind, unit, group, start): every bad row reported, nothing imported from a
    file that has one (422, every bad row said); a known person id is updated."""
    data = await body_of(request)
    # judged and written off the event loop: thousands of rows must not hold every other
    # request (logins, live views) meanwhile
    return await run_in_threadpool(_import, request, caller, data)


def _import(request: Request, caller: Caller, data: bytes) -> ImportReply | JSONResponse:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the list is not UTF-8 text") from None
    rows, bad = parse_people(text)
    if bad:  # refused, every bad row said: nothing imported
        said = translator(language(request))
        reply = ImportReply(added=0, updated=0, bad=[
            BadRowReply(line=b.line, reason=b.reason.said(said)) for b in bad])
        return JSONResponse(reply.model_dump(), status_code=422)
    added, updated = services(request).people.import_people(caller.actor(source(request)),
                                                            rows)
    return ImportReply(added=added, updated=updated, bad=[])


@router.get("/people")
def people(request: Request, caller: Caller = KEEP,
           unit: Annotated[str | None, Query(max_length=200)] = None,
           group: Annotated[str | None, Query(max_length=64)] = None) -> list[PersonReply]:
    """The lists, audited as read (counts, never names: 3.5.1, personal data)."""
    svc = services(request)
    found = svc.people.people(unit, group)
    svc.audit.act(caller.actor(source(request)), AuditAction.PEOPLE_READ, "people",
                  unit=unit, group=group, people=len(found))
    return [_person(p) for p in found]


@router.get("/people/progress")
def progress(request: Request, caller: Caller = KEEP) -> list[ProgressReply]:
    """Per unit and group, the acquaintance with the edition in force."""
    svc = services(request)
    e = _in_force(svc)
    return [ProgressReply(unit=p.unit, group=p.group, people=p.people, signed=p.signed,
                          refused=p.refused, absent=p.absent, waiting=p.waiting)
            for p in svc.people.progress(e.id)]


@router.get("/people/newcomers")
def newcomers(request: Request, caller: Caller = KEEP) -> list[PersonReply]:
    """People who started after the edition in force took effect and have not signed it."""
    svc = services(request)
    e = _in_force(svc)
    assert e.effective is not None
    return [_person(p) for p in svc.people.newcomers(e.id, e.effective)]


@router.delete("/people/{person_id}", status_code=204)
def remove_person(person_id: str, request: Request, caller: Caller = KEEP) -> Response:
    services(request).people.remove(caller.actor(source(request)), person_id)
    return Response(status_code=204)


@router.get("/sheets")
def sheets(request: Request, caller: Caller = KEEP) -> list[SheetSummaryReply]:
    """Every sheet with its counts; its people are read with the sheet itself."""
    return [SheetSummaryReply(id=s.id, edition=s.edition_id, unit=s.unit, group=s.group,
                              people=s.people, scanned=s.scanned, marked=s.marked)
            for s in services(request).people.sheets()]


@router.post("/sheets", status_code=201)
def make_sheet(body: NewSheet, request: Request, caller: Caller = KEEP) -> SheetReply:
    """A sign-off sheet for the unit (and group) and the edition in force: everyone there
    who has not signed or refused it yet."""
    svc = services(request)
    e = _in_force(svc)
    return _sheet(svc.people.make_sheet(caller.actor(source(request)), e.id, body.unit,
                                        body.group))


@router.get("/sheets/{sheet}")
def sheet(sheet: RowId, request: Request, caller: Caller = KEEP) -> SheetReply:
    return _sheet(services(request).people.sheet(sheet))


@router.get("/sheets/{sheet}/pdf", **a_file("application/pdf"))
def sheet_as_pdf(sheet: RowId, request: Request, caller: Caller = KEEP,
                 lang: Annotated[str | None, Query(pattern="^(kk|ru)$")] = None) -> Response:
    """The sheet to print and sign, in Kazakh or Russian (default: the console's, Russian
    for an English console)."""
    svc = services(request)
    s = svc.people.sheet(sheet)
    e = svc.editions.get(s.edition_id)
    force = svc.editions.force(svc.clock())
    since = [a for a in force if a.kind == "amendment" and any(x.id == e.id for x in force)
             and (a.effective or "") > (e.effective or "")]
    said = lang or ("kk" if language(request) == "kk" else "ru")
    pdf = sheet_pdf(svc.settings.document_font, svc.settings.organisation, s.id,
                    [(x.kind, x.number, x.order_no or "", x.order_date or "")
                     for x in (e, *since)], e.summary, s.unit, s.group,
                    [(p.full_name, p.group) for p in s.people], said)
    svc.audit.act(caller.actor(source(request)), AuditAction.PEOPLE_READ, f"sheet/{s.id}",
                  people=len(s.people))
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="sheet-{s.id}-{said}.pdf"',
        "cache-control": "no-store"})


@router.put("/sheets/{sheet}/scan")
async def attach_sheet_scan(sheet: RowId, request: Request, caller: Caller = KEEP
                            ) -> SheetReply:
    """The signed sheet's scan as the raw body: PDF, JPEG or PNG, told by content; once."""
    svc = services(request)
    data, kind = await scan_of(request)
    return _sheet(svc.people.attach_scan(caller.actor(source(request)), sheet, data, kind))


@router.get("/sheets/{sheet}/scan", **a_file("application/pdf", "image/jpeg", "image/png"))
def sheet_scan(sheet: RowId, request: Request, caller: Caller = KEEP) -> Response:
    data, kind = services(request).people.scan(sheet)
    return Response(data, media_type=kind, headers={"x-content-type-options": "nosniff",
                                                    "cache-control": "no-store"})


@router.post("/sheets/{sheet}/marks")
def mark_sheet(sheet: RowId, body: SheetMarks, request: Request, caller: Caller = KEEP
               ) -> SheetReply:
    """Who signed, refused or was absent, as the signed scan shows (person id -> mark)."""
    svc = services(request)
    return _sheet(svc.people.mark(caller.actor(source(request)), sheet, body.marks))
