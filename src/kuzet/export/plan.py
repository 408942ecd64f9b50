"""What an export of one camera's range takes, decided before a byte is written. Pure.

The package holds only footage inside the approved range (clause 3.5.6): whole GOPs
(one fragment each) that start and end inside it. Cutting inside a GOP would need the
frames before it, which lie outside the approval, or re-encoding, which would no longer
be the original evidence; so the package starts at the first keyframe inside the range
and ends with the last GOP that ends inside it, and the manifest says exactly where.

Footage deleted by retention inside the range refuses the export, naming the span: a
package is never silently partial. Spans never recorded (the camera was down) are
written into the manifest with their causes.
"""

from __future__ import annotations

from dataclasses import dataclass

from kuzet.timefmt import format_instant

# Segments closer than this follow each other without a gap (the recorder cuts a new
# segment at a keyframe; wall-clock smoothing leaves a few ms either way).
JOIN_NS = 500_000_000


class ExportError(ValueError):
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
                f"{camera}: footage from {format_instant(a)} to {format_instant(b)} inside the "
                "range was deleted by retention; the package would be partial (narrow the "
                "range or make a new request)")


def keep_fragments(starts_ns: list[int], end_ns: int, a: int, b: int) -> list[int]:
    """Indexes of the fragments lying wholly inside [a, b); fragment k runs from
    `starts_ns[k]` to the next start (the last to `end_ns`)."""
    ends = [*starts_ns[1:], end_ns]
    return [k for k, (s, e) in enumerate(zip(starts_ns, ends, strict=True)) if s >= a and e <= b]


def joins(prev_end_ns: int, start_ns: int) -> bool:
    return abs(start_ns - prev_end_ns) <= JOIN_NS


def uncovered(a: int, b: int, covered: list[Span], gaps: list[Span],
              gap_causes: list[str]) -> list[Uncovered]:
    """The spans of [a, b) no exported fragment covers, each with the recorded causes."""
    out = []
    at = a
    for c in [*sorted(covered, key=lambda c: c.start_ns), Span(b, b)]:
        if c.start_ns > at:
            causes = tuple(dict.fromkeys(
                cause for g, cause in zip(gaps, gap_causes, strict=True)
                if g.start_ns < c.start_ns and g.end_ns > at))
            out.append(Uncovered(at, min(c.start_ns, b), causes))
        at = max(at, c.end_ns)
    return [u for u in out if u.end_ns > u.start_ns]
