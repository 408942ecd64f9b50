"""Holds: special retention of incident footage (clause 3.3), with its decision trail.

A hold is requested by one person (on the command line, possibly on someone's behalf) and
decided by another: the rector approves it with an expiry, rejects it, or releases it
early, through the approval machine (`access.approvals.HOLDS`), which refuses the
requester and anyone without `hold.approve`. Which footage a hold protects, and when, is
`storage.retention`'s pure rule, and how long a hold may last `regulation`'s; this module
keeps the rows and writes every step (and every refused decision) to the audit log in the
same transaction (`access.steps`).

The hold a transfer's registration asks for (`Transfer.hold_id`) is the transfer's: it is
approved or rejected with the transfer, in the transfer's step (`governance.transfers`),
and never on its own, so that the rector takes one decision and the hold's expiry is the
approval's. Once in force it ends with the transfer: released by the rejection of its
transfer (whatever the hold's state then), ended by the execution, or at the approval's
expiry; and the rector may still release it early on its own, as any hold (clause 3.3),
the release naming the transfer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kuzet.access.approvals import AWAITING, HOLDS, Action, ApprovalState, RequestFacts
from kuzet.access.roles import decider_of
from kuzet.access.steps import Entry, StepTransaction, take_step
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append
from kuzet.catalog.models import Camera, Hold, HoldRange
from kuzet.catalog.store import Catalog
from kuzet.errors import Conflict, Invalid, NotFound, Phrase
from kuzet.governance.models import Transfer
from kuzet.regulation import check_hold_expiry
from kuzet.storage.retention import DAY_NS, HoldFacts, HoldState, hold_state

# The entry each decision writes, taken or refused (revoking a hold is its release).
AUDITED = {Action.APPROVE: AuditAction.HOLD_APPROVE, Action.REJECT: AuditAction.HOLD_REJECT,
           Action.REVOKE: AuditAction.HOLD_RELEASE}


@dataclass(frozen=True)
class HoldView:
    hold: Hold
    ranges: list[tuple[str, int, int]]  # (camera name, start, end)
    state: HoldState
    transfer: str | None = None  # the number of the transfer it is decided with


@dataclass(frozen=True)
class Step:
    """A decision on a hold the machine allowed, inside a transfer's step: the row and
    the entry to record once the transfer's own row has changed."""

    hold: Hold
    action: Action
    entry: Entry


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid("a hold needs {what}", what=what)
    return value


def _log(s: Session, via: Actor | None, by: str, action: AuditAction, subject: str,
         detail: dict[str, Any], now: int) -> None:
    """A hold's request in the audit log, at its instant; through the API or the command
    line (`via`) with roles and address too, and who typed it where that is not `by` (the
    command line's `local:<operating-system user>` asking on someone's behalf)."""
    if via is not None:
        detail = {"roles": list(via.roles), "source": via.source, "outcome": "allowed",
                  **({"entered_by": via.name} if via.name != by else {}), **detail}
    append(s, by, action, subject, detail, now)


def _camera_ids(s: Session, cameras: Sequence[str]) -> list[int]:
    ids = []
    for name in dict.fromkeys(cameras):
        cam_id = s.scalar(select(Camera.id).where(Camera.name == name))
        if cam_id is None:
            raise NotFound("no camera named {name!r}", name=name)
        ids.append(cam_id)
    return ids


def add_request(s: Session, cameras: Sequence[str], start_ns: int, end_ns: int, *,
                reason: str, incident: str, by: str, now_ns: int,
                via: Actor | None = None) -> Hold:
    """A hold request in the caller's transaction (a transfer's registration asks for one
    with its own row), audited as `hold.request`."""
    if end_ns <= start_ns:
        raise Invalid("a hold's time range must end after it starts")
    if not cameras:
        raise Invalid("a hold names at least one camera")
    ids = _camera_ids(s, cameras)
    hold = Hold(reason=_text(reason, Phrase("a reason")),
                incident=_text(incident, Phrase("an incident")),
                requested_by=_text(by, Phrase("the name of who requests it")),
                requested_ns=now_ns)
    s.add(hold)
    s.flush()
    for cam_id in ids:
        s.add(HoldRange(hold_id=hold.id, camera_id=cam_id, start_ns=start_ns, end_ns=end_ns))
    _log(s, via, hold.requested_by, AuditAction.HOLD_REQUEST, f"hold/{hold.id}",
         {"cameras": list(dict.fromkeys(cameras)), "start_ns": start_ns, "end_ns": end_ns,
          "reason": hold.reason, "incident": hold.incident}, now_ns)
    return hold


def _facts(h: Hold, ranges: tuple[tuple[int, int, int], ...]) -> HoldFacts:
    return HoldFacts(h.id, h.requested_ns, h.approved_ns, h.expires_ns, h.rejected_ns,
                     h.released_ns, ranges)


class Holds:
    def __init__(self, catalog: Catalog, window_days: float) -> None:
        self.catalog = catalog
        self.window_ns = int(window_days * DAY_NS)

    def request(self, cameras: list[str], start_ns: int, end_ns: int, *, reason: str,
                incident: str, by: str, now_ns: int | None = None,
                via: Actor | None = None) -> Hold:
        now = now_ns if now_ns is not None else time.time_ns()
        with self.catalog.session.begin() as s:
            return add_request(s, cameras, start_ns, end_ns, reason=reason,
                               incident=incident, by=by, now_ns=now, via=via)

    def _state(self, hold: Hold, now: int) -> HoldState:
        return hold_state(_facts(hold, ()), now, self.window_ns)

    def _take(self, step: StepTransaction, hold: Hold, action: Action, now: int) -> Entry:
        """Take `action` on the hold as the approval machine allows (a refusal is audited
        and raised by `take_step`): the entry the step then records, at the step's
        instant."""
        facts = RequestFacts(str(hold.id), HOLDS.state(self._state(hold, now).value),
                             hold.requested_by, expires_ns=hold.expires_ns,
                             note=hold.decision_note)
        entry = Entry(AUDITED[action], f"hold/{hold.id}", at_ns=now)
        step.take(HOLDS, action, facts, decider_of(step.session, step.actor), now, entry)
        return entry

    def _held(self, step: StepTransaction, hold: Hold, action: Action, now: int) -> Step:
        return Step(hold, action, self._take(step, hold, action, now))

    @staticmethod
    def _apply(step: StepTransaction, hold: Hold, entry: Entry, action: Action, now: int, *,
               expires_ns: int = 0, note: str = "", **detail: Any) -> None:
        """Store the decision the machine allowed and record its entry."""
        name = step.actor.name
        if action is Action.APPROVE:
            hold.approved_by, hold.approved_ns = name, now
            hold.expires_ns = expires_ns
            detail = {"expires_ns": expires_ns, **detail}
        elif action is Action.REJECT:
            hold.rejected_by, hold.rejected_ns = name, now
            hold.decision_note = note
            detail = {"note": note, **detail}
        else:
            hold.released_by, hold.released_ns = name, now
            hold.decision_note = note or hold.decision_note
            detail = {"note": note, **detail}
        step.record(entry, **detail)

    def _decide(self, actor: Actor, hold_id: int, action: Action, now: int, *,
                expires_ns: int = 0, note: str = "") -> Hold:
        """Take `action` on the hold as the approval machine allows, and audit it, taken or
        refused (`access.steps`), at the step's instant. A transfer's hold is approved or
        rejected only with its transfer; its early release is the rector's as for any
        hold, and names the transfer."""
        with take_step(self.catalog.session, actor) as step:
            hold = step.session.get(Hold, hold_id)
            if hold is None:
                raise NotFound("no hold {hold_id}", hold_id=hold_id)
            number = step.session.scalar(select(Transfer.number)
                                         .where(Transfer.hold_id == hold_id))
            if number is not None and action is not Action.REVOKE:
                raise Conflict("refused: a decision on hold {hold} apart from transfer "
                               "request {number}, with which the rector decides it "
                               "(UE-10-22 3.5.6)", hold=hold_id, number=number)
            entry = self._take(step, hold, action, now)
            about = {} if number is None else {"transfer": number}
            self._apply(step, hold, entry, action, now, expires_ns=expires_ns, note=note,
                        **about)
        return hold

    def approve(self, hold_id: int, actor: Actor, *, expires_ns: int,
                now_ns: int | None = None) -> Hold:
        now = now_ns if now_ns is not None else time.time_ns()
        check_hold_expiry(now, expires_ns)
        return self._decide(actor, hold_id, Action.APPROVE, now, expires_ns=expires_ns)

    def reject(self, hold_id: int, actor: Actor, *, note: str,
               now_ns: int | None = None) -> Hold:
        now = now_ns if now_ns is not None else time.time_ns()
        note = _text(note, Phrase("a reason for the rejection"))
        return self._decide(actor, hold_id, Action.REJECT, now, note=note)

    def release(self, hold_id: int, actor: Actor, *, note: str = "",
                now_ns: int | None = None) -> Hold:
        """End an approved hold early, a transfer's too: its footage goes back to normal
        retention."""
        now = now_ns if now_ns is not None else time.time_ns()
        return self._decide(actor, hold_id, Action.REVOKE, now, note=note)

    # -- a transfer's hold, in the transfer's step (governance.transfers) ---------------
    def awaiting(self, step: StepTransaction, hold_id: int | None, now: int) -> Step | None:
        """The approval of a transfer's hold, checked by the machine like any decision on
        a hold, before the transfer's row changes; None when the transfer has no hold or
        its hold no longer awaits a decision (the rector released it, or it is a request
        older than revision 0011, which tied only undecided holds to undecided
        transfers)."""
        hold = None if hold_id is None else step.session.get(Hold, hold_id)
        if hold is None or HOLDS.state(self._state(hold, now).value) not in AWAITING:
            return None
        return self._held(step, hold, Action.APPROVE, now)

    def ending(self, step: StepTransaction, hold_id: int | None, now: int) -> Step | None:
        """What the rejection of a transfer does to its hold, checked by the machine
        before the transfer's row changes: a hold awaiting a decision is rejected, one in
        force released (the rector's rejection says the footage is not needed); None when
        there is none or it has ended already."""
        hold = None if hold_id is None else step.session.get(Hold, hold_id)
        if hold is None:
            return None
        state = HOLDS.state(self._state(hold, now).value)
        if state in AWAITING:
            return self._held(step, hold, Action.REJECT, now)
        if state is ApprovalState.APPROVED:
            return self._held(step, hold, Action.REVOKE, now)
        return None

    def approve_with(self, step: StepTransaction, held: Step, *, cameras: Sequence[str],
                     start_ns: int, end_ns: int, expires_ns: int, now: int,
                     transfer: str) -> None:
        """Approve a transfer's hold with the transfer: its ranges become the approved
        scope (an approval narrows the request, and the hold with it), its expiry the
        approval's."""
        check_hold_expiry(now, expires_ns)
        ids = _camera_ids(step.session, cameras)
        step.session.execute(delete(HoldRange).where(HoldRange.hold_id == held.hold.id))
        for cam_id in ids:
            step.session.add(HoldRange(hold_id=held.hold.id, camera_id=cam_id,
                                       start_ns=start_ns, end_ns=end_ns))
        self._apply(step, held.hold, held.entry, Action.APPROVE, now, expires_ns=expires_ns,
                    transfer=transfer, cameras=list(cameras), start_ns=start_ns,
                    end_ns=end_ns)

    def end_on_rejection(self, step: StepTransaction, held: Step, *, note: str, now: int,
                         transfer: str) -> None:
        """Reject (or release, `ending`) a transfer's hold with the transfer: its footage
        goes back to normal retention at once."""
        self._apply(step, held.hold, held.entry, held.action, now, note=note,
                    transfer=transfer)

    def end_with(self, step: StepTransaction, hold_id: int | None, *, now: int,
                 transfer: str) -> None:
        """End a transfer's approved hold when the transfer is executed: the approval kept
        the footage until then. Not a decision of the machine's (whoever executes does not
        hold `hold.approve`) but the end the rector's approval set, written as the hold's
        release by the execution's actor, naming the transfer."""
        hold = None if hold_id is None else step.session.get(Hold, hold_id)
        if hold is None or self._state(hold, now) is not HoldState.ACTIVE:
            return
        note = f"transfer {transfer} executed"
        self._apply(step, hold, Entry(AuditAction.HOLD_RELEASE, f"hold/{hold.id}", at_ns=now),
                    Action.REVOKE, now, note=note, transfer=transfer)

    # -- reading ----------------------------------------------------------------------
    def facts(self) -> list[HoldFacts]:
        """Every hold that could still protect footage, with its ranges."""
        with self.catalog.session() as s:
            holds = list(s.scalars(select(Hold).where(Hold.released_ns.is_(None),
                                                      Hold.rejected_ns.is_(None))))
            ranges: dict[int, list[tuple[int, int, int]]] = {}
            if holds:
                for r in s.scalars(select(HoldRange).where(
                        HoldRange.hold_id.in_([h.id for h in holds]))):
                    ranges.setdefault(r.hold_id, []).append((r.camera_id, r.start_ns, r.end_ns))
        return [_facts(h, tuple(ranges.get(h.id, ()))) for h in holds]

    def list(self, now_ns: int | None = None) -> list[HoldView]:
        now = now_ns if now_ns is not None else time.time_ns()
        with self.catalog.session() as s:
            holds = list(s.scalars(select(Hold).order_by(Hold.id)))
            rows = s.execute(select(HoldRange.hold_id, Camera.name, HoldRange.start_ns,
                                    HoldRange.end_ns).join(Camera,
                                                           Camera.id == HoldRange.camera_id)
                             .order_by(HoldRange.id)).all()
            transfers = {hold_id: number for hold_id, number in s.execute(
                select(Transfer.hold_id, Transfer.number).where(Transfer.hold_id.is_not(None)))}
        ranges: dict[int, list[tuple[str, int, int]]] = {}
        for hold_id, name, start, end in rows:
            ranges.setdefault(hold_id, []).append((name, start, end))
        return [HoldView(h, ranges.get(h.id, []), self._state(h, now), transfers.get(h.id))
                for h in holds]
