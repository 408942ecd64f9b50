"""Media volumes: where new segments go, and whether each disk is still there.

Each volume directory carries a marker file written when it was added. An unmounted disk
leaves an empty mount point behind, which would otherwise look like an empty volume: the
marker tells them apart, so a missing disk is reported (and its segments shown as
unavailable) instead of being filled with new footage or having its catalog rows swept.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kuzet.catalog import segments
from kuzet.catalog.alarms import Alarms, Severity
from kuzet.catalog.db import UNREACHABLE
from kuzet.catalog.models import Volume
from kuzet.catalog.paths import check_camera_name
from kuzet.catalog.store import Catalog
from kuzet.config import Settings
from kuzet.errors import Conflict, Invalid, NotFound
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.storage.retention import floor_bytes

log = logging.getLogger(__name__)

MARKER = ".kuzet-volume"
DEFAULT_VOLUME = "default"
# Written in a volume change's transaction once the change is made: its audit entry, so
# that the two commit together (as `catalog.store.InTransaction` for cameras).
InTransaction = Callable[[Session, Volume], object]


class VolumeState(StrEnum):
    ENABLED = "enabled"
    DRAINING = "draining"  # read-only: kept and swept, never written
    REMOVED = "removed"


@dataclass(frozen=True)
class Usage:
    total: int
    free: int
    floor: int

    @property
    def below_floor(self) -> bool:
        return self.free < self.floor


def write_marker(path: Path, name: str) -> None:
    (path / MARKER).write_text(json.dumps({"volume": name}) + "\n")


def marker_name(path: Path) -> str | None:
    try:
        return str(json.loads((path / MARKER).read_text())["volume"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class Volumes:
    def __init__(self, catalog: Catalog, settings: Settings, alarms: Alarms) -> None:
        self.catalog = catalog
        self.settings = settings
        self.alarms = alarms
        self._full: set[int] = set()  # below floor with nothing left to shed
        self._known: list[Volume] = []  # this server's volumes, as `choose` last read them
        self._lock = threading.Lock()

    # -- administration -------------------------------------------------------------
    def ensure_default(self) -> None:
        """A data home with no volume gets `<home>/media` (or `media_dir`) as its first;
        a node of a cluster's first is named after the node (names are the cluster's)."""
        if self.catalog.node is not None:
            self._adopt()
        if not self.catalog.volumes(include_removed=True):
            self.add(self.catalog.node or DEFAULT_VOLUME, self.settings.volume)

    def _adopt(self) -> None:
        """A single server become a node (issue 25): each volume of no node whose disk is
        mounted here, as its marker says, is this node's from now on, its footage swept,
        recovered and served by it."""
        with self.catalog.session.begin() as s:
            for vol in s.scalars(select(Volume).where(Volume.node.is_(None))):
                if marker_name(Path(vol.path)) == vol.name:
                    vol.node = self.catalog.node
                    log.warning("volume %s at %s is node %s's from now on", vol.name,
                                vol.path, self.catalog.node)

    def add(self, name: str, path: Path, floor: int | None = None, *,
            audit: InTransaction | None = None) -> Volume:
        check_camera_name(name)
        path = path.resolve()
        for v in self.catalog.volumes(include_removed=True):
            other = Path(v.path)
            if v.name == name:
                raise Conflict("a volume named {name!r} already exists", name=name)
            if path == other or path.is_relative_to(other) or other.is_relative_to(path):
                raise Conflict("{path} overlaps volume {name!r} at {other}",
                               path=path, name=v.name, other=other)
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK):
            raise Invalid("{path} is not writable", path=path)
        existing = marker_name(path)
        if existing is not None and existing != name:
            raise Conflict("{path} already belongs to volume {existing!r}",
                           path=path, existing=existing)
        write_marker(path, name)
        with self.catalog.session.begin() as s:
            vol = Volume(name=name, path=str(path), state=VolumeState.ENABLED.value,
                         floor_bytes=floor, created_ns=time.time_ns(), node=self.catalog.node)
            s.add(vol)
            if audit is not None:
                audit(s, vol)
        return vol

    def _get(self, name: str) -> Volume:
        for v in self.catalog.volumes(include_removed=True):
            if v.name == name:
                return v
        raise NotFound("no volume named {name!r}", name=name)

    def set_state(self, name: str, state: VolumeState, *,
                  audit: InTransaction | None = None) -> Volume:
        vol = self._get(name)
        if vol.state == VolumeState.REMOVED.value:
            raise Conflict("volume {name!r} was removed", name=name)
        if state is VolumeState.REMOVED:
            if vol.state != VolumeState.DRAINING.value:
                raise Conflict("volume {name!r} must be drained before it is removed", name=name)
            left = self.segment_count(vol.id)
            if left:
                raise Conflict("volume {name!r} still holds {left} segments; they leave by "
                               "retention (or when their holds end)", name=name, left=left)
        with self.catalog.session.begin() as s:
            row = s.get(Volume, vol.id)
            assert row is not None
            row.state = state.value
            if audit is not None:
                audit(s, row)
        vol.state = state.value
        return vol

    def set_floor(self, name: str, floor: int | None) -> None:
        vol = self._get(name)
        with self.catalog.session.begin() as s:
            row = s.get(Volume, vol.id)
            assert row is not None
            row.floor_bytes = floor

    def segment_count(self, volume_id: int) -> int:
        with self.catalog.session() as s:
            return segments.count_on_volume(s, volume_id)

    # -- state ----------------------------------------------------------------------
    @staticmethod
    def present(vol: Volume) -> bool:
        return marker_name(Path(vol.path)) == vol.name

    def present_ids(self) -> set[int]:
        """Volumes mounted now, read from their markers without recording anything."""
        return {v.id for v in self.catalog.volumes() if self.present(v)}

    def usage(self, vol: Volume) -> Usage:
        st = os.statvfs(vol.path)
        total = st.f_blocks * st.f_frsize
        free = st.f_bavail * st.f_frsize
        configured = vol.floor_bytes
        floor = configured if configured is not None else floor_bytes(
            total, self.settings.volume_floor_percent, self.settings.volume_floor_bytes)
        return Usage(total, free, floor)

    def check_presence(self, now_ns: int | None = None) -> list[Volume]:
        """Record which volumes are missing (alarm, segments unavailable); return present ones."""
        now = now_ns if now_ns is not None else time.time_ns()
        present = []
        for vol in self.catalog.volumes():
            here = self.present(vol)
            if here:
                present.append(vol)
            changed = (vol.missing_since_ns is None) == (not here)
            if changed:
                with self.catalog.session.begin() as s:
                    row = s.get(Volume, vol.id)
                    assert row is not None
                    row.missing_since_ns = None if here else now
            if here:
                if changed:
                    self.alarms.clear("volume_missing", vol.name, now_ns=now)
                    log.warning("volume %s is back at %s", vol.name, vol.path)
            else:
                self.alarms.raise_("volume_missing", vol.name, Severity.CRITICAL,
                                   f"volume {vol.name} is missing at {vol.path} (unmounted or "
                                   "failed disk); its recordings are unavailable until it "
                                   "returns", now_ns=now)
                if changed:
                    log.error("volume %s is missing at %s", vol.name, vol.path)
        return present

    def mark_full(self, volume_id: int, full: bool) -> None:
        with self._lock:
            if full:
                self._full.add(volume_id)
            else:
                self._full.discard(volume_id)

    def choose(self) -> tuple[int, Path]:
        """The enabled, present volume with the most free space, for a new segment."""
        best: tuple[int, Volume] | None = None
        full = 0
        try:
            self._known = self.catalog.volumes()
        except UNREACHABLE:  # a catalog failover: the volumes as last read (kept: rows)
            log.warning("the catalog is unreachable: new segments go to the volumes as "
                        "last read")
        for vol in self._known:
            if vol.state != VolumeState.ENABLED.value or not self.present(vol):
                continue
            with self._lock:
                if vol.id in self._full:
                    full += 1
                    continue
            free = self.usage(vol).free
            if best is None or free > best[0]:
                best = (free, vol)
        if best is None:
            if full:
                raise SourceError(GapCause.STORAGE_FULL, "every volume is full of held "
                                  "footage; recording resumes when space returns")
            raise SourceError(GapCause.STORAGE_ERROR, "no enabled volume is mounted")
        return best[1].id, Path(best[1].path)
