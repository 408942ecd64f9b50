"""Catalog reads and writes: cameras, volumes, segments (with their row chain) and gaps.

Callers validate what only they can judge (a URL, a retention policy) before they call;
the catalog checks what it owns: camera names, which become its paths, and each camera's
installation zone, which no path may leave outside the regulation's list. A change to a
camera takes its audit entry as a callback run in the change's transaction, so that the
two commit together (the catalog knows nothing of the audit log above it).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, Select, bindparam, column, func, select, table, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.elements import BindParameter

from kuzet.catalog import keyindex, segments
from kuzet.catalog.models import Camera, CameraLease, Gap, Segment, StreamParams, Volume
from kuzet.catalog.paths import check_camera_name, segment_relpath
from kuzet.catalog.rowhash import RowFacts, row_link
from kuzet.catalog.segments import Placed, SegmentRow
from kuzet.catalog.streams import Stream
from kuzet.errors import Conflict, Invalid, NotFound
from kuzet.regulation import check_zone, listed_zone

# Written in a camera change's transaction once the change is made: its audit entry
# (`kuzet.audit.log.append_act`). If it fails, the change rolls back with it.
InTransaction = Callable[[Session, Camera], object]


SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# how long a commit waits for its turn among the others before it goes anyway (a catalog
# that answers clears a burst of a node's cameras in much less)
COMMIT_QUEUE_S = 1.0
# The equipment register's names (its table is kuzet.equipment.models'), read here only to
# keep a camera's name apart from the other items'.
_ITEMS = table("equipment", column("name"), column("camera_id"))
NOT_TLS = ("a TLS certificate pin is for rtsps:// cameras only: this camera's stream is "
           "not over TLS")


def speaks_tls(main_url: str) -> bool:
    """Whether the camera presents a TLS certificate (rtsps://) that a pin can hold it to."""
    return urlsplit(main_url).scheme.lower() == "rtsps"


def check_tls_fingerprint(main_url: str, pin: str) -> str:
    """A certificate pin as the register holds it (64 lower-case hex digits, the form
    kuzet.rtsp.client.fingerprint makes of OpenSSL's `AB:CD:...`, spaces or either case),
    or refused: only an rtsps:// camera presents a certificate to hold it to."""
    if not speaks_tls(main_url):
        raise Invalid(NOT_TLS)
    hex_only = "".join(c for c in pin.lower() if c not in ": \t")
    if not SHA256_HEX.fullmatch(hex_only):
        raise Invalid("a TLS certificate pin is the certificate's SHA-256: 64 hex digits "
                      "(colons and spaces allowed), not {pin!r}", pin=pin[:100])
    return hex_only


@dataclass(frozen=True)
class NewSegment:
    camera_id: int
    stream: Stream
    volume_id: int
    start_ns: int
    end_ns: int
    frames: int
    size_bytes: int
    codec: str
    width: int
    height: int
    audio_codec: str | None
    params_json: str  # canonical JSON of everything the init segment needs
    keyframes_ns: list[int]
    sha256: bytes
    salvaged: bool = False
    fence: Fence | None = None  # on a node of a cluster: the lease it is written under


@dataclass(frozen=True)
class Fence:
    """The lease a node writes a camera's segment under (issue 25). `epoch` None: any
    epoch of this node's (a segment salvaged at start, written before the crash under
    whichever lease the node then held, so long as no other node has taken it since)."""
    node: str
    epoch: int | None


class Fenced(Conflict):
    """A segment's commit refused: the camera's lease is another node's, or a later epoch
    than it was written under (`lost`), or its footage would overlap rows already in the
    timeline. The file is kept (quarantined), never in the timeline twice."""

    def __init__(self, message: str = "", /, *, lost: bool = True, **values: object) -> None:
        super().__init__(message, **values)
        self.lost = lost


@dataclass(frozen=True)
class CutGap:
    """The hole a recorder's cut leaves when timestamps jump: from the previous segment's
    end to the new segment's start, recorded with that segment."""
    start_ns: int
    cause: str
    detail: str


class Catalog:
    def __init__(self, engine: Engine, node: str | None = None) -> None:
        """`node`: the recording node this process is, on a cluster's PostgreSQL catalog
        (issue 25); its volumes are its own disks, the others' are theirs."""
        self.engine = engine
        self.node = node
        self.session = sessionmaker(engine, expire_on_commit=False)
        self._params_json: dict[int, str] = {}
        self._params_ids: dict[str, int] = {}
        self._camera_names: dict[int, str] = {}
        self._volume_paths: dict[int, str] = {}
        self._volume_nodes: dict[int, str | None] = {}
        # Segment commits at once: every camera cuts at the same instants, so 48 cameras
        # commit in one burst, which opened and closed as many connections past the pool's
        # each time (bench/cluster.py: connecting was a third of a commit's time, more on
        # a node, whose commit also locks the lease). Half the pool: a commit may take a
        # second connection (a cache read inside its transaction).
        size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 2
        self._committing = threading.BoundedSemaphore(max(1, size // 2))

    # -- cameras ------------------------------------------------------------------
    def add_camera(self, name: str, main_url: str, *, zone: str, sub_url: str | None = None,
                   location: str | None = None,
                   building: str | None = None, floor: str | None = None,
                   transport: str | None = None, retention_days: int | None = None,
                   tls_fingerprint: str | None = None,
                   audit: InTransaction | None = None) -> Camera:
        """A new camera, in one of the regulation's installation zones (3.3.9-3.3.17),
        recording video only: its sound is kept only once the rector's order is recorded
        (`set_audio`). `tls_fingerprint`: the SHA-256 an rtsps:// camera's certificate
        must have (`check_tls_fingerprint`)."""
        with self.session.begin() as s:
            cam = self.insert_camera(s, name, main_url, zone=zone, sub_url=sub_url,
                                     location=location, building=building, floor=floor,
                                     transport=transport, retention_days=retention_days,
                                     tls_fingerprint=tls_fingerprint)
            if audit is not None:
                audit(s, cam)
        return cam

    def insert_camera(self, s: Session, name: str, main_url: str, *, zone: str,
                      sub_url: str | None = None, location: str | None = None,
                      building: str | None = None, floor: str | None = None,
                      transport: str | None = None, retention_days: int | None = None,
                      tls_fingerprint: str | None = None) -> Camera:
        """`add_camera`'s checks and insert in the caller's transaction `s`, for a change
        that adds cameras among other rows and commits or fails as one (the equipment
        register's CSV import)."""
        check_camera_name(name)
        zone = check_zone(zone)
        if tls_fingerprint is not None:
            tls_fingerprint = check_tls_fingerprint(main_url, tls_fingerprint)
        # a camera is an item of the equipment register under its name (kuzet.equipment),
        # so a name another item has (a UPS, a switch) is taken
        if s.scalar(select(_ITEMS.c.name).where(_ITEMS.c.name == name,
                                                _ITEMS.c.camera_id.is_(None))) is not None:
            raise Conflict("{name!r} names an item of the equipment register; choose another "
                           "name", name=name)
        existing = s.scalar(select(Camera).where(Camera.name == name))
        if existing is not None:
            if existing.removed_ns is None:
                raise Conflict("a camera named {name!r} already exists", name=name)
            raise Conflict("{name!r} names a removed camera whose recordings are still kept; "
                           "choose another name", name=name)
        cam = Camera(name=name, main_url=main_url, sub_url=sub_url, zone=zone,
                     location=location, building=building, floor=floor,
                     transport=transport, created_ns=time.time_ns(),
                     retention_days=retention_days, tls_fingerprint=tls_fingerprint)
        s.add(cam)
        return cam

    def set_retention(self, name: str, days: int | None, *,
                      audit: InTransaction | None = None) -> None:
        """Set a camera's retention (None: the configured default), checked by the caller
        (kuzet.regulation.check_retention_days)."""
        with self.session.begin() as s:
            cam = s.scalar(select(Camera).where(Camera.name == name))
            if cam is None:
                raise NotFound("no camera named {name!r}", name=name)
            cam.retention_days = days
            if audit is not None:
                audit(s, cam)

    def set_zone(self, name: str, zone: str, *, audit: InTransaction | None = None) -> Camera:
        """Put a camera in one of the regulation's installation zones (3.3.9-3.3.17)."""
        zone = check_zone(zone)
        return self._change(name, audit, zone=zone)

    def set_audio(self, name: str, order: tuple[str, str] | None, *,
                  audit: InTransaction | None = None) -> Camera:
        """Keep a camera's sound on the rector's order (number, date; checked by the caller,
        kuzet.regulation.check_audio_order), or record video only again (None). A running
        recorder opens a new session with or without the sound within seconds."""
        number, day = order if order is not None else (None, None)
        return self._change(name, audit, audio_order_no=number, audio_order_date=day)

    def set_tls_fingerprint(self, name: str, pin: str | None, *,
                            audit: InTransaction | None = None) -> Camera:
        """Hold an rtsps:// camera to the certificate with this SHA-256 (any form
        `check_tls_fingerprint` takes), or to none again (None). A running recorder opens
        a new session with the pin within seconds; another certificate is refused then."""
        if pin is not None:
            pin = check_tls_fingerprint(self.camera(name).main_url, pin)
        return self._change(name, audit, tls_fingerprint=pin)

    def set_onvif(self, name: str, device_url: str | None, *,
                  audit: InTransaction | None = None) -> Camera:
        """Read the camera's clock over ONVIF at `device_url` (a device service URL with no
        credentials, `kuzet.equipment.onvif.target` made it), or no longer (None)."""
        return self._change(name, audit, onvif_url=device_url)

    def _change(self, name: str, audit: InTransaction | None, **values: object) -> Camera:
        """Set columns of a camera still recorded, its audit entry in the same transaction."""
        with self.session.begin() as s:
            cam = s.scalar(select(Camera).where(Camera.name == name,
                                                Camera.removed_ns.is_(None)))
            if cam is None:
                raise NotFound("no camera named {name!r}", name=name)
            for column, value in values.items():
                setattr(cam, column, value)
            if audit is not None:
                audit(s, cam)
        return cam

    def unzoned(self) -> list[Camera]:
        """Cameras still recorded whose zone is none of the regulation's list (rows from
        before it was closed): each waits for a person to choose one."""
        return [c for c in self.cameras() if listed_zone(c.zone) is None]

    def remove_camera(self, name: str, *, audit: InTransaction | None = None) -> None:
        """Stop recording a camera. Its recordings stay until retention removes them."""
        with self.session.begin() as s:
            cam = s.scalar(select(Camera).where(Camera.name == name,
                                                Camera.removed_ns.is_(None)))
            if cam is None:
                raise NotFound("no camera named {name!r}", name=name)
            cam.removed_ns = time.time_ns()
            if audit is not None:
                audit(s, cam)

    def cameras(self, *, include_removed: bool = False) -> list[Camera]:
        with self.session() as s:
            q = select(Camera).order_by(Camera.name)
            if not include_removed:
                q = q.where(Camera.removed_ns.is_(None))
            return list(s.scalars(q))

    def camera(self, name: str) -> Camera:
        with self.session() as s:
            cam = s.scalar(select(Camera).where(Camera.name == name))
            if cam is None:
                raise NotFound("no camera named {name!r}", name=name)
            return cam

    def camera_name(self, camera_id: int) -> str:
        return self._cached(self._camera_names, Camera.name, Camera.id, camera_id, "camera")

    def _cached(self, cache: dict[int, str], column: Any, key: Any, value: int,
                what: str) -> str:
        """A name, path or parameter set by id, remembered: none changes once written."""
        found = cache.get(value)
        if found is None:
            with self.session() as s:
                found = s.scalar(select(column).where(key == value))
            if found is None:
                raise NotFound("no {what} with id {value}", what=what, value=value)
            cache[value] = found
        return found

    # -- volumes ------------------------------------------------------------------
    def volumes(self, *, include_removed: bool = False) -> list[Volume]:
        """This server's volumes: on a node of a cluster, those on its own disks (the
        one list its recorder, recovery, sweeper and disk checks read)."""
        with self.session() as s:
            q = select(Volume).where(Volume.node == self.node if self.node is not None
                                     else Volume.node.is_(None)).order_by(Volume.id)
            if not include_removed:
                q = q.where(Volume.state != "removed")
            return list(s.scalars(q))

    def volume_node(self, volume_id: int) -> str | None:
        """The recording node whose disk a volume is (None: a single server's), read once:
        a volume never changes node."""
        if volume_id not in self._volume_nodes:
            with self.session() as s:
                self._volume_nodes[volume_id] = s.scalar(
                    select(Volume.node).where(Volume.id == volume_id))
        return self._volume_nodes[volume_id]

    def elsewhere(self, volume_id: int) -> str | None:
        """The other node whose disk a volume is, or None when it is this server's."""
        node = self.volume_node(volume_id)
        return node if node is not None and node != self.node else None

    def volume_path(self, volume_id: int) -> Path:
        return Path(self._cached(self._volume_paths, Volume.path, Volume.id, volume_id,
                                 "volume"))

    # -- segments -----------------------------------------------------------------
    def relpath(self, seg: Placed) -> str:
        return segment_relpath(self.camera_name(seg.camera_id), seg.start_ns, seg.stream)

    def path_of(self, seg: Placed) -> Path:
        """Where a segment's file lies: it follows from volume, camera, stream and start."""
        return self.volume_path(seg.volume_id) / self.relpath(seg)

    def params_json(self, params_id: int) -> str:
        return self._cached(self._params_json, StreamParams.params_json, StreamParams.id,
                            params_id, "stream parameters")

    def _params_id(self, seg: NewSegment) -> int:
        digest = hashlib.sha256(seg.params_json.encode()).hexdigest()
        cached = self._params_ids.get(digest)
        if cached is not None:
            return cached
        for _ in range(3):
            with self.session() as s:
                found = s.scalar(select(StreamParams.id).where(StreamParams.digest == digest))
                if found is None:
                    s.add(StreamParams(digest=digest, codec=seg.codec, width=seg.width,
                                       height=seg.height, audio_codec=seg.audio_codec,
                                       params_json=seg.params_json))
                    try:
                        s.commit()
                    except IntegrityError:  # another writer added the same parameters
                        s.rollback()
                        continue
                    found = s.scalar(select(StreamParams.id)
                                     .where(StreamParams.digest == digest))
                assert found is not None
                self._params_ids[digest] = found
                self._params_json[found] = seg.params_json
                return found
        raise Conflict("could not store stream parameters")

    def link(self, seg: Segment) -> bytes:
        """The link that the next segment of the camera stores (kuzet.catalog.rowhash)."""
        return row_link(RowFacts(
            seg.camera_id, seg.stream, seg.start_ns, seg.end_ns, seg.frames,
            seg.size_bytes, self.params_json(seg.params_id), seg.keyframes, seg.sha256,
            seg.prev_link, seg.salvaged))

    def add_segment(self, seg: NewSegment, *, closes_gap: bool = False,
                    cut: CutGap | None = None) -> Segment:
        """Insert a segment, linking it to the digest of the camera's previous row.

        With `closes_gap`, the camera's open gap (an outage, a stop) ends where this
        segment starts, and a `cut`'s gap is recorded, in the same transaction as the row:
        after a crash the catalog holds the segment with its gaps settled, or neither.
        """
        params_id = self._params_id(seg)
        keys = keyindex.encode(seg.keyframes_ns)
        # waited for a moment at most: a catalog that does not answer (a failover) holds
        # each commit for its connection's time, and the others must not queue behind it
        queued = self._committing.acquire(timeout=COMMIT_QUEUE_S)
        try:
            return self._add_segment(seg, params_id, keys, closes_gap, cut)
        finally:
            if queued:
                self._committing.release()

    def _add_segment(self, seg: NewSegment, params_id: int, keys: bytes, closes_gap: bool,
                     cut: CutGap | None) -> Segment:
        with self.session.begin() as s:
            epoch, prev_row = _fenced(s, seg) if seg.fence is not None else (
                None, segments.previous(s, seg.camera_id, seg.stream, seg.start_ns))
            if seg.fence is not None and prev_row is not None \
                    and prev_row.end_ns > seg.start_ns:
                raise _inside(seg, prev_row.start_ns)
            link = self.link(prev_row) if prev_row is not None else segments.deleted_tip(
                s, seg.camera_id, seg.stream)
            row = Segment(
                camera_id=seg.camera_id, stream=seg.stream, volume_id=seg.volume_id,
                start_ns=seg.start_ns, end_ns=seg.end_ns, frames=seg.frames,
                size_bytes=seg.size_bytes, params_id=params_id, keyframes=keys, sha256=seg.sha256,
                prev_link=link, salvaged=seg.salvaged, deleting=False, epoch=epoch)
            s.add(row)
            if closes_gap:
                open_gaps = list(s.scalars(select(Gap).where(
                    Gap.camera_id == seg.camera_id, Gap.stream == seg.stream,
                    Gap.end_ns.is_(None))))
                if not open_gaps and cut is not None:
                    s.add(Gap(camera_id=seg.camera_id, stream=seg.stream,
                              start_ns=cut.start_ns, end_ns=max(seg.start_ns, cut.start_ns),
                              cause=cut.cause, detail=cut.detail))
                for gap in open_gaps:
                    gap.end_ns = max(seg.start_ns, gap.start_ns)
        return row

    def segments(self, camera_id: int, start_ns: int | None = None, end_ns: int | None = None,
                 stream: Stream = Stream.MAIN) -> list[Segment]:
        with self.session() as s:
            return segments.overlapping(s, camera_id, stream, start_ns, end_ns)

    def tallies(self, camera_id: int, since_ns: int, stream: Stream = Stream.MAIN
                ) -> list[tuple[int, int, int, int, int]]:
        with self.session() as s:
            return segments.tallies(s, camera_id, stream, since_ns)

    def gap_count(self, camera_id: int, since_ns: int, stream: Stream = Stream.MAIN
                  ) -> tuple[int, bool]:
        """Gaps that began since `since_ns`, and whether one is open now."""
        with self.session() as s:
            count = s.scalar(select(func.count()).select_from(Gap).where(
                Gap.camera_id == camera_id, Gap.stream == stream, Gap.start_ns >= since_ns))
            still = s.scalar(select(Gap.start_ns).where(
                Gap.camera_id == camera_id, Gap.stream == stream, Gap.end_ns.is_(None)))
        return int(count or 0), still is not None

    def segment_at(self, camera_id: int, instant_ns: int,
                   stream: Stream = Stream.MAIN) -> SegmentRow | None:
        """The segment holding an instant, if any (the lookup behind playback): its facts
        read through a connection, no ORM session (docs/design/catalog.md#core-sql-reads)."""
        with self.one_statement() as conn:
            return segments.holding(conn, camera_id, stream, instant_ns)

    def has_footage(self, camera_id: int, start_ns: int, end_ns: int,
                    stream: Stream = Stream.MAIN) -> bool:
        """Whether any segment overlaps [start, end): a day of the archive's calendar."""
        with self.engine.connect() as conn:
            return segments.any_overlapping(conn, camera_id, stream, start_ns, end_ns)

    def next_start(self, camera_id: int, after_ns: int,
                   stream: Stream = Stream.MAIN) -> int | None:
        """Where the first segment starting at or after an instant starts (playback
        uses it to jump over a long gap without reading the hours in between)."""
        with self.one_statement() as conn:
            return segments.next_start(conn, camera_id, stream, after_ns)

    def one_statement(self) -> Connection:
        """A connection for a read of one statement, which needs no transaction around it:
        in autocommit PostgreSQL is spared a BEGIN and a ROLLBACK, two of the lookup's four
        round trips (the lookup's p50 went from 0.55 to 0.45 ms, measured here at load 2).
        SQLite's driver begins no transaction for a read anyway, and switching it to
        autocommit and back ran two PRAGMAs a read (377 of the API's 5,227 samples under
        load, bench/api.py)."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            return conn
        return conn.execution_options(isolation_level="AUTOCOMMIT")

    def last_segment(self, camera_id: int, stream: Stream = Stream.MAIN) -> Segment | None:
        return self.segment_before(camera_id, 2**63 - 1, stream)

    def segment_before(self, camera_id: int, instant_ns: int,
                       stream: Stream = Stream.MAIN) -> Segment | None:
        """The last segment starting before an instant (the footage nearest before it)."""
        with self.session() as s:
            return segments.previous(s, camera_id, stream, instant_ns)

    # -- gaps ---------------------------------------------------------------------
    def open_gap(self, camera_id: int, start_ns: int, cause: str, detail: str | None,
                 stream: Stream = Stream.MAIN) -> bool:
        """Open a gap unless one is open already (the first cause of an outage stands)."""
        with self.session.begin() as s:
            current = s.scalar(select(Gap).where(Gap.camera_id == camera_id,
                                                 Gap.stream == stream, Gap.end_ns.is_(None)))
            if current is not None:
                return False
            s.add(Gap(camera_id=camera_id, stream=stream, start_ns=start_ns, end_ns=None,
                      cause=cause, detail=detail))
            return True

    def gaps(self, camera_id: int, start_ns: int | None = None, end_ns: int | None = None,
             stream: Stream = Stream.MAIN) -> list[Gap]:
        with self.session() as s:
            q = select(Gap).where(Gap.camera_id == camera_id, Gap.stream == stream)
            if start_ns is not None:
                q = q.where((Gap.end_ns.is_(None)) | (Gap.end_ns > start_ns))
            if end_ns is not None:
                q = q.where(Gap.start_ns < end_ns)
            return list(s.scalars(q.order_by(Gap.start_ns)))


def _inside(seg: NewSegment, footage_from: int) -> Fenced:
    """A node's segment refused for landing inside the camera's timeline, which has
    footage from `footage_from` on: the lease is the node's, this file alone is kept aside."""
    return Fenced("camera {camera} has footage from {later} on: a segment from {start} "
                  "would land inside the timeline and is refused", camera=seg.camera_id,
                  later=footage_from, start=seg.start_ns, lost=False)


def _fence_statement() -> Select[Any]:
    """The camera's lease, locked; its first row from an instant on (the chain links each
    row to the one before: one that began before it and runs into it is the previous
    row's business); and the previous row itself. One statement, so that a node's commit
    makes the round trips a single server's makes, built once (bench/cluster.py: a
    statement more a commit, and building this one each time, were most of what the
    leases cost)."""
    camera: BindParameter[int] = bindparam("camera")
    stream: BindParameter[Stream] = bindparam("stream")
    start: BindParameter[int] = bindparam("start")
    later = select(Segment.start_ns).where(
        Segment.camera_id == camera, Segment.stream == stream,
        Segment.start_ns >= start).limit(1).scalar_subquery()
    prev = aliased(Segment, select(Segment).where(
        Segment.camera_id == camera, Segment.stream == stream,
        Segment.start_ns < start).order_by(Segment.start_ns.desc()).limit(1)
        .subquery().lateral())
    return (select(CameraLease.node, CameraLease.epoch, later.label("later"), prev)
            .select_from(CameraLease).outerjoin(prev, true())
            .where(CameraLease.camera_id == camera).with_for_update(of=CameraLease))


_FENCE = _fence_statement()


def _fenced(s: Session, seg: NewSegment) -> tuple[int | None, Segment | None]:
    """The epoch a node's segment is committed under and the camera's previous row, or
    `Fenced`. The lease row is locked until the commit, so a takeover waits for it or it
    sees the takeover: a camera is never recorded twice into the timeline (issue 25)."""
    fence = seg.fence
    assert fence is not None
    lease = s.execute(_FENCE, {"camera": seg.camera_id, "stream": seg.stream,
                               "start": seg.start_ns}).first()
    if (lease is None and fence.epoch is not None) or (
            lease is not None and (lease.node != fence.node
                                   or fence.epoch not in (None, lease.epoch))):
        raise Fenced("camera {camera}'s lease is node {holder}'s under epoch {epoch}; "
                     "a segment written by node {node} under epoch {ours} is refused",
                     camera=seg.camera_id, holder=lease.node if lease else "-",
                     epoch=lease.epoch if lease else "-",
                     node=fence.node, ours=fence.epoch if fence.epoch is not None else "-")
    if lease is None:
        later = s.scalar(select(Segment.start_ns).where(
            Segment.camera_id == seg.camera_id, Segment.stream == seg.stream,
            Segment.start_ns >= seg.start_ns).limit(1))
        if later is not None:
            raise _inside(seg, later)
        return None, segments.previous(s, seg.camera_id, seg.stream, seg.start_ns)
    if lease.later is not None:  # the lease is this node's: this file alone is kept aside
        raise _inside(seg, lease.later)
    return lease.epoch, lease[3]
