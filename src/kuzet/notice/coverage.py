"""Whether people are told where cameras watch (UE-10-22 3.4.5): the coverage report.
Pure: the register's places, signs and cameras in, findings out.

A finding is one of:
- `unplaced`: a recorded camera that covers no place of the register (as a camera
  without an installation zone is flagged: nobody can say a sign stands before it);
- `no_sign`: a place with cameras and no sign in place; `named` when the place is one of
  the rooms 3.4.5 names (classroom, computer class, sports or assembly hall), where the
  regulation says surveillance is carried out and people must be told before the door;
- `overdue`: a sign whose last check (or its installation) is older than
  `sign_check_days`.
Findings are ordered by building, floor, place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

# The rooms clause 3.4.5 names as watched, where a notice before the door is owed.
NAMED_ROOMS = frozenset({"classroom", "computer_class", "sports_hall", "assembly_hall"})
FINDINGS = ("unplaced", "no_sign", "overdue")


@dataclass(frozen=True)
class SignFacts:
    id: int
    position: str
    kind: str
    installed: str  # YYYY-MM-DD
    checked: str | None
    removed: str | None
    photo: bool = False  # a photograph of it is attached


@dataclass(frozen=True)
class PlaceFacts:
    name: str
    building: str
    floor: str | None
    room: str
    zone: str
    kind: str
    cameras: tuple[str, ...]
    signs: tuple[SignFacts, ...]


@dataclass(frozen=True)
class Finding:
    finding: str  # one of FINDINGS
    building: str
    floor: str
    place: str  # the place's name ("" for an unplaced camera)
    room: str
    zone: str
    named: bool  # a room 3.4.5 names
    cameras: tuple[str, ...]
    sign: int | None  # the overdue sign's id
    since: str  # an overdue sign: its last check or installation day


def due(sign: SignFacts, check_days: int) -> dt.date:
    """The day a sign's next check falls due."""
    last = dt.date.fromisoformat(sign.checked or sign.installed)
    return last + dt.timedelta(days=check_days)


def coverage(places: Iterable[PlaceFacts], cameras: Iterable[tuple[str, str, str | None,
                                                                    str | None]],
             today: dt.date, check_days: int) -> list[Finding]:
    """The findings for the register's `places` and the recorded `cameras` as (name,
    zone, building, floor), on the campus's `today`."""
    places = list(places)
    placed = {c for p in places for c in p.cameras}
    out: list[Finding] = []
    for name, zone, building, floor in cameras:
        if name not in placed:
            out.append(Finding("unplaced", building or "", floor or "", "", "", zone, False,
                               (name,), None, ""))
    for p in places:
        up = [s for s in p.signs if s.removed is None]
        if p.cameras and not up:
            out.append(Finding("no_sign", p.building, p.floor or "", p.name, p.room, p.zone,
                               p.kind in NAMED_ROOMS, p.cameras, None, ""))
        for s in up:
            if due(s, check_days) < today:
                out.append(Finding("overdue", p.building, p.floor or "", p.name, p.room,
                                   p.zone, p.kind in NAMED_ROOMS, p.cameras, s.id,
                                   s.checked or s.installed))
    return sorted(out, key=lambda f: (f.building, f.floor, f.place, FINDINGS.index(f.finding),
                                      f.cameras))
