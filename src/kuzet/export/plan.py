"""What an export of one camera's range takes, decided before a byte is written. Pure.

The package holds only footage inside the approved range (clause 3.5.6): whole GOPs
(one fragment each) that start and end inside it. Cutting inside a GOP would need the
frames before it, which lie outside the approval, or re-encoding, which would no longer
be the original evidence; so the package starts at the first keyframe inside the range
and ends with the last GOP that ends inside it, and the manifest says exactly where.

Which segments it reads and what it leaves out come from the one playback plan the
archive plays by (kuzet.console.playback_plan), over the range alone: an approval is one
window. Footage deleted by retention inside the range, or a file gone from disk, refuses
the export, naming the span or the segment: a package is never silently partial. Spans
never recorded (the camera was down) are written into the manifest with their causes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from kuzet.console.playback_plan import Gap, Item, Missing, Play, Row, plan
from kuzet.errors import Conflict
from kuzet.timefmt import format_instant

K = TypeVar("K")

# Segments closer than this follow each other without a gap (the recorder cuts a new
# segment at a keyframe; wall-clock smoothing leaves a few ms either way).
JOIN_NS = 500_000_000


class ExportError(Conflict, ValueError):
    """The export cannot be made as asked; the message names what is missing or wrong."""


@dataclass(frozen=True)
class Span:
    start_ns: int
    end_ns: int


@dataclass(frozen=True)
class Uncovered:
    start_ns: int
    end_ns: int
    causes: tuple[str, ...]  # recorded gap causes overlapping it; () when none was logged


def refuse_deleted(camera: str, start_ns: int, end_ns: int, deleted: list[Span]) -> None:
    """Refuse when footage inside [start, end) was deleted; name the first such span."""
    for d in sorted(deleted, key=lambda d: d.start_ns):
        a, b = max(d.start_ns, start_ns), min(d.end_ns, end_ns)
        if a < b:
            raise ExportError(
                "{camera}: footage from {a} to {b} inside the range was deleted by retention; "
                "the package would be partial (narrow the range or make a new request)",
                camera=camera, a=format_instant(a), b=format_instant(b))


def sources(camera: str, items: Iterable[Item[K]]) -> list[K]:
    """The segments a plan of the range plays, in order: what the export reads. A file
    gone from disk refuses it, naming the segment (the package would be partial)."""
    out: list[K] = []
    for item in items:
        if isinstance(item, Missing):
            raise ExportError(
                "{camera}: the file of the segment starting {start} is missing on disk; "
                "nothing was exported",
                camera=camera, start=format_instant(item.segment.start_ns))
        if isinstance(item, Play):
            out.append(item.segment.key)
    return out


def keep_fragments(starts_ns: list[int], end_ns: int, a: int, b: int) -> list[int]:
    """Indexes of the fragments lying wholly inside [a, b); fragment k runs from
    `starts_ns[k]` to the next start (the last to `end_ns`)."""
    ends = [*starts_ns[1:], end_ns]
    return [k for k, (s, e) in enumerate(zip(starts_ns, ends, strict=True)) if s >= a and e <= b]


def joins(prev_end_ns: int, start_ns: int) -> bool:
    return abs(start_ns - prev_end_ns) <= JOIN_NS


def uncovered(a: int, b: int, covered: list[Span], gaps: list[Span],
              gap_causes: list[str]) -> list[Uncovered]:
    """The spans of [a, b) no exported fragment covers (the plan's gaps over what the
    package holds), each with the recorded causes."""
    holes = [i for i in plan([Row(c.start_ns, c.end_ns, True, None) for c in covered],
                             a, b, [(a, b)]) if isinstance(i, Gap)]
    return [Uncovered(h.start_ns, h.end_ns, tuple(dict.fromkeys(
        cause for g, cause in zip(gaps, gap_causes, strict=True)
        if g.start_ns < h.end_ns and g.end_ns > h.start_ns))) for h in holes]
