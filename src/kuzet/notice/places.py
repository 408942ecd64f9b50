"""The register of places under the cameras' view and of their warning signs (UE-10-22
3.3.9-3.3.17, 3.4.5; issue 23), kept by those who keep the equipment register
(`equipment.admin`), read with it (`health.read`).

A place is a room or an area (building, floor, room, the installation zone of the
regulation's closed list, and whether it is one of the rooms 3.4.5 names); the recorded
cameras that watch it are linked to it, each camera to one place. A sign is placed before
a place: where it hangs, whether it is a sign (the pictogram with its text) or a notice,
the day it was put up, its photograph (JPEG or PNG, told by content) and its checks; a
sign taken down keeps its row with the day. Every write is audited in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.catalog.models import Camera
from kuzet.endpoints import ITEM_NAME
from kuzet.errors import Conflict, Invalid, NotFound, Phrase
from kuzet.notice import fields as form
from kuzet.notice.coverage import Finding, PlaceFacts, SignFacts, coverage
from kuzet.notice.models import Place, PlaceCamera, Sign
from kuzet.regulation import check_zone
from kuzet.timefmt import campus_day

# Kinds of place: the rooms 3.4.5 names, and any other area.
KINDS = ("classroom", "computer_class", "sports_hall", "assembly_hall", "other")
SIGN_KINDS = ("sign", "notice")  # the pictogram with its text; a notice of text


@dataclass(frozen=True)
class PlaceFields:
    """A place's fields as asked; checked by `check_place`."""

    building: str
    floor: str | None
    room: str
    zone: str
    kind: str


def check_place(f: PlaceFields, buildings: Sequence[str]) -> PlaceFields:
    """The fields as stored, or a refusal saying what is wrong."""
    building = form.text(f.building, Phrase("the building"), 64)
    assert building is not None
    if buildings and building not in buildings:
        raise Invalid("building {building!r} is not one of the campus's: {known}",
                      building=building, known=", ".join(buildings))
    if f.kind not in KINDS:
        raise Invalid("kind of place: one of {kinds}, not {kind!r}", kinds=", ".join(KINDS),
                      kind=f.kind)
    room = form.text(f.room, Phrase("the room or area"), 200)
    assert room is not None
    return PlaceFields(building, form.text(f.floor, Phrase("the floor"), 32, required=False),
                       room, check_zone(f.zone).value, f.kind)


def _facts(s: Session, p: Place) -> PlaceFacts:
    cams = tuple(sorted(s.scalars(select(Camera.name).join(
        PlaceCamera, PlaceCamera.camera_id == Camera.id).where(PlaceCamera.place_id == p.id,
                                                               Camera.removed_ns.is_(None)))))
    signs = tuple(SignFacts(g.id, g.position, g.kind, g.installed, g.checked, g.removed,
                            g.photo_type is not None)
                  for g in s.scalars(select(Sign).where(Sign.place_id == p.id)
                                     .order_by(Sign.id)))
    return PlaceFacts(p.name, p.building, p.floor, p.room, p.zone, p.kind, cams, signs)


class Places:
    def __init__(self, session: sessionmaker[Session], buildings: Sequence[str],
                 clock: Callable[[], int], zone: str) -> None:
        self.session = session
        self.buildings = tuple(buildings)
        self.clock = clock
        self.zone = zone  # the campus's: a sign's days are its days

    def _past(self, day: str, what: Phrase) -> str:
        return form.past_day(day, what, campus_day(self.clock(), self.zone))

    def findings(self, cameras: Iterable[Camera], check_days: int
                 ) -> tuple[list[Finding], list[PlaceFacts]]:
        """The coverage report's findings on the campus's today for the recorded
        `cameras`, and the places (the console, `kuzet place coverage`, `kuzet verify`)."""
        places = self.list()
        cams = [(c.name, c.zone or "", c.building, c.floor) for c in cameras
                if c.removed_ns is None]
        return (coverage(places, cams, campus_day(self.clock(), self.zone), check_days),
                places)

    # -- places ------------------------------------------------------------------------
    def add(self, actor: Actor, name: str, fields: PlaceFields,
            cameras: Sequence[str]) -> PlaceFacts:
        if not ITEM_NAME.fullmatch(name) or name.startswith("coverage"):
            raise Invalid("a place's name is 1 to 64 letters, digits, '.', '_' or '-', "
                          "beginning with a letter or digit, not {name!r}", name=name[:80])
        f = check_place(fields, self.buildings)
        try:
            with self.session.begin() as s:
                p = Place(name=name, building=f.building, floor=f.floor, room=f.room,
                          zone=f.zone, kind=f.kind, created_ns=self.clock())
                s.add(p)
                s.flush()
                self._link(s, p, cameras)
                append_act(s, actor, AuditAction.PLACE_ADD, f"place/{name}",
                           building=f.building, floor=f.floor, room=f.room, zone=f.zone,
                           kind=f.kind, cameras=sorted(cameras))
                return _facts(s, p)
        except IntegrityError:
            raise Conflict("a place named {name} is in the register already",
                           name=name) from None

    def change(self, actor: Actor, name: str, fields: PlaceFields,
               cameras: Sequence[str]) -> PlaceFacts:
        """New fields and cameras for the place (its signs stay)."""
        f = check_place(fields, self.buildings)
        with self.session.begin() as s:
            p = self._row(s, name)
            before = _facts(s, p)
            p.building, p.floor, p.room, p.zone, p.kind = (f.building, f.floor, f.room,
                                                           f.zone, f.kind)
            for link in s.scalars(select(PlaceCamera).where(PlaceCamera.place_id == p.id)):
                s.delete(link)
            s.flush()
            self._link(s, p, cameras)
            append_act(s, actor, AuditAction.PLACE_CHANGE, f"place/{name}",
                       building=f.building, floor=f.floor, room=f.room, zone=f.zone,
                       kind=f.kind, cameras=sorted(cameras), before={
                           "building": before.building, "floor": before.floor,
                           "room": before.room, "zone": before.zone, "kind": before.kind,
                           "cameras": list(before.cameras)})
            return _facts(s, p)

    @staticmethod
    def _link(s: Session, p: Place, cameras: Sequence[str]) -> None:
        for cam_name in sorted(set(cameras)):
            cam = s.scalar(select(Camera).where(Camera.name == cam_name,
                                                Camera.removed_ns.is_(None)))
            if cam is None:
                raise NotFound("no camera named {name!r}", name=cam_name)
            other = s.scalar(select(Place.name).join(
                PlaceCamera, PlaceCamera.place_id == Place.id).where(
                PlaceCamera.camera_id == cam.id))
            if other is not None:
                raise Conflict("camera {camera} covers place {place} already; a camera "
                               "covers one place", camera=cam_name, place=other)
            s.add(PlaceCamera(place_id=p.id, camera_id=cam.id))

    def list(self) -> list[PlaceFacts]:
        with self.session() as s:
            return [_facts(s, p) for p in s.scalars(select(Place).order_by(
                Place.building, Place.floor, Place.name))]

    def get(self, name: str) -> PlaceFacts:
        with self.session() as s:
            return _facts(s, self._row(s, name))

    @staticmethod
    def _row(s: Session, name: str) -> Place:
        p = s.scalar(select(Place).where(Place.name == name))
        if p is None:
            raise NotFound("no place named {name!r}", name=name)
        return p

    # -- signs -------------------------------------------------------------------------
    def add_sign(self, actor: Actor, place: str, position: str, kind: str,
                 installed: str) -> PlaceFacts:
        where = form.text(position, Phrase("where the sign hangs"), 200)
        assert where is not None
        if kind not in SIGN_KINDS:
            raise Invalid("kind of sign: sign or notice, not {kind!r}", kind=kind)
        day = self._past(installed, Phrase("the day it was put up"))
        with self.session.begin() as s:
            p = self._row(s, place)
            sign = Sign(place_id=p.id, position=where, kind=kind, installed=day)
            s.add(sign)
            s.flush()
            append_act(s, actor, AuditAction.SIGN_ADD, f"place/{place}", sign=sign.id,
                       position=where, kind=kind, installed=day)
            return _facts(s, p)

    def check_sign(self, actor: Actor, place: str, sign_id: int, day: str,
                   present: bool) -> PlaceFacts:
        """A check of the sign on `day`: in place and legible (`present`), or found gone
        (taken down that day: the place may then have no sign)."""
        checked = self._past(day, Phrase("the day of the check"))
        with self.session.begin() as s:
            p = self._row(s, place)
            sign = self._sign(s, p, sign_id)
            if checked < sign.installed:
                raise Invalid("a check on {day} comes before the sign was put up ({put})",
                              day=checked, put=sign.installed)
            if present:  # a check entered late never moves the last one back
                sign.checked = max(sign.checked or "", checked)
            else:
                sign.removed = checked
            append_act(s, actor, AuditAction.SIGN_CHECK, f"place/{place}", sign=sign.id,
                       day=checked, present=present)
            return _facts(s, p)

    def attach_photo(self, actor: Actor, place: str, sign_id: int, data: bytes,
                     media_type: str) -> PlaceFacts:
        if media_type not in ("image/jpeg", "image/png"):
            raise Invalid("a sign's photograph is a JPEG or PNG picture")
        with self.session.begin() as s:
            p = self._row(s, place)
            sign = self._sign(s, p, sign_id)
            sign.photo, sign.photo_type = data, media_type
            append_act(s, actor, AuditAction.SIGN_PHOTO, f"place/{place}", sign=sign.id,
                       type=media_type, bytes=len(data))
            return _facts(s, p)

    def photo(self, place: str, sign_id: int) -> tuple[bytes, str]:
        with self.session() as s:
            sign = self._sign(s, self._row(s, place), sign_id, standing=False)
            if sign.photo is None or sign.photo_type is None:
                raise NotFound("sign {sign} has no photograph", sign=sign_id)
            return sign.photo, sign.photo_type

    @staticmethod
    def _sign(s: Session, p: Place, sign_id: int, *, standing: bool = True) -> Sign:
        """The place's sign; `standing`: still up (what a change needs)."""
        sign = s.get(Sign, sign_id)
        if sign is None or sign.place_id != p.id:
            raise NotFound("place {place} has no sign {sign}", place=p.name, sign=sign_id)
        if standing and sign.removed is not None:
            raise Conflict("sign {sign} was taken down on {day}", sign=sign_id,
                           day=sign.removed)
        return sign
