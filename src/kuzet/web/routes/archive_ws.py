"""`/api/ws/archive/{camera}?start=…&purpose=…[&end=…][&speed=…]`: stored footage for the
console's player.

Opening it is an act (clause 4.2): the purpose is required and recorded (`archive.open`,
`archive.close`). Footage is sent only inside the window the caller may see (a role:
everything; a grant: its window, clause 3.5.5) and before `end` when one is asked: no
fragment starts at a keyframe before the window, and the fragment across its end is cut
short there (kuzet.mp4.playback). Messages:
- `{"type":"start","origin_ns"}`: media time 0 is this instant (the keyframe at or before
  the asked one, or the first keyframe inside the window when that one lies before it;
  the player seeks forward to the asked instant);
- `{"type":"init","mime","offset_s","start_ns","end_ns"}` then the file's init segment,
  then its fragments, one binary message each; `offset_s` is the segment's place on the
  player's timeline (its SourceBuffer `timestampOffset`);
- `{"type":"gap"|"missing","from_ns","to_ns"}` where nothing was recorded, or the file is
  gone or its read broke off (cut short on disk, its node gone midway) (the player jumps
  over it and says so); when nothing at all was recorded from the
  asked instant on, `{"type":"nothing","nearest_before_ns"}` names where the nearest
  footage before it ends (null: none the caller may see); `{"type":"end"}`.
What plays next, and where a gap or a missing file is noted, is the playback plan
(kuzet.console.playback_plan) of the rows, read from the catalog a page at a time.
Sending runs at most `LOOKAHEAD_S` of media ahead of real time (times the speed the
player opens at, `speed`, or asks for with `{"speed": x}`), so a long playback never
floods the browser; gaps
and missing files do not count, since the player jumps over them at once (waiting them
out would leave it stalled at the hole with nothing after it).

The session and the permission are checked again every `RECHECK_S` for as long as the
socket is open (kuzet.web.wsauth.ended): logging out, the session's expiry, a revoked
role or an ended grant close it with code 1008 and a reason naming what ended.

However the socket ends (the player closes it, the page goes away, the connection drops,
a re-check refuses, the server stops), its `archive.close` entry records what it really
sent (kuzet.console.archive_sent): the first and last instant of footage that went out,
the seconds of footage, every speed asked with its instant, and how it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from kuzet.access.permissions import Decision, Perm, decide, footage_bounds
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor
from kuzet.catalog import keyindex
from kuzet.catalog.models import Segment
from kuzet.console.archive_sent import (
    MAX_SPEED,
    MIN_SPEED,
    Pace,
    Sent,
    closed_by,
    speed_asked,
)
from kuzet.console.plan_rows import on_disk
from kuzet.console.playback_plan import Gap, Play, Row, plan
from kuzet.errors import Invalid
from kuzet.mp4.boxes import FragmentError
from kuzet.mp4.playback import PlaybackFragment, first_fragment, read_segment
from kuzet.mp4.reader import mime_codec
from kuzet.storage.footage import Footage
from kuzet.web.deps import services, source
from kuzet.web.times import instant
from kuzet.web.wsauth import POLICY_VIOLATION, admit, claim_view, close, ended, refuse

router = APIRouter(tags=["cameras"])
log = logging.getLogger(__name__)
LOOKAHEAD_S = 6.0
RECHECK_S = 5.0  # the session and the permission are checked again this often
# what `_next` answers for a file whose read broke off
BROKEN = PlaybackFragment(0, 0, b"")
BATCH_NS = 3600 * 10**9  # segments are read from the catalog an hour at a time


@dataclass(frozen=True)
class _Scope:
    """What a socket may send: `window` is the footage the caller may see (what the
    re-check asks about again), `clip` that window narrowed to the asked end."""

    window: tuple[int, int]
    clip: tuple[int, int]
    basis: Decision


@router.websocket("/api/ws/archive/{name}")
async def archive_stream(ws: WebSocket, name: str, start: str = "", purpose: str = "",
                         end: str = "", speed: str = "1") -> None:
    svc = services(ws)
    caller = await admit(ws, Perm.ARCHIVE_VIEW)
    if caller is None:
        return
    actor = caller.actor(source(ws))
    cam = svc.cameras().get(name)
    try:
        start_ns = instant(start, "start")
        end_ns = instant(end, "end") if end else None
        if end_ns is not None and end_ns <= start_ns:
            raise Invalid("the end comes after the start")
        opening_speed = _speed(speed)
    except Invalid as exc:
        await close(ws, POLICY_VIOLATION, str(exc))
        return
    purpose = purpose.strip()[:500]
    now = svc.clock()
    windows = footage_bounds(caller.principal, Perm.ARCHIVE_VIEW, cam.id if cam else -1, now)
    window = next(((lo, hi) for lo, hi in windows if lo <= start_ns < hi), None)
    if cam is None or window is None or len(purpose) < 5:
        reason = ("state the purpose of opening the archive" if cam and window
                  else "archive view of this camera and time is not permitted")
        refuse(ws, actor, reason)
        await close(ws, POLICY_VIOLATION, reason)
        return
    if not await claim_view(ws, caller):
        return
    basis = decide(caller.principal, Perm.ARCHIVE_VIEW, now, cam.id, window)
    clip_end = window[1] if end_ns is None else min(window[1], end_ns)
    scope = _Scope(window, (window[0], clip_end), basis)
    try:
        await _play(ws, actor, cam.name, cam.id, start_ns, scope, purpose, opening_speed)
    finally:
        svc.views.give_back(caller.name)


def _speed(text: str) -> float:
    """The speed the player opens at (it keeps its speed across a jump or a reconnection)."""
    try:
        asked = speed_asked(float(text))
    except ValueError:
        asked = None
    if asked is None:
        raise Invalid("speed: a number from {low} to {high}", low=MIN_SPEED, high=MAX_SPEED)
    return asked


async def _play(ws: WebSocket, actor: Actor, camera: str, camera_id: int, start_ns: int,
                scope: _Scope, purpose: str, speed: float) -> None:
    svc = services(ws)
    await ws.accept()
    seq = svc.audit.act(actor, AuditAction.ARCHIVE_OPEN, camera, purpose=purpose,
                        footage_from_ns=start_ns, basis=scope.basis.reason).seq
    pace, sent = Pace(speed), Sent(svc.clock(), speed)
    sender = asyncio.create_task(_stream(ws, camera_id, start_ns, scope.clip, pace, sent))
    listener = asyncio.create_task(_listen(ws, pace, sent))
    how = "the server is stopping"  # cancelled: unless it ends another way first
    try:
        reason = await _watch(sender, listener, lambda: ended(
            ws, Perm.ARCHIVE_VIEW, camera_id, scope.window, scope.basis))
        if reason is not None:
            how = reason
            sender.cancel()
            with contextlib.suppress(RuntimeError):
                await ws.close(POLICY_VIOLATION, reason[:100])
        else:
            how = closed_by(listener.result())
    except Exception as exc:
        how = f"error: {type(exc).__name__}"
        raise
    finally:
        sender.cancel()
        listener.cancel()
        svc.audit.act(actor, AuditAction.ARCHIVE_CLOSE, camera, viewing=seq,
                      **sent.detail(how))


async def _watch(sender: asyncio.Task[None], listener: asyncio.Task[int | None],
                 check: Callable[[], str | None]) -> str | None:
    """Wait until the player goes away (None), asking `check` every `RECHECK_S`, sending
    or not: its reason as soon as it gives one. An error of the sender is raised here."""
    loop = asyncio.get_running_loop()
    waiting: set[asyncio.Task[None] | asyncio.Task[int | None]] = {sender, listener}
    next_check = loop.time() + RECHECK_S
    while not listener.done():
        done, waiting = await asyncio.wait(waiting, timeout=max(0.0, next_check - loop.time()),
                                           return_when=asyncio.FIRST_COMPLETED)
        if sender in done:
            sender.result()
        if loop.time() >= next_check:
            # the session cache is stale by then: a catalog read, off the event loop
            reason = await asyncio.to_thread(check)
            if reason is not None:
                return reason
            next_check = loop.time() + RECHECK_S
    return None


async def _stream(ws: WebSocket, camera_id: int, start_ns: int, clip: tuple[int, int],
                  pace: Pace, sent: Sent) -> None:
    """Everything the socket sends: the footage, then `nothing` (when there was none) and
    `end`. The player going away ends it quietly (the listener notices too)."""
    svc = services(ws)
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        origin = await _send(ws, camera_id, start_ns, clip, pace, sent)
        if origin is None:  # nothing from this instant on: offer the footage before it
            before = await asyncio.to_thread(svc.catalog.segment_before, camera_id, start_ns)
            nearest = min(before.end_ns, clip[1]) if before is not None else None
            await ws.send_text(json.dumps({
                "type": "nothing",
                "nearest_before_ns": nearest if nearest and nearest > clip[0] else None}))
        await ws.send_text(json.dumps({"type": "end"}))


async def _listen(ws: WebSocket, pace: Pace, sent: Sent) -> int | None:
    """Speed changes from the player, each recorded with its instant; returns the close
    code when the player goes away (None: the socket was no longer connected)."""
    svc = services(ws)
    while True:
        try:
            message = json.loads(await ws.receive_text())
        except WebSocketDisconnect as gone:
            return gone.code
        except RuntimeError:
            return None
        except ValueError:
            continue
        speed = speed_asked(message.get("speed") if isinstance(message, dict) else None)
        if speed is not None:
            pace.set_speed(speed, time.monotonic())
            sent.speed(svc.clock(), speed)


async def _send(ws: WebSocket, camera_id: int, start_ns: int, clip: tuple[int, int],
                pace: Pace, sent: Sent) -> int | None:
    """Footage from `start_ns` to the end of `clip`, none before its start, in the order of
    the playback plan of each page of rows; returns the origin sent (None: there was
    nothing to send)."""
    svc = services(ws)
    t = start_ns  # where the next item begins
    look = start_ns  # where the next page of rows is read from (ahead of `t` past a gap)
    origin: int | None = None
    pace.start(time.monotonic())
    media_sent_s = 0.0
    skipped_s = 0.0  # gaps the player jumps over at once: not waited for in real time
    while look < clip[1]:
        page = await asyncio.to_thread(_page, svc.footage, camera_id, look,
                                       min(clip[1], look + BATCH_NS))
        if not page:
            following = await asyncio.to_thread(svc.catalog.next_start, camera_id, look)
            if following is None or following >= clip[1] or following <= look:
                break  # nothing further (never read the same page twice)
            look = following
            continue
        items = plan(page, t, clip[1], [clip])
        if isinstance(items[-1], Gap):  # after the page's last file: the next page says
            items.pop()
        for item in items:
            if isinstance(item, Gap):  # before the first file too: the asked instant has none
                await _note(ws, "gap", item.start_ns, item.end_ns)
                if origin is not None:
                    skipped_s += (item.end_ns - item.start_ns) / 1e9
                continue
            seg = item.segment.key
            t = item.end_ns
            kfs = keyindex.decode(seg.keyframes)
            k = first_fragment(kfs, item.start_ns - seg.start_ns, clip[0] - seg.start_ns)
            if k is None:  # its keyframes all lie before the window
                continue
            first_ns = seg.start_ns + (kfs[k] if kfs else 0)
            if first_ns >= clip[1]:  # the window holds no keyframe to start at
                return origin
            if origin is None:
                origin = first_ns
                await ws.send_text(json.dumps({"type": "start", "origin_ns": origin}))
            read = None
            if isinstance(item, Play):
                # The page's files were looked at when it was read, up to an hour of
                # playback ago: one retention removed since is missing like any other, and
                # so is one whose boxes the reader cannot follow.
                with contextlib.suppress(FileNotFoundError, FragmentError):
                    read = await asyncio.to_thread(_read, svc.footage, seg, kfs, k,
                                                   clip[1] - seg.start_ns)
            if read is None:
                await _note(ws, "missing", item.start_ns, item.end_ns)
                skipped_s += (item.end_ns - item.start_ns) / 1e9
                continue
            init, fragments = read
            offset_s = (seg.start_ns - origin) / 1e9
            await ws.send_text(json.dumps({"type": "init", "mime": mime_codec(init),
                                           "offset_s": offset_s, "start_ns": seg.start_ns,
                                           "end_ns": seg.end_ns}))
            await ws.send_bytes(init)
            # Each read (a GOP, from the page cache as a rule) runs off the event loop.
            sent_to = item.start_ns
            while (frag := await asyncio.to_thread(_next, fragments, seg)) is not None:
                if frag is BROKEN:  # the rest of the file cannot be read: said, skipped
                    if sent_to < item.end_ns:
                        await _note(ws, "missing", sent_to, item.end_ns)
                        skipped_s += (item.end_ns - sent_to) / 1e9
                    break
                media_sent_s = offset_s + frag.start_ns / 1e9
                ahead = media_sent_s - skipped_s - pace.played_s(time.monotonic())
                if ahead > LOOKAHEAD_S:
                    await asyncio.sleep((ahead - LOOKAHEAD_S) / pace.speed)
                await ws.send_bytes(frag.data)
                sent.fragment(seg.start_ns + frag.start_ns, seg.start_ns + frag.end_ns)
                sent_to = max(sent_to, seg.start_ns + frag.end_ns)
        look = t
    return origin


def _read(footage: Footage, seg: Segment, kfs: list[int], k: int,
          until_ns: int) -> tuple[bytes, Iterator[PlaybackFragment]]:
    """The segment's init and fragments from its `k`th on, wherever its file lies."""
    return read_segment(*footage.parts(seg, k), kfs, seg.end_ns - seg.start_ns, k, until_ns)


def _next(fragments: Iterator[PlaybackFragment], seg: Segment) -> PlaybackFragment | None:
    """The file's next fragment, None after its last, or `BROKEN` when its read broke off
    (cut short on disk since, its node gone midway): logged, and noted to the player."""
    try:
        return next(fragments, None)
    except OSError as exc:
        log.warning("camera %d: the file of the segment starting %d broke off (%s)",
                    seg.camera_id, seg.start_ns, exc)
        return BROKEN


def _page(footage: Footage, camera_id: int, start_ns: int, end_ns: int
          ) -> list[Row[Segment]]:
    """The rows overlapping [start, end) as the plan's facts."""
    catalog = footage.catalog
    return on_disk(catalog, catalog.segments(camera_id, start_ns, end_ns), footage)


async def _note(ws: WebSocket, kind: str, from_ns: int, to_ns: int) -> None:
    with contextlib.suppress(RuntimeError):
        await ws.send_text(json.dumps({"type": kind, "from_ns": from_ns, "to_ns": to_ns}))
