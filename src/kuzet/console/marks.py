"""Bookmarks: instants marked on a camera, written with their audit entry at once."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.console.models import Bookmark

KINDS = {"incident": AuditAction.BOOKMARK_INCIDENT, "note": AuditAction.BOOKMARK_NOTE}
MAX_NOTE = 500


def mark(s: Session, actor: Actor, camera_id: int, camera_name: str, at_ns: int, note: str,
         kind: str, now_ns: int) -> Bookmark:
    """A bookmark and its audit entry inside the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"a bookmark is one of {', '.join(KINDS)}")
    bookmark = Bookmark(camera_id=camera_id, at_ns=at_ns, note=note.strip()[:MAX_NOTE],
                        kind=kind, created_by=actor.name, created_ns=now_ns)
    s.add(bookmark)
    s.flush()
    append_act(s, actor, KINDS[kind], camera_name, bookmark=bookmark.id, at_ns=at_ns,
               note=bookmark.note)
    return bookmark


class Bookmarks:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    def add(self, actor: Actor, camera_id: int, camera_name: str, at_ns: int, note: str,
            kind: str, now_ns: int) -> Bookmark:
        """Mark an instant; the audit entry and the row land in one transaction."""
        with self.session.begin() as s:
            return mark(s, actor, camera_id, camera_name, at_ns, note, kind, now_ns)

