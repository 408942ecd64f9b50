"""Rules that turn tracks into alarms: intrusion into a zone within a schedule, crossing
a line in one direction, loitering, crowding, a vehicle in a pedestrian zone. Pure: the
caller passes the tracks and the instant; the engine remembers only which track has
already raised which rule, so an alarm is raised once per track.

Where an object is, is where it stands: the middle of its box's bottom edge, in
fractions of the frame, the same units zones are drawn in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from kuzet.analytics.geometry import GeometryError, Point, check_polygon, inside, side
from kuzet.analytics.tracker import NS, Track

# Public holidays of Kazakhstan on fixed dates (Labour Code art. 84, law "On holidays"):
# New Year, Orthodox Christmas, Women's Day, Nauryz, Unity Day, Defender's Day, Victory
# Day, Capital Day, Constitution Day, Republic Day, Independence Day. Kurban ait moves
# with the lunar calendar: add its date each year (`Schedule.holidays`).
FIXED_HOLIDAYS = ((1, 1), (1, 2), (1, 7), (3, 8), (3, 21), (3, 22), (3, 23), (5, 1),
                  (5, 7), (5, 9), (7, 6), (8, 30), (10, 25), (12, 16))
VEHICLES = frozenset({"car", "truck", "bus", "motorcycle", "vehicle"})


@dataclass(frozen=True)
class Window:
    """Days (0 Monday … 6 Sunday) and minutes of the day; an end before the start runs
    past midnight (22:00–07:00 belongs to the day it starts)."""

    days: frozenset[int]
    start_min: int
    end_min: int


@dataclass(frozen=True)
class Schedule:
    """When a rule is armed, in the display time zone. No windows: always. Holidays (the
    fixed ones plus `holidays`) are armed all day when `holidays_all_day`."""

    windows: tuple[Window, ...] = ()
    holidays: frozenset[date] = frozenset()
    holidays_all_day: bool = False
    zone: str = "Asia/Almaty"

    def is_holiday(self, day: date) -> bool:
        return (day.month, day.day) in FIXED_HOLIDAYS or day in self.holidays

    def armed(self, t_ns: int) -> bool:
        if not self.windows:
            return True
        local = datetime.fromtimestamp(t_ns / NS, UTC).astimezone(ZoneInfo(self.zone))
        if self.holidays_all_day and self.is_holiday(local.date()):
            return True
        minute = local.hour * 60 + local.minute
        today, yesterday = local.weekday(), (local.weekday() - 1) % 7
        for w in self.windows:
            if w.start_min <= w.end_min:
                if today in w.days and w.start_min <= minute < w.end_min:
                    return True
            elif (today in w.days and minute >= w.start_min) or (
                    yesterday in w.days and minute < w.end_min):
                return True
        return False


Kind = Literal["intrusion", "line", "loitering", "crowding", "vehicle", "tamper"]


@dataclass(frozen=True)
class Rule:
    id: int
    kind: Kind
    zone: tuple[Point, ...] = ()  # intrusion, loitering, crowding, vehicle
    line: tuple[Point, Point] | None = None  # line: from a to b
    direction: Literal["left", "right", "both"] = "both"  # crossing towards a→b's left
    labels: frozenset[str] = frozenset({"person"})
    seconds: float = 0.0  # loitering: present this long
    count: int = 0  # crowding: at least this many at once
    schedule: Schedule = Schedule()


def check_rule(r: Rule) -> Rule:
    if r.kind == "tamper":
        return r  # the whole picture: no geometry (kuzet.analytics.tamper)
    if r.kind == "line":
        if r.line is None or r.line[0] == r.line[1]:
            raise GeometryError("a line rule needs two different points")
        for x, y in r.line:
            if not (0 <= x <= 1 and 0 <= y <= 1):
                raise GeometryError("the line leaves the frame")
    else:
        check_polygon(list(r.zone))
    if r.kind == "loitering" and r.seconds <= 0:
        raise ValueError("loitering needs a time above zero")
    if r.kind == "crowding" and r.count < 2:
        raise ValueError("crowding needs a count of at least 2")
    return r


@dataclass(frozen=True)
class Alarm:
    rule: int
    kind: Kind
    t_ns: int
    tracks: tuple[int, ...]


def _where(track: Track, k: int, size: tuple[int, int]) -> Point:
    x, y = track.path[k][1].foot
    return (x / size[0], y / size[1])


@dataclass
class Rules:
    rules: list[Rule]
    size: tuple[int, int]  # width, height of the pictures the tracks' boxes are in
    _raised: set[tuple[int, int]] = field(default_factory=set)  # (rule, track)
    _crowded: set[int] = field(default_factory=set)  # crowding rules now raised

    def evaluate(self, t_ns: int, tracks: list[Track]) -> list[Alarm]:
        out = []
        for r in self.rules:
            if r.kind == "tamper" or not r.schedule.armed(t_ns):
                continue
            mine = [tr for tr in tracks if tr.label in (VEHICLES if r.kind == "vehicle"
                                                        else r.labels)]
            if r.kind == "crowding":
                present = [tr.id for tr in mine if inside(_where(tr, -1, self.size),
                                                          list(r.zone))]
                if len(present) >= r.count and r.id not in self._crowded:
                    self._crowded.add(r.id)
                    out.append(Alarm(r.id, r.kind, t_ns, tuple(present)))
                elif len(present) < r.count:
                    self._crowded.discard(r.id)
                continue
            for tr in mine:
                if (r.id, tr.id) not in self._raised and self._fires(r, tr, t_ns):
                    self._raised.add((r.id, tr.id))
                    out.append(Alarm(r.id, r.kind, t_ns, (tr.id,)))
        return out

    def _fires(self, r: Rule, tr: Track, t_ns: int) -> bool:
        here = _where(tr, -1, self.size)
        if r.kind in ("intrusion", "vehicle"):
            return inside(here, list(r.zone))
        if r.kind == "loitering":
            if not inside(here, list(r.zone)):
                return False
            since = t_ns
            for k in range(len(tr.path) - 1, -1, -1):  # back to where it entered
                if not inside(_where(tr, k, self.size), list(r.zone)):
                    break
                since = tr.path[k][0]
            return t_ns - since >= r.seconds * NS
        if r.kind == "line" and r.line is not None and len(tr.path) >= 2:
            a, b = r.line
            before, after = _where(tr, -2, self.size), _where(tr, -1, self.size)
            s0, s1 = side(before, a, b), side(after, a, b)
            if s0 == s1 or (s0 == 0 and s1 == 0) or not _within(before, after, a, b):
                return False
            towards = "left" if s1 > 0 else "right"
            return r.direction in ("both", towards)
        return False


def _within(p: Point, q: Point, a: Point, b: Point) -> bool:
    """Does the step p→q cross the segment a–b itself, not just its extension?"""
    return side(a, p, q) != side(b, p, q)
