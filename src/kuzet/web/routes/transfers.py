"""Transfers to third parties (clause 3.5.6): the request register with its basis scan,
the rector's decision, execution as a signed export package, the hand-over act.

Who does what: `transfer.register` (head of security, administrator) registers requests
and attaches scans; `transfer.decide` (the rector) approves, narrows or rejects;
`export.execute` on every camera (head of security, administrator) carries an approval
out. The package is the only way footage leaves Kuzet (clause 3.5.1).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from kuzet.access.permissions import Perm
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.errors import NotFound
from kuzet.governance.documents import handover_pdf
from kuzet.governance.models import Transfer
from kuzet.governance.transfers import (
    Request as TransferAsk,
)
from kuzet.governance.transfers import (
    Scope,
    approved_scope,
    package_of,
    requested_scope,
)
from kuzet.web.deps import Require, authorize, services, source
from kuzet.web.registers import csv_answer
from kuzet.web.replies import a_file
from kuzet.web.replies.transfers import (
    ApprovalReply,
    BasisReply,
    ExportedCameraReply,
    ExportedFileReply,
    NewTransferReply,
    PackageReply,
    TransferReply,
)
from kuzet.web.routes.cameras import camera
from kuzet.web.scans import scan_answer, scan_of
from kuzet.web.schemas import (
    Decision,
    PackageReceipt,
    RowId,
    TransferApproval,
    TransferExecution,
)
from kuzet.web.schemas import TransferRequestBody as NewTransfer
from kuzet.web.times import instant, out, window

router = APIRouter(prefix="/api", tags=["documents"])
REGISTER = Depends(Require(Perm.TRANSFER_REGISTER))
DECIDE = Depends(Require(Perm.TRANSFER_DECIDE))
READ = Depends(Require(Perm.TRANSFER_REGISTER, Perm.TRANSFER_DECIDE, Perm.EXPORT_EXECUTE))
EXECUTE = Depends(Require(Perm.EXPORT_EXECUTE))
STATES = "^(pending|approved|rejected|executed)$"
PACKAGE_CHUNK = 1 << 20
TYPES = "^(investigative_body|court|depicted_person)$"


def _reply(t: Transfer, on_server: bool | None = None) -> TransferReply:
    """A transfer as the register has it."""
    approved = None
    if t.approved_cameras is not None:
        scope = approved_scope(t)
        approved = ApprovalReply(cameras=list(scope.cameras), start_ns=scope.start_ns,
                                 end_ns=scope.end_ns, expires_ns=t.expires_ns)
    p = package_of(t)
    package = None if p is None else PackageReply(
        file=p.file, sha256=p.sha256, bytes=p.bytes, manifest_sha256=p.manifest_sha256,
        fingerprint=p.fingerprint, on_server=on_server, exported=[
            ExportedCameraReply(camera=c.camera, files=[
                ExportedFileReply(file=f.file, from_ns=f.from_ns, to_ns=f.to_ns,
                                  frames=f.frames) for f in c.files])
            for c in p.exported])
    return TransferReply(
        id=t.id, number=t.number, state=t.state, requester_type=t.requester_type,
        requester=t.requester, requester_details=t.requester_details,
        basis=BasisReply(number=t.basis_number, date=t.basis_date, type=t.basis_type,
                         sha256=t.basis_sha256),
        reason=t.reason, cameras=list(requested_scope(t).cameras), start_ns=t.start_ns,
        end_ns=t.end_ns, registered_by=t.registered_by, registered_ns=t.registered_ns,
        decided_by=t.decided_by, decided_ns=t.decided_ns, note=t.decision_note,
        approved=approved, executed_by=t.executed_by, executed_ns=t.executed_ns,
        recipient=t.recipient, package=package)


def _checked(request: Request, t: Transfer) -> TransferReply:
    """A transfer as the register has it, and whether its package is still on the server."""
    on_server = None
    if t.package_file is not None:
        on_server = services(request).exports.path_of(t).is_file()
    return _reply(t, on_server)


def _names(request: Request, cameras: list[str]) -> tuple[str, ...]:
    return tuple(sorted({camera(request, n).name for n in cameras}))


@router.post("/transfers", status_code=201)
def register_transfer(body: NewTransfer, request: Request, caller: Caller = REGISTER
                      ) -> NewTransferReply:
    """Register a request, with a hold of the footage it names: the pending hold keeps
    it from expiring while the rector decides (clause 3.3; `hold_decision_window_days`),
    so a request for footage near the end of its retention is not lost to the wait. The
    hold is decided with the transfer."""
    svc = services(request)
    a, b = window(body.start, body.end)
    t = svc.transfers.register(caller.actor(source(request)), TransferAsk(
        body.requester_type, body.requester, body.requester_details, body.basis_number,
        body.basis_date, body.reason, Scope(_names(request, body.cameras), a, b)), svc.clock())
    assert t.hold_id is not None  # registration asks for it in the same transaction
    return NewTransferReply(**dict(_reply(t)), hold=t.hold_id)


@router.put("/transfers/{transfer}/basis")
async def attach_basis(transfer: RowId, request: Request, caller: Caller = REGISTER
                       ) -> TransferReply:
    """The scan of the basis document as the raw request body (PDF, JPEG or PNG); its
    type is read from its first bytes and must agree with Content-Type if one is sent."""
    svc = services(request)
    data, kind = await scan_of(request)
    t = svc.transfers.attach_basis(caller.actor(source(request)), transfer, data, kind)
    return _reply(t)


@router.get("/transfers/{transfer}/basis", **a_file("application/pdf", "image/jpeg", "image/png"))
def basis_scan(transfer: RowId, request: Request, caller: Caller = READ) -> Response:
    svc = services(request)
    t = svc.transfers.get(transfer)
    if t.basis is None or t.basis_type is None:
        raise NotFound("transfer {number} has no scan attached", number=t.number)
    svc.audit.act(caller.actor(source(request)), AuditAction.TRANSFER_BASIS_READ,
                  f"transfer/{t.id}", number=t.number)
    return scan_answer(t.basis, t.basis_type, f"basis-{t.id}")


@router.get("/transfers")
def transfer_register(request: Request, caller: Caller = READ,
                      state: Annotated[str | None, Query(pattern=STATES)] = None,
                      requester_type: Annotated[str | None, Query(pattern=TYPES)] = None
                      ) -> list[TransferReply]:
    svc = services(request)
    return [_reply(t) for t in svc.transfers.listing(state, requester_type)]


@router.get("/transfers.csv", **a_file("text/csv"))
def transfer_register_csv(request: Request, caller: Caller = READ,
                          state: Annotated[str | None, Query(pattern=STATES)] = None
                          ) -> Response:
    rows = transfer_register(request, caller, state)
    return csv_answer(request, caller, "transfers", [
        "number", "state", "requester_type", "requester", "basis", "cameras", "from", "to",
        "registered_by", "decided_by", "decided", "executed_by", "executed",
        "package_sha256"], [{
            "number": r.number, "state": r.state, "requester_type": r.requester_type,
            "requester": r.requester, "basis": f"{r.basis.number} ({r.basis.date})",
            "cameras": " ".join(r.cameras), "from": out(r.start_ns) or "",
            "to": out(r.end_ns) or "", "registered_by": r.registered_by,
            "decided_by": r.decided_by or "", "decided": out(r.decided_ns) or "",
            "executed_by": r.executed_by or "", "executed": out(r.executed_ns) or "",
            "package_sha256": r.package.sha256 if r.package else ""} for r in rows])


@router.get("/transfers/{transfer}")
def transfer(transfer: RowId, request: Request, caller: Caller = READ) -> TransferReply:
    return _checked(request, services(request).transfers.get(transfer))


@router.post("/transfers/{transfer}/approve")
def approve_transfer(transfer: RowId, body: TransferApproval, request: Request,
                     caller: Caller = DECIDE) -> TransferReply:
    svc = services(request)
    scope = None
    if body.cameras is not None or body.start is not None or body.end is not None:
        asked = requested_scope(svc.transfers.get(transfer))
        cams = _names(request, body.cameras) if body.cameras is not None else asked.cameras
        a, b = window(body.start or out(asked.start_ns) or "",
                      body.end or out(asked.end_ns) or "")
        scope = Scope(cams, a, b)
    t = svc.transfers.approve(caller.actor(source(request)), transfer, scope,
                              instant(body.expires, "expires"), body.note, svc.clock())
    return _reply(t)


@router.post("/transfers/{transfer}/reject")
def reject_transfer(transfer: RowId, body: Decision, request: Request, caller: Caller = DECIDE
                    ) -> TransferReply:
    svc = services(request)
    return _reply(svc.transfers.reject(caller.actor(source(request)), transfer, body.note,
                                       svc.clock()))


@router.post("/transfers/{transfer}/execute")
def execute_transfer(transfer: RowId, body: TransferExecution, request: Request,
                     caller: Caller = EXECUTE) -> TransferReply:
    """Build the signed package for the approval (or a part of it). Every camera is
    checked as an export of its footage; footage deleted inside the range refuses it."""
    svc = services(request)
    t = svc.transfers.get(transfer)
    if t.state != "approved":
        scope = Scope((), 0, 1)  # the executor refuses it, naming the state
    else:
        approved = approved_scope(t)
        cams = _names(request, body.cameras) if body.cameras is not None else approved.cameras
        a, b = window(body.start or out(approved.start_ns) or "",
                      body.end or out(approved.end_ns) or "")
        scope = Scope(cams, a, b)
        for name in scope.cameras:
            authorize(request, caller, Perm.EXPORT_EXECUTE, camera(request, name).id, (a, b))
    t, _ = svc.exports.execute(caller.actor(source(request)), transfer, scope,
                               body.recipient.strip(), body.recipient_document.strip(),
                               svc.clock())
    return _checked(request, t)


@router.get("/transfers/{transfer}/package", **a_file("application/zip"))
def package(transfer: RowId, request: Request, caller: Caller = EXECUTE) -> StreamingResponse:
    """The package, for as long as it is on the server: until its executor confirms receipt
    (`POST /api/transfers/{id}/received`) or its approval expires (clause 3.3;
    `export.execute`). A download deletes nothing: a cut-short one is simply repeated."""
    svc = services(request)
    t = svc.transfers.get(transfer)
    if t.package_file is None:
        raise NotFound("transfer {number} has no package", number=t.number)
    approved = approved_scope(t)
    for name in approved.cameras:
        authorize(request, caller, Perm.EXPORT_EXECUTE, camera(request, name).id,
                  (approved.start_ns, approved.end_ns))
    try:
        f = svc.exports.path_of(t).open("rb")
    except FileNotFoundError:
        raise NotFound("refused: the package of {number}, deleted from the server when its "
                       "receipt was confirmed, it was discarded, or its approval expired "
                       "(UE-10-22 3.3)", number=t.number) from None
    try:
        svc.audit.act(caller.actor(source(request)), AuditAction.TRANSFER_PACKAGE_DOWNLOAD,
                      f"transfer/{t.id}", number=t.number, sha256=t.package_sha256)
    except BaseException:
        f.close()
        raise
    return StreamingResponse(
        _chunks(f), media_type="application/zip", headers={
            "content-length": str(os.fstat(f.fileno()).st_size),
            "content-disposition": f'attachment; filename="{t.package_file}"',
            "cache-control": "no-store"})


def _chunks(f: BinaryIO) -> Generator[bytes, None, None]:
    """The file's bytes from the handle opened before the answer began: a confirmation of
    receipt that deletes the file meanwhile does not cut this download short."""
    with f:
        while chunk := f.read(PACKAGE_CHUNK):
            yield chunk


@router.post("/transfers/{transfer}/received")
def package_received(transfer: RowId, body: PackageReceipt, request: Request,
                     caller: Caller = EXECUTE) -> TransferReply:
    """The executor confirms that the package reached them whole, by the SHA-256 of the
    copy they hold (`sha256sum`, or the console's transfer page computing it from the
    file chosen): the hand-over, after which the server's copy is deleted. Refused,
    changing nothing, from anyone but the executor or with a hash not the package's."""
    svc = services(request)
    return _checked(request, svc.exports.received(caller.actor(source(request)), transfer,
                                                  body.sha256))


@router.delete("/transfers/{transfer}/package")
def discard_package(transfer: RowId, request: Request, caller: Caller = EXECUTE
                    ) -> TransferReply:
    """Remove the package from the server without handing it over (made by mistake, or the
    recipient will not come; a confirmed receipt removes it too); its hashes stay
    registered."""
    svc = services(request)
    t = svc.transfers.get(transfer)
    svc.exports.discard(caller.actor(source(request)), t)
    return _checked(request, t)


@router.get("/transfers/{transfer}/handover.pdf", **a_file("application/pdf"))
def handover(transfer: RowId, request: Request, caller: Caller = READ,
             lang: Annotated[str, Query(pattern="^(kk|ru|en)$")] = "kk") -> Response:
    svc = services(request)
    t = svc.transfers.get(transfer)
    if t.state != "executed":
        raise NotFound("transfer {number} has not been executed: no hand-over yet", number=t.number)
    people = svc.accounts.as_signed(w for w in (t.decided_by, t.executed_by) if w)
    pdf = handover_pdf(t, people, lang, svc.settings.display_timezone, svc.settings.document_font,
                       svc.audit.hash_of(t.executed_entry), svc.settings.organisation)
    svc.audit.act(caller.actor(source(request)), AuditAction.TRANSFER_DOCUMENT, f"transfer/{t.id}",
                  number=t.number, lang=lang, bytes=len(pdf))
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="handover-{t.id}.pdf"',
        "cache-control": "no-store"})
