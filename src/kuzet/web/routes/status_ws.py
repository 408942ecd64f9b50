"""`/api/ws/status`: camera status pushed every second, for the video wall.

The session is checked again before every message, so logging out or expiring ends the
stream (handshake rules: kuzet.web.wsauth).
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from kuzet.access.permissions import Perm
from kuzet.errors import Unauthenticated
from kuzet.web.deps import services
from kuzet.web.routes.cameras import camera_json, visible
from kuzet.web.wsauth import POLICY_VIOLATION, admit, ws_caller

router = APIRouter(tags=["cameras"])
PUSH_EVERY_S = 1.0
PERMS = (Perm.CAMERA_STATUS, Perm.LIVE_VIEW)


@router.websocket("/api/ws/status")
async def status_stream(ws: WebSocket) -> None:
    svc = services(ws)
    caller = await admit(ws, *PERMS)
    if caller is None:
        return
    await ws.accept()
    try:
        while True:
            try:
                caller = ws_caller(ws, *PERMS)
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
