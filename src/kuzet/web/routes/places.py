"""Places under the cameras' view, their warning signs, the coverage report and the
printable sign (UE-10-22 3.3.9-3.3.17, 3.4.5; issue 23); `kuzet.notice.places` holds the
rules. Kept by those who keep the equipment register (`equipment.admin`: the
administrator 3.4.2, IT support 3.4.3), read with it (`health.read`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kuzet.access.permissions import Perm
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.governance.documents import local
from kuzet.notice.coverage import NAMED_ROOMS, Finding, PlaceFacts, due
from kuzet.notice.places import PlaceFields
from kuzet.notice.printed import coverage_csv, coverage_pdf, sign_pdf
from kuzet.notice.public import ZONE_WORDS
from kuzet.regulation import MAX_RETENTION_DAYS
from kuzet.web.deps import Require, services, source
from kuzet.web.i18n import language, translator
from kuzet.web.replies import a_file
from kuzet.web.replies.places import FindingReply, PlaceReply, SignReply
from kuzet.web.scans import scan_of
from kuzet.web.schemas import NewPlace, NewSign, PlaceBody, RowId, SignCheck
from kuzet.web.services import Services

router = APIRouter(prefix="/api", tags=["equipment"])
READ = Depends(Require(Perm.HEALTH_READ))
KEEP = Depends(Require(Perm.EQUIPMENT_ADMIN))


def _reply(svc: Services, p: PlaceFacts) -> PlaceReply:
    days = svc.settings.sign_check_days
    return PlaceReply(
        name=p.name, building=p.building, floor=p.floor, room=p.room, zone=p.zone,
        kind=p.kind, named_room=p.kind in NAMED_ROOMS, cameras=list(p.cameras),
        signs=[SignReply(id=s.id, position=s.position, kind=s.kind, installed=s.installed,
                         checked=s.checked, due=due(s, days).isoformat(), removed=s.removed,
                         photo=s.photo) for s in p.signs])


def _fields(body: PlaceBody) -> PlaceFields:
    return PlaceFields(body.building, body.floor, body.room, body.zone, body.kind)


def findings(svc: Services) -> tuple[list[Finding], list[PlaceFacts]]:
    return svc.places.findings(svc.cameras().values(), svc.settings.sign_check_days)


@router.get("/places")
def places(request: Request, caller: Caller = READ) -> list[PlaceReply]:
    """Every place, by building, floor and name, with its cameras and signs."""
    svc = services(request)
    return [_reply(svc, p) for p in svc.places.list()]


@router.post("/places", status_code=201)
def add_place(body: NewPlace, request: Request, caller: Caller = KEEP) -> PlaceReply:
    svc = services(request)
    return _reply(svc, svc.places.add(caller.actor(source(request)), body.name,
                                      _fields(body), body.cameras))


@router.get("/places/coverage")
def coverage_report(request: Request, caller: Caller = READ) -> list[FindingReply]:
    """The coverage report's findings: cameras covering no place, places with cameras
    and no sign (those 3.4.5 names marked), signs overdue for a check."""
    found, _ = findings(services(request))
    return [FindingReply(finding=f.finding, building=f.building, floor=f.floor,
                         place=f.place, room=f.room, zone=f.zone, named_room=f.named,
                         cameras=list(f.cameras), sign=f.sign, since=f.since) for f in found]


@router.get("/places/coverage.csv", **a_file("text/csv"))
def coverage_as_csv(request: Request, caller: Caller = READ) -> Response:
    svc = services(request)
    found, _ = findings(svc)
    svc.audit.act(caller.actor(source(request)), AuditAction.PLACE_COVERAGE, "places",
                  format="csv", findings=len(found))
    return Response(coverage_csv(found), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="coverage.csv"',
        "cache-control": "no-store"})


@router.get("/places/coverage.pdf", **a_file("application/pdf"))
def coverage_as_pdf(request: Request, caller: Caller = READ) -> Response:
    svc = services(request)
    found, all_places = findings(svc)
    lang = language(request)
    said = translator(lang)
    zones = {z: said(word) for z, word in ZONE_WORDS.items()}
    pdf = coverage_pdf(svc.settings.document_font, svc.settings.organisation, found,
                       all_places, zones, local(svc.clock(), svc.settings.display_timezone),
                       lang)
    svc.audit.act(caller.actor(source(request)), AuditAction.PLACE_COVERAGE, "places",
                  format="pdf", findings=len(found))
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": 'attachment; filename="coverage.pdf"',
        "cache-control": "no-store"})


@router.get("/places/{name}")
def place(name: str, request: Request, caller: Caller = READ) -> PlaceReply:
    svc = services(request)
    return _reply(svc, svc.places.get(name))


@router.put("/places/{name}")
def change_place(name: str, body: PlaceBody, request: Request, caller: Caller = KEEP
                 ) -> PlaceReply:
    svc = services(request)
    return _reply(svc, svc.places.change(caller.actor(source(request)), name, _fields(body),
                                         body.cameras))


@router.get("/places/{name}/sign.pdf", **a_file("application/pdf"))
def printable_sign(name: str, request: Request, caller: Caller = READ,
                   paper: Annotated[Literal["A4", "A3"], Query()] = "A4") -> Response:
    """The warning sign to hang before the place: the retention said is the longest of
    its cameras' (at most 30 days)."""
    svc = services(request)
    p = svc.places.get(name)
    cams = svc.cameras()
    days = max([cams[c].retention_days or svc.settings.retention_days
                for c in p.cameras if c in cams] + [svc.settings.retention_days])
    sound = any(cams[c].audio_order_no for c in p.cameras if c in cams)  # 3.1.2
    pdf = sign_pdf(svc.settings.document_font, svc.settings.organisation, p,
                   min(days, MAX_RETENTION_DAYS), svc.settings.notice_contact, sound, paper)
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="sign-{name}-{paper}.pdf"',
        "cache-control": "no-store"})


@router.post("/places/{name}/signs", status_code=201)
def add_sign(name: str, body: NewSign, request: Request, caller: Caller = KEEP
             ) -> PlaceReply:
    svc = services(request)
    return _reply(svc, svc.places.add_sign(caller.actor(source(request)), name,
                                           body.position, body.kind, body.installed))


@router.post("/places/{name}/signs/{sign}/check")
def check_sign(name: str, sign: RowId, body: SignCheck, request: Request,
               caller: Caller = KEEP) -> PlaceReply:
    svc = services(request)
    return _reply(svc, svc.places.check_sign(caller.actor(source(request)), name, sign,
                                             body.day, body.present))


@router.put("/places/{name}/signs/{sign}/photo")
async def attach_photo(name: str, sign: RowId, request: Request, caller: Caller = KEEP
                       ) -> PlaceReply:
    """The sign's photograph as the raw body: JPEG or PNG, told by its first bytes."""
    svc = services(request)
    data, kind = await scan_of(request)
    return _reply(svc, svc.places.attach_photo(caller.actor(source(request)), name, sign,
                                               data, kind))


@router.get("/places/{name}/signs/{sign}/photo", **a_file("image/jpeg", "image/png"))
def sign_photo(name: str, sign: RowId, request: Request, caller: Caller = READ) -> Response:
    data, kind = services(request).places.photo(name, sign)
    return Response(data, media_type=kind, headers={"x-content-type-options": "nosniff",
                                                    "cache-control": "no-store"})
