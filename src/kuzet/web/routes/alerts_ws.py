"""`/api/ws/alerts`: new detection events pushed to the security post as they are stored.

Read from the events table by id: at once when detection in this process stores one
(`DetectionStore.on_record`), and every half second anyway, so it works whether
detection runs in this process or another; only events of cameras the viewer may watch live, and
the session is checked again before every look (handshake rules: kuzet.web.wsauth). The
socket sends no picture itself; each event's `snapshot` says whether the viewer may open
it, which for a guard is only while the alarm is live (kuzet.access.pictures).
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from kuzet.access.permissions import Perm, decide
from kuzet.errors import Unauthenticated
from kuzet.web.deps import services
from kuzet.web.pictures import event_for
from kuzet.web.wsauth import POLICY_VIOLATION, admit, ws_caller

router = APIRouter(tags=["detection"])
LOOK_EVERY_S = 0.5


@router.websocket("/api/ws/alerts")
async def alert_stream(ws: WebSocket) -> None:
    svc = services(ws)
    caller = await admit(ws, Perm.LIVE_VIEW)
    if caller is None:
        return
    await ws.accept()
    last = await asyncio.to_thread(svc.detection.last_id)
    # From here on every new event reaches this console: it may say it is connected.
    await ws.send_text(json.dumps({"type": "ready"}))
    loop, wake = asyncio.get_running_loop(), asyncio.Event()

    def ring() -> None:
        loop.call_soon_threadsafe(wake.set)

    silence = svc.detection.on_record(ring)
    # The console sends nothing on this socket, so a message coming is its end: the page
    # closed, or the server stopping. Without waiting for it the loop noticed neither
    # until an event was sent, and every stop of a server with a wall open waited out
    # its 3-s grace (`server.SHUTDOWN_S`).
    gone = asyncio.ensure_future(ws.receive())
    try:
        while True:
            try:
                caller = ws_caller(ws, Perm.LIVE_VIEW)
            except Unauthenticated as exc:
                await ws.close(POLICY_VIOLATION, str(exc)[:100])
                return
            now = svc.clock()
            cams = {c.id: c.name for c in svc.cameras().values()
                    if decide(caller.principal, Perm.LIVE_VIEW, now, c.id).allowed}
            fresh = await asyncio.to_thread(svc.detection.newer, list(cams), last)
            names = await asyncio.to_thread(svc.detection.rule_names) if fresh else {}
            for e in fresh:
                last = e.id
                await ws.send_text(json.dumps({"type": "event", **event_for(
                    caller, e, cams[e.camera_id], names, now)}))
            # Woken by an event stored in this process, or look again anyway.
            woken = asyncio.ensure_future(wake.wait())
            await asyncio.wait({gone, woken}, timeout=LOOK_EVERY_S,
                               return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            if gone.done():
                return
            wake.clear()
    except WebSocketDisconnect:
        return
    finally:
        if gone.done() and not gone.cancelled():
            gone.exception()  # read, so that a failed receive is not reported as unread
        gone.cancel()
        silence()
