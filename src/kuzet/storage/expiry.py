"""Which instants of a camera's footage have expired (clause 3.3), kept apart from any
database, disk or clock.

What shows footage — an event's picture, a protocol's frame, a minute of motion
activity — is kept exactly as long as the footage at its instant would be: footage at
instant t of a camera has expired once t is before the camera's retention cut-off and no
protecting hold covers t (the ranges `retention.protections` gives, which keep segments
too; a range [start, end) covers start <= t < end). The expired instants are then a few
half-open spans: everything before the cut-off, less the held ranges.

The rows such pictures sit in stay (an event, a protocol), so a sweep that looked at every
expired instant each minute would read every old event again and again. `Expired.fresh`
is the part a sweep has not yet cleared: the spans less those cleared before, which the
sweeper remembers (`settled`). After a start it remembers nothing, so the first sweep
looks at everything once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kuzet.storage.retention import DAY_NS, Protection

EARLIEST = -(2**63)  # where the first span starts: footage from the beginning
Span = tuple[int, int]  # [start_ns, end_ns) of expired instants
# A frame may still be taken from a segment whose start is past the cut-off (a segment goes
# only when its end passes it): the last day before the cut-off is looked at again.
SETTLE_NS = DAY_NS


def expired_spans(cutoff_ns: int, held: Protection | None) -> tuple[Span, ...]:
    """The instants before `cutoff_ns` that no held range covers, as sorted spans.
    `held` is merged and sorted, as `retention.protections` makes it."""
    spans: list[Span] = []
    start = EARLIEST
    ranges = [] if held is None else list(zip(held.starts, held.ends, strict=True))
    for a, b in ranges:
        if a >= cutoff_ns:
            break
        if a > start:
            spans.append((start, a))
        start = max(start, b)
    if start < cutoff_ns:
        spans.append((start, cutoff_ns))
    return tuple(spans)


def within(start_ns: int, end_ns: int, spans: Sequence[Span]) -> bool:
    """Whether [start_ns, end_ns) lies wholly inside one span: the instant t is [t, t + 1),
    a minute of activity [m, m + 60 s)."""
    return any(a <= start_ns and end_ns <= b for a, b in spans)


def subtract(spans: Sequence[Span], minus: Sequence[Span]) -> tuple[Span, ...]:
    """The parts of `spans` outside every span of `minus` (both sorted and disjoint)."""
    out: list[Span] = []
    for a, b in spans:
        for c, d in minus:
            if d <= a or c >= b:
                continue
            if c > a:
                out.append((a, c))
            a = max(a, d)
            if a >= b:
                break
        if a < b:
            out.append((a, b))
    return tuple(out)


def until(spans: Sequence[Span], end_ns: int) -> tuple[Span, ...]:
    """The spans cut off at `end_ns`."""
    return tuple((a, min(b, end_ns)) for a, b in spans if a < end_ns)


@dataclass(frozen=True)
class Expired:
    """One camera's expired instants at a sweep: all of them (`spans`: for rows that go
    with their footage, so that only held ones are ever read twice), and those a sweep has
    not cleared yet (`fresh`: for pictures whose row stays)."""

    spans: tuple[Span, ...]
    fresh: tuple[Span, ...]


def expired(cutoff_ns: int, held: Protection | None, cleared: Sequence[Span]) -> Expired:
    """What has expired of a camera's footage, and what of it is not yet `cleared`."""
    spans = expired_spans(cutoff_ns, held)
    return Expired(spans, subtract(spans, cleared))


def settled(found: Expired, cutoff_ns: int) -> tuple[Span, ...]:
    """What a sweep that cleared `found` counts as cleared for the next one: its spans up to
    a day before the cut-off (`SETTLE_NS`)."""
    return until(found.spans, cutoff_ns - SETTLE_NS)
