"""The sweeper: retention, hold expiry and disk-pressure shedding, run continuously; and
with the footage, what shows it (event pictures, protocol frames, activity), export
packages whose approval expired and the webhook's dead letters past 30 days
(`storage.derived.Beside`, handed in by the assembly).

This is the only code that deletes recordings (clause 3.5.1): it alone calls the
catalog's `segments.mark_deleting` and `segments.delete_rows`, and
tests/test_no_edit_path.py holds it to that. A deletion goes in three steps, so that a
crash at any point leaves neither a row without a file nor a file without a row once the
next start has run `finish_interrupted`:

1. the rows are marked `deleting` (they leave every listing at once);
2. the files are unlinked;
3. the rows are deleted, in one transaction with the deletion run that bridges the hash
   chain and the audit entry that says what went, how much and why.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import SYSTEM, append
from kuzet.catalog import segments
from kuzet.catalog.alarms import Alarms, Severity
from kuzet.catalog.models import Camera, Segment, Volume
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import RECORDED_STREAMS, Stream
from kuzet.config import Settings
from kuzet.storage.derived import Beside
from kuzet.storage.expiry import Span, expired, settled
from kuzet.storage.retention import (
    DAY_NS,
    DeletedRow,
    HoldSource,
    Protection,
    deletion_runs,
    protections,
    retention_cutoff_ns,
    retention_days_of,
)
from kuzet.storage.volumes import Volumes

log = logging.getLogger(__name__)

PAGE = 256


@dataclass(frozen=True)
class CameraDeletion:
    camera: str
    reason: str
    count: int
    size_bytes: int
    start_ns: int
    end_ns: int


@dataclass
class SweepReport:
    deletions: list[CameraDeletion] = field(default_factory=list)
    full_volumes: list[str] = field(default_factory=list)
    pictures: dict[str, int] = field(default_factory=dict)  # cleared, by kind
    packages: int = 0  # export packages deleted, their approval expired
    dead_letters: int = 0  # undelivered webhook events dropped, 30 days old

    def deleted(self, reason: str | None = None) -> int:
        return sum(d.count for d in self.deletions if reason is None or d.reason == reason)


class Sweeper:
    def __init__(self, catalog: Catalog, volumes: Volumes, holds: HoldSource, alarms: Alarms,
                 settings: Settings, *, beside: Beside,
                 unlink: Callable[[Path], None] = os.unlink) -> None:
        self.catalog = catalog
        self.volumes = volumes
        self.holds = holds
        self.alarms = alarms
        self.settings = settings
        self.unlink = unlink
        self.beside = beside
        self._cleared: dict[int, tuple[Span, ...]] = {}  # camera id -> instants cleared

    # -- the pass ---------------------------------------------------------------------
    def sweep(self, now_ns: int | None = None) -> SweepReport:
        now = now_ns if now_ns is not None else time.time_ns()
        report = SweepReport()
        present = self.volumes.check_presence(now)
        present_ids = [v.id for v in present]
        self.finish_interrupted(present_ids)
        prot = protections(self.holds.facts(), now, self.holds.window_ns)
        for cam in self.catalog.cameras(include_removed=True):
            days = retention_days_of(cam.retention_days, self.settings.retention_days)
            cutoff = retention_cutoff_ns(now, days)
            for stream in RECORDED_STREAMS:
                rows = self._candidates(cam.id, stream, present_ids, prot.get(cam.id),
                                        start_before=cutoff)
                rows = [r for r in rows if r.end_ns <= cutoff]
                if rows:
                    report.deletions.append(self._delete(cam, stream, rows, "retention", now))
            self._clear_pictures(cam, cutoff, prot.get(cam.id), now, report)
        for vol in present:
            self._relieve_pressure(vol, prot, now, report)
        if self.beside.packages is not None:
            report.packages = self.beside.packages(now)
        if self.beside.dead_letters is not None:
            report.dead_letters = self.beside.dead_letters(now)
        return report

    def _clear_pictures(self, cam: Camera, cutoff: int, protection: Protection | None,
                        now: int, report: SweepReport) -> None:
        """Clear what shows the camera's expired footage (event pictures, protocol frames,
        activity), in one transaction with the entry that counts it: a picture at an instant
        is kept exactly as long as the footage at that instant would be (`storage.expiry`)."""
        found = expired(cutoff, protection, self._cleared.get(cam.id, ()))
        with self.catalog.session.begin() as s:
            counts = {d.name: d.clear(s, cam.id, found) for d in self.beside.derived}
            if any(counts.values()):
                append(s, SYSTEM, AuditAction.PICTURES_DELETE, f"camera/{cam.name}",
                       {**counts, "before_ns": cutoff}, now)
        self._cleared[cam.id] = settled(found, cutoff)
        for name, n in counts.items():
            report.pictures[name] = report.pictures.get(name, 0) + n

    def _candidates(self, camera_id: int, stream: Stream, volume_ids: list[int],
                    protection: Protection | None, *, start_before: int,
                    start_after: int | None = None, limit: int | None = None) -> list[Segment]:
        """Unheld segments of a camera on the given volumes, oldest first."""
        kept = [] if protection is None else list(zip(protection.starts, protection.ends,
                                                      strict=True))
        with self.catalog.session() as s:
            return segments.deletable(s, camera_id, stream, volume_ids,
                                      start_before=start_before, start_after=start_after,
                                      kept=kept, limit=limit)

    # -- deleting -------------------------------------------------------------------
    def _delete(self, cam: Camera, stream: Stream, rows: list[Segment], reason: str,
                now: int) -> CameraDeletion:
        doomed = [DeletedRow(self.catalog.link(r), r.prev_link, r.start_ns, r.end_ns,
                             r.size_bytes) for r in rows]
        with self.catalog.session.begin() as s:
            segments.mark_deleting(s, cam.id, stream, [r.start_ns for r in rows])
        self._unlink_files(rows)
        return self._forget(cam, stream, rows, doomed, reason, now)

    def _unlink_files(self, rows: list[Segment]) -> None:
        parents: set[Path] = set()
        for r in rows:
            path = self.catalog.path_of(r)
            try:
                os.chmod(path, 0o600)  # closed segments are read-only
                self.unlink(path)
            except FileNotFoundError:
                pass
            parents.add(path.parent)
        for parent in sorted(parents, reverse=True):
            for d in (parent, parent.parent, parent.parent.parent):  # day, month, year
                try:
                    d.rmdir()
                except OSError:
                    break

    def _forget(self, cam: Camera, stream: Stream, rows: list[Segment],
                doomed: list[DeletedRow], reason: str, now: int) -> CameraDeletion:
        runs = deletion_runs(doomed)
        size = sum(r.size_bytes for r in rows)
        first, last = min(r.start_ns for r in rows), max(r.end_ns for r in rows)
        with self.catalog.session.begin() as s:
            segments.delete_rows(s, cam.id, stream, [r.start_ns for r in rows])
            segments.record_deletion(s, cam.id, stream, runs)
            append(s, SYSTEM, AuditAction.RECORDINGS_DELETE, f"camera/{cam.name}",
                   {"reason": reason, "stream": stream.label, "segments": len(rows),
                    "bytes": size, "from_ns": first, "to_ns": last}, now)
        log.info("camera %s: deleted %d segments (%d bytes) by %s", cam.name, len(rows), size,
                 reason)
        return CameraDeletion(cam.name, reason, len(rows), size, first, last)

    def finish_interrupted(self, present_ids: Collection[int] | None = None) -> int:
        """Complete deletions a crash cut short (rows still marked `deleting`)."""
        if present_ids is None:
            present_ids = self.volumes.present_ids()
        with self.catalog.session() as s:
            rows = segments.marked_deleting(s, present_ids)
        cams = {c.id: c for c in self.catalog.cameras(include_removed=True)}
        groups: dict[tuple[int, Stream], list[Segment]] = {}
        for r in rows:
            groups.setdefault((r.camera_id, r.stream), []).append(r)
        now = time.time_ns()
        for (cam_id, stream), group in groups.items():
            doomed = [DeletedRow(self.catalog.link(r), r.prev_link, r.start_ns,
                                 r.end_ns, r.size_bytes) for r in group]
            self._unlink_files(group)
            self._forget(cams[cam_id], stream, group, doomed, "interrupted deletion completed",
                         now)
        return len(rows)

    # -- disk pressure --------------------------------------------------------------
    def _relieve_pressure(self, vol: Volume, prot: dict[int, Protection], now: int,
                          report: SweepReport) -> None:
        usage = self.volumes.usage(vol)
        if not usage.below_floor:
            self.volumes.mark_full(vol.id, False)
            self.alarms.clear("storage_full", vol.name, now_ns=now)
            self.alarms.clear("disk_pressure", vol.name, now_ns=now)
            return
        shed = self._shed(vol, usage.floor - usage.free, prot, now, report)
        usage = self.volumes.usage(vol)
        if shed:
            self._pressure_alarm(vol, shed, now)
        if usage.below_floor:
            self.volumes.mark_full(vol.id, True)
            report.full_volumes.append(vol.name)
            self.alarms.raise_("storage_full", vol.name, Severity.CRITICAL,
                               f"volume {vol.name} is below its free-space floor "
                               f"({usage.free} of {usage.floor} bytes free) and holds only "
                               "footage under holds: nothing held is deleted; recording on it "
                               "is paused until space returns", now_ns=now)
        else:
            self.volumes.mark_full(vol.id, False)
            self.alarms.clear("storage_full", vol.name, now_ns=now)

    def _shed(self, vol: Volume, deficit: int, prot: dict[int, Protection], now: int,
              report: SweepReport) -> int:
        """Delete the oldest unheld segments across the volume's cameras until `deficit` goes."""
        cams = {c.id: c for c in self.catalog.cameras(include_removed=True)}
        heap: list[tuple[int, int, Stream]] = []  # (start_ns, camera id, stream): a key
        pages: dict[tuple[int, Stream], Iterator[Segment]] = {}
        rows: dict[tuple[int, int, Stream], Segment] = {}
        for cam_id in cams:
            for stream in RECORDED_STREAMS:
                it = self._pages(cam_id, stream, vol.id, prot.get(cam_id), now)
                first = next(it, None)
                if first is not None:
                    pages[(cam_id, stream)] = it
                    rows[(first.start_ns, cam_id, stream)] = first
                    heapq.heappush(heap, (first.start_ns, cam_id, stream))
        chosen: dict[tuple[int, Stream], list[Segment]] = {}
        freed = 0
        while heap and freed < deficit:
            key = heapq.heappop(heap)
            row = rows.pop(key)
            _, cam_id, stream = key
            chosen.setdefault((cam_id, stream), []).append(row)
            freed += row.size_bytes
            nxt = next(pages[(cam_id, stream)], None)
            if nxt is not None:
                rows[(nxt.start_ns, cam_id, stream)] = nxt
                heapq.heappush(heap, (nxt.start_ns, cam_id, stream))
        for (cam_id, stream), doomed in chosen.items():
            report.deletions.append(self._delete(cams[cam_id], stream, doomed,
                                                 "disk pressure", now))
        return freed

    def _pages(self, camera_id: int, stream: Stream, volume_id: int,
               protection: Protection | None, now: int) -> Iterator[Segment]:
        after: int | None = None
        while True:
            rows = self._candidates(camera_id, stream, [volume_id], protection,
                                    start_before=now, start_after=after, limit=PAGE)
            yield from rows
            if len(rows) < PAGE:
                return
            after = rows[-1].start_ns

    def _pressure_alarm(self, vol: Volume, shed: int, now: int) -> None:
        """Say how far actual retention on the volume has fallen below each camera's policy."""
        worst: tuple[float, str, float, int] | None = None
        for cam in self.catalog.cameras(include_removed=True):
            with self.catalog.session() as s:
                starts = [segments.oldest_start(s, cam.id, stream, vol.id)
                          for stream in RECORDED_STREAMS]
            oldest = min((t for t in starts if t is not None), default=None)
            if oldest is None:
                continue
            policy = retention_days_of(cam.retention_days, self.settings.retention_days)
            actual = (now - oldest) / DAY_NS
            short = policy - actual
            if worst is None or short > worst[0]:
                worst = (short, cam.name, actual, policy)
        msg = f"volume {vol.name} fell below its free-space floor: shed {shed} bytes of the " \
              "oldest unheld footage"
        value = None
        if worst is not None and worst[0] > 0:
            short, name, actual, policy = worst
            value = short
            msg += (f"; actual retention is {actual:.2f} days against a {policy}-day policy "
                    f"({short:.2f} days short, camera {name})")
        self.alarms.raise_("disk_pressure", vol.name, Severity.WARNING, msg, value=value,
                           now_ns=now)
