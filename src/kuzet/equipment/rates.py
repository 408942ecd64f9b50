"""A camera's frame rate and bitrate hour by hour (UE-10-22 3.4.3; issue 22 item 4: the IT
office sees a camera fading before it fails), from its segment rows' frames, bytes and
bounds (`catalog.segments.tallies`), with no picture. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NS = 1_000_000_000
HOUR_NS = 3600 * NS


@dataclass(frozen=True)
class Hour:
    start_ns: int
    fps: float | None  # None: nothing recorded in the hour
    bitrate_bps: int | None


def first_hour(now_ns: int, hours: int) -> int:
    """The start of the oldest of the last `hours` hours, the current one the last."""
    return (now_ns // HOUR_NS - hours + 1) * HOUR_NS


def hourly(tallies: Iterable[tuple[int, int, int, int, int]], first_ns: int, hours: int
           ) -> list[Hour]:
    """The segments begun in each hour: their frames and bytes over their duration."""
    sums = [[0, 0, 0] for _ in range(hours)]  # frames, bytes, ns
    for start, end, frames, size, _volume in tallies:
        i = (start - first_ns) // HOUR_NS
        if 0 <= i < hours:
            sums[i][0] += frames
            sums[i][1] += size
            sums[i][2] += end - start
    return [Hour(first_ns + i * HOUR_NS, round(f * NS / d, 2) if d else None,
                 round(b * 8 * NS / d) if d else None) for i, (f, b, d) in enumerate(sums)]
