"""Start-up reconciliation of catalog and disk after a clean stop or a crash.

A segment is closed in three steps: finish the file (`.part`), insert its catalog row,
rename the file to the row's path. A crash can interrupt any of them; this module puts
each case right. A `.part` with no row is salvaged (its complete fragments kept); a row
whose file is missing but whose bytes sit in a `.part` gets its rename finished; an
`.mp4` the catalog does not know is moved to `.quarantine/`, never deleted.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from kuzet.catalog.models import Segment
from kuzet.catalog.store import Catalog, NewSegment
from kuzet.media.fmp4 import ClosedSegment, hash_and_scan
from kuzet.media.ingest import GapCause
from kuzet.media.salvage import NothingToSalvage, salvage_file
from kuzet.storage.layout import PART_SUFFIX, QUARANTINE_DIR, segment_relpath
from kuzet.timefmt import parse_file_stamp

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    salvaged: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)


def commit_segment(catalog: Catalog, volume_id: int, camera_id: int, camera: str, part: Path,
                   closed: ClosedSegment, start_ns: int, *, salvaged: bool = False) -> Segment:
    """Catalog a finished `.part` file, then rename it to the row's path.

    Row first, rename second: a crash between the two leaves a row and a `.part` holding
    its bytes, which `recover` reunites. Both the recorder and salvage commit this way.
    """
    params = closed.params
    row = catalog.add_segment(NewSegment(
        camera_id=camera_id, stream="main", volume_id=volume_id, start_ns=start_ns,
        end_ns=start_ns + closed.media_duration_ns, frames=closed.frames,
        size_bytes=closed.size_bytes, codec=params.codec, width=params.width,
        height=params.height, audio_codec=closed.audio_codec,
        params_json=params.to_json(closed.audio_codec),
        keyframes_ns=[t for t, _ in closed.keyframes], sha256=bytes.fromhex(closed.sha256),
        salvaged=salvaged))
    final = catalog.volume_path(volume_id) / segment_relpath(camera, start_ns)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, final)
    return row


def catalog_salvaged(catalog: Catalog, volume_id: int, camera_id: int, camera: str, part: Path,
                     prev_end_ns: int | None) -> Segment | None:
    """Salvage a `.part` file, catalog what it holds, give it its final name."""
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
                          salvaged=True)


def recover(catalog: Catalog, volume_id: int) -> RecoveryReport:
    """Reconcile one present volume with the catalog."""
    report = RecoveryReport()
    volume = catalog.volume_path(volume_id)
    cameras = {c.name: c for c in catalog.cameras(include_removed=True)}
    parts = sorted(p for p in volume.rglob(f"*{PART_SUFFIX}")
                   if QUARANTINE_DIR not in p.relative_to(volume).parts)
    for part in parts:
        camera = cameras.get(part.relative_to(volume).parts[0])
        if camera is None:
            _quarantine(volume, part, report)
            continue
        last = catalog.last_segment(camera.id)
        if last is not None and last.volume_id == volume_id \
                and not catalog.path_of(last).exists() \
                and part.stat().st_size == last.size_bytes \
                and hash_and_scan(part)[0] == last.sha256.hex():
            os.replace(part, catalog.path_of(last))
            report.renamed.append(catalog.relpath(last))
            continue
        row = catalog_salvaged(catalog, volume_id, camera.id, camera.name, part,
                               last.end_ns if last else None)
        if row is None:
            report.discarded.append(str(part.relative_to(volume)))
        else:
            report.salvaged.append(catalog.relpath(row))
    known = catalog.known_relpaths(volume_id)
    for path in volume.rglob("*.mp4"):
        rel = path.relative_to(volume)
        if rel.parts[0] == QUARANTINE_DIR or str(rel) in known:
            continue
        _quarantine(volume, path, report)
    return report


def open_stop_gaps(catalog: Catalog, *, unclean: bool) -> int:
    """Each recording camera's downtime, from its last segment, becomes a gap."""
    detail = "unclean shutdown (crash or kill)" if unclean else "recorder was stopped"
    opened = 0
    for camera in catalog.cameras():
        last = catalog.last_segment(camera.id)
        if last is not None and catalog.open_gap(camera.id, last.end_ns,
                                                 GapCause.PROCESS_STOPPED.value, detail):
            opened += 1
    return opened


def _quarantine(volume: Path, path: Path, report: RecoveryReport) -> None:
    rel = path.relative_to(volume)
    target = volume / QUARANTINE_DIR / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    report.quarantined.append(str(rel))
    log.warning("quarantined %s: the catalog does not know it", rel)
