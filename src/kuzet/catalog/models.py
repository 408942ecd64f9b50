"""Catalog tables. Instants are BIGINT nanoseconds since the epoch, UTC.

Segment rows are kept small on purpose (docs/design/storage.md): a campus catalog holds
millions of them. Paths are not stored (they follow from camera, stream and start, see
`kuzet.catalog.paths`), codec parameters are shared rows, hashes are raw bytes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kuzet.catalog.streams import Stream, StreamCode, StreamLabel


class Base(DeclarativeBase):
    pass


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    main_url: Mapped[str] = mapped_column(Text)
    sub_url: Mapped[str | None] = mapped_column(Text)
    transport: Mapped[str | None] = mapped_column(String(8))
    # One of kuzet.regulation.Zone (3.3.9-3.3.17); a row written before the list was
    # closed may hold none or another word until someone sets one (`kuzet verify` lists it).
    zone: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(Text)
    building: Mapped[str | None] = mapped_column(String(64))  # the console's camera tree
    floor: Mapped[str | None] = mapped_column(String(32))
    created_ns: Mapped[int] = mapped_column(BigInteger)
    removed_ns: Mapped[int | None] = mapped_column(BigInteger)
    retention_days: Mapped[int | None] = mapped_column(Integer)  # None: the configured default
    # The rector's order to keep the camera's sound (3.1.2); None: video only, the default.
    audio_order_no: Mapped[str | None] = mapped_column(String(64))
    audio_order_date: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD
    # The SHA-256 an rtsps:// camera's TLS certificate must have (64 lower-case hex, as
    # kuzet.rtsp.client.fingerprint writes it); None: any certificate, only logged.
    tls_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Its ONVIF device service (http://host[:port]/onvif/device_service, no credentials):
    # its clock is read there when RTCP does not tell it (issue 22); None: not asked.
    onvif_url: Mapped[str | None] = mapped_column(String(255))
    # The recording node it stays on (`kuzet camera move`); None: placed automatically
    # among the nodes (kuzet.cluster.placement). Single server: unused.
    pinned_node: Mapped[str | None] = mapped_column(String(64))


class Volume(Base):
    """A disk or mount that holds media. `state`: enabled, draining (read-only) or removed."""

    __tablename__ = "volumes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    state: Mapped[str] = mapped_column(String(16))
    floor_bytes: Mapped[int | None] = mapped_column(BigInteger)  # None: the configured default
    created_ns: Mapped[int] = mapped_column(BigInteger)
    missing_since_ns: Mapped[int | None] = mapped_column(BigInteger)
    # The recording node whose disk it is (issue 25); None on a single server.
    node: Mapped[str | None] = mapped_column(String(64))


class StreamParams(Base):
    """Codec parameters, shared by every segment recorded with them."""

    __tablename__ = "stream_params"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    codec: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    audio_codec: Mapped[str | None] = mapped_column(String(16))
    params_json: Mapped[str] = mapped_column(Text)


class Segment(Base):
    """A closed fMP4 file: one init segment, one fragment per GOP.

    Its key is what it is: camera, stream (stored as its number) and start.
    SQLite stores the table in key order (WITHOUT ROWID); PostgreSQL's key index also
    carries `end_ns`, `volume_id` and `deleting` (migration 0014). Either way the archive
    timeline of a camera-day, with where its files lie, is one range read.
    """

    __tablename__ = "segments"
    __table_args__ = (
        PrimaryKeyConstraint("camera_id", "stream", "start_ns",
                             postgresql_include=["end_ns", "volume_id", "deleting"]),
        # Partial: only rows a crash left marked, so every sweep finds them without a scan.
        Index("ix_segments_deleting", "deleting", sqlite_where=text("deleting"),
              postgresql_where=text("deleting")),
        # SQLite keeps the rows in key order: a camera's day is one contiguous range.
        {"sqlite_with_rowid": False},
    )

    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    volume_id: Mapped[int] = mapped_column(ForeignKey("volumes.id"))
    params_id: Mapped[int] = mapped_column(ForeignKey("stream_params.id"))
    frames: Mapped[int] = mapped_column(Integer)
    stream: Mapped[Stream] = mapped_column(StreamCode)
    salvaged: Mapped[bool] = mapped_column(Boolean, default=False)
    deleting: Mapped[bool] = mapped_column(Boolean, default=False)
    keyframes: Mapped[bytes] = mapped_column(LargeBinary)  # kuzet.catalog.keyindex
    # The camera's lease epoch it was committed under (kuzet.cluster.leases): a node's
    # commit under an epoch no longer the lease's is refused. None on a single server.
    epoch: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[bytes] = mapped_column(LargeBinary)
    prev_link: Mapped[bytes | None] = mapped_column(LargeBinary)  # kuzet.catalog.rowhash


class SegmentDeletion(Base):
    """A run of a camera's chain removed by retention, shedding or hold expiry."""

    __tablename__ = "segment_deletions"
    __table_args__ = (Index("ix_segment_deletions_camera", "camera_id", "stream"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    stream: Mapped[Stream] = mapped_column(StreamCode)
    from_link: Mapped[bytes | None] = mapped_column(LargeBinary)
    to_link: Mapped[bytes] = mapped_column(LargeBinary)
    count: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)


class Gap(Base):
    """Time with no recording, and why. `end_ns` is NULL while the gap is still open."""

    __tablename__ = "gaps"
    __table_args__ = (Index("ix_gaps_camera_stream_start", "camera_id", "stream", "start_ns"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    stream: Mapped[Stream] = mapped_column(StreamLabel)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int | None] = mapped_column(BigInteger)
    cause: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class Hold(Base):
    """Special retention (clause 3.3): footage kept past 30 days on the rector's approval."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    incident: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_ns: Mapped[int] = mapped_column(BigInteger)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_ns: Mapped[int | None] = mapped_column(BigInteger)
    expires_ns: Mapped[int | None] = mapped_column(BigInteger)
    rejected_by: Mapped[str | None] = mapped_column(String(64))
    rejected_ns: Mapped[int | None] = mapped_column(BigInteger)
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_ns: Mapped[int | None] = mapped_column(BigInteger)
    decision_note: Mapped[str | None] = mapped_column(Text)


class HoldRange(Base):
    __tablename__ = "hold_ranges"
    __table_args__ = (Index("ix_hold_ranges_hold", "hold_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id"))
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)


class Alarm(Base):
    """A condition people must see: raised once, updated while it lasts, then cleared."""

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_kind_subject", "kind", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    raised_ns: Mapped[int] = mapped_column(BigInteger)
    updated_ns: Mapped[int] = mapped_column(BigInteger)
    cleared_ns: Mapped[int | None] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)


class AuditEntry(Base):
    """One hash-chained audit record (kuzet.audit.chain)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_seq", "action", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at_ns: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's tip, one row; writers lock it first so entries append one at a time."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class Node(Base):
    """A recording server of a cluster on one PostgreSQL catalog (issue 25): what it
    accepts, and its heartbeat. `state`: active, or draining (hands its cameras over and
    takes none). `status`: JSON of what it last reported (cameras, volumes, disk)."""

    __tablename__ = "nodes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # the process heartbeating under the name: a second live one is refused the name
    instance: Mapped[str] = mapped_column(String(32))
    addresses: Mapped[str] = mapped_column(Text)  # JSON list
    version: Mapped[str] = mapped_column(String(32))
    schema: Mapped[str] = mapped_column(String(16))  # the migration revision it runs
    max_cameras: Mapped[int] = mapped_column(Integer)
    max_mbps: Mapped[int] = mapped_column(Integer)
    building: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    started_ns: Mapped[int] = mapped_column(BigInteger)
    heartbeat_ns: Mapped[int] = mapped_column(BigInteger)  # the catalog's clock
    status: Mapped[str] = mapped_column(Text)


class CameraLease(Base):
    """Which node records a camera, under which epoch, until when (the catalog's clock).
    The epoch grows by one each time the camera changes hands; a segment row carries the
    epoch it was committed under, and a commit whose epoch is not the lease's is refused
    (`Catalog.add_segment`)."""

    __tablename__ = "camera_leases"
    __table_args__ = (Index("ix_camera_leases_node", "node"),)

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    node: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[int] = mapped_column(BigInteger)
    since_ns: Mapped[int] = mapped_column(BigInteger)
    expires_ns: Mapped[int] = mapped_column(BigInteger)
    # a planned move, made before it is broken: the node the holder offers the camera to,
    # and when that node had the camera's stream recording beside the holder's
    offered_to: Mapped[str | None] = mapped_column(String(64))
    ready_ns: Mapped[int | None] = mapped_column(BigInteger)


class ClusterCa(Base):
    """The cluster's certificate authority (`kuzet cluster init`): one row. Its key is
    sealed with the installation's key (`access.secretbox`), as second factors are."""

    __tablename__ = "cluster_ca"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cert_pem: Mapped[str] = mapped_column(Text)
    key_sealed: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_ns: Mapped[int] = mapped_column(BigInteger)
