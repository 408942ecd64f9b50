"""Live video to police duty units and Operational Control Centres (UE-10-22 3.2.11):
the register of centres, the requests the rector decides, the sessions and their cut.

The head of internal security or the administrator enters a centre and asks for its
cameras (`centre.prepare`); the rector alone approves each request (`centre.approve`, the
rector's own account and second factor, never a token nor the command line). Disabling a
centre, and cutting a session (`restream.cut`), send less video, never more, and wait for
nobody.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from kuzet.access.permissions import Perm
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.errors import NotFound
from kuzet.restream.centres import CentreFields, CentreView, RequestView
from kuzet.timefmt import format_instant
from kuzet.web.deps import Require, services, source
from kuzet.web.registers import csv_answer
from kuzet.web.replies import a_file
from kuzet.web.replies.restream import (
    CentreReply,
    CentreRequestReply,
    CreatedCentreReply,
    LiveSessionReply,
    RestreamReply,
    SessionReply,
    TargetReply,
)
from kuzet.web.scans import body_of, scan_answer, scan_of
from kuzet.web.schemas import CentreCameras, CentrePush, Decision, NewCentre, RowId
from kuzet.web.times import instant, out

router = APIRouter(prefix="/api", tags=["centres"])
PREPARE = Depends(Require(Perm.CENTRE_PREPARE))
APPROVE = Depends(Require(Perm.CENTRE_APPROVE))
CUT = Depends(Require(Perm.RESTREAM_CUT))
PUSH = Depends(Require(Perm.RESTREAM_PUSH))
ENDERS = Depends(Require(Perm.RESTREAM_CUT, Perm.CENTRE_APPROVE))
KEEPERS = Depends(Require(Perm.CENTRE_PREPARE, Perm.CENTRE_APPROVE, Perm.RESTREAM_CUT))
REQUESTERS = Depends(Require(Perm.CENTRE_PREPARE, Perm.CENTRE_APPROVE))
Text = Annotated[str | None, Query(max_length=64)]
When = Annotated[str | None, Query(max_length=40)]


def _reply(request: Request, c: CentreView) -> CentreReply:
    restream = services(request).restream
    urls = {}
    if restream is not None:
        urls = {cam: u for cam, stream in c.cameras.items()
                if (u := restream.url_of(cam, stream)) is not None}
    return CentreReply(
        id=c.id, name=c.name, kind=c.kind, contact=c.contact, basis_no=c.basis_no,
        basis_date=c.basis_date, basis_type=c.basis_type, addresses=c.addresses,
        username=c.username, max_streams=c.max_streams, max_kbps=c.max_kbps,
        valid_from=c.valid_from, valid_until=c.valid_until, guard_push=c.guard_push,
        client_sha256=c.client_sha256,
        state=c.state, cameras=c.cameras, urls=urls,
        requests=[_request_reply(r) for r in c.requests],
        disabled_by=c.disabled_by, disabled=out(c.disabled_ns))


def _request_reply(r: RequestView) -> CentreRequestReply:
    return CentreRequestReply(
        id=r.id, kind=r.kind, cameras=r.cameras, reason=r.reason, state=r.state,
        requested_by=r.requested_by, requested=format_instant(r.requested_ns),
        decided_by=r.decided_by, decided=out(r.decided_ns), note=r.note,
        expires=out(r.expires_ns), incident=r.incident, reviewed_by=r.reviewed_by,
        reviewed=out(r.reviewed_ns))


@router.get("/centres")
def centres(request: Request, caller: Caller = KEEPERS) -> RestreamReply:
    """The register of centres, with the restream's addresses and certificate pin."""
    svc = services(request)
    urls = svc.restream.urls if svc.restream is not None else {}
    return RestreamReply(urls=urls, centres=[_reply(request, c)
                                             for c in svc.centres.listing()])


@router.post("/centres", status_code=201)
def prepare_centre(body: NewCentre, request: Request, caller: Caller = PREPARE
                   ) -> CreatedCentreReply:
    """Enter a centre and ask the rector to approve it with its cameras; its password is
    in this reply only."""
    svc = services(request)
    made = svc.centres.prepare(caller.actor(source(request)), CentreFields(
        body.name, body.kind, body.contact, body.basis_no, body.basis_date, body.addresses,
        body.max_streams, body.max_kbps, body.valid_from, body.valid_until, body.guard_push),
        {c.camera: c.stream for c in body.cameras}, body.reason, svc.clock())
    return CreatedCentreReply(centre=_reply(request, made.centre), password=made.password)


@router.get("/centres/targets")
def push_targets(request: Request, caller: Caller = PUSH) -> list[TargetReply]:
    """The centres an incident's camera may be pushed to, and whether a guard may."""
    return [TargetReply(id=c.id, name=c.name, kind=c.kind, state=c.state,
                        guard_push=c.guard_push)
            for c in services(request).centres.listing() if c.state == "active"]


@router.get("/centres/pushes")
def pushes(request: Request, caller: Caller = KEEPERS, unreviewed: bool = False
           ) -> list[CentreRequestReply]:
    """Incident pushes, newest first; `unreviewed`: those the rector has yet to see."""
    return [_request_reply(r) for r in services(request).centres.pushes(
        unreviewed=unreviewed)]


@router.post("/centres/{centre}/push", status_code=201)
def push_camera(centre: RowId, body: CentrePush, request: Request, caller: Caller = PUSH
                ) -> CentreReply:
    """An incident's camera to the centre at once, for a bounded time (at most 4 h)."""
    svc = services(request)
    return _reply(request, svc.centres.push(
        caller.actor(source(request)), centre, body.camera, body.stream, body.minutes,
        body.reason, body.incident, svc.clock()))


@router.post("/centres/requests/{req}/end")
def end_push(req: RowId, request: Request, caller: Caller = ENDERS) -> CentreReply:
    svc = services(request)
    return _reply(request, svc.centres.end_push(caller.actor(source(request)), req,
                                                svc.clock()))


@router.post("/centres/requests/{req}/review")
def review_push(req: RowId, request: Request, caller: Caller = APPROVE) -> CentreReply:
    """The rector has seen the push (it took effect without waiting for the rector)."""
    svc = services(request)
    return _reply(request, svc.centres.review(caller.actor(source(request)), req,
                                              svc.clock()))


@router.get("/centres/{centre}")
def centre(centre: RowId, request: Request, caller: Caller = KEEPERS) -> CentreReply:
    return _reply(request, services(request).centres.get(centre))


@router.post("/centres/{centre}/cameras", status_code=201)
def request_cameras(centre: RowId, body: CentreCameras, request: Request,
                    caller: Caller = PREPARE) -> CentreReply:
    """Ask the rector for a new set of cameras (the whole set); the set in force stays
    until the rector approves."""
    svc = services(request)
    return _reply(request, svc.centres.request_cameras(
        caller.actor(source(request)), centre, {c.camera: c.stream for c in body.cameras},
        body.reason, svc.clock()))


@router.post("/centres/requests/{req}/approve")
def approve_request(req: RowId, request: Request, caller: Caller = APPROVE) -> CentreReply:
    svc = services(request)
    return _reply(request, svc.centres.approve(caller.actor(source(request)), req,
                                               svc.clock()))


@router.post("/centres/requests/{req}/reject")
def reject_request(req: RowId, body: Decision, request: Request, caller: Caller = APPROVE
                   ) -> CentreReply:
    svc = services(request)
    return _reply(request, svc.centres.reject(caller.actor(source(request)), req, body.note,
                                              svc.clock()))


@router.post("/centres/requests/{req}/withdraw")
def withdraw_request(req: RowId, request: Request, caller: Caller = REQUESTERS
                     ) -> CentreReply:
    svc = services(request)
    return _reply(request, svc.centres.withdraw(caller.actor(source(request)), req,
                                                svc.clock()))


@router.post("/centres/{centre}/disable")
def disable_centre(centre: RowId, request: Request, caller: Caller = KEEPERS) -> CentreReply:
    """No more video to the centre, at once: its sessions end within a second."""
    svc = services(request)
    return _reply(request, svc.centres.disable(caller.actor(source(request)), centre,
                                               svc.clock()))


@router.put("/centres/{centre}/basis")
async def attach_basis(centre: RowId, request: Request, caller: Caller = PREPARE
                       ) -> CentreReply:
    """The signed agreement or order as the raw request body (PDF, JPEG or PNG)."""
    data, kind = await scan_of(request)
    return _reply(request, services(request).centres.attach_basis(
        caller.actor(source(request)), centre, data, kind))


@router.get("/centres/{centre}/basis", **a_file("application/pdf", "image/jpeg",
                                                "image/png"))
def centre_basis(centre: RowId, request: Request, caller: Caller = KEEPERS) -> Response:
    data, kind = services(request).centres.basis(centre)
    return scan_answer(data, kind, f"centre-{centre}")


@router.get("/restream/sessions")
def sessions(request: Request, caller: Caller = KEEPERS, centre: int | None = None,
             camera: Text = None, since: When = None, until: When = None
             ) -> list[SessionReply]:
    """The register of sessions, newest first: who received which camera, from where,
    how long and how much (`since`/`until`: sessions that overlap the window)."""
    rows = services(request).restream_journal.listing(
        centre, camera, instant(since, "start") if since else None,
        instant(until, "end") if until else None)
    return [SessionReply(id=r.id, centre=r.centre, camera=r.camera, stream=r.stream,
                         source=r.source, transport=r.transport,
                         start=format_instant(r.start_ns), end=out(r.end_ns), bytes=r.bytes,
                         frames=r.frames, dropped=r.dropped, ended=r.ended) for r in rows]


@router.get("/restream/sessions.csv", **a_file("text/csv"))
def sessions_csv(request: Request, caller: Caller = KEEPERS, centre: int | None = None,
                 camera: Text = None, since: When = None, until: When = None) -> Response:
    rows = sessions(request, caller, centre, camera, since, until)
    return csv_answer(request, caller, "restream-sessions", list(SessionReply.model_fields),
                      [{k: "" if v is None else str(v) for k, v in r.model_dump().items()}
                       for r in rows])


@router.get("/restream/live")
def live_sessions(request: Request, caller: Caller = KEEPERS) -> list[LiveSessionReply]:
    """The sessions running now."""
    restream = services(request).restream
    rows = restream.live() if restream is not None else []
    return [LiveSessionReply(id=r.id, centre=r.centre, camera=r.camera, stream=r.stream,
                             source=r.source, transport=r.transport,
                             start=format_instant(r.start_ns), bytes=r.bytes,
                             frames=r.frames, dropped=r.dropped, kbps=r.kbps) for r in rows]


@router.post("/restream/live/{session}/cut")
def cut_session(session: Annotated[str, Path(max_length=32)], request: Request,
                caller: Caller = CUT) -> LiveSessionReply:
    """End a running session at once (the centre may connect again while it may)."""
    svc = services(request)
    found = next((r for r in (svc.restream.live() if svc.restream else [])
                  if r.id == session), None)
    if found is None or svc.restream is None or not svc.restream.cut(session, caller.name):
        raise NotFound("no running session {id}", id=session[:32])
    svc.audit.act(caller.actor(source(request)), AuditAction.RESTREAM_CUT,
                  f"camera/{found.camera}", centre=found.centre, source=found.source,
                  stream=found.stream)
    return LiveSessionReply(id=found.id, centre=found.centre, camera=found.camera,
                            stream=found.stream, source=found.source,
                            transport=found.transport, start=format_instant(found.start_ns),
                            bytes=found.bytes, frames=found.frames, dropped=found.dropped,
                            kbps=found.kbps)


@router.put("/centres/{centre}/certificate")
async def set_certificate(centre: RowId, request: Request, caller: Caller = PREPARE
                          ) -> CentreReply:
    """The client certificate (PEM, the raw body) the centre must present over RTSPS from
    now on, besides its password; its SHA-256 is the pin."""
    data = await body_of(request)
    return _reply(request, services(request).centres.set_certificate(
        caller.actor(source(request)), centre, data))
