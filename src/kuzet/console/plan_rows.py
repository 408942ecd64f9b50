"""Catalog rows as the playback plan's facts (kuzet.console.playback_plan): the thin I/O
shell of that pure plan, which is told whether each file is on disk rather than looking.
"""

from __future__ import annotations

from collections.abc import Iterable

from kuzet.catalog.models import Segment
from kuzet.catalog.store import Catalog
from kuzet.console.playback_plan import Row


def on_disk(catalog: Catalog, segments: Iterable[Segment]) -> list[Row[Segment]]:
    """Catalog rows as the playback plan's facts: each with whether its file is on disk
    (a stat each: 900, an hour of 4-s segments, took 0.9 ms here)."""
    return [Row(s.start_ns, s.end_ns, catalog.path_of(s).exists(), s) for s in segments]
