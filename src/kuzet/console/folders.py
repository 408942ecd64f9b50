"""Which segment files lie in a day's folder, listed once while the folder is unchanged.

The archive's timeline draws files lost on disk (a disk replaced, a file deleted by hand)
from the truth on disk at each request, not from the catalog: a camera's day is one or
two folders, so the route lists them rather than stat every file. Listing 1,440 names and
turning them into instants took 0.9 ms here; a folder whose modification time has not
changed since is answered from the last listing, after one `stat()`. A folder changed in
the last `SETTLE_NS` is listed again each time: its modification time has the file
system's coarse clock, so two changes within one tick would look like one.
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
        self._seen: OrderedDict[Path, tuple[int, frozenset[int]]] = OrderedDict()
        self._lock = threading.Lock()

    def settled(self, folders: list[Path]) -> tuple[int | None, ...] | None:
        """The modification times of `folders` (None for one that is gone), or None when
        one changed too recently for its listing to be kept: what a listing of them
        depends on, for answers built from it to be kept (`console.timeline_read`)."""
        now = self._clock()
        times: list[int | None] = []
        for folder in folders:
            try:
                mtime = os.stat(folder).st_mtime_ns
            except OSError:
                times.append(None)
                continue
            if now - mtime < SETTLE_NS:
                return None
            times.append(mtime)
        return tuple(times)

    def starts(self, folder: Path, midnight_ns: int) -> frozenset[int]:
        """The start instants of the segment files in `folder` (none when it is gone)."""
        try:
            mtime = os.stat(folder).st_mtime_ns  # before the listing: a later change shows
        except OSError:
            return frozenset()
        with self._lock:
            seen = self._seen.get(folder)
            if seen is not None and seen[0] == mtime:
                self._seen.move_to_end(folder)
                return seen[1]
        try:
            names = os.listdir(folder)
        except OSError:
            return frozenset()
        found = frozenset(s for s in (start_of(n, midnight_ns) for n in names)
                          if s is not None)
        if self._clock() - mtime >= SETTLE_NS:
            with self._lock:
                self._seen[folder] = (mtime, found)
                self._seen.move_to_end(folder)
                while len(self._seen) > KEEP:
                    self._seen.popitem(last=False)
        return found
