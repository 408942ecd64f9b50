"""The route side of `access.pictures`: refuse (audited) a picture the caller may not see,
and tell listings which pictures a caller may open."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from kuzet.access.permissions import Perm
from kuzet.access.pictures import may_see_picture
from kuzet.access.sessions import Caller
from kuzet.analytics.models import Event
from kuzet.analytics.store import event_json
from kuzet.errors import Denied
from kuzet.web.deps import refuse, services, source


def authorize_picture(request: Request, caller: Caller, camera_id: int, at_ns: int, *,
                      perm: Perm = Perm.ARCHIVE_VIEW, live: bool = False) -> str:
    """Check that the caller may see the picture `camera_id` recorded at `at_ns`; returns
    the reason it is allowed (the audit entry's basis)."""
    d = may_see_picture(caller.principal, camera_id, at_ns, services(request).clock(),
                        perm=perm, live=live)
    if not d.allowed:
        refuse(request, caller.actor(source(request)), "picture", d.reason)
        raise Denied(d.reason)
    return d.reason


def event_for(caller: Caller, e: Event, camera: str, names: dict[int, str], now_ns: int
              ) -> dict[str, Any]:
    """An event as listings and the alert socket send it: `snapshot` says whether the
    caller may open its picture now, so the console asks only for pictures it will get;
    never while their screen is locked (the locked wall shows alarms without pictures,
    `deps.WHILE_LOCKED_ROUTES`)."""
    shown = not caller.locked and e.snapshot_jpeg is not None and may_see_picture(
        caller.principal, e.camera_id, e.at_ns, now_ns, live=True).allowed
    return {**event_json(e, camera, names), "snapshot": shown}
