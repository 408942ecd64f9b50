"""Holds: special retention of incident footage (clause 3.3), with its decision trail.

A hold is requested by one person (on the command line, possibly on someone's behalf) and
decided by another: the rector approves it with an expiry, rejects it, or releases it
early, through the approval machine (`access.approvals.HOLDS`), which refuses the
requester and anyone without `hold.approve`. Which footage a hold protects, and when, is
`storage.retention`'s pure rule, and how long a hold may last `regulation`'s; this module
keeps the rows and writes every step (and every refused decision) to the audit log in the
same transaction (`access.steps`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kuzet.access.approvals import HOLDS, Action, RequestFacts
from kuzet.access.roles import decider_of
from kuzet.access.steps import Entry, take_step
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append
from kuzet.catalog.models import Camera, Hold, HoldRange
from kuzet.catalog.store import Catalog
from kuzet.errors import Invalid, NotFound
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


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid(f"a hold needs {what}")
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


class Holds:
    def __init__(self, catalog: Catalog, pending_days: float) -> None:
        self.catalog = catalog
        self.pending_ns = int(pending_days * DAY_NS)

    def request(self, cameras: list[str], start_ns: int, end_ns: int, *, reason: str,
                incident: str, by: str, now_ns: int | None = None,
                via: Actor | None = None) -> Hold:
        now = now_ns if now_ns is not None else time.time_ns()
        if end_ns <= start_ns:
            raise Invalid("a hold's time range must end after it starts")
        if not cameras:
            raise Invalid("a hold names at least one camera")
        with self.catalog.session.begin() as s:
            ids = []
            for name in dict.fromkeys(cameras):
                cam_id = s.scalar(select(Camera.id).where(Camera.name == name))
                if cam_id is None:
                    raise NotFound(f"no camera named {name!r}")
                ids.append(cam_id)
            hold = Hold(reason=_text(reason, "a reason"), incident=_text(incident, "an incident"),
                        requested_by=_text(by, "the name of who requests it"), requested_ns=now)
            s.add(hold)
            s.flush()
            for cam_id in ids:
                s.add(HoldRange(hold_id=hold.id, camera_id=cam_id, start_ns=start_ns,
                                end_ns=end_ns))
            _log(s, via, hold.requested_by, AuditAction.HOLD_REQUEST, f"hold/{hold.id}",
                   {"cameras": list(dict.fromkeys(cameras)), "start_ns": start_ns,
                    "end_ns": end_ns, "reason": hold.reason, "incident": hold.incident}, now)
        return hold

    def _decide(self, actor: Actor, hold_id: int, action: Action, now: int, *,
                expires_ns: int = 0, note: str = "") -> Hold:
        """Take `action` on the hold as the approval machine allows, and audit it, taken or
        refused (`access.steps`), at the step's instant."""
        with take_step(self.catalog.session, actor) as step:
            hold = step.session.get(Hold, hold_id)
            if hold is None:
                raise NotFound(f"no hold {hold_id}")
            state = hold_state(self._facts(hold, ()), now, self.pending_ns)
            facts = RequestFacts(str(hold_id), HOLDS.state(state.value), hold.requested_by,
                                 expires_ns=hold.expires_ns, note=hold.decision_note)
            entry = Entry(AUDITED[action], f"hold/{hold_id}", at_ns=now)
            step.take(HOLDS, action, facts, decider_of(step.session, actor), now, entry)
            detail: dict[str, Any] = {"note": note}
            if action is Action.APPROVE:
                hold.approved_by, hold.approved_ns = actor.name, now
                hold.expires_ns = expires_ns
                detail = {"expires_ns": expires_ns}
            elif action is Action.REJECT:
                hold.rejected_by, hold.rejected_ns = actor.name, now
                hold.decision_note = note
            else:
                hold.released_by, hold.released_ns = actor.name, now
                hold.decision_note = note or hold.decision_note
            step.record(entry, **detail)
        return hold

    def approve(self, hold_id: int, actor: Actor, *, expires_ns: int,
                now_ns: int | None = None) -> Hold:
        now = now_ns if now_ns is not None else time.time_ns()
        check_hold_expiry(now, expires_ns)
        return self._decide(actor, hold_id, Action.APPROVE, now, expires_ns=expires_ns)

    def reject(self, hold_id: int, actor: Actor, *, note: str,
               now_ns: int | None = None) -> Hold:
        now = now_ns if now_ns is not None else time.time_ns()
        note = _text(note, "a reason for the rejection")
        return self._decide(actor, hold_id, Action.REJECT, now, note=note)

    def release(self, hold_id: int, actor: Actor, *, note: str = "",
                now_ns: int | None = None) -> Hold:
        """End an approved hold early: its footage goes back to normal retention."""
        now = now_ns if now_ns is not None else time.time_ns()
        return self._decide(actor, hold_id, Action.REVOKE, now, note=note)

    @staticmethod
    def _facts(h: Hold, ranges: tuple[tuple[int, int, int], ...]) -> HoldFacts:
        return HoldFacts(h.id, h.requested_ns, h.approved_ns, h.expires_ns, h.rejected_ns,
                         h.released_ns, ranges)

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
        return [self._facts(h, tuple(ranges.get(h.id, ()))) for h in holds]

    def list(self, now_ns: int | None = None) -> list[HoldView]:
        now = now_ns if now_ns is not None else time.time_ns()
        with self.catalog.session() as s:
            holds = list(s.scalars(select(Hold).order_by(Hold.id)))
            rows = s.execute(select(HoldRange.hold_id, Camera.name, HoldRange.start_ns,
                                    HoldRange.end_ns).join(Camera,
                                                           Camera.id == HoldRange.camera_id)
                             .order_by(HoldRange.id)).all()
        ranges: dict[int, list[tuple[str, int, int]]] = {}
        for hold_id, name, start, end in rows:
            ranges.setdefault(hold_id, []).append((name, start, end))
        return [HoldView(h, ranges.get(h.id, []),
                         hold_state(self._facts(h, ()), now, self.pending_ns)) for h in holds]
