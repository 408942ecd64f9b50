"""Viewing sessions (clause 3.5.5): stored footage shown to the people it depicts, their
parents or legal representatives, or law-enforcement officers, recorded with who came,
in what capacity, on which identity document, what was shown, why and by whom. The
record is made once the viewing has taken place and numbered at once (`В-2026/0001`);
its minutes are a document like a protocol's. Its audit entry names the cameras that had
footage in the window shown (`recorded`): a session recorded for a window before any
footage existed, which the console warns of before recording it (issue 21), stays
visible as such."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.errors import Invalid, NotFound
from kuzet.governance.models import ViewingSession, next_number

CAPACITIES = ("depicted", "parent_or_representative", "law_enforcement", "staff")
MAX_ATTENDEES = 50


@dataclass(frozen=True)
class Attendee:
    name: str
    capacity: str
    document: str  # the identity document shown: kind and number


def check_attendees(attendees: list[Attendee]) -> list[Attendee]:
    if not attendees:
        raise Invalid("a viewing session has at least one attendee (3.5.5)")
    if len(attendees) > MAX_ATTENDEES:
        raise Invalid("at most {count} attendees", count=MAX_ATTENDEES)
    for a in attendees:
        if a.capacity not in CAPACITIES:
            raise Invalid("capacity is one of {names}", names=', '.join(CAPACITIES))
        if not a.name.strip() or not a.document.strip():
            raise Invalid("each attendee needs a name and the identity document shown")
    return attendees


class Viewings:
    def __init__(self, session: sessionmaker[Session], zone: str) -> None:
        self.session = session
        self.zone = zone

    def record(self, actor: Actor, cameras: list[str], start_ns: int, end_ns: int,
               purpose: str, attendees: list[Attendee], held_ns: int, now_ns: int,
               recorded: list[str] | None = None) -> ViewingSession:
        """`recorded`: those of `cameras` with footage in [start, end), for the audit
        entry (None: not looked up)."""
        check_attendees(attendees)
        if len(purpose.strip()) < 5:
            raise Invalid("state the purpose of the viewing (at least 5 characters)")
        with self.session.begin() as s:
            year, seq, number = next_number(s, ViewingSession, "viewing", now_ns, self.zone)
            v = ViewingSession(
                number=number, year=year, seq=seq,
                cameras=json.dumps(sorted(cameras)), start_ns=start_ns, end_ns=end_ns,
                purpose=purpose.strip(), attendees=json.dumps(
                    [a.__dict__ for a in attendees], ensure_ascii=False),
                conducted_by=actor.name, held_ns=held_ns, entry=0)
            s.add(v)
            s.flush()
            entry = append_act(s, actor, AuditAction.VIEWING_SESSION, f"viewing/{v.id}",
                               purpose=v.purpose, number=v.number, cameras=sorted(cameras),
                               footage_ns=[start_ns, end_ns], recorded=recorded,
                               attendees=[{"name": a.name, "capacity": a.capacity}
                                          for a in attendees])
            v.entry = entry.seq
        return v

    def get(self, viewing_id: int) -> ViewingSession:
        with self.session() as s:
            v = s.get(ViewingSession, viewing_id)
            if v is None:
                raise NotFound("no viewing session {viewing_id}", viewing_id=viewing_id)
            return v

    def listing(self, conducted_by: str | None = None) -> list[ViewingSession]:
        with self.session() as s:
            q = select(ViewingSession).order_by(ViewingSession.id)
            if conducted_by is not None:
                q = q.where(ViewingSession.conducted_by == conducted_by)
            return list(s.scalars(q))


def attendees_of(v: ViewingSession) -> list[Attendee]:
    return [Attendee(**a) for a in json.loads(v.attendees)]
