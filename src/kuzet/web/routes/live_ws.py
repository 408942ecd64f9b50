"""`/api/ws/live/{camera}?stream=main|sub`: live video for Media Source Extensions.

The first message names the stream served, `{"type": "stream", "stream": "main"|"sub"}`:
a camera without a sub stream serves its main one when asked for the sub (the wall's
grid tiles ask for the sub; kuzet.recorder.substream). Then JSON
`{"type": "init", "mime": ...}` followed by the init segment as
a binary message; then one binary message per frame: 8 bytes of the frame's arrival at
the recorder (ns since the epoch, big-endian; the player measures its latency with it),
one byte of flags (1: a keyframe, where a player that fell behind may resume), and the
fragment (moof+mdat). A new init (the camera
reconnected, its parameters changed) comes the same way. Frames come from the recorder's
own camera session through its fan-out (kuzet.recorder.fanout): watching opens no second
connection to the camera. On a node of a cluster, a camera another node records comes
from that node's fan-out (kuzet.cluster.live_relay); when the stream ends here (the camera
moved), the socket closes with 1011 and the player opens it again. Start and end are
audited (`live.start`, `live.stop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from kuzet.access.permissions import Decision, Perm, decide
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.catalog.streams import Stream
from kuzet.cluster.remote import NodeDown
from kuzet.viewers import Audience, Viewer, watched
from kuzet.web.deps import services, source
from kuzet.web.wsauth import POLICY_VIOLATION, admit, claim_view, close, ended, refuse

router = APIRouter(tags=["cameras"])
RECHECK_S = 5.0  # the session, the permission and the camera are checked again this often
NOT_LIVE = 1011
REMOVED = 4004  # the camera was removed while watched: the player says so, and stops


@router.websocket("/api/ws/live/{name}")
async def live_stream(ws: WebSocket, name: str, stream: str = "main") -> None:
    svc = services(ws)
    caller = await admit(ws, Perm.LIVE_VIEW)
    if caller is None:
        return
    cam = svc.cameras().get(name)
    if cam is not None and cam.removed_ns is not None:
        cam = None  # no longer recorded: nothing live to see
    verdict = decide(caller.principal, Perm.LIVE_VIEW, svc.clock(),
                     cam.id if cam is not None else -1)
    if cam is None or not verdict.allowed:
        refuse(ws, caller.actor(source(ws)), verdict.reason if cam else "no such camera")
        await close(ws, POLICY_VIOLATION, "live view of this camera is not permitted")
        return
    asked = Stream.SUB if stream == Stream.SUB.label else Stream.MAIN
    hub: Audience | None
    served, hub = watched(svc.live, cam.name, asked)
    if not await claim_view(ws, caller):
        return
    viewer = Viewer(asyncio.get_running_loop())
    try:
        why = "the camera is not being recorded here"
        if hub is not None:
            hub.join(viewer)
        elif svc.relays is not None:  # another node may record it: joined as it opens
            try:
                relayed = await asyncio.to_thread(svc.relays.open, cam.id, asked, viewer)
            except NodeDown as exc:
                relayed, why = None, str(exc)
            if relayed is not None:
                served, hub = relayed.served, relayed
        if hub is None:
            await close(ws, NOT_LIVE, why)
            return
        try:
            await _watch(ws, caller, cam.name, cam.id, viewer, served, verdict)
        finally:
            hub.leave(viewer)  # a relayed stream's connection ends with its last viewer
    finally:
        svc.views.give_back(caller.name)


async def _watch(ws: WebSocket, caller: Caller, camera: str, camera_id: int, viewer: Viewer,
                 served: Stream, basis: Decision) -> None:
    svc = services(ws)
    await ws.accept()
    await ws.send_text(json.dumps({"type": "stream", "stream": served.label}))
    seq = svc.audit.act(caller.actor(source(ws)), AuditAction.LIVE_START, camera,
                        basis=basis.reason, stream=served.label).seq
    try:
        await _pump(ws, viewer, camera_id, camera, basis)
    except WebSocketDisconnect:
        pass
    finally:
        svc.audit.act(caller.actor(source(ws)), AuditAction.LIVE_STOP, camera,
                      viewing=seq, dropped=viewer.dropped)


async def _pump(ws: WebSocket, viewer: Viewer, camera_id: int, camera: str,
                basis: Decision) -> None:
    loop = asyncio.get_running_loop()
    next_check = loop.time() + RECHECK_S
    while True:
        try:
            item = await asyncio.wait_for(viewer.get(), RECHECK_S)
        except TimeoutError:
            item = None
        if loop.time() >= next_check:
            # the archive socket's re-check, off the event loop (a catalog read)
            why = await asyncio.to_thread(ended, ws, Perm.LIVE_VIEW, camera_id, None, basis)
            if why is not None:
                with contextlib.suppress(RuntimeError):
                    await ws.close(POLICY_VIOLATION, why)
                return
            if _removed(ws, camera):
                with contextlib.suppress(RuntimeError):
                    await ws.close(REMOVED, "the camera was removed")
                return
            next_check = loop.time() + RECHECK_S
        if item is None:
            continue
        if item.kind == "end":  # the player opens it again, from the node recording it now
            with contextlib.suppress(RuntimeError):
                await ws.close(NOT_LIVE, "the camera's stream ended here")
            return
        if item.kind == "init":
            await ws.send_text(json.dumps({"type": "init", "mime": item.mime}))
            await ws.send_bytes(item.data)
        else:
            await ws.send_bytes(struct.pack(">QB", item.arrival_ns, int(item.keyframe))
                                + item.data)


def _removed(ws: WebSocket, camera: str) -> bool:
    cam = services(ws).cameras().get(camera)
    return cam is None or cam.removed_ns is not None
