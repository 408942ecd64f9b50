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
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from kuzet.catalog.models import Base
from kuzet.governance.numbering import document_number, year_of


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


class ProtocolAcknowledgement(Base):
    """A member of the Management Board has read a registered protocol addressed to it
    (clause 3.5.7): once per member, with the audit entry that recorded it."""

    __tablename__ = "protocol_acknowledgements"
    __table_args__ = (UniqueConstraint("protocol_id", "member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    protocol_id: Mapped[int] = mapped_column(ForeignKey("protocols.id"))
    member: Mapped[str] = mapped_column(String(64))  # the account's name
    at_ns: Mapped[int] = mapped_column(BigInteger)
    entry: Mapped[int] = mapped_column(Integer)  # audit seq of the acknowledgement


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



class Transfer(Base):
    """A request of an investigative body, a court or a person shown for footage (clause
    3.5.6), the rector's decision on it, and its execution as a signed export package.
    Numbered when registered (`Т-2026/0001`); the basis document's scan is kept with it."""

    __tablename__ = "transfers"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # pending, approved, rejected, executed
    requester_type: Mapped[str] = mapped_column(String(32))
    requester: Mapped[str] = mapped_column(Text)
    requester_details: Mapped[str] = mapped_column(Text)
    basis_number: Mapped[str] = mapped_column(String(64))
    basis_date: Mapped[str] = mapped_column(String(10))  # as the document gives it
    basis_type: Mapped[str | None] = mapped_column(String(32))  # sniffed media type
    basis_sha256: Mapped[str | None] = mapped_column(String(64))
    basis: Mapped[bytes | None] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(Text)
    cameras: Mapped[str] = mapped_column(Text)  # JSON list, as requested
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_ns: Mapped[int] = mapped_column(BigInteger)
    registered_entry: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_ns: Mapped[int | None] = mapped_column(BigInteger)
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_entry: Mapped[int | None] = mapped_column(Integer)
    approved_cameras: Mapped[str | None] = mapped_column(Text)  # JSON list
    approved_start_ns: Mapped[int | None] = mapped_column(BigInteger)
    approved_end_ns: Mapped[int | None] = mapped_column(BigInteger)
    expires_ns: Mapped[int | None] = mapped_column(BigInteger)
    executed_by: Mapped[str | None] = mapped_column(String(64))
    executed_ns: Mapped[int | None] = mapped_column(BigInteger)
    executed_entry: Mapped[int | None] = mapped_column(Integer)
    recipient: Mapped[str | None] = mapped_column(Text)
    recipient_document: Mapped[str | None] = mapped_column(Text)
    package_file: Mapped[str | None] = mapped_column(Text)
    package_sha256: Mapped[str | None] = mapped_column(String(64))
    package_bytes: Mapped[int | None] = mapped_column(BigInteger)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    key_fingerprint: Mapped[str | None] = mapped_column(String(64))
    exported: Mapped[str | None] = mapped_column(Text)  # JSON: what went into the package
    # The hold its registration asked for: decided with the transfer, ended by its
    # execution or the approval's expiry (clause 3.3).
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"))


def next_number(s: Session, table: type[Protocol] | type[Act] | type[ViewingSession]
                | type[Transfer], kind: str, now_ns: int, zone: str) -> tuple[int, int, str]:
    """(year, seq, number) of the next document of `table` registered at `now_ns`: the
    year as the display time zone has it, one past that year's last. Run inside the
    transaction that stores it; the unique (year, seq) refuses a concurrent twin."""
    year = year_of(now_ns, zone)
    last = s.scalar(select(func.max(table.seq)).where(table.year == year))
    seq = (last or 0) + 1
    return year, seq, document_number(kind, year, seq)
