"""Mapping a stream's media time onto UTC wall time.

Packets arrive late, never early: network and camera buffering only add delay. So the
smallest (arrival − media time) seen over a segment is the best estimate of the offset
between the two clocks, and jitter cannot bend it. Inside one segment the mapping is
fixed, so the catalog's duration equals the file's media duration; between segments of
an unbroken stream the next segment abuts the previous one unless the estimate has
moved by more than `SNAP_TOLERANCE_NS` (camera clock drift is then corrected in one
small step rather than accumulated).
"""

from __future__ import annotations

from dataclasses import dataclass

SNAP_TOLERANCE_NS = 100_000_000
MAX_UNEXPLAINED_JUMP_NS = 5_000_000_000


@dataclass
class OffsetEstimator:
    """Minimum of arrival − media time over the packets of one segment."""

    min_offset_ns: int | None = None

    def observe(self, arrival_ns: int, media_ns: int) -> None:
        offset = arrival_ns - media_ns
        if self.min_offset_ns is None or offset < self.min_offset_ns:
            self.min_offset_ns = offset

    def wall(self, media_ns: int) -> int:
        if self.min_offset_ns is None:
            raise ValueError("no packet observed yet")
        return media_ns + self.min_offset_ns


def segment_start_ns(estimate_ns: int, prev_end_ns: int | None, continuous: bool) -> int:
    """Where a new segment starts on the wall clock.

    A segment that continues an unbroken stream abuts its predecessor when the two agree
    within tolerance, and never overlaps it.
    """
    if prev_end_ns is None:
        return estimate_ns
    if continuous and abs(estimate_ns - prev_end_ns) <= SNAP_TOLERANCE_NS:
        return prev_end_ns
    return max(estimate_ns, prev_end_ns)


def is_discontinuity(prev_media_ns: int, media_ns: int, prev_arrival_ns: int,
                     arrival_ns: int) -> bool:
    """True when media time went backwards or leapt ahead of the wall clock.

    A packet that arrives late (a network stall, a burst after it) is not a discontinuity:
    its media time is still right, only its delivery was slow.
    """
    if media_ns <= prev_media_ns:
        return True
    media_step = media_ns - prev_media_ns
    wall_step = arrival_ns - prev_arrival_ns
    return media_step - wall_step > MAX_UNEXPLAINED_JUMP_NS
