"""Every query of the segments table and of the deletion runs that bridge its chain, one
named function each.

The table is the truth about time (docs/design/catalog.md), so its statements are written
once, here, beside the key they are shaped for: range reads bound `start_ns` from below
(no segment is longer than MAX_SEGMENT_NS) so that they scan only the asked range of the
key's index. Each function takes the session or connection its caller holds, so the
transactions stay the caller's: the sweeper's three-step delete marks rows, then deletes
them with their deletion run and its audit entry, in the transactions it opens. Only the
sweeper calls `mark_deleting` and `delete_rows` (tests/test_no_edit_path.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

from sqlalchemy import Connection, and_, bindparam, delete, func, not_, select, update
from sqlalchemy.orm import Session

from kuzet.catalog.models import Segment, SegmentDeletion
from kuzet.catalog.streams import Stream

# No segment is longer than this (segment_s is at most 600 s; a cut waits for a keyframe):
# it bounds index range scans that look back from an instant.
MAX_SEGMENT_NS = 3_600 * 1_000_000_000
BATCH = 500  # rows named by key in one statement


@dataclass(frozen=True, slots=True)
class SegmentRow:
    """A segment as playback reads it: the row's facts as plain values, bound to no
    session. The lookup behind playback returns it rather than an ORM `Segment`: on
    PostgreSQL, building one through a session cost more than the query itself
    (docs/design/catalog.md#core-sql-reads). Attribute names are the model's."""

    camera_id: int
    stream: Stream
    volume_id: int
    start_ns: int
    end_ns: int
    frames: int
    size_bytes: int
    params_id: int
    keyframes: bytes  # kuzet.catalog.keyindex
    sha256: bytes
    salvaged: bool


# The columns a SegmentRow is made of, in its fields' order.
_ROW = tuple(getattr(Segment, f.name) for f in fields(SegmentRow))

# The statements run on every playback request, built once with named parameters: building
# a select and its cache key on each call took 0.2-0.5 ms of Python here (timed by hand),
# about what PostgreSQL took to answer it (docs/design/catalog.md#core-sql-reads).
_HOLDING = select(*_ROW, Segment.deleting).where(
    Segment.camera_id == bindparam("camera_id"), Segment.stream == bindparam("stream"),
    Segment.start_ns <= bindparam("instant_ns"), Segment.start_ns > bindparam("since_ns"),
).order_by(Segment.start_ns.desc()).limit(1)
_NEXT_START = select(func.min(Segment.start_ns)).where(
    Segment.camera_id == bindparam("camera_id"), Segment.stream == bindparam("stream"),
    Segment.start_ns >= bindparam("after_ns"), Segment.end_ns > Segment.start_ns,
    Segment.deleting.is_(False))


class Placed(Protocol):
    """What says where a segment's file lies (`Catalog.path_of`): an ORM `Segment` or a
    `SegmentRow` alike."""

    @property
    def camera_id(self) -> int: ...
    @property
    def stream(self) -> Stream: ...
    @property
    def start_ns(self) -> int: ...
    @property
    def volume_id(self) -> int: ...


class ChainRun(Protocol):
    """Consecutive rows of a chain deleted together (kuzet.storage.retention.DeletionRun):
    `from_link` is the first deleted row's link, `to_link` the last one's digest."""

    @property
    def from_link(self) -> bytes | None: ...
    @property
    def to_link(self) -> bytes: ...
    @property
    def count(self) -> int: ...
    @property
    def size_bytes(self) -> int: ...
    @property
    def start_ns(self) -> int: ...
    @property
    def end_ns(self) -> int: ...


# -- reading ----------------------------------------------------------------------------
def previous(s: Session, camera_id: int, stream: Stream, before_ns: int) -> Segment | None:
    """The last segment starting before an instant, whether being deleted or not."""
    return s.scalar(select(Segment).where(
        Segment.camera_id == camera_id, Segment.stream == stream,
        Segment.start_ns < before_ns).order_by(Segment.start_ns.desc()).limit(1))


def overlapping(s: Session, camera_id: int, stream: Stream, start_ns: int | None,
                end_ns: int | None) -> list[Segment]:
    """Segments overlapping [start, end) (either bound may be open), oldest first."""
    q = select(Segment).where(Segment.camera_id == camera_id, Segment.stream == stream,
                              Segment.deleting.is_(False))
    if start_ns is not None:  # the lower bound on start_ns lets the index range-scan
        q = q.where(Segment.end_ns > start_ns, Segment.start_ns >= start_ns - MAX_SEGMENT_NS)
    if end_ns is not None:
        q = q.where(Segment.start_ns < end_ns)
    return list(s.scalars(q.order_by(Segment.start_ns)))


def tallies(s: Session, camera_id: int, stream: Stream, since_ns: int
            ) -> list[tuple[int, int, int, int, int]]:
    """(start_ns, end_ns, frames, size_bytes, volume_id) of the segments starting at or
    after `since_ns`, oldest first: the frame and write rates of the last hours (metrics,
    the health page) without loading the rows' keyframe blobs."""
    q = select(Segment.start_ns, Segment.end_ns, Segment.frames, Segment.size_bytes,
               Segment.volume_id).where(Segment.camera_id == camera_id,
                                        Segment.stream == stream, Segment.start_ns >= since_ns)
    return [(a, b, f, n, v) for a, b, f, n, v in s.execute(q.order_by(Segment.start_ns))]


def holding(conn: Connection, camera_id: int, stream: Stream,
            instant_ns: int) -> SegmentRow | None:
    """The segment holding an instant, unless it is being deleted: the last one starting
    at or before it, found by one step down the key's index."""
    row = conn.execute(_HOLDING, {"camera_id": camera_id, "stream": stream,
                                  "instant_ns": instant_ns,
                                  "since_ns": instant_ns - MAX_SEGMENT_NS}).first()
    if row is None or row.end_ns <= instant_ns or row.deleting:
        return None
    return SegmentRow(*row[:-1])


def any_overlapping(conn: Connection, camera_id: int, stream: Stream, start_ns: int,
                    end_ns: int) -> bool:
    q = select(Segment.start_ns).where(
        Segment.camera_id == camera_id, Segment.stream == stream,
        Segment.start_ns < end_ns, Segment.start_ns >= start_ns - MAX_SEGMENT_NS,
        Segment.end_ns > start_ns, Segment.deleting.is_(False)).limit(1)
    return conn.execute(q).first() is not None


def next_start(conn: Connection, camera_id: int, stream: Stream, after_ns: int) -> int | None:
    """Where the first playable segment starting at or after an instant starts: one being
    deleted, or of no length, is not (a page read from it would be empty, and a reader
    looking for the next footage would be sent back to the same instant)."""
    value = conn.execute(_NEXT_START, {"camera_id": camera_id, "stream": stream,
                                       "after_ns": after_ns}).scalar()
    return int(value) if value is not None else None


def chain(s: Session, camera_id: int, stream: Stream) -> list[Segment]:
    """Every row of a camera's stream in chain order, those being deleted included."""
    return list(s.scalars(select(Segment).where(Segment.camera_id == camera_id,
                                                Segment.stream == stream)
                          .order_by(Segment.start_ns)))


def spans(s: Session) -> list[tuple[int, Stream, int, int]]:
    """(camera, stream, first start, last start) of each camera's stream that has rows."""
    q = select(Segment.camera_id, Segment.stream, func.min(Segment.start_ns),
               func.max(Segment.start_ns)).group_by(Segment.camera_id, Segment.stream)
    return [(camera_id, stream, lo, hi) for camera_id, stream, lo, hi in s.execute(q)]


def first_from(s: Session, camera_id: int, stream: Stream, start_ns: int) -> Segment | None:
    """The first segment starting at or after an instant, unless it is being deleted."""
    return s.scalar(select(Segment).where(
        Segment.camera_id == camera_id, Segment.stream == stream,
        Segment.start_ns >= start_ns, Segment.deleting.is_(False))
        .order_by(Segment.start_ns).limit(1))


def starts_on_volume(conn: Connection, camera_id: int, stream: Stream, volume_id: int,
                     start_ns: int, end_ns: int) -> list[int]:
    """Where the segments of a camera's stream on one volume start, in [start, end)."""
    return list(conn.execute(select(Segment.start_ns).where(
        Segment.camera_id == camera_id, Segment.stream == stream,
        Segment.volume_id == volume_id, Segment.start_ns >= start_ns,
        Segment.start_ns < end_ns)).scalars().all())


def count_on_volume(s: Session, volume_id: int) -> int:
    return int(s.scalar(select(func.count()).select_from(Segment)
                        .where(Segment.volume_id == volume_id)) or 0)


def oldest_start(s: Session, camera_id: int, stream: Stream, volume_id: int) -> int | None:
    """Where a camera's oldest footage on a volume starts (rows being deleted left out)."""
    return s.scalar(select(Segment.start_ns).where(
        Segment.camera_id == camera_id, Segment.stream == stream,
        Segment.volume_id == volume_id, Segment.deleting.is_(False))
        .order_by(Segment.start_ns).limit(1))


# -- deleting (the sweeper's) -----------------------------------------------------------
def deletable(s: Session, camera_id: int, stream: Stream, volume_ids: Collection[int], *,
              start_before: int, start_after: int | None = None,
              kept: Iterable[tuple[int, int]] = (), limit: int | None = None) -> list[Segment]:
    """Segments on the given volumes starting before an instant (and after another), not
    being deleted and overlapping no kept range (half-open, like segments), oldest first."""
    q = select(Segment).where(Segment.camera_id == camera_id,
                              Segment.stream == stream,
                              Segment.start_ns < start_before,
                              Segment.deleting.is_(False),
                              Segment.volume_id.in_(volume_ids))
    if start_after is not None:
        q = q.where(Segment.start_ns > start_after)
    for k_start, k_end in kept:
        q = q.where(not_(and_(Segment.start_ns < k_end, Segment.end_ns > k_start)))
    q = q.order_by(Segment.start_ns)
    if limit is not None:
        q = q.limit(limit)
    return list(s.scalars(q))


def _by_key(camera_id: int, stream: Stream, starts: Sequence[int]) -> Iterator[tuple[Any, ...]]:
    """WHERE clauses naming rows by key, BATCH at a time."""
    for i in range(0, len(starts), BATCH):
        yield (Segment.camera_id == camera_id, Segment.stream == stream,
               Segment.start_ns.in_(starts[i:i + BATCH]))


def mark_deleting(s: Session, camera_id: int, stream: Stream, starts: Sequence[int]) -> None:
    """A deletion's first step: the rows leave every listing at once."""
    for where in _by_key(camera_id, stream, starts):
        s.execute(update(Segment).where(*where).values(deleting=True))


def delete_rows(s: Session, camera_id: int, stream: Stream, starts: Sequence[int]) -> None:
    """A deletion's last step, in the transaction that records its deletion run."""
    for where in _by_key(camera_id, stream, starts):
        s.execute(delete(Segment).where(*where))


def marked_deleting(s: Session, volume_ids: Collection[int]) -> list[Segment]:
    """Rows a deletion marked and a crash left behind, by camera, stream and start."""
    return list(s.scalars(select(Segment).where(Segment.deleting.is_(True),
                                                Segment.volume_id.in_(volume_ids))
                          .order_by(Segment.camera_id, Segment.stream, Segment.start_ns)))


def _join(first: SegmentDeletion, then: SegmentDeletion | ChainRun) -> None:
    """Extend a deletion run by the one that follows it in the chain."""
    first.to_link = then.to_link
    first.count += then.count
    first.size_bytes += then.size_bytes
    first.start_ns = min(first.start_ns, then.start_ns)
    first.end_ns = max(first.end_ns, then.end_ns)


def record_deletion(s: Session, camera_id: int, stream: Stream,
                    runs: Iterable[ChainRun]) -> None:
    """Bridge the chain over deleted runs, each joined to the stored runs it borders."""
    existing = list(s.scalars(select(SegmentDeletion).where(
        SegmentDeletion.camera_id == camera_id, SegmentDeletion.stream == stream)))
    for run in runs:
        before = next((e for e in existing if e.to_link == run.from_link), None)
        after = next((e for e in existing if e.from_link == run.to_link), None)
        if before is None:
            before = SegmentDeletion(camera_id=camera_id, stream=stream,
                                     from_link=run.from_link, to_link=run.to_link,
                                     count=run.count, size_bytes=run.size_bytes,
                                     start_ns=run.start_ns, end_ns=run.end_ns)
            s.add(before)
            existing.append(before)
        else:
            _join(before, run)
        if after is not None:  # the run closed the hole between two earlier runs
            _join(before, after)
            existing.remove(after)
            s.delete(after)


def deleted_tip(s: Session, camera_id: int, stream: Stream) -> bytes | None:
    """The digest of the newest deleted row: where a chain with no rows left goes on."""
    return s.scalar(select(SegmentDeletion.to_link).where(
        SegmentDeletion.camera_id == camera_id, SegmentDeletion.stream == stream,
    ).order_by(SegmentDeletion.end_ns.desc()).limit(1))


def deletion_links(s: Session, camera_id: int,
                   stream: Stream) -> list[tuple[bytes | None, bytes]]:
    """(from_link, to_link) of every deletion run of a camera's stream."""
    return [(frm, to) for frm, to in s.execute(
        select(SegmentDeletion.from_link, SegmentDeletion.to_link).where(
            SegmentDeletion.camera_id == camera_id, SegmentDeletion.stream == stream))]


def deleted_spans(s: Session, camera_id: int, stream: Stream, start_ns: int,
                  end_ns: int) -> list[tuple[int, int]]:
    """(start, end) of each deletion run of a camera's stream overlapping [start, end)."""
    return [(a, b) for a, b in s.execute(
        select(SegmentDeletion.start_ns, SegmentDeletion.end_ns).where(
            SegmentDeletion.camera_id == camera_id, SegmentDeletion.stream == stream,
            SegmentDeletion.start_ns < end_ns, SegmentDeletion.end_ns > start_ns))]
