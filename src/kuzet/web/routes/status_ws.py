"""`/api/ws/status`: camera status pushed every second, for the video wall.

A WebSocket carries no CSRF header, so the handshake is checked three ways before it is
accepted: the session cookie (SameSite=Strict, so a foreign page cannot send it), an
`Origin` naming this server, and the same permission as `GET /api/cameras`. The session
is checked again before every message, so logging out or expiring ends the stream.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from kuzet.access.errors import Unauthenticated
from kuzet.access.permissions import Perm
from kuzet.access.sessions import Caller
from kuzet.audit.log import Actor
from kuzet.web.deps import SESSION_COOKIE, holds_somewhere, services, source
from kuzet.web.routes.cameras import camera_json, visible

router = APIRouter(tags=["cameras"])
PUSH_EVERY_S = 1.0
POLICY_VIOLATION = 1008


def _refuse(ws: WebSocket, actor: Actor, reason: str) -> None:
    services(ws).audit.record(actor.name, "access.refused", ws.url.path,
                              {"roles": list(actor.roles), "source": actor.source,
                               "outcome": "refused", "reason": reason, "kind": "websocket"})


def _same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser: nothing to forge on its behalf
    return urlsplit(origin).netloc.lower() == ws.headers.get("host", "").lower()


def _check(ws: WebSocket) -> Caller:
    svc = services(ws)
    sid = ws.cookies.get(SESSION_COOKIE)
    if not sid:
        raise Unauthenticated("a WebSocket needs a session: log in first")
    caller = svc.sessions.caller_from_session(sid, svc.clock())
    if caller.second_factor_missing or caller.must_change_password:
        raise Unauthenticated("finish logging in (password change or second factor) first")
    if not any(holds_somewhere(caller.principal, p, svc.clock())
               for p in (Perm.CAMERA_STATUS, Perm.LIVE_VIEW)):
        raise Unauthenticated("this needs camera.status or live.view")
    return caller


@router.websocket("/api/ws/status")
async def status_stream(ws: WebSocket) -> None:
    svc = services(ws)
    anonymous = Actor("anonymous", (), source(ws))
    if not _same_origin(ws):
        _refuse(ws, anonymous, "cross-origin WebSocket")
        await ws.close(POLICY_VIOLATION, "cross-origin")
        return
    try:
        caller = _check(ws)
    except Unauthenticated as exc:
        _refuse(ws, anonymous, str(exc))
        await ws.close(POLICY_VIOLATION, str(exc)[:100])
        return
    await ws.accept()
    try:
        while True:
            try:
                caller = _check(ws)
            except Unauthenticated as exc:
                await ws.close(POLICY_VIOLATION, str(exc)[:100])
                return
            now, statuses = svc.clock(), svc.status()
            cams = [camera_json(c, statuses.get(c.name)) for c in svc.cameras().values()
                    if c.removed_ns is None and visible(caller, now, c)]
            await ws.send_text(json.dumps({"cameras": cams}))
            await asyncio.sleep(PUSH_EVERY_S)
    except WebSocketDisconnect:
        return
