"""Catalog rows as the playback plan's facts (kuzet.console.playback_plan): the thin I/O
shell of that pure plan, which is told whether each file is on disk rather than looking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kuzet.catalog.models import Segment
from kuzet.catalog.paths import day_folder
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.console.folders import Listings
from kuzet.console.playback_plan import Row
from kuzet.storage.retention import DAY_NS


def on_disk(catalog: Catalog, segments: Iterable[Segment]) -> list[Row[Segment]]:
    """Catalog rows as the playback plan's facts: each with whether its file is on disk
    (a stat each: 900, an hour of 4-s segments, took 0.9 ms here)."""
    return [Row(s.start_ns, s.end_ns, catalog.path_of(s).exists(), s) for s in segments]


def listed(catalog: Catalog, listings: Listings, camera: str,
           files: Sequence[tuple[int, int, int]], stream: Stream = Stream.MAIN
           ) -> list[Row[None]]:
    """The timeline's (start, end, volume) rows as the plan's facts: touching segments
    whose files are alike on disk or not joined into one row, since the bar draws runs,
    not files (a day of 1,440 segments is a handful of rows, and the plan over them takes
    microseconds instead of 3.9 ms). Whether a file is on disk comes from the listing of
    each folder the rows lie in (a camera's day in Almaty spans two UTC folders;
    `console.folders`), not a stat per file, so a file lost a moment ago is drawn missing
    at the next request."""
    present: dict[tuple[int, int], frozenset[int]] = {}
    rows: list[Row[None]] = []
    run_start = run_end = 0
    run_present = None
    for start, end, volume in files:
        day = start // DAY_NS
        starts = present.get((volume, day))
        if starts is None:
            folder = catalog.volume_path(volume) / day_folder(camera, day * DAY_NS, stream)
            starts = present[(volume, day)] = listings.starts(folder, day * DAY_NS)
        here = start in starts
        if here is run_present and start <= run_end:
            run_end = max(run_end, end)
            continue
        if run_present is not None:
            rows.append(Row(run_start, run_end, run_present, None))
        run_start, run_end, run_present = start, end, here
    if run_present is not None:
        rows.append(Row(run_start, run_end, run_present, None))
    return rows
