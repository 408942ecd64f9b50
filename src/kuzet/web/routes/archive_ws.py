"""`/api/ws/archive/{camera}?start=…&purpose=…`: stored footage for the console's player.

Opening it is an act (clause 4.2): the purpose is required and recorded (`archive.open`,
`archive.close`), and footage is sent only inside the windows the caller may see
(a role: everything; a grant: its window). Messages:
- `{"type":"start","origin_ns"}`: media time 0 is this instant (the keyframe at or before
  the asked one; the player seeks forward to the asked instant);
- `{"type":"init","mime","offset_s","start_ns","end_ns"}` then the file's init segment,
  then its fragments, one binary message each; `offset_s` is the segment's place on the
  player's timeline (its SourceBuffer `timestampOffset`);
- `{"type":"gap"|"missing","from_ns","to_ns"}` where nothing was recorded or the file is
  gone (the player jumps over it and says so); when nothing at all was recorded from the
  asked instant on, `{"type":"nothing","nearest_before_ns"}` names where the nearest
  footage before it ends (null: none the caller may see); `{"type":"end"}`.
Sending runs at most `LOOKAHEAD_S` of media ahead of real time (times the speed the
player asks for with `{"speed": x}`), so a long playback never floods the browser; gaps
and missing files do not count, since the player jumps over them at once (waiting them
out would leave it stalled at the hole with nothing after it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from kuzet.access.errors import Invalid
from kuzet.access.permissions import Perm, footage_bounds
from kuzet.audit.log import Actor
from kuzet.media import keyindex
from kuzet.media.livemux import mime_codec
from kuzet.media.playback import first_fragment, read_segment
from kuzet.web.deps import services, source
from kuzet.web.times import instant
from kuzet.web.wsauth import POLICY_VIOLATION, admit, claim_view, close, refuse

router = APIRouter(tags=["cameras"])
LOOKAHEAD_S = 6.0
BATCH_NS = 3600 * 10**9  # segments are read from the catalog an hour at a time


@router.websocket("/api/ws/archive/{name}")
async def archive_stream(ws: WebSocket, name: str, start: str = "", purpose: str = "") -> None:
    svc = services(ws)
    caller = await admit(ws, Perm.ARCHIVE_VIEW)
    if caller is None:
        return
    actor = caller.actor(source(ws))
    cam = svc.cameras().get(name)
    try:
        start_ns = instant(start, "start")
    except Invalid as exc:
        await close(ws, POLICY_VIOLATION, str(exc))
        return
    purpose = purpose.strip()[:500]
    windows = footage_bounds(caller.principal, Perm.ARCHIVE_VIEW,
                             cam.id if cam else -1, svc.clock())
    window = next(((lo, hi) for lo, hi in windows if lo <= start_ns < hi), None)
    if cam is None or window is None or len(purpose) < 5:
        reason = ("state the purpose of opening the archive" if cam and window
                  else "archive view of this camera and time is not permitted")
        refuse(ws, actor, reason)
        await close(ws, POLICY_VIOLATION, reason)
        return
    if not await claim_view(ws, caller):
        return
    try:
        await _play(ws, actor, cam.name, cam.id, start_ns, window, purpose)
    finally:
        svc.views.give_back(caller.name)


async def _play(ws: WebSocket, actor: Actor, camera: str, camera_id: int, start_ns: int,
                window: tuple[int, int], purpose: str) -> None:
    svc = services(ws)
    await ws.accept()
    seq = svc.audit.act(actor, "archive.open", camera, purpose=purpose,
                        footage_from_ns=start_ns).seq
    control: dict[str, Any] = {"speed": 1.0}
    listener = asyncio.create_task(_listen(ws, control))
    sent_until = start_ns
    try:
        sent_until, origin = await _send(ws, camera_id, start_ns, window, control)
        if origin is None:  # nothing from this instant on: offer the footage before it
            before = await asyncio.to_thread(svc.catalog.segment_before, camera_id, start_ns)
            nearest = min(before.end_ns, window[1]) if before is not None else None
            await ws.send_text(json.dumps({
                "type": "nothing",
                "nearest_before_ns": nearest if nearest and nearest > window[0] else None}))
        await ws.send_text(json.dumps({"type": "end"}))
        await listener
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        listener.cancel()
        svc.audit.act(actor, "archive.close", camera, viewing=seq,
                      footage=[start_ns, sent_until])


async def _listen(ws: WebSocket, control: dict[str, Any]) -> None:
    """Speed changes from the player; returns when it goes away."""
    while True:
        try:
            message = json.loads(await ws.receive_text())
        except (WebSocketDisconnect, RuntimeError):
            return
        except ValueError:
            continue
        speed = message.get("speed") if isinstance(message, dict) else None
        if isinstance(speed, int | float) and 0.25 <= speed <= 16:
            control["speed"] = float(speed)


async def _send(ws: WebSocket, camera_id: int, start_ns: int, window: tuple[int, int],
                control: dict[str, Any]) -> tuple[int, int | None]:
    """Footage from `start_ns` to the end of the window; returns how far it went and the
    origin sent (None: there was nothing to send)."""
    svc = services(ws)
    t = start_ns
    origin: int | None = None
    clock_start = time.monotonic()
    media_sent_s = 0.0
    skipped_s = 0.0  # gaps the player jumps over at once: not waited for in real time
    while t < window[1]:
        batch = [s for s in await asyncio.to_thread(
            svc.catalog.segments, camera_id, t, min(window[1], t + BATCH_NS))
            if s.end_ns > t and not s.deleting]
        if not batch:
            following = await asyncio.to_thread(svc.catalog.next_start, camera_id, t)
            if following is None or following >= window[1]:
                break
            t = following
            continue
        for seg in batch:
            if seg.start_ns >= window[1]:
                return t, origin
            if seg.start_ns > t:  # before the first file too: the asked instant has none
                await _note(ws, "gap", t, seg.start_ns)
                if origin is not None:
                    skipped_s += (seg.start_ns - t) / 1e9
            kfs = keyindex.decode(seg.keyframes)
            k = first_fragment(kfs, t - seg.start_ns)
            if origin is None:
                origin = seg.start_ns + (kfs[k] if kfs else 0)
                await ws.send_text(json.dumps({"type": "start", "origin_ns": origin}))
            path = svc.catalog.path_of(seg)
            if not path.exists():
                await _note(ws, "missing", max(t, seg.start_ns), seg.end_ns)
                if origin is not None:
                    skipped_s += (seg.end_ns - max(t, seg.start_ns)) / 1e9
                t = seg.end_ns
                continue
            init, fragments = await asyncio.to_thread(read_segment, path, kfs, k)
            offset_s = (seg.start_ns - origin) / 1e9
            await ws.send_text(json.dumps({"type": "init", "mime": mime_codec(init),
                                           "offset_s": offset_s, "start_ns": seg.start_ns,
                                           "end_ns": seg.end_ns}))
            await ws.send_bytes(init)
            # Each read (a GOP, from the page cache as a rule) runs off the event loop.
            while (frag := await asyncio.to_thread(next, fragments, None)) is not None:
                media_sent_s = offset_s + frag.start_ns / 1e9
                ahead = (media_sent_s - skipped_s
                         - (time.monotonic() - clock_start) * control["speed"])
                if ahead > LOOKAHEAD_S:
                    await asyncio.sleep((ahead - LOOKAHEAD_S) / control["speed"])
                await ws.send_bytes(frag.data)
            t = seg.end_ns
    return t, origin


async def _note(ws: WebSocket, kind: str, from_ns: int, to_ns: int) -> None:
    with contextlib.suppress(RuntimeError):
        await ws.send_text(json.dumps({"type": kind, "from_ns": from_ns, "to_ns": to_ns}))
