"""Incident protocols (clause 3.5.7): started from the wall or the archive at an instant,
written by the guard, submitted (and numbered), reviewed by the head of security.

Every step is an audit entry written in the same transaction as the row; the submission's
entry carries a digest of the protocol as submitted, and the document prints that entry's
hash, so a printed protocol can be traced to the log and any later change shows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.console.marks import mark
from kuzet.errors import Conflict, Denied, Invalid, NotFound, Phrase
from kuzet.governance.models import Protocol, next_number
from kuzet.storage.derived import Derived, instants_in
from kuzet.storage.expiry import Expired

STATES = ("draft", "submitted", "reviewed")
TEXT_FIELDS = ("location", "circumstances", "measures")
MAX_TEXT = 10_000


@dataclass(frozen=True)
class Fields:
    """What the guard writes; None leaves a field as it is."""

    location: str | None = None
    circumstances: str | None = None
    measures: str | None = None
    informed_ns: int | None = None


def check_edit(p: Protocol, who: str) -> None:
    if p.author != who:
        raise Denied("only the protocol's author writes it")
    if p.state != "draft":
        raise Conflict("protocol {number} is {state}: it can no longer be changed",
                       number=p.number, state=Phrase(p.state))


def check_submit(p: Protocol, who: str) -> None:
    check_edit(p, who)
    missing = [f for f in ("location", "circumstances") if not getattr(p, f).strip()]
    if len(missing) == 2:
        raise Invalid("write the location and circumstances before submitting")
    if missing == ["location"]:
        raise Invalid("write the location before submitting")
    if missing:
        raise Invalid("write the circumstances before submitting")
    if p.informed_ns is None:
        raise Invalid("give the time the head of security was informed orally (3.5.7)")


def check_review(p: Protocol, who: str) -> None:
    if p.state != "submitted":
        raise Conflict("only a submitted protocol is reviewed; this one is {state}",
                       state=Phrase(p.state))
    if p.author == who:
        raise Denied("nobody reviews their own protocol")


def digest(p: Protocol, camera: str) -> str:
    """SHA-256 of the protocol as submitted (canonical JSON), for the audit entry."""
    doc = {"number": p.number, "camera": camera, "at_ns": p.at_ns, "location": p.location,
           "circumstances": p.circumstances, "measures": p.measures,
           "informed_ns": p.informed_ns, "author": p.author,
           "snapshot_sha256": hashlib.sha256(p.snapshot_png).hexdigest()
           if p.snapshot_png else None}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


class Protocols:
    def __init__(self, session: sessionmaker[Session], zone: str) -> None:
        self.session = session
        self.zone = zone

    def start(self, actor: Actor, camera_id: int, camera: str, at_ns: int, now_ns: int
              ) -> Protocol:
        """A draft at the instant, with an incident bookmark on the timeline."""
        with self.session.begin() as s:
            bookmark = mark(s, actor, camera_id, camera, at_ns, "protocol", "incident",
                            now_ns)
            p = Protocol(state="draft", camera_id=camera_id, at_ns=at_ns, location="",
                         circumstances="", measures="", author=actor.name,
                         created_ns=now_ns, bookmark_id=bookmark.id)
            s.add(p)
            s.flush()
            append_act(s, actor, AuditAction.PROTOCOL_START, f"protocol/{p.id}", camera=camera,
                       at_ns=at_ns)
        return p

    def get(self, protocol_id: int) -> Protocol:
        with self.session() as s:
            p = s.get(Protocol, protocol_id)
            if p is None:
                raise NotFound("no protocol {protocol_id}", protocol_id=protocol_id)
            return p

    def listing(self, author: str | None = None, state: str | None = None,
             year: int | None = None, registered_or_by: str | None = None) -> list[Protocol]:
        """Protocols, narrowed to one `author`'s, or to the registered ones and
        `registered_or_by`'s own drafts (the Board's view, `governance.board`)."""
        with self.session() as s:
            q = select(Protocol).order_by(Protocol.id)
            if author is not None:
                q = q.where(Protocol.author == author)
            if registered_or_by is not None:
                q = q.where(or_(Protocol.number.is_not(None),
                                Protocol.author == registered_or_by))
            if state is not None:
                q = q.where(Protocol.state == state)
            if year is not None:
                q = q.where(Protocol.year == year)
            return list(s.scalars(q))

    def edit(self, actor: Actor, protocol_id: int, fields: Fields) -> Protocol:
        with self.session.begin() as s:
            p = self._row(s, protocol_id)
            check_edit(p, actor.name)
            for name in TEXT_FIELDS:
                value = getattr(fields, name)
                if value is not None:
                    setattr(p, name, value.strip()[:MAX_TEXT])
            if fields.informed_ns is not None:
                p.informed_ns = fields.informed_ns
        return p

    def attach_snapshot(self, protocol_id: int, png: bytes) -> None:
        """The recorded frame at the instant, kept with the protocol for as long as the
        footage it comes from would be (`clear_frames`)."""
        with self.session.begin() as s:
            p = self._row(s, protocol_id)
            if p.state == "draft" and p.snapshot_png is None:
                p.snapshot_png = png

    def submit(self, actor: Actor, protocol_id: int, camera: str, now_ns: int) -> Protocol:
        """Numbered in the year of submission (display time zone), then closed to edits."""
        with self.session.begin() as s:
            p = self._row(s, protocol_id)
            check_submit(p, actor.name)
            p.year, p.seq, p.number = next_number(s, Protocol, "protocol", now_ns, self.zone)
            p.state, p.submitted_ns = "submitted", now_ns
            entry = append_act(s, actor, AuditAction.PROTOCOL_SUBMIT, f"protocol/{p.id}",
                               number=p.number, digest=digest(p, camera))
            p.submitted_entry = entry.seq
        return p

    def review(self, actor: Actor, protocol_id: int, note: str, now_ns: int) -> Protocol:
        with self.session.begin() as s:
            p = self._row(s, protocol_id)
            check_review(p, actor.name)
            p.state, p.reviewed_by, p.reviewed_ns = "reviewed", actor.name, now_ns
            p.review_note = note.strip()[:MAX_TEXT]
            append_act(s, actor, AuditAction.PROTOCOL_REVIEW, f"protocol/{p.id}", number=p.number)
        return p

    @staticmethod
    def _row(s: Session, protocol_id: int) -> Protocol:
        p = s.get(Protocol, protocol_id, with_for_update=True)
        if p is None:
            raise NotFound("no protocol {protocol_id}", protocol_id=protocol_id)
        return p


def clear_frames(s: Session, camera_id: int, expired: Expired) -> int:
    """The frames of protocols whose instant's footage has expired: a frame is footage and
    lives no longer than it unless a hold covers its instant (clause 3.3; a protocol's own
    hold keeps it). The protocol stays, and so does its submission's digest, which
    covered the frame's hash."""
    if not expired.fresh:
        return 0
    cleared = s.execute(update(Protocol).where(
        Protocol.camera_id == camera_id, Protocol.snapshot_png.is_not(None),
        instants_in(Protocol.at_ns, expired.fresh)).values(snapshot_png=None))
    return int(cleared.rowcount or 0)  # type: ignore[attr-defined]


# The protocols' frames, for the sweeper (`storage.derived`).
PROTOCOL_FRAMES = Derived("protocol_frames", clear_frames)
