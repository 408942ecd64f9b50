"""Which segment files lie in a day's folder, listed once while the folder is unchanged.

The archive's timeline draws files lost on disk (a disk replaced, a file deleted by hand)
from the truth on disk at each request, not from the catalog: a camera's day is one or
two folders, so the route lists them rather than stat every file. Listing 1,440 names and
turning them into instants took 0.9 ms here; a folder whose modification time has not
changed since (the same inode, modification and change times) is answered from the last
listing, after one `stat()`. A folder changed in the last `SETTLE_NS` is listed again
each time: its times have the file system's coarse clock, so two changes within one tick
would look like one.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from kuzet.timefmt import NS

SETTLE_NS = 2 * NS
KEEP = 256  # folders remembered: ~90 KB each for a day of 60-s segments, ~23 MB in all


def start_of(name: str, midnight_ns: int) -> int | None:
    """The start instant a segment's file name says (`YYYYMMDDTHHMMSS.fffffffffZ.mp4`, on
    the UTC day that starts at `midnight_ns`), or None for any other file."""
    if (len(name) != 30 or not name.endswith("Z.mp4") or name[8] != "T" or name[15] != "."
            or name[:8] != _day(midnight_ns)):
        return None
    try:
        seconds = int(name[9:11]) * 3600 + int(name[11:13]) * 60 + int(name[13:15])
        return midnight_ns + seconds * NS + int(name[16:25])
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _day(midnight_ns: int) -> str:
    return datetime.fromtimestamp(midnight_ns // NS, UTC).strftime("%Y%m%d")


class Listings:
    """The instants of the segment files present in each folder asked about (one per
    server: the console's requests share it from their threads)."""

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._seen: OrderedDict[Path, tuple[Stamp, frozenset[int]]] = OrderedDict()
        self._lock = threading.Lock()

    def settled(self, folders: list[Path]) -> tuple[Stamp | None, ...] | None:
        """What a listing of `folders` depends on (None for a folder that is gone), or None
        when one changed too recently for its listing to be kept: for answers built from
        the listings to be kept with it (`console.timeline_read`)."""
        now = self._clock()
        stamps: list[Stamp | None] = []
        for folder in folders:
            try:
                st = os.stat(folder)
            except OSError:
                stamps.append(None)
                continue
            if now - _changed_ns(st) < SETTLE_NS:
                return None
            stamps.append(_stamp(st))
        return tuple(stamps)

    def starts(self, folder: Path, midnight_ns: int) -> frozenset[int] | None:
        """The start instants of the segment files in `folder` (none when it is gone), or
        None when it is there but could not be listed (no descriptor left, an I/O error):
        its files are then drawn missing, and nothing built from that is kept."""
        try:
            st = os.stat(folder)  # before the listing: a later change shows
        except OSError:
            return frozenset()
        stamp = _stamp(st)
        with self._lock:
            seen = self._seen.get(folder)
            if seen is not None and seen[0] == stamp:
                self._seen.move_to_end(folder)
                return seen[1]
        try:
            names = os.listdir(folder)
        except OSError:
            return None
        found = frozenset(s for s in (start_of(n, midnight_ns) for n in names)
                          if s is not None)
        if self._clock() - _changed_ns(st) >= SETTLE_NS:
            with self._lock:
                self._seen[folder] = (stamp, found)
                self._seen.move_to_end(folder)
                while len(self._seen) > KEEP:
                    self._seen.popitem(last=False)
        return found


# A folder as last seen: its device, inode, modification and change times. The change
# time is the kernel's own (`utime` cannot set it back, as a restore with `cp -a` or
# `rsync -a` sets the modification time), and a folder replaced is another inode.
Stamp = tuple[int, int, int, int]


def _stamp(st: os.stat_result) -> Stamp:
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns


def _changed_ns(st: os.stat_result) -> int:
    return max(st.st_mtime_ns, st.st_ctime_ns)
