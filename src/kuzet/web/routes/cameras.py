"""Cameras, their live status, the archive's timeline and gaps, and viewing sessions.

Listings show only cameras the caller may see. The timeline says *when* footage exists,
not what it shows, so reading it is not logged as viewing; opening footage is: a viewing
session (live or archive, the latter with a stated purpose) is an audited act, and issue
5's player streams only inside one.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kuzet.access.permissions import Perm, footage_bounds
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import append_act
from kuzet.catalog.models import Camera
from kuzet.catalog.paths import is_camera_name
from kuzet.catalog.store import check_tls_fingerprint
from kuzet.console.snapshot import frame_at, stamp, stamp_lines
from kuzet.console.timeline import clip, month_days
from kuzet.console.timeline_read import Drawn
from kuzet.credentials import SecretUrl
from kuzet.errors import Invalid, NotFound
from kuzet.ingest.errors import SourceError, check_url
from kuzet.regulation import check_audio_order, listed_zone
from kuzet.timefmt import format_instant
from kuzet.web.deps import Authenticated, Require, authorize, services, source
from kuzet.web.i18n import language, translator
from kuzet.web.pictures import authorize_picture
from kuzet.web.replies import a_file
from kuzet.web.replies.cameras import (
    ArchiveViewingReply,
    AudioOrderReply,
    BookmarkReply,
    CameraRemovedReply,
    CameraReply,
    CameraStatusReply,
    FootageDaysReply,
    GapReply,
    GapsReply,
    HeldSpanReply,
    LiveViewingReply,
    SpanReply,
    TimelineBookmarkReply,
    TimelineReply,
    UnknownStatusReply,
    ViewingEndedReply,
)
from kuzet.web.schemas import (
    AudioOrder,
    CameraCertificate,
    CameraZone,
    NewBookmark,
    NewCamera,
    SeqId,
    ViewingRequest,
)
from kuzet.web.times import instant, out, window
from kuzet.web.viewing_end import end_viewing as end_api_viewing

router = APIRouter(prefix="/api", tags=["cameras"])
STATUS = Depends(Require(Perm.CAMERA_STATUS, Perm.LIVE_VIEW))
# The camera list answers whoever `visible` lets see a camera: a viewer by instruction
# (3.5.5) holds archive.view by a grant alone, and finds the grant's cameras on the
# home page (it was refused the list, so the page had no archive link for them). One
# camera by name stays with STATUS: a grant's holder probing names outside the grant
# gets the same refusal for a camera that exists as for one that does not.
LISTED = Depends(Require(Perm.CAMERA_STATUS, Perm.LIVE_VIEW, Perm.ARCHIVE_VIEW))
ARCHIVE = Depends(Require(Perm.ARCHIVE_VIEW))
TimeParam = Annotated[str, Query(max_length=40, description="ISO 8601 with offset")]


def camera(request: Request, name: str) -> Camera:
    if not is_camera_name(name):
        raise Invalid("a camera name is letters, digits, '.', '_' or '-'")
    cam = services(request).cameras().get(name)
    if cam is None:
        raise NotFound("no camera named {name!r}", name=name)
    return cam


def visible(caller: Caller, now_ns: int, cam: Camera) -> bool:
    p = caller.principal
    return any(footage_bounds(p, perm, cam.id, now_ns)
               for perm in (Perm.CAMERA_STATUS, Perm.LIVE_VIEW, Perm.ARCHIVE_VIEW))


def camera_reply(cam: Camera, status: dict[str, Any] | None) -> CameraReply:
    """A camera with its status as the recorder reports it (a dict from the status
    source), or "unknown" while the recorder does not run it."""
    zone = listed_zone(cam.zone)
    audio = None
    if cam.audio_order_no is not None and cam.audio_order_date is not None:
        audio = AudioOrderReply(order_no=cam.audio_order_no, order_date=cam.audio_order_date)
    return CameraReply(
        name=cam.name, zone=zone, unlisted_zone=cam.zone if zone is None else None,
        audio=audio, location=cam.location,
        building=cam.building, floor=cam.floor, retention_days=cam.retention_days,
        tls_fingerprint=cam.tls_fingerprint,
        status=CameraStatusReply.model_validate(status) if status
        else UnknownStatusReply(camera=cam.name, state="unknown"))


def camera_json(cam: Camera, status: dict[str, Any] | None) -> dict[str, Any]:
    """The same as JSON, for the status WebSocket."""
    return camera_reply(cam, status).model_dump(mode="json")


@router.get("/cameras")
def list_cameras(request: Request, caller: Caller = LISTED) -> list[CameraReply]:
    svc = services(request)
    now, statuses = svc.clock(), svc.status()
    return [camera_reply(c, statuses.get(c.name)) for c in svc.cameras().values()
            if c.removed_ns is None and visible(caller, now, c)]


@router.get("/cameras/{name}")
def camera_status(name: str, request: Request, caller: Caller = STATUS) -> CameraReply:
    cam = camera(request, name)
    svc = services(request)
    if not visible(caller, svc.clock(), cam):
        authorize(request, caller, Perm.CAMERA_STATUS, cam.id)
    return camera_reply(cam, svc.status().get(cam.name))


@router.post("/cameras", status_code=201)
def add_camera(body: NewCamera, request: Request,
               caller: Caller = Depends(Require(Perm.CAMERA_ADMIN))) -> CameraReply:
    """Add a camera; `kuzet serve` starts recording it within seconds."""
    svc = services(request)
    main = SecretUrl(body.url)
    try:  # the schema refuses more than the 30 days of clause 3.3
        check_url(main)
        if body.sub_url:
            check_url(SecretUrl(body.sub_url))
    except SourceError as exc:
        raise Invalid(exc.message) from exc  # check_url's Phrase
    pin = (None if body.tls_fingerprint is None
           else check_tls_fingerprint(body.url, body.tls_fingerprint))
    actor = caller.actor(source(request))
    cam = svc.catalog.add_camera(
        body.name, body.url, zone=body.zone, sub_url=body.sub_url, location=body.location,
        building=body.building, floor=body.floor, retention_days=body.retention_days,
        tls_fingerprint=pin,
        audit=lambda s, c: append_act(s, actor, AuditAction.CAMERA_ADD, c.name,
                                      url=main.shown, zone=body.zone,
                                      location=body.location, building=body.building,
                                      floor=body.floor, tls_fingerprint=pin))
    svc.cameras_changed()
    return camera_reply(cam, None)


@router.delete("/cameras/{name}")
def remove_camera(name: str, request: Request,
                  caller: Caller = Depends(Require(Perm.CAMERA_ADMIN))) -> CameraRemovedReply:
    """Stop recording a camera; its recordings stay until retention removes them."""
    cam = camera(request, name)
    svc = services(request)
    actor = caller.actor(source(request))
    svc.catalog.remove_camera(cam.name, audit=lambda s, c: append_act(
        s, actor, AuditAction.CAMERA_REMOVE, c.name))
    svc.cameras_changed()
    return CameraRemovedReply(name=cam.name, removed=True)


@router.put("/cameras/{name}/zone")
def set_zone(name: str, body: CameraZone, request: Request,
             caller: Caller = Depends(Require(Perm.CAMERA_ADMIN))) -> CameraReply:
    """Put a camera in one of the regulation's installation zones (3.3.9-3.3.17): how a
    camera added before the list was closed leaves the console's list of those to fix."""
    cam = camera(request, name)
    svc = services(request)
    actor = caller.actor(source(request))
    changed = svc.catalog.set_zone(cam.name, body.zone, audit=lambda s, c: append_act(
        s, actor, AuditAction.CAMERA_ZONE, c.name, zone=body.zone, before=cam.zone))
    svc.cameras_changed()
    return camera_reply(changed, svc.status().get(cam.name))


@router.put("/cameras/{name}/certificate")
def set_certificate(name: str, body: CameraCertificate, request: Request,
                    caller: Caller = Depends(Require(Perm.CAMERA_ADMIN))) -> CameraReply:
    """Hold an rtsps:// camera to the TLS certificate with this SHA-256, or to none again
    (null): a device answering at the camera's address with another certificate is
    refused, not recorded. The recorder opens a new session within seconds."""
    cam = camera(request, name)
    svc = services(request)
    pin = (None if body.tls_fingerprint is None
           else check_tls_fingerprint(cam.main_url, body.tls_fingerprint))
    if pin == cam.tls_fingerprint:  # nothing to change or log
        return camera_reply(cam, svc.status().get(cam.name))
    actor = caller.actor(source(request))
    changed = svc.catalog.set_tls_fingerprint(cam.name, pin, audit=lambda s, c: append_act(
        s, actor, AuditAction.CAMERA_CERTIFICATE, c.name, pin=pin, before=cam.tls_fingerprint))
    svc.cameras_changed()
    return camera_reply(changed, svc.status().get(cam.name))


@router.put("/cameras/{name}/audio")
def keep_audio(name: str, body: AudioOrder, request: Request,
               caller: Caller = Depends(Require(Perm.CAMERA_AUDIO))) -> CameraReply:
    """Record the camera's sound from now on, on the rector's order (number, date): the
    regulation describes a system for images (3.1.2), so sound rests on the rector's own
    decision, taken with the rector's account (no API token carries it). The recorder
    opens a new session with the sound within seconds."""
    cam = camera(request, name)
    svc = services(request)
    order = check_audio_order(body.order_no, body.order_date, svc.clock())
    actor = caller.actor(source(request))
    changed = svc.catalog.set_audio(cam.name, order, audit=lambda s, c: append_act(
        s, actor, AuditAction.CAMERA_AUDIO, c.name, keep=True, order_no=order[0],
        order_date=order[1]))
    svc.cameras_changed()
    return camera_reply(changed, svc.status().get(cam.name))


@router.delete("/cameras/{name}/audio")
def drop_audio(name: str, request: Request,
               caller: Caller = Depends(Require(Perm.CAMERA_AUDIO, Perm.CAMERA_ADMIN))
               ) -> CameraReply:
    """Record video only from now on: less than the order allows, so the administrator
    may do it as well as the rector."""
    cam = camera(request, name)
    svc = services(request)
    if cam.audio_order_no is None:  # video only already: nothing to change or log
        return camera_reply(cam, svc.status().get(cam.name))
    actor = caller.actor(source(request))
    changed = svc.catalog.set_audio(cam.name, None, audit=lambda s, c: append_act(
        s, actor, AuditAction.CAMERA_AUDIO, c.name, keep=False,
        order_no=cam.audio_order_no, order_date=cam.audio_order_date))
    svc.cameras_changed()
    return camera_reply(changed, svc.status().get(cam.name))


def archive_window(request: Request, caller: Caller, name: str, start: str, end: str
                    ) -> tuple[Camera, int, int, list[tuple[int, int]]]:
    """The camera, the asked window, and the footage windows the caller may see on it
    (refused, and audited, when there are none)."""
    cam = camera(request, name)
    a, b = window(start, end)
    allowed = footage_bounds(caller.principal, Perm.ARCHIVE_VIEW, cam.id,
                             services(request).clock())
    if not allowed:
        authorize(request, caller, Perm.ARCHIVE_VIEW, cam.id, (a, b))
    return cam, a, b, allowed


def _span(a: int, b: int) -> SpanReply:
    return SpanReply(start=format_instant(a), end=format_instant(b), start_ns=a, end_ns=b)


@router.get("/cameras/{name}/timeline", response_model=TimelineReply)
def timeline(name: str, request: Request, start: TimeParam, end: TimeParam,
             caller: Caller = ARCHIVE) -> Response:
    """What the archive's bar draws of [start, end), inside the footage the caller may
    see: recorded spans (touching segments joined), files missing on disk (looked up for
    windows up to a day and a bit), held ranges and bookmarks (`console.timeline_read`:
    one statement reads the window; an answer drawn before from the same facts is sent
    again)."""
    cam, a, b, allowed = archive_window(request, caller, name, start, end)
    svc = services(request)
    return _tagged(request, svc.timelines.answer(cam.id, cam.name, a, b, allowed,
                                                 svc.clock(), _timeline_body))


def _timeline_body(d: Drawn) -> bytes:
    return TimelineReply(
        camera=d.camera, start=format_instant(d.start_ns), end=format_instant(d.end_ns),
        spans=[_span(s, e) for s, e in d.spans], missing=[_span(s, e) for s, e in d.missing],
        unavailable=d.unavailable,
        holds=[HeldSpanReply(start=format_instant(s), end=format_instant(e), start_ns=s,
                             end_ns=e, hold=i, state=state) for i, state, s, e in d.held],
        bookmarks=[TimelineBookmarkReply(id=m.id, at=format_instant(m.at_ns), at_ns=m.at_ns,
                                         kind=m.kind, note=m.note, by=m.by)
                   for m in d.marks]).model_dump_json().encode()


def _tagged(request: Request, body: bytes) -> Response:
    """`body` with an ETag of its content: the console asks the same day again as it pans
    and as recording goes on, and a day unchanged since is answered 304 without a body.
    `no-store`: the console keeps the answer in the page's memory and sends the tag itself
    (static/timeline.js), so nothing of it (bookmark notes, holds) stays in a shared
    console's disk cache after its user logs out."""
    tag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"ETag": tag, "Cache-Control": "no-store"}
    if tag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/cameras/{name}/days")
def footage_days(name: str, request: Request,
                 month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                             description="YYYY-MM")],
                 caller: Caller = ARCHIVE) -> FootageDaysReply:
    """The days of a month (display time zone) holding footage the caller may see:
    the archive's calendar."""
    cam = camera(request, name)
    svc = services(request)
    year, mon = int(month[:4]), int(month[5:])
    if not 1970 <= year <= 2200:
        raise Invalid("month: a year from 1970 to 2200")
    allowed = footage_bounds(caller.principal, Perm.ARCHIVE_VIEW, cam.id, svc.clock())
    days = month_days(year, mon, svc.settings.display_timezone)
    if not allowed:
        authorize(request, caller, Perm.ARCHIVE_VIEW, cam.id, (days[0][1], days[-1][2]))
    found = [d.isoformat() for d, a, b in days
             if any(svc.catalog.has_footage(cam.id, s, e) for s, e in clip([(a, b)], allowed))]
    return FootageDaysReply(camera=cam.name, month=month, zone=svc.settings.display_timezone,
                            days=found)


def marked_instant(request: Request, caller: Caller, cam: Camera, at: str | None) -> int:
    """The instant someone marks (a bookmark, a protocol): none given is now, checked as
    live view (what a guard at the wall has); a given one is checked as archive view."""
    if at is None:
        authorize(request, caller, Perm.LIVE_VIEW, cam.id)
        return services(request).clock()
    at_ns = instant(at, "at")
    authorize(request, caller, Perm.ARCHIVE_VIEW, cam.id, (at_ns, at_ns + 1))
    return at_ns


@router.post("/cameras/{name}/bookmarks", status_code=201)
def add_bookmark(name: str, body: NewBookmark, request: Request,
                 caller: Caller = Depends(Require(Perm.LIVE_VIEW, Perm.ARCHIVE_VIEW))
                 ) -> BookmarkReply:
    """Mark an instant: \"incident\" from the wall's button at the live instant (needs
    live view), \"note\" at an instant of the archive (needs archive view there)."""
    cam = camera(request, name)
    svc = services(request)
    now = svc.clock()
    at_ns = marked_instant(request, caller, cam, body.at)
    mark = svc.bookmarks.add(caller.actor(source(request)), cam.id, cam.name, at_ns,
                             body.note, body.kind, now)
    return BookmarkReply(id=mark.id, camera=cam.name, at=format_instant(at_ns), at_ns=at_ns,
                         kind=mark.kind, note=mark.note, by=mark.created_by)


@router.get("/cameras/{name}/gaps")
def gaps(name: str, request: Request, start: TimeParam, end: TimeParam,
         caller: Caller = ARCHIVE) -> GapsReply:
    cam, a, b, allowed = archive_window(request, caller, name, start, end)
    svc = services(request)
    rows = []
    for g in svc.catalog.gaps(cam.id, a, b):
        end_ns = g.end_ns if g.end_ns is not None else svc.clock()
        if clip([(g.start_ns, end_ns)], allowed):
            rows.append(GapReply(start=format_instant(g.start_ns), end=out(g.end_ns),
                                 start_ns=g.start_ns, end_ns=g.end_ns, cause=g.cause,
                                 detail=g.detail))
    return GapsReply(camera=cam.name, gaps=rows)


def recorded_frame_png(request: Request, cam: Camera, at_ns: int, taker: str) -> bytes | None:
    """The recorded frame at an instant as a PNG stamped with camera, time and taker, in
    the caller's language; None while nothing recorded holds that instant (or its file is
    gone)."""
    svc = services(request)
    seg = svc.catalog.segment_at(cam.id, at_ns)
    if seg is None or (file := svc.footage.file(seg)) is None:
        return None
    image = frame_at(file, at_ns - seg.start_ns)
    if image is None:
        return None
    # without the documents' font the stamp is still made, in English (Latin letters only)
    font = svc.settings.document_font if svc.settings.document_font.is_file() else None
    lines = stamp_lines(taker, cam.name, at_ns, svc.clock(), svc.settings.display_timezone,
                        translator(language(request) if font else "en"))
    return stamp(image, lines, font)


@router.get("/cameras/{name}/snapshot", **a_file("image/png"))
def snapshot(name: str, request: Request, at: TimeParam,
             purpose: Annotated[str, Query(max_length=500)] = "",
             caller: Caller = Depends(Require(Perm.SNAPSHOT))) -> Response:
    """A PNG of the recorded frame at `at`, stamped with who took it and when; the
    purpose is required and the snapshot audited like any opening of the archive. A
    person's act: never an API token's (kuzet.access.pictures)."""
    cam = camera(request, name)
    at_ns = instant(at, "at")
    if len(purpose.strip()) < 5:
        raise Invalid("state the purpose of the snapshot (at least 5 characters)")
    why = authorize_picture(request, caller, cam.id, at_ns, perm=Perm.SNAPSHOT)
    svc = services(request)
    png = recorded_frame_png(request, cam, at_ns, caller.name)
    if png is None:
        raise NotFound("no recorded frame at that instant")
    svc.audit.act(caller.actor(source(request)), AuditAction.SNAPSHOT, cam.name,
                  purpose=purpose.strip(), basis=why, at_ns=at_ns, bytes=len(png))
    return Response(png, media_type="image/png", headers={"cache-control": "no-store"})


@router.post("/viewing/live")
def open_live(body: ViewingRequest, request: Request,
              caller: Caller = Depends(Require(Perm.LIVE_VIEW))) -> LiveViewingReply:
    """Start watching a camera live: checked and logged (the player ends it)."""
    cam = camera(request, body.camera)
    why = authorize(request, caller, Perm.LIVE_VIEW, cam.id)
    svc = services(request)
    seq = svc.audit.act(caller.actor(source(request)), AuditAction.LIVE_START, cam.name,
                        basis=why).seq
    return LiveViewingReply(viewing=seq, camera=cam.name, basis=why)


@router.post("/viewing/archive")
def open_archive(body: ViewingRequest, request: Request, caller: Caller = ARCHIVE
                 ) -> ArchiveViewingReply:
    """Open stored footage: a stated purpose is required and recorded (clause 4.2)."""
    cam = camera(request, body.camera)
    if not body.start or not body.end:
        raise Invalid("give the footage window: start and end")
    purpose = (body.purpose or "").strip()
    if len(purpose) < 5:
        raise Invalid("state the purpose of opening the archive (at least 5 characters)")
    a, b = window(body.start, body.end)
    why = authorize(request, caller, Perm.ARCHIVE_VIEW, cam.id, (a, b))
    svc = services(request)
    seq = svc.audit.act(caller.actor(source(request)), AuditAction.ARCHIVE_OPEN, cam.name,
                        purpose=purpose, basis=why, footage=[out(a), out(b)],
                        footage_ns=[a, b]).seq
    return ArchiveViewingReply(viewing=seq, camera=cam.name, basis=why,
                               start=format_instant(a), end=format_instant(b))


@router.post("/viewing/{viewing}/end")
def end_viewing(viewing: SeqId, request: Request,
                caller: Caller = Depends(Authenticated())) -> ViewingEndedReply:
    svc = services(request)
    opened = svc.audit.entry(viewing)
    if opened is None or opened.actor != caller.name or opened.action not in (
            AuditAction.LIVE_START, AuditAction.ARCHIVE_OPEN):
        raise NotFound("no viewing {viewing} of yours", viewing=viewing)
    end_api_viewing(svc.audit, caller.actor(source(request)), opened)
    return ViewingEndedReply(viewing=viewing, ended=True)
