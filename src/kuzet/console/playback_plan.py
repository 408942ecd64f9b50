"""One playback plan: what of a window of a camera's footage plays, what was never
recorded and what is cataloged but gone from disk. Pure.

The archive socket (which file to send next), the archive's timeline (what the bar draws)
and an export (which files go into the package, what it leaves out) ask one question of
a camera's segment rows: over [start, end), inside the footage windows the caller may
see (`footage_bounds`, clause 3.5.5), where is there a file to play, where was nothing
recorded, where is the file lost? Each used to answer it with a walk of its own over the
rows; now the walk is here, and callers pass the facts in: the rows (their times, whether
each file is on disk, and a key of the caller's own — the catalog row itself, as a rule),
the asked window and the allowed windows. No database, no clock, no filesystem inside.

The answer is an ordered list of items that covers exactly [start, end) ∩ the allowed
windows, without overlapping:
- `Play`: a file on disk plays there;
- `Missing`: the catalog lists a segment there but its file is gone;
- `Gap`: no row covers it (nothing was recorded).

Outside the allowed windows there are no items at all, rather than items marked as not
allowed: what a caller may not see, it may not learn the shape of either (a gap there
would tell it footage exists on either side). So within one allowed window items are
contiguous, and a hole between two consecutive items is the edge of a window.

Rows that overlap (the recorder's wall-clock smoothing leaves a few ms either way at a
cut) do not make overlapping items: the row starting first keeps the overlap and the
next one's item starts where it ends, which is where a player reading one file after the
other goes on from. Nothing is joined here: a hole of one frame between two segments is
a `Gap`; the timeline joins what it draws (`console.timeline`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")
Window = tuple[int, int]


@dataclass(frozen=True)
class Row(Generic[K]):
    """A segment as facts: its times, whether its file is on disk, the caller's key."""

    start_ns: int
    end_ns: int
    present: bool
    key: K


@dataclass(frozen=True)
class Play(Generic[K]):
    """The part of a present segment's footage that plays over [start, end)."""

    start_ns: int
    end_ns: int
    segment: Row[K]


@dataclass(frozen=True)
class Missing(Generic[K]):
    """The part of a cataloged segment over [start, end) whose file is gone."""

    start_ns: int
    end_ns: int
    segment: Row[K]


@dataclass(frozen=True)
class Gap:
    """[start, end): no row covers it."""

    start_ns: int
    end_ns: int


Item = Play[K] | Missing[K] | Gap


def windows(allowed: Iterable[Window]) -> list[Window]:
    """The allowed windows sorted, overlapping or touching ones as one (two grants may
    cover the same footage), empty ones dropped."""
    out: list[Window] = []
    for lo, hi in sorted(w for w in allowed if w[0] < w[1]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def plan(rows: Iterable[Row[K]], start_ns: int, end_ns: int,
         allowed: Iterable[Window]) -> list[Item[K]]:
    """The items covering [start_ns, end_ns) ∩ `allowed`, in order (see the module)."""
    ordered = sorted(rows, key=lambda r: (r.start_ns, r.end_ns))
    items: list[Item[K]] = []
    first = 0  # rows before it end before the current window: no later window needs them
    for lo, hi in windows((max(lo, start_ns), min(hi, end_ns)) for lo, hi in allowed):
        while first < len(ordered) and ordered[first].end_ns <= lo:
            first += 1
        at = lo
        for row in ordered[first:]:
            if row.start_ns >= hi:
                break
            s, e = max(row.start_ns, at), min(row.end_ns, hi)
            if s >= e:  # inside what an earlier row covered
                continue
            if s > at:
                items.append(Gap(at, s))
            items.append(Play(s, e, row) if row.present else Missing(s, e, row))
            at = e
        if at < hi:
            items.append(Gap(at, hi))
    return items
