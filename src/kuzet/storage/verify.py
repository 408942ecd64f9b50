"""`kuzet verify` and the daily integrity sample: files against rows, rows against the chain.

Three kinds of tampering are told apart: a file whose bytes changed (its SHA-256), a
file that is gone, and a catalog row edited in the database (the next row's link no
longer matches its digest). Deletions by retention, shedding or hold expiry are not
tampering: each left a deletion run that bridges the chain (kuzet.storage.retention).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select

from kuzet.catalog.models import Segment, SegmentDeletion
from kuzet.catalog.store import Catalog
from kuzet.media.fmp4 import hash_and_scan
from kuzet.storage.volumes import Volumes


@dataclass(frozen=True)
class Problem:
    camera: str
    segment_id: int
    path: str
    reason: str


def _bridges(catalog: Catalog, camera_id: int, stream: str) -> dict[bytes | None, list[bytes]]:
    with catalog.session() as s:
        runs = s.execute(select(SegmentDeletion.from_sha256, SegmentDeletion.to_sha256).where(
            SegmentDeletion.camera_id == camera_id, SegmentDeletion.stream == stream)).all()
    out: dict[bytes | None, list[bytes]] = {}
    for frm, to in runs:
        out.setdefault(frm, []).append(to)
    return out


def _reachable(bridges: dict[bytes | None, list[bytes]], start: bytes | None) -> set[bytes]:
    seen: set[bytes] = set()
    todo = list(bridges.get(start, []))
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo.extend(bridges.get(d, []))
    return seen


def check_file(catalog: Catalog, seg: Segment) -> str | None:
    """What is wrong with one segment's file, or None."""
    path = catalog.path_of(seg)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "file missing"
    if size != seg.size_bytes:
        return f"size {size} differs from cataloged {seg.size_bytes}"
    if hash_and_scan(path)[0] != seg.sha256.hex():
        return "SHA-256 differs from the catalog (the file was modified)"
    return None


def verify_camera(catalog: Catalog, volumes: Volumes, camera: str, *,
                  files: bool = True) -> Iterator[Problem]:
    """Every problem of one camera's segments, oldest first."""
    cam = catalog.camera(camera)
    present = {v.id for v in volumes.catalog.volumes() if volumes.present(v)}
    bridges = _bridges(catalog, cam.id, "main")
    with catalog.session() as s:
        rows = list(s.scalars(select(Segment).where(Segment.camera_id == cam.id,
                                                    Segment.stream == "main")
                              .order_by(Segment.start_ns)))
    prev_row: Segment | None = None
    prev_digest: bytes | None = None
    for seg in rows:
        link = seg.prev_row_sha256
        if link != prev_digest and link not in _reachable(bridges, prev_digest):
            if prev_row is not None:
                yield Problem(camera, prev_row.id, catalog.relpath(prev_row),
                              "catalog row edited: its digest no longer matches the next "
                              f"segment's link (segment {seg.id})")
            else:
                yield Problem(camera, seg.id, catalog.relpath(seg),
                              "hash chain broken: the first segment links to nothing the "
                              "catalog deleted (rows removed or edited)")
        prev_row, prev_digest = seg, catalog.digest(seg)
        if not files or seg.deleting:
            continue
        if seg.volume_id not in present:
            yield Problem(camera, seg.id, catalog.relpath(seg),
                          "unavailable: its volume is missing")
            continue
        reason = check_file(catalog, seg)
        if reason is not None:
            yield Problem(camera, seg.id, catalog.relpath(seg), reason)


def sample_segments(catalog: Catalog, n: int, rng: random.Random) -> list[Segment]:
    """About n segment rows drawn at random over the id range (no full scan of the table)."""
    with catalog.session() as s:
        lo, hi = s.execute(select(func.min(Segment.id), func.max(Segment.id))).one()
        if lo is None:
            return []
        if n >= hi - lo + 1:
            return list(s.scalars(select(Segment).where(Segment.deleting.is_(False))
                                  .order_by(Segment.id)))
        found: dict[int, Segment] = {}
        for start in rng.sample(range(lo, hi + 1), n):
            row = s.scalar(select(Segment).where(Segment.id >= start,
                                                 Segment.deleting.is_(False))
                           .order_by(Segment.id).limit(1))
            if row is not None:
                found[row.id] = row
        return sorted(found.values(), key=lambda r: r.id)
