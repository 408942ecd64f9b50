"""Transfers of footage to third parties (clause 3.5.6): only on a reasoned request of an
investigative body, a court, or a person the footage shows; the rector decides; the
head of internal security or the administrator carries the decision out.

A request is registered with its basis document (number, date, scanned copy) and the
cameras and range asked for, and numbered at once (`Т-2026/0001`). The rector approves
it, possibly narrowing cameras and range, with an expiry, or rejects it with a reason;
nobody decides a request they registered. Execution stays inside the approval and
before its expiry, and happens once. Who may take which step is the approval machine's
(`access.approvals.TRANSFERS`); the scope checks are pure functions here;
`Transfers` keeps the register and writes each step to the audit log in the same
transaction.

Registration asks for a hold of the footage named (`Transfer.hold_id`), so that it does
not expire while the rector decides (for the decision window, clause 3.3). The hold is
decided with the transfer, in the same step: approving the transfer approves the hold
over the approved scope until the approval's expiry, rejecting it rejects the hold (or
releases it, were it in force), and the execution ends it (`governance.holds`); the
rector may release it early on its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access.approvals import TRANSFERS, Action, ApprovalState, RequestFacts
from kuzet.access.roles import decider_of
from kuzet.access.steps import Entry, StepTransaction, take_step
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.errors import Conflict, Invalid, NotFound, Phrase
from kuzet.governance.holds import Holds, add_request
from kuzet.governance.models import Transfer, next_number
from kuzet.storage.retention import DAY_NS
from kuzet.timefmt import format_instant

REQUESTER_TYPES = ("investigative_body", "court", "depicted_person")
MAX_APPROVAL_DAYS = 90  # an approval not carried out within this is asked for again
# The entry each step of the approval machine writes, taken (with its details) or refused.
AUDITED = {Action.APPROVE: AuditAction.TRANSFER_APPROVE,
           Action.REJECT: AuditAction.TRANSFER_REJECT,
           Action.EXECUTE: AuditAction.TRANSFER_EXECUTE}


@dataclass(frozen=True)
class Scope:
    """Cameras and a footage range: asked for, approved, or exported."""

    cameras: tuple[str, ...]
    start_ns: int
    end_ns: int

    def within(self, outer: Scope) -> str | None:
        """Why this scope is not inside `outer`, or None."""
        extra = sorted(set(self.cameras) - set(outer.cameras))
        if extra:
            return f"cameras {', '.join(extra)} are not in it"
        if self.start_ns < outer.start_ns or self.end_ns > outer.end_ns:
            return (f"the range {format_instant(self.start_ns)} – {format_instant(self.end_ns)} "
                    f"goes beyond {format_instant(outer.start_ns)} – "
                    f"{format_instant(outer.end_ns)}")
        return None


@dataclass(frozen=True)
class Request:
    requester_type: str
    requester: str
    requester_details: str
    basis_number: str
    basis_date: str
    reason: str
    scope: Scope


def check_scope(scope: Scope) -> Scope:
    if not scope.cameras:
        raise Invalid("name at least one camera")
    if scope.end_ns <= scope.start_ns:
        raise Invalid("the range must end after it starts")
    return Scope(tuple(sorted(set(scope.cameras))), scope.start_ns, scope.end_ns)


def check_request(r: Request) -> Request:
    if r.requester_type not in REQUESTER_TYPES:
        raise Invalid("clause 3.5.6: footage goes only to {kinds}",
                      kinds=", ".join(REQUESTER_TYPES))
    if not r.requester.strip():
        raise Invalid("name the requester (body, court or person)")
    if not r.basis_number.strip() or not r.basis_date.strip():
        raise Invalid("give the basis document's number and date")
    if len(r.reason.strip()) < 5:
        raise Invalid("clause 3.5.6: a request is reasoned; state its reason")
    return r


def approved_scope(t: Transfer) -> Scope:
    assert t.approved_cameras is not None
    assert t.approved_start_ns is not None
    assert t.approved_end_ns is not None
    return Scope(tuple(json.loads(t.approved_cameras)), t.approved_start_ns, t.approved_end_ns)


def requested_scope(t: Transfer) -> Scope:
    return Scope(tuple(json.loads(t.cameras)), t.start_ns, t.end_ns)


def _facts(t: Transfer) -> RequestFacts:
    return RequestFacts(t.number, TRANSFERS.state(t.state), t.registered_by,
                        expires_ns=t.expires_ns, note=t.decision_note)


def _take(step: StepTransaction, t: Transfer, action: Action, now_ns: int) -> Entry:
    """Take `action` on `t` as the approval machine allows (a refusal is audited and raised
    by `take_step`): the entry the step then records, with its details."""
    entry = Entry(AUDITED[action], f"transfer/{t.id}", {"number": t.number})
    step.take(TRANSFERS, action, _facts(t), decider_of(step.session, step.actor), now_ns,
              entry)
    return entry


def _execution(step: StepTransaction, t: Transfer, scope: Scope, now_ns: int) -> Entry:
    """May `step.actor` carry the approval of `t` out for `scope` now? The entry of the
    execution, as `_take`."""
    entry = _take(step, t, Action.EXECUTE, now_ns)
    why = scope.within(approved_scope(t))
    if why is not None:
        raise Invalid("outside the approval of {number}: {why}", number=t.number, why=why)
    return entry


class Transfers:
    def __init__(self, session: sessionmaker[Session], zone: str, holds: Holds) -> None:
        self.session = session
        self.zone = zone
        self.holds = holds

    def _get(self, s: Session, transfer_id: int) -> Transfer:
        t = s.get(Transfer, transfer_id)
        if t is None:
            raise NotFound("no transfer {transfer_id}", transfer_id=transfer_id)
        return t

    def get(self, transfer_id: int) -> Transfer:
        with self.session() as s:
            return self._get(s, transfer_id)

    def by_number(self, number: str) -> Transfer | None:
        with self.session() as s:
            return s.scalar(select(Transfer).where(Transfer.number == number))

    def by_package_hash(self, sha256: str) -> Transfer | None:
        """The transfer whose package (the .zip) or manifest has this SHA-256: how a
        package is found whatever its file or folder is called."""
        with self.session() as s:
            return s.scalar(select(Transfer).where(
                (Transfer.package_sha256 == sha256) | (Transfer.manifest_sha256 == sha256)))

    def listing(self, state: str | None = None, requester_type: str | None = None
                ) -> list[Transfer]:
        with self.session() as s:
            q = select(Transfer).order_by(Transfer.id)
            if state is not None:
                q = q.where(Transfer.state == state)
            if requester_type is not None:
                q = q.where(Transfer.requester_type == requester_type)
            return list(s.scalars(q))

    def register(self, actor: Actor, r: Request, now_ns: int) -> Transfer:
        check_request(r)
        scope = check_scope(r.scope)
        with self.session.begin() as s:
            year, seq, number = next_number(s, Transfer, "transfer", now_ns, self.zone)
            t = Transfer(
                number=number, year=year, seq=seq,
                state=TRANSFERS.word(ApprovalState.PENDING), requester_type=r.requester_type,
                requester=r.requester.strip(), requester_details=r.requester_details.strip(),
                basis_number=r.basis_number.strip(), basis_date=r.basis_date.strip(),
                reason=r.reason.strip(), cameras=json.dumps(list(scope.cameras)),
                start_ns=scope.start_ns, end_ns=scope.end_ns, registered_by=actor.name,
                registered_ns=now_ns, registered_entry=0)
            s.add(t)
            s.flush()
            entry = append_act(s, actor, AuditAction.TRANSFER_REGISTER, f"transfer/{t.id}",
                               number=t.number, requester_type=t.requester_type,
                               basis=[t.basis_number, t.basis_date],
                               cameras=list(scope.cameras),
                               footage_ns=[scope.start_ns, scope.end_ns])
            t.registered_entry = entry.seq
            t.hold_id = add_request(s, scope.cameras, scope.start_ns, scope.end_ns,
                                    reason=f"footage asked for by transfer request {number}",
                                    incident=number, by=actor.name, now_ns=now_ns, via=actor).id
        return t

    def attach_basis(self, actor: Actor, transfer_id: int, data: bytes, kind: str) -> Transfer:
        with self.session.begin() as s:
            t = self._get(s, transfer_id)
            if TRANSFERS.state(t.state) is not ApprovalState.PENDING:
                raise Conflict("transfer {number} is {state}; its basis is fixed",
                               number=t.number, state=Phrase(t.state))
            t.basis, t.basis_type = data, kind
            t.basis_sha256 = hashlib.sha256(data).hexdigest()
            append_act(s, actor, AuditAction.TRANSFER_BASIS, f"transfer/{t.id}", number=t.number,
                       type=kind, bytes=len(data), sha256=t.basis_sha256)
        return t

    def approve(self, actor: Actor, transfer_id: int, scope: Scope | None, expires_ns: int,
                note: str, now_ns: int) -> Transfer:
        if not now_ns < expires_ns <= now_ns + MAX_APPROVAL_DAYS * DAY_NS:
            raise Invalid("an approval expires in the future, within {days} days",
                          days=MAX_APPROVAL_DAYS)
        with take_step(self.session, actor) as step:
            t = self._get(step.session, transfer_id)
            entry = _take(step, t, Action.APPROVE, now_ns)
            held = self.holds.awaiting(step, t.hold_id, now_ns)
            self._approve(step, entry, t, scope, expires_ns, note, now_ns)
            if held is not None:
                granted = approved_scope(t)
                self.holds.approve_with(step, held, cameras=granted.cameras,
                                        start_ns=granted.start_ns, end_ns=granted.end_ns,
                                        expires_ns=expires_ns, now=now_ns, transfer=t.number)
        return t

    @staticmethod
    def _approve(step: StepTransaction, entry: Entry, t: Transfer, scope: Scope | None,
                 expires_ns: int, note: str, now_ns: int) -> None:
        if t.basis is None:
            raise Conflict("transfer {number} has no scan of its basis document yet; the decision "
                           "rests on it", number=t.number)
        asked = requested_scope(t)
        granted = asked if scope is None else check_scope(scope)
        why = granted.within(asked)
        if why is not None:
            raise Invalid("an approval may narrow the request, not widen it: {why}", why=why)
        t.state = TRANSFERS.word(ApprovalState.APPROVED)
        t.decided_by, t.decided_ns = step.actor.name, now_ns
        t.decision_note = note.strip() or None
        t.approved_cameras = json.dumps(list(granted.cameras))
        t.approved_start_ns, t.approved_end_ns = granted.start_ns, granted.end_ns
        t.expires_ns = expires_ns
        t.decided_entry = step.record(
            entry, cameras=list(granted.cameras), footage_ns=[granted.start_ns, granted.end_ns],
            narrowed=granted != asked, expires_ns=expires_ns, note=note).seq

    def reject(self, actor: Actor, transfer_id: int, note: str, now_ns: int) -> Transfer:
        if len(note.strip()) < 5:
            raise Invalid("a rejection states its reason")
        with take_step(self.session, actor) as step:
            t = self._get(step.session, transfer_id)
            entry = _take(step, t, Action.REJECT, now_ns)
            held = self.holds.ending(step, t.hold_id, now_ns)
            t.state = TRANSFERS.word(ApprovalState.REJECTED)
            t.decided_by, t.decided_ns = actor.name, now_ns
            t.decision_note = note.strip()
            t.decided_entry = step.record(entry, note=t.decision_note).seq
            if held is not None:
                self.holds.end_on_rejection(step, held, note=t.decision_note, now=now_ns,
                                            transfer=t.number)
        return t

    def executable(self, actor: Actor, transfer_id: int, scope: Scope, now_ns: int
                   ) -> Transfer:
        """The transfer, if `actor` may carry its approval out for `scope` now (a refusal by
        rule is audited, as when the execution is recorded)."""
        with take_step(self.session, actor) as step:
            t = self._get(step.session, transfer_id)
            _execution(step, t, scope, now_ns)
        return t

    def record_execution(self, actor: Actor, transfer_id: int, scope: Scope, recipient: str,
                         recipient_document: str, package: dict[str, Any], now_ns: int
                         ) -> Transfer:
        """Mark `t` executed with its package; checked again here, so of two executions
        racing, one is recorded and the other refused (its package is then removed)."""
        with take_step(self.session, actor) as step:
            t = self._get(step.session, transfer_id)
            entry = _execution(step, t, scope, now_ns)
            t.state = TRANSFERS.word(ApprovalState.EXECUTED)
            t.executed_by, t.executed_ns = actor.name, now_ns
            t.recipient, t.recipient_document = recipient, recipient_document
            t.package_file, t.package_sha256 = package["file"], package["sha256"]
            t.package_bytes, t.manifest_sha256 = package["bytes"], package["manifest_sha256"]
            t.key_fingerprint = package["fingerprint"]
            t.exported = json.dumps(package["exported"], ensure_ascii=False)
            t.executed_entry = step.record(
                entry, cameras=list(scope.cameras), footage_ns=[scope.start_ns, scope.end_ns],
                recipient=recipient, package=package["file"], package_sha256=package["sha256"],
                fingerprint=package["fingerprint"]).seq
            self.holds.end_with(step, t.hold_id, now=now_ns, transfer=t.number)
        return t


@dataclass(frozen=True)
class ExportedFile:
    """One file of a camera's footage in the package."""

    file: str
    from_ns: int
    to_ns: int
    frames: int


@dataclass(frozen=True)
class ExportedCamera:
    camera: str
    files: tuple[ExportedFile, ...]


@dataclass(frozen=True)
class Package:
    """The signed package an execution built, as the register keeps it."""

    file: str
    sha256: str
    bytes: int
    manifest_sha256: str
    fingerprint: str  # of the signing key
    exported: tuple[ExportedCamera, ...]


def package_of(t: Transfer) -> Package | None:
    """The package of an executed transfer (its columns are set together), else None."""
    if t.package_file is None:
        return None
    assert t.package_sha256 is not None
    assert t.package_bytes is not None
    assert t.manifest_sha256 is not None
    assert t.key_fingerprint is not None
    return Package(t.package_file, t.package_sha256, t.package_bytes, t.manifest_sha256,
                   t.key_fingerprint, tuple(
                       ExportedCamera(c["camera"], tuple(
                           ExportedFile(f["file"], f["from_ns"], f["to_ns"], f["frames"])
                           for f in c["files"]))
                       for c in json.loads(t.exported or "[]")))
