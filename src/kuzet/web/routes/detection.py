"""Detection rules per camera, and the events they raise: search, the picture of the
moment, acknowledgement. Events are what a camera showed: listing them is checked per
camera like watching it live. Their pictures, and the camera's still, are recorded
footage (kuzet.access.pictures): archive view at their instant, by a person, except an
alarm's picture while it is still live; opening one is audited."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kuzet.access.permissions import Perm, decide
from kuzet.access.sessions import Caller
from kuzet.analytics.activity import area_mask, buckets
from kuzet.analytics.camera import jpeg
from kuzet.analytics.models import DetectionRule, Event
from kuzet.analytics.motion import MotionSettings
from kuzet.analytics.store import check_settings
from kuzet.audit.actions import AuditAction
from kuzet.catalog.models import Camera
from kuzet.console.snapshot import frame_at
from kuzet.console.timeline import clip
from kuzet.errors import Invalid, NotFound
from kuzet.timefmt import format_instant
from kuzet.web.deps import Require, authorize, services, source
from kuzet.web.pictures import authorize_picture, event_for
from kuzet.web.replies import a_file
from kuzet.web.replies.detection import (
    ActivityReply,
    EventReply,
    MotionReply,
    RuleRemovedReply,
    RuleReply,
    RuleSpecReply,
)
from kuzet.web.routes.cameras import TimeParam, archive_window, camera
from kuzet.web.schemas import Acknowledgement, MotionBody, RowId, RuleBody, RuleSwitch
from kuzet.web.times import instant

router = APIRouter(prefix="/api", tags=["detection"])
ADMIN = Depends(Require(Perm.CAMERA_ADMIN))
ARCHIVE = Depends(Require(Perm.ARCHIVE_VIEW))
MAX_BUCKETS = 5000
WATCH = Depends(Require(Perm.LIVE_VIEW))
PICTURE = Depends(Require(Perm.LIVE_VIEW, Perm.ARCHIVE_VIEW))
OptTime = Annotated[str | None, Query(max_length=40, description="ISO 8601 with offset")]


def _rule_reply(row: DetectionRule) -> RuleReply:
    spec = RuleSpecReply.model_validate(json.loads(row.spec))
    return RuleReply(id=row.id, kind=row.kind, enabled=row.enabled,
                     created_by=row.created_by, created_ns=row.created_ns, **dict(spec))


def _motion_reply(m: MotionSettings) -> MotionReply:
    return MotionReply(activity=m.activity, sensitivity=m.sensitivity,
                       masks=[[list(p) for p in mask] for mask in m.masks])


@router.get("/cameras/{name}/rules")
def rules(name: str, request: Request,
          caller: Caller = Depends(Require(Perm.CAMERA_STATUS, Perm.CAMERA_ADMIN))
          ) -> list[RuleReply]:
    """Only on a camera of the caller's groups, like every other camera route."""
    svc = services(request)
    cam = camera(request, name)
    if not decide(caller.principal, Perm.CAMERA_STATUS, svc.clock(), cam.id).allowed:
        authorize(request, caller, Perm.CAMERA_ADMIN, cam.id)
    return [_rule_reply(r) for r in svc.detection.rules(cam.id)]


def _administered(request: Request, caller: Caller, name: str) -> Camera:
    """The camera, if the caller administers it (a role limited to a camera group
    administers that group's cameras only)."""
    cam = camera(request, name)
    authorize(request, caller, Perm.CAMERA_ADMIN, cam.id)
    return cam


@router.post("/cameras/{name}/rules", status_code=201)
def add_rule(name: str, body: RuleBody, request: Request, caller: Caller = ADMIN
             ) -> RuleReply:
    """A rule on the camera; the running server picks it up within seconds."""
    svc = services(request)
    cam = _administered(request, caller, name)
    spec = body.model_dump(exclude={"kind"}, exclude_none=True)
    row = svc.detection.add_rule(caller.actor(source(request)), cam.id, cam.name, body.kind,
                                 spec, svc.clock())
    return _rule_reply(row)


@router.patch("/cameras/{name}/rules/{rule}")
def switch_rule(name: str, rule: RowId, body: RuleSwitch, request: Request,
                caller: Caller = ADMIN) -> RuleReply:
    """A rule off (kept, not evaluated) or on again; the running server follows within
    seconds."""
    svc = services(request)
    cam = _administered(request, caller, name)
    row = svc.detection.enable_rule(caller.actor(source(request)), rule, cam.id, cam.name,
                                    body.enabled)
    return _rule_reply(row)


@router.delete("/cameras/{name}/rules/{rule}")
def remove_rule(name: str, rule: RowId, request: Request, caller: Caller = ADMIN
                ) -> RuleRemovedReply:
    svc = services(request)
    cam = _administered(request, caller, name)
    svc.detection.remove_rule(caller.actor(source(request)), rule, cam.id, cam.name)
    return RuleRemovedReply(id=rule, removed=True)


@router.get("/cameras/{name}/motion")
def motion_settings(name: str, request: Request, caller: Caller = ADMIN) -> MotionReply:
    cam = _administered(request, caller, name)
    return _motion_reply(services(request).detection.motion_settings().get(
        cam.id, MotionSettings()))


@router.put("/cameras/{name}/motion")
def set_motion_settings(name: str, body: MotionBody, request: Request, caller: Caller = ADMIN
                        ) -> MotionReply:
    """Sensitivity, masks, and whether activity is kept without rules; audited; the
    running server takes them within seconds."""
    svc = services(request)
    cam = _administered(request, caller, name)
    settings = check_settings(body.activity, body.sensitivity,
                              [[(p[0], p[1]) for p in m] for m in body.masks])
    return _motion_reply(svc.detection.set_motion(caller.actor(source(request)), cam.id,
                                                  cam.name, settings, svc.clock()))


@router.get("/cameras/{name}/still", **a_file("image/jpeg"))
def still(name: str, request: Request, caller: Caller = ADMIN) -> Response:
    """The camera's latest recorded picture, unstamped, to draw zones, lines and masks
    on: recorded footage, so it needs archive view at its instant too (an API token never
    gets it); audited like any opening of footage."""
    svc = services(request)
    cam = camera(request, name)
    seg = svc.catalog.last_segment(cam.id)
    if seg is None:
        raise NotFound("{name} has no recorded picture yet", name=cam.name)
    why = authorize_picture(request, caller, cam.id, seg.end_ns - 1)
    picture = None
    if (file := svc.footage.file(seg)) is not None:
        image = frame_at(file, seg.end_ns - seg.start_ns - 1)
        picture = jpeg(image) if image is not None else None
    if picture is None:
        raise NotFound("{name} has no recorded picture yet", name=cam.name)
    svc.audit.act(caller.actor(source(request)), AuditAction.CAMERA_STILL, cam.name,
                  at_ns=seg.end_ns, purpose="detection setup", basis=why)
    return Response(picture, media_type="image/jpeg", headers={"cache-control": "no-store"})


def _area(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise Invalid("area is x0,y0,x1,y1 in fractions of the frame") from exc
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise Invalid("area is x0,y0,x1,y1 with 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")
    return area_mask((x0, y0, x1, y1))


@router.get("/cameras/{name}/activity")
def activity(name: str, request: Request, start: TimeParam, end: TimeParam,
             step: Annotated[int, Query(ge=1, le=86_400, description="seconds a bucket")] = 60,
             area: Annotated[str | None, Query(max_length=100, description=(
                 "x0,y0,x1,y1 in fractions: only motion that touched it"))] = None,
             caller: Caller = ARCHIVE) -> ActivityReply:
    """Motion on the archive's bar: the largest level (0–255, the share of the picture
    that moved × 255) in each `step` of [start, end), only inside footage the caller may
    see; with `area`, only minutes whose motion touched it."""
    cam, a, b, allowed = archive_window(request, caller, name, start, end)
    step_ns = step * 1_000_000_000
    if (b - a) // step_ns > MAX_BUCKETS:
        raise Invalid("at most {count} buckets: a longer step, or a shorter window",
                      count=MAX_BUCKETS)
    minutes = services(request).detection.minutes(cam.id, a, b)
    levels = buckets(minutes, a, b, step_ns, _area(area))
    for k in range(len(levels)):
        lo = a + k * step_ns
        if not clip([(lo, lo + step_ns)], allowed):
            levels[k] = 0
    return ActivityReply(camera=cam.name, start=format_instant(a), end=format_instant(b),
                         start_ns=a, step_s=step, levels=levels)


@router.get("/events")
def events(request: Request, caller: Caller = WATCH,
           camera_name: Annotated[str | None, Query(alias="camera", max_length=64)] = None,
           kind: Annotated[str | None, Query(pattern="^(intrusion|line|loitering|crowding|"
                                                     "vehicle|tamper)$")] = None,
           label: Annotated[str | None, Query(max_length=32)] = None,
           rule: Annotated[int | None, Query(ge=1, le=2**31 - 1,
                                             description="the rule (zone, line) raising it")]
           = None,
           start: OptTime = None, end: OptTime = None,
           acknowledged: bool | None = None,
           limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[EventReply]:
    """Events of the cameras the caller may watch, newest first; `snapshot` says whether
    the caller may open the event's picture."""
    svc = services(request)
    now = svc.clock()
    cams = {c.id: c.name for c in svc.cameras().values()
            if decide(caller.principal, Perm.LIVE_VIEW, now, c.id).allowed}
    if camera_name is not None:
        cam = camera(request, camera_name)
        cams = {k: v for k, v in cams.items() if k == cam.id}
    found = svc.detection.events(list(cams), kind=kind, label=label, rule=rule,
                                 since_ns=instant(start, "start") if start else None,
                                 until_ns=instant(end, "end") if end else None,
                                 acknowledged=acknowledged, limit=limit)
    names = svc.detection.rule_names()
    return [EventReply.model_validate(event_for(caller, e, cams[e.camera_id], names,
                                                now)) for e in found]


def _event(request: Request, caller: Caller, event: int) -> tuple[Event, str]:
    svc = services(request)
    e = svc.detection.event(event)
    name = svc.catalog.camera_name(e.camera_id)
    authorize(request, caller, Perm.LIVE_VIEW, e.camera_id)
    return e, name


@router.get("/events/{event}/snapshot", **a_file("image/jpeg"))
def event_snapshot(event: RowId, request: Request, caller: Caller = PICTURE) -> Response:
    """The event's picture: archive view at the event's instant, or live view while the
    alarm is at most 10 minutes old (the wall's alarm panel)."""
    svc = services(request)
    e = svc.detection.event(event)
    why = authorize_picture(request, caller, e.camera_id, e.at_ns, live=True)
    if e.snapshot_jpeg is None:
        raise NotFound("event {event} has no picture", event=event)
    svc.audit.act(caller.actor(source(request)), AuditAction.DETECTION_SNAPSHOT,
                  f"camera/{svc.catalog.camera_name(e.camera_id)}", event=event, basis=why)
    return Response(e.snapshot_jpeg, media_type="image/jpeg",
                    headers={"cache-control": "no-store"})


@router.post("/events/{event}/ack")
def acknowledge(event: RowId, body: Acknowledgement, request: Request, caller: Caller = WATCH
                ) -> EventReply:
    svc = services(request)
    e, name = _event(request, caller, event)
    e = svc.detection.acknowledge(caller.actor(source(request)), event, name, body.note,
                                  svc.clock())
    return EventReply.model_validate(event_for(caller, e, name,
                                               svc.detection.rule_names(), svc.clock()))
