"""Viewing sessions (clause 3.5.5): recorded by whoever conducted the viewing, for footage
they may open themselves; minutes as a PDF. Attendees' identity documents are personal
data: the conductor sees their own sessions, `protocol.review` holders all."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kuzet.access.permissions import Perm
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.errors import NotFound
from kuzet.governance.documents import viewing_pdf
from kuzet.governance.models import ViewingSession
from kuzet.governance.viewings import Attendee, attendees_of
from kuzet.web.deps import Require, authorize, services, source
from kuzet.web.registers import csv_answer, own_only
from kuzet.web.replies import a_file
from kuzet.web.replies.viewings import AttendeeReply, ViewingReply
from kuzet.web.routes.cameras import camera
from kuzet.web.schemas import RowId, ViewingRecord
from kuzet.web.times import instant, out, window

router = APIRouter(prefix="/api", tags=["documents"])
READ = Depends(Require(Perm.ARCHIVE_VIEW, Perm.PROTOCOL_REVIEW))


def _visible(request: Request, caller: Caller, viewing: int) -> ViewingSession:
    v = services(request).viewings.get(viewing)
    mine = own_only(request, caller)
    if mine is not None and v.conducted_by != mine:
        raise NotFound("no viewing session {viewing} of yours", viewing=viewing)
    return v


def viewing_reply(v: ViewingSession) -> ViewingReply:
    cameras: list[str] = json.loads(v.cameras)
    return ViewingReply(
        id=v.id, number=v.number, cameras=cameras, start_ns=v.start_ns, end_ns=v.end_ns,
        purpose=v.purpose, attendees=[
            AttendeeReply(name=a.name, capacity=a.capacity, document=a.document)
            for a in attendees_of(v)],
        conducted_by=v.conducted_by, held_ns=v.held_ns)


@router.post("/viewings", status_code=201)
def record_viewing(body: ViewingRecord, request: Request,
                   caller: Caller = Depends(Require(Perm.ARCHIVE_VIEW))) -> ViewingReply:
    """Record a viewing that took place: each camera's footage window must be one the
    conductor may open (the same check as opening the archive); the audit entry names
    the cameras that recorded anything in it (the console warns before recording a
    session of none, issue 21)."""
    svc = services(request)
    a, b = window(body.start, body.end)
    cams = {c.name: c for c in (camera(request, n) for n in body.cameras)}
    names = sorted(cams)
    for name in names:
        authorize(request, caller, Perm.ARCHIVE_VIEW, cams[name].id, (a, b))
    recorded = [n for n in names if svc.catalog.has_footage(cams[n].id, a, b)]
    now = svc.clock()
    held = instant(body.held, "held") if body.held else now
    v = svc.viewings.record(caller.actor(source(request)), names, a, b, body.purpose,
                            [Attendee(x.name.strip(), x.capacity, x.document.strip())
                             for x in body.attendees], held, now, recorded)
    return viewing_reply(v)


@router.get("/viewings")
def viewing_register(request: Request, caller: Caller = READ) -> list[ViewingReply]:
    svc = services(request)
    return [viewing_reply(v) for v in svc.viewings.listing(own_only(request, caller))]


@router.get("/viewings.csv", **a_file("text/csv"))
def viewing_register_csv(request: Request, caller: Caller = READ) -> Response:
    return csv_answer(request, caller, "viewings", [
        "number", "held", "conducted_by", "cameras", "from", "to", "purpose", "attendees"], [{
            "number": r.number, "held": out(r.held_ns) or "",
            "conducted_by": r.conducted_by, "cameras": " ".join(r.cameras),
            "from": out(r.start_ns) or "", "to": out(r.end_ns) or "",
            "purpose": r.purpose, "attendees": "; ".join(
                f"{x.name} ({x.capacity})" for x in r.attendees)}
            for r in viewing_register(request, caller)])


@router.get("/viewings/{viewing}")
def viewing(viewing: RowId, request: Request, caller: Caller = READ) -> ViewingReply:
    return viewing_reply(_visible(request, caller, viewing))


@router.get("/viewings/{viewing}/pdf", **a_file("application/pdf"))
def viewing_minutes(viewing: RowId, request: Request, caller: Caller = READ,
                    lang: Annotated[str, Query(pattern="^(kk|ru|en)$")] = "kk") -> Response:
    svc = services(request)
    v = _visible(request, caller, viewing)
    pdf = viewing_pdf(v, json.loads(v.cameras), attendees_of(v),
                      svc.accounts.as_signed([v.conducted_by]), lang,
                      svc.settings.display_timezone, svc.settings.document_font,
                      svc.audit.hash_of(v.entry))
    svc.audit.act(caller.actor(source(request)), AuditAction.VIEWING_DOCUMENT, f"viewing/{v.id}",
                  number=v.number, lang=lang, bytes=len(pdf))
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="viewing-{v.id}.pdf"',
        "cache-control": "no-store"})
