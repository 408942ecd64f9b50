"""Motion activity kept for the archive: a level per second and where the picture moved,
one row per camera-minute. Pure: the detection thread feeds it, the store writes what it
hands back, the archive's bar reads it through `buckets`.

Why a row per minute and not per second: a day of one camera is 1 440 rows of 60 level
bytes and an 18-byte grid, instead of 86 400 rows; the bar never needs finer than a
second and reads a day in one indexed range.

A level is the largest share of the picture that moved within that second, as a byte:
`ceil(share × 255)`, so that any motion at all is at least 1 and a still second is 0.
The grid is 16 × 9 cells over the picture, a bit set where a motion region touched a
cell during the minute: enough to ask "did anything move near the door?" of an hour of
archive without decoding it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from kuzet.analytics.geometry import Box

MINUTE_NS = 60_000_000_000
SECOND_NS = 1_000_000_000
GRID_W, GRID_H = 16, 9
GRID_BYTES = GRID_W * GRID_H // 8
Area = tuple[float, float, float, float]  # x0, y0, x1, y1 in fractions of the frame


def level_byte(share: float) -> int:
    return min(255, math.ceil(max(0.0, share) * 255))


def cells(box: Box, width: int, height: int) -> Iterable[int]:
    """Grid cells (row-major indexes) a box in pixels of a `width`×`height` picture
    touches."""
    c0 = max(0, min(GRID_W - 1, int(box.x0 / width * GRID_W)))
    c1 = max(0, min(GRID_W - 1, math.ceil(box.x1 / width * GRID_W) - 1))
    r0 = max(0, min(GRID_H - 1, int(box.y0 / height * GRID_H)))
    r1 = max(0, min(GRID_H - 1, math.ceil(box.y1 / height * GRID_H) - 1))
    for r in range(r0, r1 + 1):
        for c in range(c0, max(c0, c1) + 1):
            yield r * GRID_W + c


def _mark(grid: bytearray, box: Box, width: int, height: int) -> None:
    for i in cells(box, width, height):
        grid[i // 8] |= 1 << (i % 8)


def area_mask(area: Area) -> bytes:
    """The grid cells an area (fractions of the frame) covers, as a grid."""
    x0, y0, x1, y1 = area
    grid = bytearray(GRID_BYTES)
    _mark(grid, Box(x0, y0, x1, y1), 1, 1)
    return bytes(grid)


def touches(grid: bytes, mask: bytes) -> bool:
    return any(a & b for a, b in zip(grid, mask, strict=True))


@dataclass
class Minute:
    start_ns: int
    levels: bytearray
    grid: bytearray

    @classmethod
    def at(cls, t_ns: int) -> Minute:
        return cls(t_ns - t_ns % MINUTE_NS, bytearray(60), bytearray(GRID_BYTES))


class ActivityRecorder:
    """Collects one camera's motion into minutes; `add` returns a minute once it is over."""

    def __init__(self) -> None:
        self.current: Minute | None = None

    def add(self, t_ns: int, share: float, regions: list[Box], width: int, height: int
            ) -> Minute | None:
        done = None
        if self.current is None or not (
                self.current.start_ns <= t_ns < self.current.start_ns + MINUTE_NS):
            done, self.current = self.current, Minute.at(t_ns)
        m = self.current
        second = (t_ns - m.start_ns) // SECOND_NS
        m.levels[second] = max(m.levels[second], level_byte(share))
        for box in regions:
            _mark(m.grid, box, width, height)
        return done

    def flush(self) -> Minute | None:
        done, self.current = self.current, None
        return done


def buckets(minutes: Iterable[tuple[int, bytes, bytes]], start_ns: int, end_ns: int,
            step_ns: int, area: bytes | None = None) -> list[int]:
    """The largest level in each `step_ns` bucket of [start, end), from stored minutes
    (start, levels, grid); with `area`, only minutes whose grid touches it count."""
    count = max(0, -(-(end_ns - start_ns) // step_ns))
    out = [0] * count
    for minute_ns, levels, grid in minutes:
        if area is not None and not touches(grid, area):
            continue
        for second, value in enumerate(levels):
            if not value:
                continue
            t = minute_ns + second * SECOND_NS
            if start_ns <= t < end_ns:
                k = (t - start_ns) // step_ns
                out[k] = max(out[k], value)
    return out
