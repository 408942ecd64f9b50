"""Acts (clause 3.5.8): the head of security formalises a violation resting on registered
protocols; registered with the year's number; the register, its CSV, each act as a PDF;
a hold request for the footage around the protocols it rests on. The Management Board
(`protocol.read`, clause 3.5.7) reads the registered acts, never a draft."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kuzet.access.permissions import Perm, holds_somewhere
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.errors import Conflict, NotFound
from kuzet.governance.acts import ActFields, protocol_ids
from kuzet.governance.documents import act_pdf
from kuzet.governance.models import Act
from kuzet.web.deps import Require, services, source
from kuzet.web.registers import csv_answer
from kuzet.web.replies import a_file
from kuzet.web.replies.acts import ActReply
from kuzet.web.replies.records import DocumentHoldReply
from kuzet.web.routes.records import document_hold
from kuzet.web.schemas import ActEdit, ActStart, HoldFromDocument, RowId
from kuzet.web.times import out

router = APIRouter(prefix="/api", tags=["documents"])
WRITE = Depends(Require(Perm.ACT_WRITE))
READ = Depends(Require(Perm.ACT_WRITE, Perm.PROTOCOL_REVIEW, Perm.PROTOCOL_READ))


def _board_only(request: Request, caller: Caller) -> bool:
    """Whether the caller reads acts as the Board alone: registered ones only."""
    now = services(request).clock()
    return not any(holds_somewhere(caller.principal, p, now)
                   for p in (Perm.ACT_WRITE, Perm.PROTOCOL_REVIEW))


def _visible(request: Request, caller: Caller, act_id: int) -> Act:
    a = services(request).acts.get(act_id)
    if a.number is None and _board_only(request, caller):
        raise NotFound("no act {act_id}", act_id=act_id)
    return a


def _reply(request: Request, a: Act) -> ActReply:
    return ActReply(id=a.id, number=a.number, state=a.state,
                    protocols=services(request).acts.protocol_numbers(a),
                    protocol_ids=protocol_ids(a), author=a.author, created_ns=a.created_ns,
                    registered_ns=a.registered_ns, what=a.what, persons=a.persons,
                    witnesses=a.witnesses, consequences=a.consequences, measures=a.measures)


@router.post("/acts", status_code=201)
def start_act(body: ActStart, request: Request, caller: Caller = WRITE) -> ActReply:
    svc = services(request)
    return _reply(request, svc.acts.start(caller.actor(source(request)), body.protocols,
                                         svc.clock()))


@router.get("/acts")
def act_register(request: Request, caller: Caller = READ) -> list[ActReply]:
    board_only = _board_only(request, caller)
    return [_reply(request, a) for a in services(request).acts.listing()
            if a.number is not None or not board_only]


@router.get("/acts.csv", **a_file("text/csv"))
def act_register_csv(request: Request, caller: Caller = READ) -> Response:
    return csv_answer(request, caller, "acts", [
        "number", "state", "protocols", "what", "author", "registered"], [{
            "number": r.number or "", "state": r.state, "protocols": " ".join(r.protocols),
            "what": r.what, "author": r.author, "registered": out(r.registered_ns) or ""}
            for r in act_register(request, caller)])


@router.get("/acts/{act}")
def act(act: RowId, request: Request, caller: Caller = READ) -> ActReply:
    return _reply(request, _visible(request, caller, act))


@router.put("/acts/{act}")
def edit_act(act: RowId, body: ActEdit, request: Request, caller: Caller = WRITE
             ) -> ActReply:
    a = services(request).acts.edit(caller.actor(source(request)), act, ActFields(
        body.what, body.persons, body.witnesses, body.consequences, body.measures,
        body.protocols))
    return _reply(request, a)


@router.post("/acts/{act}/register")
def register_act(act: RowId, request: Request, caller: Caller = WRITE) -> ActReply:
    svc = services(request)
    return _reply(request, svc.acts.register(caller.actor(source(request)), act, svc.clock()))


@router.post("/acts/{act}/hold", status_code=201)
def hold_for_act(act: RowId, body: HoldFromDocument, request: Request,
                 caller: Caller = Depends(Require(Perm.HOLD_REQUEST))) -> DocumentHoldReply:
    """Ask the rector to keep the footage around the instants of the act's protocols, on
    their cameras (one range from the first instant to the last, padded)."""
    svc = services(request)
    a = svc.acts.get(act)
    if a.number is None:
        raise Conflict("register the act before asking to hold its footage")
    protocols = [svc.protocols.get(i) for i in protocol_ids(a)]
    cameras = sorted({svc.catalog.camera_name(p.camera_id) for p in protocols})
    return document_hold(request, caller, a.number, cameras, [p.at_ns for p in protocols],
                         body)


@router.get("/acts/{act}/pdf", **a_file("application/pdf"))
def act_document(act: RowId, request: Request, caller: Caller = READ,
                 lang: Annotated[str, Query(pattern="^(kk|ru|en)$")] = "kk") -> Response:
    svc = services(request)
    a = _visible(request, caller, act)
    pdf = act_pdf(a, svc.acts.protocol_numbers(a), svc.accounts.as_signed([a.author]), lang,
                  svc.settings.display_timezone, svc.settings.document_font,
                  svc.audit.hash_of(a.registered_entry))
    svc.audit.act(caller.actor(source(request)), AuditAction.ACT_DOCUMENT, f"act/{a.id}",
                  number=a.number, lang=lang, bytes=len(pdf))
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="act-{a.id}.pdf"',
        "cache-control": "no-store"})
