"""`kuzet verify` and the daily integrity sample: files against rows, rows against the chain.

Three kinds of tampering are told apart: a file whose bytes changed (its SHA-256), a
file that is gone, and a catalog row edited in the database (the next row's link no
longer matches its digest). Deletions by retention, shedding or hold expiry are not
tampering: each left a deletion run that bridges the chain (kuzet.storage.retention).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kuzet.catalog import segments
from kuzet.catalog.models import Segment
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.mp4.writer import file_sha256
from kuzet.storage.volumes import Volumes


@dataclass(frozen=True)
class Problem:
    camera: str
    path: str  # names the segment: camera, day and start
    reason: str


def _bridges(catalog: Catalog, camera_id: int,
             stream: Stream) -> dict[bytes | None, list[bytes]]:
    with catalog.session() as s:
        runs = segments.deletion_links(s, camera_id, stream)
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
    if file_sha256(path)[0] != seg.sha256:
        return "SHA-256 differs from the catalog (the file was modified)"
    return None


def verify_camera(catalog: Catalog, volumes: Volumes, camera: str,
                  node_up: Callable[[str], bool] | None = None) -> Iterator[Problem]:
    """Every problem of one camera's segments, oldest first. On a node of a cluster
    (issue 25) the chain is checked whole; a file on another node's disks is that node's
    own `kuzet verify` to rehash, and `node_up` says whether it is there at all."""
    cam = catalog.camera(camera)
    present = volumes.present_ids()
    bridges = _bridges(catalog, cam.id, Stream.MAIN)
    with catalog.session() as s:
        rows = segments.chain(s, cam.id, Stream.MAIN)
    prev_row: Segment | None = None
    prev_digest: bytes | None = None
    for seg in rows:
        link = seg.prev_link
        if link != prev_digest and link not in _reachable(bridges, prev_digest):
            if prev_row is not None:
                yield Problem(camera, catalog.relpath(prev_row),
                              "catalog row edited: its digest no longer matches the next "
                              f"segment's link ({catalog.relpath(seg)})")
            else:
                yield Problem(camera, catalog.relpath(seg),
                              "hash chain broken: the first segment links to nothing the "
                              "catalog deleted (rows removed or edited)")
        prev_row, prev_digest = seg, catalog.link(seg)
        if seg.deleting:
            continue
        node = catalog.elsewhere(seg.volume_id)
        if node is not None:
            if node_up is None or not node_up(node):
                yield Problem(camera, catalog.relpath(seg), f"unavailable: node {node} down")
            continue
        if seg.volume_id not in present:
            yield Problem(camera, catalog.relpath(seg), "unavailable: its volume is missing")
            continue
        reason = check_file(catalog, seg)
        if reason is not None:
            yield Problem(camera, catalog.relpath(seg), reason)


def sample_segments(catalog: Catalog, n: int, rng: random.Random) -> list[Segment]:
    """About n segments drawn at random: a random camera, then a random instant in its
    recorded span, then the segment starting at or after it (index lookups, no scan)."""
    with catalog.session() as s:
        spans = segments.spans(s)
        if not spans:
            return []
        found: dict[tuple[int, Stream, int], Segment] = {}
        for _ in range(n * 2):  # draws can repeat; stop at n distinct
            camera_id, stream, lo, hi = rng.choice(spans)
            row = segments.first_from(s, camera_id, stream, rng.randint(lo, hi))
            if row is not None:
                found[(row.camera_id, row.stream, row.start_ns)] = row
            if len(found) >= n:
                break
        return sorted(found.values(), key=lambda r: (r.camera_id, r.start_ns))
