"""Holds, the audit log, health and camera administration."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kuzet.access.permissions import AUDIT_READ_CLAUSE, Perm
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.audit.anchor import Anchor
from kuzet.audit.export import write_csv
from kuzet.cluster.nodes import node_list
from kuzet.equipment.rates import first_hour, hourly
from kuzet.governance.holds import HoldView
from kuzet.storage.retention import HoldState
from kuzet.timefmt import NS, format_instant
from kuzet.web.deps import Require, services, source
from kuzet.web.registers import csv_answer
from kuzet.web.replies import a_file
from kuzet.web.replies.records import (
    AlarmReply,
    AuditCheckReply,
    AuditEntryReply,
    CameraRatesReply,
    DocumentHoldReply,
    HealthReply,
    HoldRangeReply,
    HoldReply,
    HoldStateReply,
    HourRateReply,
    NodeReply,
    VolumeReply,
)
from kuzet.web.routes.cameras import camera
from kuzet.web.schemas import Decision, HoldApproval, HoldFromDocument, HoldRequest, RowId
from kuzet.web.times import instant, out, window

router = APIRouter(prefix="/api", tags=["records"])
AUDIT = Depends(Require(Perm.AUDIT_READ, clause=AUDIT_READ_CLAUSE))
AUDIT_VERIFY = Depends(Require(Perm.AUDIT_VERIFY))
HOLD_APPROVE = Depends(Require(Perm.HOLD_APPROVE))
OptTime = Annotated[str | None, Query(max_length=40, description="ISO 8601 with offset")]


def _hold_reply(v: HoldView) -> HoldReply:
    h = v.hold
    return HoldReply(id=h.id, state=v.state, reason=h.reason, incident=h.incident,
                     requested_by=h.requested_by, requested=format_instant(h.requested_ns),
                     approved_by=h.approved_by, expires=out(h.expires_ns),
                     ranges=[HoldRangeReply(camera=c, start=format_instant(a),
                                            end=format_instant(b)) for c, a, b in v.ranges],
                     transfer=v.transfer)


HOLD_READ = Depends(Require(Perm.HOLD_READ))
HoldStateQuery = Annotated[str | None, Query(pattern="^(pending|lapsed|active|expired|"
                                                    "rejected|released)$")]


@router.get("/holds")
def holds(request: Request, caller: Caller = HOLD_READ, state: HoldStateQuery = None
          ) -> list[HoldReply]:
    svc = services(request)
    return [_hold_reply(v) for v in svc.holds.list(svc.clock())
            if state is None or v.state.value == state]


@router.get("/holds.csv", **a_file("text/csv"))
def holds_csv(request: Request, caller: Caller = HOLD_READ, state: HoldStateQuery = None
              ) -> Response:
    """The register of holds (clause 3.3) with its decision trail, as CSV."""
    return csv_answer(request, caller, "holds", [
        "id", "state", "incident", "reason", "requested_by", "requested", "approved_by",
        "expires", "ranges"], [{
            **{k: v or "" for k, v in r.model_dump(mode="json", exclude={"ranges"}).items()},
            "ranges": "; ".join(f"{x.camera} {x.start} – {x.end}" for x in r.ranges)}
        for r in holds(request, caller, state)])


@router.post("/holds", status_code=201)
def request_hold(body: HoldRequest, request: Request,
                 caller: Caller = Depends(Require(Perm.HOLD_REQUEST))) -> HoldStateReply:
    svc = services(request)
    a, b = window(body.start, body.end)
    for name in body.cameras:
        camera(request, name)
    hold = svc.holds.request(body.cameras, a, b, reason=body.reason, incident=body.incident,
                             by=caller.name, now_ns=svc.clock(),
                             via=caller.actor(source(request)))
    return HoldStateReply(id=hold.id, state=HoldState.PENDING)


def document_hold(request: Request, caller: Caller, incident: str, cameras: list[str],
                  instants: list[int], body: HoldFromDocument) -> DocumentHoldReply:
    """A hold request over a document's cameras, from its first instant to its last,
    padded; the document's number is the incident. It waits for the rector like any."""
    svc = services(request)
    start = min(instants) - body.before_s * NS
    end = max(instants) + max(1, body.after_s * NS)
    hold = svc.holds.request(cameras, start, end, reason=body.reason, incident=incident,
                             by=caller.name, now_ns=svc.clock(),
                             via=caller.actor(source(request)))
    return DocumentHoldReply(id=hold.id, state=HoldState.PENDING, incident=incident,
                             cameras=cameras, start=format_instant(start),
                             end=format_instant(end))


@router.post("/holds/{hold}/approve")
def approve_hold(hold: RowId, body: HoldApproval, request: Request, caller: Caller = HOLD_APPROVE
                 ) -> HoldStateReply:
    svc = services(request)
    svc.holds.approve(hold, caller.actor(source(request)),
                      expires_ns=instant(body.expires, "expires"), now_ns=svc.clock())
    return HoldStateReply(id=hold, state=HoldState.ACTIVE)


@router.post("/holds/{hold}/reject")
def reject_hold(hold: RowId, body: Decision, request: Request, caller: Caller = HOLD_APPROVE
                ) -> HoldStateReply:
    svc = services(request)
    svc.holds.reject(hold, caller.actor(source(request)), note=body.note, now_ns=svc.clock())
    return HoldStateReply(id=hold, state=HoldState.REJECTED)


@router.post("/holds/{hold}/release")
def release_hold(hold: RowId, body: Decision, request: Request, caller: Caller = HOLD_APPROVE
                 ) -> HoldStateReply:
    svc = services(request)
    svc.holds.release(hold, caller.actor(source(request)), note=body.note,
                      now_ns=svc.clock())
    return HoldStateReply(id=hold, state=HoldState.RELEASED)


def _range(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    return (instant(start, "from") if start else None, instant(end, "to") if end else None)


@router.get("/audit")
def audit(request: Request, action: Annotated[str | None, Query(max_length=64)] = None,
          start: OptTime = None, end: OptTime = None,
          limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
          caller: Caller = AUDIT) -> list[AuditEntryReply]:
    """The newest `limit` entries in [start, end); reading the log is itself logged."""
    svc = services(request)
    a, b = _range(start, end)
    entries = svc.audit.entries(action=action, since_ns=a, until_ns=b, limit=limit)
    svc.audit.act(caller.actor(source(request)), AuditAction.AUDIT_READ, "audit",
                  filter={"action": action, "from": start, "to": end}, count=len(entries))
    return [AuditEntryReply(seq=e.seq, at=format_instant(e.at_ns), at_ns=e.at_ns,
                            actor=e.actor, action=e.action, subject=e.subject,
                            detail=e.detail, prev_hash=e.prev_hash, hash=e.hash)
            for e in entries]


@router.get("/audit/verify")
def audit_verify(request: Request, caller: Caller = AUDIT_VERIFY) -> AuditCheckReply:
    """The chain and every signed checkpoint beside the catalog, as `kuzet audit verify`
    checks them: a consistent rewrite of the log fails here too. Integrity only (clause
    3.4.3, IT support's duty): counts, sequence numbers, hash prefixes and checkpoint
    times, never an entry's actor, camera or purpose (those are `audit.read`'s)."""
    svc = services(request)
    check, _ = Anchor(svc.audit, svc.settings.home).verify()
    return AuditCheckReply(entries=check.entries, intact=check.ok,
                           first_bad_seq=check.first_bad_seq, checkpoints=check.checkpoints,
                           problems=list(check.problems))


@router.get("/audit/export.csv", **a_file("text/csv"))
def audit_export(request: Request, start: OptTime = None, end: OptTime = None,
                 caller: Caller = AUDIT) -> Response:
    svc = services(request)
    a, b = _range(start, end)
    buf = io.StringIO()
    n = write_csv(svc.audit.entries(since_ns=a, until_ns=b), buf)
    svc.audit.act(caller.actor(source(request)), AuditAction.AUDIT_EXPORT, "audit",
                  range=[start, end], count=n)
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"content-disposition": 'attachment; filename="audit.csv"'})


@router.get("/health")
def health(request: Request, caller: Caller = Depends(Require(Perm.HEALTH_READ))
           ) -> HealthReply:
    """Alarms and volumes: what IT support watches, no video in it."""
    svc = services(request)
    volumes = []
    for v in svc.catalog.volumes():
        present = svc.volumes.present(v)
        u = svc.volumes.usage(v) if present else None
        volumes.append(VolumeReply(
            name=v.name, state=v.state, present=present, total_bytes=u.total if u else None,
            free_bytes=u.free if u else None, floor_bytes=u.floor if u else None))
    alarms = [AlarmReply(kind=a.kind, subject=a.subject, severity=a.severity,
                         message=a.message, since=format_instant(a.raised_ns))
              for a in svc.alarms.list()]
    # Every camera in the register, by the recorder's state: one the recorder does not
    # report (no `kuzet serve` running) is "unknown", not left out (the status bar counts
    # it as not recording; an empty table beside it misled, issue 21's walk-through).
    states: dict[str, int] = {}
    status = svc.status()
    for name, cam in svc.cameras().items():
        if cam.removed_ns is None:
            state = str(status.get(name, {}).get("state", "unknown"))
            states[state] = states.get(state, 0) + 1
    nodes = [NodeReply(
        name=n.name, up=n.up, state=n.state, cameras=n.cameras, max_cameras=n.max_cameras,
        version=n.version, heartbeat=format_instant(n.heartbeat_ns) if n.heartbeat_ns else None,
        free_bytes=sum(int(v.get("free", 0)) for v in n.status.get("volumes", [])) or None)
        for n in node_list(svc.catalog, svc.settings.lease_ttl_s)]
    return HealthReply(alarms=alarms, volumes=volumes, cameras=states, nodes=nodes)


@router.get("/health/rates")
def rates(request: Request, caller: Caller = Depends(Require(Perm.HEALTH_READ)),
          hours: Annotated[int, Query(ge=1, le=168)] = 24) -> list[CameraRatesReply]:
    """Each camera's frame rate and bitrate hour by hour over the last `hours` (3.4.3),
    from the catalog's segment rows (`equipment.rates`); None for an hour with nothing
    recorded. No picture."""
    svc = services(request)
    first = first_hour(svc.clock(), hours)
    return [CameraRatesReply(camera=cam.name, hours=[HourRateReply(
        start=format_instant(h.start_ns), fps=h.fps, bitrate_bps=h.bitrate_bps)
        for h in hourly(svc.catalog.tallies(cam.id, first), first, hours)])
        for cam in svc.cameras().values() if cam.removed_ns is None]
