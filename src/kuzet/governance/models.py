"""Tables of the regulation's documents."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kuzet.catalog.models import Base


class Protocol(Base):
    """A guard's protocol of an incident seen on the monitors (clause 3.5.7), addressed to
    the Management Board. It gets its number when submitted, so abandoned drafts leave
    no holes in the year's sequence."""

    __tablename__ = "protocols"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    year: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # draft, submitted, reviewed
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    at_ns: Mapped[int] = mapped_column(BigInteger)  # the instant of the incident
    location: Mapped[str] = mapped_column(Text)
    circumstances: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    informed_ns: Mapped[int | None] = mapped_column(BigInteger)  # head told orally at
    author: Mapped[str] = mapped_column(String(64))
    created_ns: Mapped[int] = mapped_column(BigInteger)
    bookmark_id: Mapped[int | None] = mapped_column(ForeignKey("bookmarks.id"))
    snapshot_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    submitted_ns: Mapped[int | None] = mapped_column(BigInteger)
    submitted_entry: Mapped[int | None] = mapped_column(Integer)  # audit seq of the submission
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_ns: Mapped[int | None] = mapped_column(BigInteger)
    review_note: Mapped[str | None] = mapped_column(Text)


class Act(Base):
    """The internal security service's act formalising a violation (clause 3.5.8), linked
    to the protocols it rests on. People are named as someone wrote them: the system never
    identifies anyone in the picture (clause 3.1.4)."""

    __tablename__ = "acts"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    year: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # draft, registered
    protocol_ids: Mapped[str] = mapped_column(Text)  # JSON list of protocol ids
    what: Mapped[str] = mapped_column(Text)
    persons: Mapped[str] = mapped_column(Text)
    witnesses: Mapped[str] = mapped_column(Text)
    consequences: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_ns: Mapped[int] = mapped_column(BigInteger)
    registered_ns: Mapped[int | None] = mapped_column(BigInteger)
    registered_entry: Mapped[int | None] = mapped_column(Integer)


class ViewingSession(Base):
    """Stored footage shown to people with a right to see it (clause 3.5.5): the people
    shown, their parents or legal representatives, law-enforcement officers. The minutes
    name who attended, in what capacity and on which identity document, what was shown
    and why, and who conducted it."""

    __tablename__ = "viewing_sessions"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    cameras: Mapped[str] = mapped_column(Text)  # JSON list of camera names
    start_ns: Mapped[int] = mapped_column(BigInteger)  # footage shown
    end_ns: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(Text)
    attendees: Mapped[str] = mapped_column(Text)  # JSON [{name, capacity, document}]
    conducted_by: Mapped[str] = mapped_column(String(64))
    held_ns: Mapped[int] = mapped_column(BigInteger)
    entry: Mapped[int] = mapped_column(Integer)  # audit seq of its record

