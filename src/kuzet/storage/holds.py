"""Holds: special retention of incident footage (clause 3.3), with its decision trail.

A hold is requested by one person and decided by another (the rector): nobody approves
their own request. Every step is written to the audit log in the same transaction. The
approval workflow with accounts and roles comes with the governance issue; `by` is the
name of the person acting until then.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kuzet.audit.log import Actor, append
from kuzet.catalog.models import Camera, Hold, HoldRange
from kuzet.catalog.store import Catalog, CatalogError
from kuzet.storage.retention import (
    DAY_NS,
    HoldFacts,
    HoldState,
    check_hold_expiry,
    hold_state,
)


@dataclass(frozen=True)
class HoldView:
    hold: Hold
    ranges: list[tuple[str, int, int]]  # (camera name, start, end)
    state: HoldState


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise CatalogError(f"a hold needs {what}")
    return value


def _log(s: Session, via: Actor | None, by: str, action: str, subject: str,
         detail: dict[str, Any], now: int) -> None:
    """A hold step in the audit log; through the API or the command line (`via`) with roles
    and address too, and who typed it where that is not `by` (the command line's
    `local:<operating-system user>` asking on someone's behalf)."""
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
            raise CatalogError("a hold's time range must end after it starts")
        if not cameras:
            raise CatalogError("a hold names at least one camera")
        with self.catalog.session.begin() as s:
            ids = []
            for name in dict.fromkeys(cameras):
                cam_id = s.scalar(select(Camera.id).where(Camera.name == name))
                if cam_id is None:
                    raise CatalogError(f"no camera named {name!r}")
                ids.append(cam_id)
            hold = Hold(reason=_text(reason, "a reason"), incident=_text(incident, "an incident"),
                        requested_by=_text(by, "the name of who requests it"), requested_ns=now)
            s.add(hold)
            s.flush()
            for cam_id in ids:
                s.add(HoldRange(hold_id=hold.id, camera_id=cam_id, start_ns=start_ns,
                                end_ns=end_ns))
            _log(s, via, hold.requested_by, "hold.request", f"hold/{hold.id}",
                   {"cameras": list(dict.fromkeys(cameras)), "start_ns": start_ns,
                    "end_ns": end_ns, "reason": hold.reason, "incident": hold.incident}, now)
        return hold

    def _decidable(self, s: Session, hold_id: int, now: int, by: str) -> Hold:
        """The hold, if it awaits a decision and `by` is not the one who asked for it."""
        hold = s.get(Hold, hold_id)
        if hold is None:
            raise CatalogError(f"no hold {hold_id}")
        state = hold_state(self._facts(hold, ()), now, self.pending_ns)
        if state not in (HoldState.PENDING, HoldState.LAPSED):
            raise CatalogError(f"hold {hold_id} is {state.value}, not awaiting a decision")
        if by == hold.requested_by:
            raise CatalogError("a hold is decided by someone other than who requested it")
        return hold

    def approve(self, hold_id: int, *, by: str, expires_ns: int,
                now_ns: int | None = None, via: Actor | None = None) -> Hold:
        now = now_ns if now_ns is not None else time.time_ns()
        by = _text(by, "the name of who approves it")
        check_hold_expiry(now, expires_ns)
        with self.catalog.session.begin() as s:
            hold = self._decidable(s, hold_id, now, by)
            hold.approved_by, hold.approved_ns, hold.expires_ns = by, now, expires_ns
            _log(s, via, by, "hold.approve", f"hold/{hold_id}", {"expires_ns": expires_ns}, now)
        return hold

    def reject(self, hold_id: int, *, by: str, note: str, now_ns: int | None = None,
               via: Actor | None = None) -> Hold:
        now = now_ns if now_ns is not None else time.time_ns()
        by = _text(by, "the name of who rejects it")
        note = _text(note, "a reason for the rejection")
        with self.catalog.session.begin() as s:
            hold = self._decidable(s, hold_id, now, by)
            hold.rejected_by, hold.rejected_ns, hold.decision_note = by, now, note
            _log(s, via, by, "hold.reject", f"hold/{hold_id}", {"note": note}, now)
        return hold

    def release(self, hold_id: int, *, by: str, note: str = "",
                now_ns: int | None = None, via: Actor | None = None) -> Hold:
        """End an approved hold early: its footage goes back to normal retention."""
        now = now_ns if now_ns is not None else time.time_ns()
        by = _text(by, "the name of who releases it")
        with self.catalog.session.begin() as s:
            hold = s.get(Hold, hold_id)
            if hold is None:
                raise CatalogError(f"no hold {hold_id}")
            state = hold_state(self._facts(hold, ()), now, self.pending_ns)
            if state is not HoldState.ACTIVE:
                raise CatalogError(f"hold {hold_id} is {state.value}; only an active hold is "
                                   "released")
            hold.released_by, hold.released_ns = by, now
            if note:
                hold.decision_note = note
            _log(s, via, by, "hold.release", f"hold/{hold_id}", {"note": note}, now)
        return hold

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
