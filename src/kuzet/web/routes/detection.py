"""Detection rules per camera, and the events they raise: search, the picture of the
moment, acknowledgement. Events are what a camera showed: listing and opening them is
checked per camera like watching it live, and opening a picture is audited."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kuzet.access.errors import NotFound
from kuzet.access.permissions import Perm, decide
from kuzet.access.sessions import Caller
from kuzet.analytics.models import DetectionRule
from kuzet.analytics.store import event_json
from kuzet.web.deps import Require, authorize, services, source
from kuzet.web.routes.cameras import camera
from kuzet.web.schemas import Acknowledgement, RowId, RuleBody
from kuzet.web.times import instant

router = APIRouter(prefix="/api", tags=["detection"])
ADMIN = Depends(Require(Perm.CAMERA_ADMIN))
WATCH = Depends(Require(Perm.LIVE_VIEW))
OptTime = Annotated[str | None, Query(max_length=40, description="ISO 8601 with offset")]


def _rule_json(row: DetectionRule) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, **json.loads(row.spec), "enabled": row.enabled,
            "created_by": row.created_by, "created_ns": row.created_ns}


@router.get("/cameras/{name}/rules")
def rules(name: str, request: Request,
          caller: Caller = Depends(Require(Perm.CAMERA_STATUS, Perm.CAMERA_ADMIN))
          ) -> list[dict[str, Any]]:
    cam = camera(request, name)
    return [_rule_json(r) for r in services(request).detection.rules(cam.id)]


@router.post("/cameras/{name}/rules", status_code=201)
def add_rule(name: str, body: RuleBody, request: Request, caller: Caller = ADMIN
             ) -> dict[str, Any]:
    """A rule on the camera; the running server picks it up within seconds."""
    svc = services(request)
    cam = camera(request, name)
    spec = body.model_dump(exclude={"kind"}, exclude_none=True)
    row = svc.detection.add_rule(caller.actor(source(request)), cam.id, cam.name, body.kind,
                                 spec, svc.clock())
    return _rule_json(row)


@router.delete("/cameras/{name}/rules/{rule}")
def remove_rule(name: str, rule: RowId, request: Request, caller: Caller = ADMIN
                ) -> dict[str, Any]:
    svc = services(request)
    cam = camera(request, name)
    svc.detection.remove_rule(caller.actor(source(request)), rule, cam.id, cam.name)
    return {"id": rule, "removed": True}


@router.get("/events")
def events(request: Request, caller: Caller = WATCH,
           camera_name: Annotated[str | None, Query(alias="camera", max_length=64)] = None,
           kind: Annotated[str | None, Query(pattern="^(intrusion|line|loitering|crowding|"
                                                     "vehicle|tamper)$")] = None,
           label: Annotated[str | None, Query(max_length=32)] = None,
           start: OptTime = None, end: OptTime = None,
           acknowledged: bool | None = None,
           limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
    """Events of the cameras the caller may watch, newest first."""
    svc = services(request)
    now = svc.clock()
    cams = {c.id: c.name for c in svc.cameras().values()
            if decide(caller.principal, Perm.LIVE_VIEW, now, c.id).allowed}
    if camera_name is not None:
        cam = camera(request, camera_name)
        cams = {k: v for k, v in cams.items() if k == cam.id}
    found = svc.detection.events(list(cams), kind=kind, label=label,
                                 since_ns=instant(start, "start") if start else None,
                                 until_ns=instant(end, "end") if end else None,
                                 acknowledged=acknowledged, limit=limit)
    return [event_json(e, cams[e.camera_id]) for e in found]


def _event(request: Request, caller: Caller, event: int) -> tuple[Any, str]:
    svc = services(request)
    e = svc.detection.event(event)
    name = svc.catalog.camera_name(e.camera_id)
    authorize(request, caller, Perm.LIVE_VIEW, e.camera_id)
    return e, name


@router.get("/events/{event}/snapshot")
def event_snapshot(event: RowId, request: Request, caller: Caller = WATCH) -> Response:
    e, name = _event(request, caller, event)
    if e.snapshot_jpeg is None:
        raise NotFound(f"event {event} has no picture")
    services(request).audit.act(caller.actor(source(request)), "detection.snapshot",
                                f"camera/{name}", event=event)
    return Response(e.snapshot_jpeg, media_type="image/jpeg",
                    headers={"cache-control": "no-store"})


@router.post("/events/{event}/ack")
def acknowledge(event: RowId, body: Acknowledgement, request: Request, caller: Caller = WATCH
                ) -> dict[str, Any]:
    svc = services(request)
    e, name = _event(request, caller, event)
    e = svc.detection.acknowledge(caller.actor(source(request)), event, name, body.note,
                                  svc.clock())
    return event_json(e, name)
