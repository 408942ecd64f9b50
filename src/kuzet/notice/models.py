"""Tables of the regulation's editions and of their acquaintance by accounts.

An edition (or amendment) is a request of the one approval machine
(`access.approvals.EDITIONS`): prepared with its texts, approved by the rector with the
order that brings it into force (4.3) on a day of the campus's calendar. An account's
acquaintance names the edition and the SHA-256 of the exact text it was shown, in its
language, so that what was acknowledged can be told from what was in force.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kuzet.catalog.models import Base


class Edition(Base):
    __tablename__ = "editions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))  # "2", "2.1": as the order writes it
    kind: Mapped[str] = mapped_column(String(16))  # edition or amendment
    title: Mapped[str] = mapped_column(String(200))
    # The texts and the scan are read only where they are shown: every request asks which
    # edition is in force, and the register lists them all (`deferred`).
    text_kk: Mapped[str] = mapped_column(Text, deferred=True)  # the original, which prevails
    text_ru: Mapped[str] = mapped_column(Text, deferred=True)
    text_en: Mapped[str | None] = mapped_column(Text, deferred=True)  # a translation, if any
    summary: Mapped[str | None] = mapped_column(Text)  # a few lines for sign-off sheets
    state: Mapped[str] = mapped_column(String(16))  # EDITIONS' words
    prepared_by: Mapped[str] = mapped_column(String(64))
    prepared_ns: Mapped[int] = mapped_column(BigInteger)
    # the rector's order (4.3), and the campus day it takes effect, set at the approval
    order_no: Mapped[str | None] = mapped_column(String(64))
    order_date: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD
    effective: Mapped[str | None] = mapped_column(String(10), unique=True)  # YYYY-MM-DD
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_ns: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)  # a rejection's reason
    scan: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # signed document
    scan_type: Mapped[str | None] = mapped_column(String(32))


class Acquaintance(Base):
    """An account acquainted with an edition (3.1.4, 3.4.7): once per edition."""

    __tablename__ = "acquaintances"
    __table_args__ = (UniqueConstraint("account", "edition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    at_ns: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(64))  # the address it was confirmed from
    language: Mapped[str] = mapped_column(String(2))
    text_sha256: Mapped[str] = mapped_column(String(64))  # of the text shown


class Place(Base):
    """A place people enter under a camera's view (3.3.9-3.3.17, 3.4.5): a room or an area
    of a building and floor, in an installation zone of the regulation's closed list; its
    `kind` says whether it is one of the rooms 3.4.5 names (classroom, computer class,
    sports or assembly hall), where a notice is owed before the door."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    building: Mapped[str] = mapped_column(String(64))
    floor: Mapped[str | None] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(200))  # the room or area, as people say it
    zone: Mapped[str] = mapped_column(String(32))  # kuzet.regulation.Zone
    kind: Mapped[str] = mapped_column(String(16))  # notice.places.KINDS
    created_ns: Mapped[int] = mapped_column(BigInteger)


class PlaceCamera(Base):
    """A recorded camera covering a place: each camera covers one place."""

    __tablename__ = "place_cameras"

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), unique=True)


class Sign(Base):
    """A warning sign or notice placed before a place (3.4.5): where it hangs, what it is,
    when it was put up and last checked, its photograph."""

    __tablename__ = "signs"

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    position: Mapped[str] = mapped_column(String(200))  # "at the door, 1.6 m up"
    kind: Mapped[str] = mapped_column(String(16))  # sign (pictogram and text) or notice
    installed: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    checked: Mapped[str | None] = mapped_column(String(10))  # the last check's day
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # read alone
    photo_type: Mapped[str | None] = mapped_column(String(32))
    removed: Mapped[str | None] = mapped_column(String(10))  # taken down that day


class Meeting(Base):
    """A general meeting where participants were told of the surveillance (3.4.6)."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    held: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    audience: Mapped[str] = mapped_column(String(200))  # a faculty, a dormitory, a department
    informed_by: Mapped[str] = mapped_column(String(200))  # who told them
    attendees: Mapped[int | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    minutes_type: Mapped[str | None] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_ns: Mapped[int] = mapped_column(BigInteger)


class Person(Base):
    """A member of staff or a student, from the HR or student office's list (3.1.4): the
    institution's own person id and what a sign-off sheet needs, nothing more."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # staff or student
    unit: Mapped[str] = mapped_column(String(200))  # faculty or department
    group: Mapped[str | None] = mapped_column(String(64))  # a student's group
    start: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD: employed or enrolled


class Sheet(Base):
    """A sign-off sheet for one unit (and group) and the edition in force when printed
    (3.4.7): the people listed on it, in order, and its signed scan once uploaded."""

    __tablename__ = "signoff_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    unit: Mapped[str] = mapped_column(String(200))
    group: Mapped[str | None] = mapped_column(String(64))
    people: Mapped[str] = mapped_column(Text)  # JSON list of people.id, as printed
    made_by: Mapped[str] = mapped_column(String(64))
    made_ns: Mapped[int] = mapped_column(BigInteger)
    scan: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    scan_type: Mapped[str | None] = mapped_column(String(32))
    scan_sha256: Mapped[str | None] = mapped_column(String(64))


class PersonMark(Base):
    """What a sign-off sheet says of one person for one edition: signed, refused, absent
    (an absent person is asked again on a later sheet; signed and refused are final)."""

    __tablename__ = "person_marks"
    __table_args__ = (UniqueConstraint("person_id", "edition_id"),
                      # a sheet's marks, and an edition's progress, at 50 000 people
                      Index("ix_person_marks_sheet", "sheet_id"),
                      Index("ix_person_marks_edition", "edition_id", "outcome"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    sheet_id: Mapped[int] = mapped_column(ForeignKey("signoff_sheets.id"))
    outcome: Mapped[str] = mapped_column(String(8))  # signed, refused, absent
    marked_by: Mapped[str] = mapped_column(String(64))
    marked_ns: Mapped[int] = mapped_column(BigInteger)
