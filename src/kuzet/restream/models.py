"""Tables of the external centres that receive live video (UE-10-22 3.2.11), of the
requests that make or change one, and of every restream session.

A centre is usable only through an approved request of the one approval machine
(`access.approvals.CENTRES`): the request to register it and, later, each request to
change its cameras carry the whole set asked for, and the set in force is the one of the
latest approved request. A request holds its own copy of what it asks so that the rector
decides on exactly what the register will then hold.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kuzet.catalog.models import Base


class Centre(Base):
    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # police, occ, state
    contact: Mapped[str] = mapped_column(String(200))
    basis_no: Mapped[str] = mapped_column(String(64))  # the agreement or rector's order
    basis_date: Mapped[str] = mapped_column(String(10))
    basis_scan: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    basis_type: Mapped[str | None] = mapped_column(String(32))
    addresses: Mapped[str] = mapped_column(Text)  # JSON list of addresses and networks
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # the digest secret (MD5 of user:realm:password, RFC 2617's HA1) sealed by the home's
    # key: the password itself is shown once and kept nowhere
    ha1: Mapped[str] = mapped_column(String(200))
    # a client certificate the centre must also present over RTSPS (optional): its PEM,
    # loaded as a trusted issuer, and the SHA-256 of its DER form, checked as a pin
    client_cert: Mapped[str | None] = mapped_column(Text)
    client_sha256: Mapped[str | None] = mapped_column(String(64))
    max_streams: Mapped[int] = mapped_column(Integer)
    max_kbps: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[str] = mapped_column(String(10))  # campus days, inclusive
    valid_until: Mapped[str] = mapped_column(String(10))
    guard_push: Mapped[bool] = mapped_column(default=False)  # the agreement lets guards push
    disabled_by: Mapped[str | None] = mapped_column(String(64))
    disabled_ns: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(64))
    created_ns: Mapped[int] = mapped_column(BigInteger)


class CentreRequest(Base):
    """A request of the approval machine: register a centre (`register`) or change its
    cameras (`cameras`); `cameras` is the whole set asked for, as JSON
    [{"camera": name, "stream": "main"|"sub"}]. An incident push (`push`) adds its cameras
    at once, for a bounded time, from an alarm, a detection event or a protocol; the
    rector reviews it afterwards."""

    __tablename__ = "centre_requests"
    __table_args__ = (Index("ix_centre_requests_centre", "centre_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    kind: Mapped[str] = mapped_column(String(16))  # register or cameras
    cameras: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # CENTRES' words
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_ns: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_ns: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    # a push's: when it ends by itself, what it came from ("alarm:7", "event:12",
    # "protocol:3"), and the rector's review afterwards
    expires_ns: Mapped[int | None] = mapped_column(BigInteger)
    incident: Mapped[str | None] = mapped_column(String(32))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_ns: Mapped[int | None] = mapped_column(BigInteger)


class RestreamSession(Base):
    """One centre's session of one camera: who, from where, how long, how much."""

    __tablename__ = "restream_sessions"
    __table_args__ = (Index("ix_restream_sessions_start", "start_ns"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    camera: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(64))  # the client's address
    transport: Mapped[str] = mapped_column(String(8))  # tcp, udp, tls
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    frames: Mapped[int] = mapped_column(BigInteger, default=0)
    dropped: Mapped[int] = mapped_column(BigInteger, default=0)  # frames a slow reader lost
    ended: Mapped[str | None] = mapped_column(String(200))  # why it ended
