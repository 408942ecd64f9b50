"""Start-up reconciliation of catalog and disk after a clean stop or a crash.

A segment is committed in three steps (`kuzet.storage.commit`): the `.part` made durable,
its row inserted, the file renamed to the row's path. A crash can interrupt any of them;
this module puts each case right. A `.part` with no row is salvaged (its complete
fragments kept); a row whose file is missing but whose bytes sit in a `.part` gets its
rename finished; an `.mp4` the catalog does not know is moved to `.quarantine/`, never
deleted.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kuzet.catalog import segments
from kuzet.catalog.paths import PART_SUFFIX, QUARANTINE_DIR, is_camera_name, segment_relpath
from kuzet.catalog.store import Catalog, Fence, Fenced
from kuzet.catalog.streams import Stream
from kuzet.ingest.errors import GapCause
from kuzet.mp4.writer import file_sha256
from kuzet.storage.commit import commit_salvaged, name_file
from kuzet.storage.retention import DAY_NS
from kuzet.timefmt import NS, file_stamp

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    salvaged: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)


def _day_dirs(volume: Path, camera: str, from_ns: int, to_ns: int) -> Iterator[Path]:
    """The camera's existing day folders from one instant's day to another's."""
    day = from_ns // DAY_NS
    while day <= to_ns // DAY_NS:
        folder = volume / Path(segment_relpath(camera, day * DAY_NS)).parent
        if folder.is_dir():
            yield folder
        day += 1


def recover(catalog: Catalog, volume_id: int, now_ns: int | None = None) -> RecoveryReport:
    """Put right what a crash left on one present volume, before recording starts.

    Only the day folders a segment in flight can be in are read (from the day of each
    camera's last cataloged segment to today), so a start after a crash takes as long
    with 30 days of footage as with one. Files the catalog does not know, anywhere, are
    found afterwards by `quarantine_orphans`, while the cameras already record.
    """
    report = RecoveryReport()
    now = now_ns if now_ns is not None else time.time_ns()
    volume = catalog.volume_path(volume_id)
    # on a node of a cluster, what it wrote before the crash is committed only while no
    # other node has taken the camera's lease (issue 25)
    fence = Fence(catalog.node, None) if catalog.node is not None else None
    cameras = {c.name: c for c in catalog.cameras(include_removed=True)}
    for entry in sorted(volume.iterdir()):
        if entry.name in cameras or not is_camera_name(entry.name):
            continue  # ours, or not media (.quarantine, the volume marker, lost+found)
        _quarantine(volume, entry, report)  # a camera this catalog does not have
    for camera in cameras.values():
        last = catalog.last_segment(camera.id)
        since = (last.start_ns if last is not None else camera.created_ns) - DAY_NS
        parts = sorted(p for d in _day_dirs(volume, camera.name, since, now + DAY_NS)
                       for p in d.glob(f"*{PART_SUFFIX}"))
        for part in parts:
            last = catalog.last_segment(camera.id)
            if last is not None and last.volume_id == volume_id \
                    and not catalog.path_of(last).exists() \
                    and part.stat().st_size == last.size_bytes \
                    and file_sha256(part)[0] == last.sha256:
                name_file(part, catalog.path_of(last))
                report.renamed.append(catalog.relpath(last))
                continue
            try:
                row = commit_salvaged(catalog, volume_id, camera.id, camera.name, part,
                                      last.end_ns if last else None, fence)
            except Fenced as exc:  # another node recorded the camera since: kept aside
                log.warning("camera %s: %s", camera.name, exc)
                _quarantine(volume, part, report)
                continue
            if row is None:
                report.discarded.append(str(part.relative_to(volume)))
            else:
                report.salvaged.append(catalog.relpath(row))
    return report


def quarantine_orphans(catalog: Catalog, volume_id: int) -> RecoveryReport:
    """Move every media file the catalog does not know into `.quarantine/`, never deleting.

    Walked one day folder at a time, each compared with that camera-day's rows (an index
    range), so memory stays bounded on a volume of millions of files.
    """
    report = RecoveryReport()
    volume = catalog.volume_path(volume_id)
    for camera in catalog.cameras(include_removed=True):
        root = volume / camera.name
        if not root.is_dir():
            continue
        for day_dir in sorted(root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]")):
            names = {p.name for p in day_dir.glob("*.mp4")}
            if not names:
                continue
            y, m, d = (int(x) for x in day_dir.relative_to(root).parts)
            day = int(datetime(y, m, d, tzinfo=UTC).timestamp()) * NS
            with catalog.engine.connect() as conn:
                starts = segments.starts_on_volume(conn, camera.id, Stream.MAIN, volume_id,
                                                   day, day + DAY_NS)
            known = {f"{file_stamp(t)}.mp4" for t in starts}
            for name in sorted(names - known):
                _quarantine(volume, day_dir / name, report)
    return report


def open_stop_gaps(catalog: Catalog, *, unclean: bool,
                   only: Collection[int] | None = None) -> int:
    """Each recording camera's downtime, from its last segment, becomes a gap. `only`:
    the cameras this server recorded (a node of a cluster: those leased to it)."""
    detail = "unclean shutdown (crash or kill)" if unclean else "recorder was stopped"
    opened = 0
    for camera in catalog.cameras():
        if only is not None and camera.id not in only:
            continue
        last = catalog.last_segment(camera.id)
        if last is not None and catalog.open_gap(camera.id, last.end_ns,
                                                 GapCause.PROCESS_STOPPED.value, detail):
            opened += 1
    return opened


def _quarantine(volume: Path, path: Path, report: RecoveryReport) -> None:
    """Move a file (or a folder the catalog has no camera for) under `.quarantine/`."""
    report.quarantined.append(quarantine(volume, path, "the catalog does not know it"))


def quarantine(volume: Path, path: Path, why: str) -> str:
    """Move a file or folder of a volume under its `.quarantine/`, never deleting it; its
    path relative to the volume."""
    rel = path.relative_to(volume)
    target = volume / QUARANTINE_DIR / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    log.warning("quarantined %s: %s", rel, why)
    return str(rel)
