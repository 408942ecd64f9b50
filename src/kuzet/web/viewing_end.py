"""`POST /api/viewing/{viewing}/end`: the closing entry of a viewing opened through the API.

A viewing opened with `POST /api/viewing/live` or `/api/viewing/archive` sends no footage
itself (the caller watches through its own player), so its closing entry records the
footage window that was opened with it (`footage`, `footage_ns`), never a span of its
own making. A viewing opened by a socket (`/api/ws/live`, `/api/ws/archive`) is closed by
that socket, with what it really sent: an `end` for it would be a second closing entry
beside the true one (or, racing it, before it) saying nothing of what was seen, so it is
refused; so is a second `end` of the same viewing (clause 4.2).
"""

from __future__ import annotations

import json
from typing import Any

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, AuditLog
from kuzet.catalog.models import AuditEntry
from kuzet.errors import Conflict

_CLOSES = {AuditAction.LIVE_START: AuditAction.LIVE_STOP,
           AuditAction.ARCHIVE_OPEN: AuditAction.ARCHIVE_CLOSE}


def opened_by_socket(action: str, detail: dict[str, Any]) -> bool:
    """Whether an opening entry is a socket's: the archive socket records the instant asked
    (`footage_from_ns`), the live socket the stream it serves (`stream`). Pure."""
    key = "footage_from_ns" if action == AuditAction.ARCHIVE_OPEN else "stream"
    return key in detail


def end_viewing(audit: AuditLog, actor: Actor, opened: AuditEntry) -> None:
    """Write the closing entry of the API viewing `opened` (the caller's own, checked by the
    route); Conflict, writing nothing, for a socket's viewing or one ended already."""
    action = _CLOSES[AuditAction(opened.action)]
    detail = json.loads(opened.detail)
    if opened_by_socket(opened.action, detail):
        raise Conflict("refused: viewing {seq} is a socket's, which records what it sent "
                       "when it closes (UE-10-22 4.2)", seq=opened.seq)
    for entry in audit.entries(action=action, since_ns=opened.at_ns):
        if entry.subject == opened.subject and json.loads(entry.detail).get(
                "viewing") == opened.seq:
            raise Conflict("refused: viewing {seq} has ended already (UE-10-22 4.2)",
                           seq=opened.seq)
    window = {k: detail[k] for k in ("footage", "footage_ns") if k in detail}
    audit.act(actor, action, opened.subject, viewing=opened.seq, ended="ended through the API",
              **window)
