"""Staff and students told of the surveillance (UE-10-22 3.1.4, 3.4.6, 3.4.7; issue 23):
general meetings, and the acquaintance against signature of thousands who never log in.

The HR and student offices' lists come in as CSV (`parse_people`, pure: every bad row
reported with its line, nothing imported from a file that has one); a person is the
institution's own person id, full name, staff or student, faculty or department, group,
and the day they started: no other identity number is taken. A sign-off sheet is made for
one unit (and group) and the edition in force: it lists, in order, the people there who
have not yet signed or refused that edition (a new edition in force is nobody's yet: a
new campaign). Once its signed scan is uploaded, each person on it is marked signed,
refused or absent; absent people come onto the next sheet. Progress is counted per unit
and group; newcomers are those who started after the edition took effect and have not
signed it. Kept by `acquaintance.keep` (the head of internal security, the rector, the
designated HR staff); every write audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.errors import Conflict, Invalid, NotFound, Phrase
from kuzet.notice import fields as form
from kuzet.notice.models import Meeting, Person, PersonMark, Sheet
from kuzet.timefmt import campus_day

KINDS = ("staff", "student")
OUTCOMES = ("signed", "refused", "absent")
FINAL = ("signed", "refused")  # an absent person is asked again
COLUMNS = ("person_id", "full_name", "kind", "unit", "group", "start")
MAX_ROWS = 50_000  # a campus's staff and students, with room
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_SHEET = 5000  # people on one sign-off sheet (what one save of its marks takes)
PERSON_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")  # the offices' numbers, fit for a URL


@dataclass(frozen=True)
class PersonRow:
    person_id: str
    full_name: str
    kind: str
    unit: str
    group: str | None
    start: str


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: Phrase


@dataclass(frozen=True)
class Progress:
    unit: str
    group: str
    people: int
    signed: int
    refused: int
    absent: int  # marked absent and not yet signed or refused

    @property
    def waiting(self) -> int:
        return self.people - self.signed - self.refused


@dataclass(frozen=True)
class SheetView:
    id: int
    edition_id: int
    unit: str
    group: str | None
    people: list[PersonRow]
    made_by: str
    made_ns: int
    scan_type: str | None
    scan_sha256: str | None
    marks: dict[str, str]  # person id -> outcome, for this sheet's edition


@dataclass(frozen=True)
class SheetSummary:
    id: int
    edition_id: int
    unit: str
    group: str | None
    people: int
    scanned: bool
    marked: int


@dataclass(frozen=True)
class MeetingView:
    id: int
    held: str
    audience: str
    informed_by: str
    attendees: int | None
    notes: str | None
    minutes_type: str | None
    recorded_by: str


def parse_people(text: str) -> tuple[list[PersonRow], list[BadRow]]:
    """The list's rows, or every bad one (line numbers as a spreadsheet counts them)."""
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return [], [BadRow(1, Phrase("not a CSV file: {error}", error=str(exc)))]
    if not rows or [c.strip().lower() for c in rows[0]][:len(COLUMNS)] != list(COLUMNS):
        return [], [BadRow(1, Phrase("the first row must name the columns: {columns}",
                                     columns=",".join(COLUMNS)))]
    good: list[PersonRow] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(rows[1:], start=2):
        if line - 1 > MAX_ROWS:
            return [], [BadRow(1, Phrase("more than {rows} rows", rows=MAX_ROWS))]
        if not any(c.strip() for c in cells):
            continue
        values = [c.strip() for c in cells] + [""] * len(COLUMNS)
        pid, name, kind, unit, group, start = values[:len(COLUMNS)]
        reason: Phrase | None = None
        if any(CONTROL.search(v) for v in (pid, name, kind, unit, group, start)):
            reason = Phrase("a control character in the row: save the list as plain text")
        elif not PERSON_ID.fullmatch(pid):
            reason = Phrase("person_id: 1 to 32 letters, digits, '.', '_' or '-'")
        elif pid in seen:
            reason = Phrase("person_id {person_id} is on line {line} too", person_id=pid,
                            line=seen[pid])
        elif not name or len(name) > 200:
            reason = Phrase("full_name: 1 to 200 characters")
        elif kind not in KINDS:
            reason = Phrase("kind: staff or student, not {kind!r}", kind=kind)
        elif not unit or len(unit) > 200:
            reason = Phrase("unit: the faculty or department, 1 to 200 characters")
        elif len(group) > 64:
            reason = Phrase("group: at most 64 characters")
        else:
            try:
                start = dt.date.fromisoformat(start).isoformat()
            except ValueError:
                reason = Phrase("start: a date as YYYY-MM-DD, not {start!r}", start=start)
        if reason is not None:
            bad.append(BadRow(line, reason))
            continue
        seen[pid] = line
        good.append(PersonRow(pid, name, kind, unit, group or None, start))
    return good, bad


def _row(p: Person) -> PersonRow:
    return PersonRow(p.person_id, p.full_name, p.kind, p.unit, p.group, p.start)


class People:
    def __init__(self, session: sessionmaker[Session], clock: Callable[[], int],
                 zone: str) -> None:
        self.session = session
        self.clock = clock
        self.zone = zone  # the campus's: a meeting's day is its day

    # -- meetings (3.4.6) --------------------------------------------------------------
    def record_meeting(self, actor: Actor, held: str, audience: str, informed_by: str,
                       attendees: int | None, notes: str | None) -> MeetingView:
        day = form.past_day(held, Phrase("the day it was held"),
                            campus_day(self.clock(), self.zone))
        if not audience.strip() or not informed_by.strip():
            raise Invalid("a meeting names its audience and who informed them")
        with self.session.begin() as s:
            m = Meeting(held=day, audience=audience.strip(), informed_by=informed_by.strip(),
                        attendees=attendees, notes=(notes or "").strip() or None,
                        recorded_by=actor.name, recorded_ns=self.clock())
            s.add(m)
            s.flush()
            append_act(s, actor, AuditAction.MEETING_ADD, f"meeting/{m.id}", held=day,
                       audience=m.audience, informed_by=m.informed_by, attendees=attendees)
            return self._meeting(m)

    def attach_minutes(self, actor: Actor, meeting_id: int, data: bytes,
                       media_type: str) -> MeetingView:
        with self.session.begin() as s:
            m = s.get(Meeting, meeting_id)
            if m is None:
                raise NotFound("no meeting {meeting}", meeting=meeting_id)
            if m.minutes_type is not None:
                raise Conflict("meeting {meeting} has its minutes already", meeting=meeting_id)
            m.minutes, m.minutes_type = data, media_type
            append_act(s, actor, AuditAction.MEETING_MINUTES, f"meeting/{m.id}",
                       sha256=hashlib.sha256(data).hexdigest(), type=media_type,
                       bytes=len(data))
            return self._meeting(m)

    def minutes(self, meeting_id: int) -> tuple[bytes, str]:
        with self.session() as s:
            m = s.get(Meeting, meeting_id)
            if m is None or m.minutes is None or m.minutes_type is None:
                raise NotFound("meeting {meeting} has no minutes attached",
                               meeting=meeting_id)
            return m.minutes, m.minutes_type

    def meetings(self) -> list[MeetingView]:
        with self.session() as s:
            return [self._meeting(m) for m in s.scalars(
                select(Meeting).order_by(Meeting.held.desc(), Meeting.id.desc()))]

    @staticmethod
    def _meeting(m: Meeting) -> MeetingView:
        return MeetingView(m.id, m.held, m.audience, m.informed_by, m.attendees, m.notes,
                           m.minutes_type, m.recorded_by)

    # -- the lists (3.1.4) -------------------------------------------------------------
    def import_people(self, actor: Actor, rows: Sequence[PersonRow]) -> tuple[int, int]:
        """Add new people and update those whose person id is known; (added, updated)."""
        added = updated = 0
        with self.session.begin() as s:
            known = {p.person_id: p for p in s.scalars(select(Person).where(
                Person.person_id.in_([r.person_id for r in rows])))}
            for r in rows:
                p = known.get(r.person_id)
                if p is not None and p.kind != r.kind:  # two offices' numbers met
                    raise Conflict("person_id {person_id} is a {kind} in the lists; this list "
                                   "says {said}: nothing imported", person_id=r.person_id,
                                   kind=p.kind, said=r.kind)
                if p is None:
                    s.add(Person(person_id=r.person_id, full_name=r.full_name, kind=r.kind,
                                 unit=r.unit, group=r.group, start=r.start))
                    added += 1
                elif _row(p) != r:
                    p.full_name, p.kind, p.unit, p.group, p.start = (
                        r.full_name, r.kind, r.unit, r.group, r.start)
                    updated += 1
            append_act(s, actor, AuditAction.PEOPLE_IMPORT, "people", rows=len(rows),
                       added=added, updated=updated)
        return added, updated

    def people(self, unit: str | None = None, group: str | None = None) -> list[PersonRow]:
        with self.session() as s:
            q = select(Person).order_by(Person.unit, Person.group, Person.full_name)
            if unit is not None:
                q = q.where(Person.unit == unit)
            if group is not None:
                q = q.where(Person.group == group)
            return [_row(p) for p in s.scalars(q)]

    def remove(self, actor: Actor, person_id: str) -> None:
        """A person who left: their row and marks go (the signed scans, which hold the
        signatures, stay with their sheets as the record of the acquaintance)."""
        with self.session.begin() as s:
            p = s.scalar(select(Person).where(Person.person_id == person_id))
            if p is None:
                raise NotFound("no person {person_id} in the lists", person_id=person_id)
            for mark in s.scalars(select(PersonMark).where(PersonMark.person_id == p.id)):
                s.delete(mark)
            s.delete(p)
            # the audit chain outlives the row: it names the row, never the person
            append_act(s, actor, AuditAction.PEOPLE_REMOVE, f"person/#{p.id}")

    # -- sheets and marks (3.4.7) ------------------------------------------------------
    def make_sheet(self, actor: Actor, edition_id: int, unit: str,
                   group: str | None) -> SheetView:
        """A sheet for the unit (and group): everyone there not yet signed or refused for
        the edition, by name."""
        unit, group = unit.strip(), (group or "").strip() or None
        with self.session.begin() as s:
            q = select(Person).where(Person.unit == unit).order_by(Person.full_name)
            if group is not None:
                q = q.where(Person.group == group)
            done = set(s.scalars(select(PersonMark.person_id).where(
                PersonMark.edition_id == edition_id, PersonMark.outcome.in_(FINAL))))
            listed = [p for p in s.scalars(q) if p.id not in done]
            if not listed:
                raise Conflict("nobody in {unit} {group} waits to sign this edition",
                               unit=unit, group=group or "")
            if len(listed) > MAX_SHEET:
                raise Invalid("{people} people in {unit}: a sheet lists at most {most}; make "
                              "one per group", people=len(listed), unit=unit, most=MAX_SHEET)
            sheet = Sheet(edition_id=edition_id, unit=unit, group=group,
                          people=json.dumps([p.id for p in listed]), made_by=actor.name,
                          made_ns=self.clock())
            s.add(sheet)
            s.flush()
            append_act(s, actor, AuditAction.SHEET_MAKE, f"sheet/{sheet.id}",
                       edition=edition_id, unit=unit, group=group, people=len(listed))
            return self._sheet(s, sheet)

    def attach_scan(self, actor: Actor, sheet_id: int, data: bytes,
                    media_type: str) -> SheetView:
        with self.session.begin() as s:
            sheet = self._sheet_row(s, sheet_id)
            if sheet.scan_sha256 is not None:
                raise Conflict("sheet {sheet} has its signed scan already", sheet=sheet_id)
            sheet.scan, sheet.scan_type = data, media_type
            sheet.scan_sha256 = hashlib.sha256(data).hexdigest()
            append_act(s, actor, AuditAction.SHEET_SCAN, f"sheet/{sheet.id}",
                       sha256=sheet.scan_sha256, type=media_type, bytes=len(data))
            return self._sheet(s, sheet)

    def scan(self, sheet_id: int) -> tuple[bytes, str]:
        with self.session() as s:
            sheet = self._sheet_row(s, sheet_id)
            if sheet.scan is None or sheet.scan_type is None:
                raise NotFound("sheet {sheet} has no signed scan", sheet=sheet_id)
            return sheet.scan, sheet.scan_type

    def mark(self, actor: Actor, sheet_id: int, marks: Mapping[str, str]) -> SheetView:
        """Each person on the sheet as its signed scan shows them; a person not on it, an
        outcome that is none, or a sheet without its scan is refused, nothing marked."""
        with self.session.begin() as s:
            sheet = self._sheet_row(s, sheet_id)
            if sheet.scan_sha256 is None:  # (the scan itself is not read)
                raise Conflict("upload sheet {sheet}'s signed scan before marking it",
                               sheet=sheet_id)
            on_it = {p.person_id: p for p in s.scalars(select(Person).where(
                Person.id.in_(json.loads(sheet.people))))}
            for pid, outcome in marks.items():
                if pid not in on_it:
                    raise Invalid("person {person_id} is not on sheet {sheet}",
                                  person_id=pid, sheet=sheet_id)
                if outcome not in OUTCOMES:
                    raise Invalid("a mark is signed, refused or absent, not {outcome!r}",
                                  outcome=outcome)
            now = self.clock()
            ids = [on_it[pid].id for pid in marks]
            had = {m.person_id: m for m in s.scalars(select(PersonMark).where(
                PersonMark.edition_id == sheet.edition_id, PersonMark.person_id.in_(ids)))}
            taken: Counter[str] = Counter()
            for pid, outcome in marks.items():
                p = on_it[pid]
                m = had.get(p.id)
                if m is not None and m.outcome in FINAL and m.sheet_id != sheet.id:
                    continue  # signed or refused on another sheet: that mark stands
                taken[outcome] += 1
                if m is None:
                    s.add(PersonMark(person_id=p.id, edition_id=sheet.edition_id,
                                     sheet_id=sheet.id, outcome=outcome,
                                     marked_by=actor.name, marked_ns=now))
                else:
                    m.outcome, m.sheet_id, m.marked_by, m.marked_ns = (
                        outcome, sheet.id, actor.name, now)
            append_act(s, actor, AuditAction.SHEET_MARK, f"sheet/{sheet.id}",
                       marks=dict(taken))
            try:
                s.flush()
            except IntegrityError:  # another keeper marked the same person just now
                raise Conflict("sheet {sheet} was marked by someone else meanwhile; open it "
                               "again", sheet=sheet_id) from None
            return self._sheet(s, sheet)

    def sheets(self) -> list[SheetSummary]:
        """Every sheet, newest first, with its counts (the people's names are read one
        sheet at a time)."""
        with self.session() as s:
            marked = dict(s.execute(select(PersonMark.sheet_id, func.count()).group_by(
                PersonMark.sheet_id)).all())
            return [SheetSummary(sh.id, sh.edition_id, sh.unit, sh.group,
                                 len(json.loads(sh.people)), sh.scan_sha256 is not None,
                                 int(marked.get(sh.id, 0)))
                    for sh in s.scalars(select(Sheet).order_by(Sheet.id.desc()))]

    def sheet(self, sheet_id: int) -> SheetView:
        with self.session() as s:
            return self._sheet(s, self._sheet_row(s, sheet_id))

    @staticmethod
    def _sheet_row(s: Session, sheet_id: int) -> Sheet:
        sheet = s.get(Sheet, sheet_id)
        if sheet is None:
            raise NotFound("no sign-off sheet {sheet}", sheet=sheet_id)
        return sheet

    @staticmethod
    def _sheet(s: Session, sheet: Sheet) -> SheetView:
        ids = json.loads(sheet.people)
        by_id = {p.id: p for p in s.scalars(select(Person).where(Person.id.in_(ids)))}
        marks = {by_id[m.person_id].person_id: m.outcome for m in s.scalars(
            select(PersonMark).where(PersonMark.sheet_id == sheet.id)) if m.person_id in by_id}
        return SheetView(sheet.id, sheet.edition_id, sheet.unit, sheet.group,
                         [_row(by_id[i]) for i in ids if i in by_id], sheet.made_by,
                         sheet.made_ns, sheet.scan_type, sheet.scan_sha256, marks)

    # -- progress ----------------------------------------------------------------------
    def progress(self, edition_id: int) -> list[Progress]:
        """Per unit and group: how many people, how many signed, refused, absent."""
        with self.session() as s:
            totals = {(u, g or ""): n for u, g, n in s.execute(
                select(Person.unit, Person.group, func.count()).group_by(Person.unit,
                                                                        Person.group))}
            counts: Counter[tuple[str, str, str]] = Counter()
            for u, g, outcome in s.execute(
                    select(Person.unit, Person.group, PersonMark.outcome).join(
                        PersonMark, PersonMark.person_id == Person.id).where(
                        PersonMark.edition_id == edition_id)):
                counts[u, g or "", outcome] += 1
        return [Progress(u, g, n, counts[u, g, "signed"], counts[u, g, "refused"],
                         counts[u, g, "absent"]) for (u, g), n in sorted(totals.items())]

    def newcomers(self, edition_id: int, effective: str) -> list[PersonRow]:
        """People who started after the edition took effect and have not signed or
        refused it."""
        with self.session() as s:
            done = set(s.scalars(select(PersonMark.person_id).where(
                PersonMark.edition_id == edition_id, PersonMark.outcome.in_(FINAL))))
            return [_row(p) for p in s.scalars(select(Person).where(
                Person.start > effective).order_by(Person.start, Person.full_name))
                    if p.id not in done]
