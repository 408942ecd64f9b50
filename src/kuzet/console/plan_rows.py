"""Catalog rows as the playback plan's facts (kuzet.console.playback_plan): the thin I/O
shell of that pure plan, which is told whether each file is on disk rather than looking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from kuzet.catalog.models import Segment
from kuzet.catalog.paths import day_folder
from kuzet.catalog.segments import MAX_SEGMENT_NS
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.console.folders import Listings
from kuzet.console.playback_plan import Row
from kuzet.storage.footage import Footage
from kuzet.storage.retention import DAY_NS


def on_disk(catalog: Catalog, segments: Iterable[Segment],
            footage: Footage | None = None) -> list[Row[Segment]]:
    """Catalog rows as the playback plan's facts: each with whether its file is on disk
    (a stat each: 900, an hour of 4-s segments, took 0.9 ms here), or, on another
    recording node's volume, whether that node is up (issue 25)."""
    footage = footage or Footage(catalog)
    return [Row(s.start_ns, s.end_ns, footage.there(s), s) for s in segments]


def folder_of(catalog: Catalog, camera: str, volume: int, day: int,
              stream: Stream = Stream.MAIN) -> Path:
    """The folder of `camera`'s segments starting on UTC day number `day` on a volume."""
    return catalog.volume_path(volume) / day_folder(camera, day * DAY_NS, stream)


def window_folders(catalog: Catalog, camera: str, volumes: Iterable[int], start_ns: int,
                   end_ns: int, stream: Stream = Stream.MAIN) -> list[Path]:
    """Every folder `listed` may look in for the segments of [start, end) on `volumes`:
    those of the UTC days of every start from the longest segment's length before
    `start` (the reads' lower bound) to `end`."""
    days = range((start_ns - MAX_SEGMENT_NS) // DAY_NS, (end_ns - 1) // DAY_NS + 1)
    return [folder_of(catalog, camera, v, day, stream) for v in volumes for day in days]


def listed(catalog: Catalog, listings: Listings, camera: str,
           files: Sequence[tuple[int, int, int]], stream: Stream = Stream.MAIN,
           elsewhere: Mapping[int, bool] | None = None) -> tuple[list[Row[None]], bool]:
    """The timeline's (start, end, volume) rows as the plan's facts, and whether every
    folder could be listed: touching segments
    whose files are alike on disk or not joined into one row, since the bar draws runs,
    not files (a day of 1,440 segments is a handful of rows, and the plan over them takes
    microseconds instead of 3.9 ms). Whether a file is on disk comes from the listing of
    each folder the rows lie in (a camera's day in Almaty spans two UTC folders;
    `console.folders`), not a stat per file, so a file lost a moment ago is drawn missing
    at the next request; a folder that could not be listed has its files drawn missing.
    `elsewhere`: volumes of other recording nodes, their files there while the node is up
    (issue 25), not listed here."""
    elsewhere = elsewhere or {}
    present: dict[tuple[int, int], frozenset[int]] = {}
    complete = True
    rows: list[Row[None]] = []
    run_start = run_end = 0
    run_present = None
    for start, end, volume in files:
        day = start // DAY_NS
        starts = present.get((volume, day))
        if volume in elsewhere:
            starts = frozenset([start]) if elsewhere[volume] else frozenset()
        elif starts is None:
            found = listings.starts(folder_of(catalog, camera, volume, day, stream),
                                    day * DAY_NS)
            complete = complete and found is not None
            starts = present[(volume, day)] = found or frozenset()
        here = start in starts
        if here is run_present and start <= run_end:
            run_end = max(run_end, end)
            continue
        if run_present is not None:
            rows.append(Row(run_start, run_end, run_present, None))
        run_start, run_end, run_present = start, end, here
    if run_present is not None:
        rows.append(Row(run_start, run_end, run_present, None))
    return rows, complete
