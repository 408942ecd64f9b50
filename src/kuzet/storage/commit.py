"""One commit step for a finished segment file: durable, cataloged, named — in that order.

1. The `.part` is durable: `SegmentFile.close` (or salvage) fsyncs it before we get here.
2. One transaction inserts the segment's row, records the gap a cut left, and ends the
   camera's open gap where the segment starts (`Catalog.add_segment`).
3. The file is renamed to the row's path and its folder fsynced, so the name survives a
   power cut too.

Why this order: a crash after step 1 leaves a `.part` with no row, which start-up
recovery salvages (every complete fragment: the same bytes). A crash after step 2 leaves a
row whose file is still the `.part` of the same size and SHA-256, which recovery renames.
Renaming first would leave, after a crash, an `.mp4` the catalog does not know —
indistinguishable from a foreign file, so recovery would quarantine it and the archive
would lose it. The row and the gap change share one transaction, so the archive never
shows footage inside a gap nor a gap left open over footage. `tests/test_commit.py` kills
a process between each step and lets recovery finish the work.
"""

from __future__ import annotations

import os
from pathlib import Path

from kuzet.catalog.models import Segment
from kuzet.catalog.paths import PART_SUFFIX, segment_relpath
from kuzet.catalog.store import Catalog, CutGap, Fence, NewSegment
from kuzet.catalog.streams import Stream
from kuzet.mp4.salvage import NothingToSalvage, salvage_file
from kuzet.mp4.writer import ClosedSegment
from kuzet.timefmt import parse_file_stamp


def commit_segment(catalog: Catalog, volume_id: int, camera_id: int, camera: str, part: Path,
                   closed: ClosedSegment, start_ns: int, *, salvaged: bool = False,
                   cut: CutGap | None = None, fence: Fence | None = None) -> Segment:
    """Catalog a finished, durable `.part` file (and settle the camera's gaps), then give
    it the row's name. `fence`: on a node of a cluster, the lease it was written under;
    `catalog.store.Fenced` when that lease is gone (the `.part` is then left as it is)."""
    params = closed.params
    row = catalog.add_segment(NewSegment(
        camera_id=camera_id, stream=Stream.MAIN, volume_id=volume_id, start_ns=start_ns,
        end_ns=start_ns + closed.media_duration_ns, frames=closed.frames,
        size_bytes=closed.size_bytes, codec=params.codec, width=params.width,
        height=params.height, audio_codec=closed.audio_codec,
        params_json=params.to_json(closed.audio_codec),
        keyframes_ns=closed.keyframes_ns, sha256=closed.sha256,
        salvaged=salvaged, fence=fence), closes_gap=True, cut=cut)
    name_file(part, catalog.volume_path(volume_id) / segment_relpath(camera, start_ns))
    return row


def name_file(part: Path, final: Path) -> None:
    """Rename a cataloged `.part` to its row's path, durably (recovery does the same)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, final)
    fsync_dir(final.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (about 1 ms on the test machine's
    disk, once a segment: nothing beside the segment's own fsync)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_salvaged(catalog: Catalog, volume_id: int, camera_id: int, camera: str, part: Path,
                    prev_end_ns: int | None, fence: Fence | None = None) -> Segment | None:
    """Salvage a `.part` file, catalog what it holds, give it its final name; None when
    not even one fragment was complete (the file is then removed)."""
    try:
        closed = salvage_file(part)
    except NothingToSalvage:
        part.unlink(missing_ok=True)
        return None
    stamp = part.name.removesuffix(PART_SUFFIX).removesuffix(".mp4")
    start_ns = parse_file_stamp(stamp)
    if prev_end_ns is not None:
        start_ns = max(start_ns, prev_end_ns)
    return commit_segment(catalog, volume_id, camera_id, camera, part, closed, start_ns,
                          salvaged=True, fence=fence)
