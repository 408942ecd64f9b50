"""Incident protocols (clause 3.5.7): start one at an instant of a camera (a bookmark is
made with it, and the recorded frame kept as soon as it is on disk), write it, submit it
(it gets its number), have it reviewed; the register as CSV; each as a PDF document.

A writer sees their own protocols; a reviewer (head of security, rector) sees them all;
the Management Board (`protocol.read`: its members and the rector, its Chairman) sees the
registered ones, without their frame, and each member acknowledges each one once
(kuzet.governance.board).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kuzet.access.permissions import Perm, holds_somewhere
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.errors import Conflict, NotFound
from kuzet.governance.board import Acknowledgement, Reader
from kuzet.governance.documents import protocol_pdf
from kuzet.governance.models import Protocol
from kuzet.governance.protocols import Fields, check_edit
from kuzet.web.deps import Require, services, source
from kuzet.web.pictures import authorize_picture
from kuzet.web.registers import csv_answer
from kuzet.web.replies import a_file
from kuzet.web.replies.protocols import AcknowledgementReply, ProtocolReply
from kuzet.web.replies.records import DocumentHoldReply
from kuzet.web.routes.cameras import camera, marked_instant, recorded_frame_png
from kuzet.web.routes.records import document_hold
from kuzet.web.schemas import HoldFromDocument, ProtocolEdit, ProtocolStart, ReviewNote, RowId
from kuzet.web.times import instant, out

router = APIRouter(prefix="/api", tags=["documents"])
WRITE = Depends(Require(Perm.PROTOCOL_WRITE))
READ = Depends(Require(Perm.PROTOCOL_WRITE, Perm.PROTOCOL_REVIEW, Perm.PROTOCOL_READ))
REVIEW = Depends(Require(Perm.PROTOCOL_REVIEW))
BOARD = Depends(Require(Perm.PROTOCOL_READ))


def _name(request: Request, camera_id: int) -> str:
    return services(request).catalog.camera_name(camera_id)


def _reader(request: Request, caller: Caller) -> Reader:
    now = services(request).clock()
    return Reader(caller.name, holds_somewhere(caller.principal, Perm.PROTOCOL_REVIEW, now),
                  holds_somewhere(caller.principal, Perm.PROTOCOL_READ, now))


def _visible(request: Request, caller: Caller, protocol_id: int) -> Protocol:
    """The protocol, if the caller wrote it, reviews protocols, or reads the Board's and it
    is registered (else: not found)."""
    p = services(request).protocols.get(protocol_id)
    if not _reader(request, caller).sees(p.author, p.number is not None):
        raise NotFound("no protocol {protocol_id} of yours", protocol_id=protocol_id)
    return p


def _reply(p: Protocol, camera: str, acknowledged: list[Acknowledgement]) -> ProtocolReply:
    return ProtocolReply(
        id=p.id, number=p.number, state=p.state, camera=camera, at_ns=p.at_ns,
        location=p.location, circumstances=p.circumstances, measures=p.measures,
        informed_ns=p.informed_ns, author=p.author, created_ns=p.created_ns,
        submitted_ns=p.submitted_ns, reviewed_by=p.reviewed_by, reviewed_ns=p.reviewed_ns,
        review_note=p.review_note, bookmark=p.bookmark_id, snapshot=p.snapshot_png is not None,
        acknowledgements=[AcknowledgementReply(member=a.member, at_ns=a.at_ns)
                          for a in acknowledged])


def _answer(request: Request, p: Protocol, camera: str | None = None) -> ProtocolReply:
    """One protocol's reply, its acknowledgements read."""
    acknowledged = services(request).board.of([p.id])[p.id]
    return _reply(p, camera or _name(request, p.camera_id), acknowledged)


def _with_frame(request: Request, p: Protocol, who: str) -> Protocol:
    """Keep the recorded frame of the instant once its segment is on disk."""
    if p.snapshot_png is None and p.state == "draft":
        cam = camera(request, _name(request, p.camera_id))
        png = recorded_frame_png(request, cam, p.at_ns, who)
        if png is not None:
            services(request).protocols.attach_snapshot(p.id, png)
            p = services(request).protocols.get(p.id)
    return p


@router.post("/protocols", status_code=201)
def start_protocol(body: ProtocolStart, request: Request, caller: Caller = WRITE
                   ) -> ProtocolReply:
    """Without `at`: now, checked as live view (the wall's incident button); with `at`:
    that instant, checked as archive view."""
    cam = camera(request, body.camera)
    svc = services(request)
    at_ns = marked_instant(request, caller, cam, body.at)
    p = svc.protocols.start(caller.actor(source(request)), cam.id, cam.name, at_ns,
                            svc.clock())
    return _answer(request, _with_frame(request, p, caller.name), cam.name)


@router.get("/protocols")
def protocol_register(request: Request, caller: Caller = READ,
                      state: Annotated[str | None, Query(pattern="^(draft|submitted|reviewed)$")]
                      = None,
                      year: Annotated[int | None, Query(ge=1970, le=2200)] = None
                      ) -> list[ProtocolReply]:
    svc, reader = services(request), _reader(request, caller)
    found = svc.protocols.listing(author=reader.author_filter(), state=state, year=year,
                                  registered_or_by=reader.registered_or_by())
    acknowledged = svc.board.of([p.id for p in found])
    return [_reply(p, _name(request, p.camera_id), acknowledged[p.id]) for p in found]


@router.get("/protocols.csv", **a_file("text/csv"))
def protocol_register_csv(request: Request, caller: Caller = READ) -> Response:
    return csv_answer(request, caller, "protocols", [
        "number", "state", "camera", "at", "location", "author", "submitted", "reviewed_by",
        "reviewed"], [{
            "number": r.number or "", "state": r.state, "camera": r.camera,
            "at": out(r.at_ns) or "", "location": r.location, "author": r.author,
            "submitted": out(r.submitted_ns) or "", "reviewed_by": r.reviewed_by or "",
            "reviewed": out(r.reviewed_ns) or ""}
            for r in protocol_register(request, caller)])


@router.get("/protocols/{protocol}")
def protocol(protocol: RowId, request: Request, caller: Caller = READ) -> ProtocolReply:
    return _answer(request, _visible(request, caller, protocol))


@router.put("/protocols/{protocol}")
def edit_protocol(protocol: RowId, body: ProtocolEdit, request: Request,
                  caller: Caller = WRITE) -> ProtocolReply:
    svc = services(request)
    informed = instant(body.informed, "informed") if body.informed else None
    p = svc.protocols.edit(caller.actor(source(request)), protocol, Fields(
        body.location, body.circumstances, body.measures, informed))
    return _answer(request, p)


@router.post("/protocols/{protocol}/submit")
def submit_protocol(protocol: RowId, request: Request, caller: Caller = WRITE
                    ) -> ProtocolReply:
    svc = services(request)
    p = svc.protocols.get(protocol)
    # The author first: reading footage for someone else's protocol would be a viewing
    # the caller has no business with (the submission checks again, in its transaction).
    check_edit(p, caller.name)
    p = _with_frame(request, p, caller.name)
    name = _name(request, p.camera_id)
    p = svc.protocols.submit(caller.actor(source(request)), protocol, name, svc.clock())
    return _answer(request, p, name)


@router.post("/protocols/{protocol}/review")
def review_protocol(protocol: RowId, body: ReviewNote, request: Request,
                    caller: Caller = REVIEW) -> ProtocolReply:
    svc = services(request)
    p = svc.protocols.review(caller.actor(source(request)), protocol, body.note, svc.clock())
    return _answer(request, p)


@router.post("/protocols/{protocol}/acknowledge")
def acknowledge_protocol(protocol: RowId, request: Request, caller: Caller = BOARD
                         ) -> ProtocolReply:
    """A member of the Management Board has read a registered protocol addressed to it
    (clause 3.5.7): recorded once per member, audited (`protocol.acknowledge`)."""
    svc = services(request)
    p = _visible(request, caller, protocol)
    svc.board.acknowledge(caller.actor(source(request)), p.id, svc.clock())
    return _answer(request, p)


@router.post("/protocols/{protocol}/hold", status_code=201)
def hold_for_protocol(protocol: RowId, body: HoldFromDocument, request: Request,
                      caller: Caller = Depends(Require(Perm.HOLD_REQUEST))) -> DocumentHoldReply:
    """Ask the rector to keep the footage of a registered protocol's camera around its
    instant beyond 30 days (clause 3.3); the hold's incident is the protocol's number."""
    svc = services(request)
    p = svc.protocols.get(protocol)
    if p.number is None:
        raise Conflict("register the protocol before asking to hold its footage")
    return document_hold(request, caller, p.number, [_name(request, p.camera_id)],
                         [p.at_ns], body)


@router.get("/protocols/{protocol}/pdf", **a_file("application/pdf"))
def protocol_document(protocol: RowId, request: Request, caller: Caller = READ,
                      lang: Annotated[str, Query(pattern="^(kk|ru|en)$")] = "kk") -> Response:
    """The protocol as a PDF; handing it out is audited. It holds a frame of footage for
    its author and a reviewer, who must then be allowed that picture (kuzet.access.pictures:
    archive view at its instant, or live view while it is at most 10 minutes old; never
    an API token); the Management Board's copy leaves the frame out (no footage, 3.5.4)."""
    svc = services(request)
    p = _visible(request, caller, protocol)
    board_copy = not _reader(request, caller).sees_frame(p.author)
    frame = p.snapshot_png is not None and not board_copy
    if frame:
        authorize_picture(request, caller, p.camera_id, p.at_ns, live=True)
    name = _name(request, p.camera_id)
    people = svc.accounts.as_signed(w for w in (p.author, p.reviewed_by) if w)
    pdf = protocol_pdf(p, name, people, lang, svc.settings.display_timezone,
                       svc.settings.document_font, svc.audit.hash_of(p.submitted_entry),
                       board_copy=board_copy)
    svc.audit.act(caller.actor(source(request)), AuditAction.PROTOCOL_DOCUMENT, f"protocol/{p.id}",
                  number=p.number, lang=lang, bytes=len(pdf), frame=frame)
    filename = (p.number or f"draft-{p.id}").replace("/", "-")
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="protocol-{p.id}.pdf"; '
                               f"filename*=UTF-8''{quote(filename, safe='')}.pdf",
        "cache-control": "no-store"})
