"""Mapping a stream's media time onto UTC wall time.

Packets arrive late, never early: network and camera buffering only add delay. So the
smallest (arrival − media time) seen over a segment is the best estimate of the offset
between the two clocks, and jitter cannot bend it. Inside one segment the mapping is
fixed, so the catalog's duration equals the file's media duration; between segments of
an unbroken stream the next segment abuts the previous one unless the estimate has
moved by more than `SNAP_TOLERANCE_NS` (camera clock drift is then corrected in one
small step rather than accumulated).

A segment whose frames all came in a burst (a camera that froze and then sent what it
held back, received by a session that reconnected during the freeze) saw no packet on
time, so its own minimum is seconds late. Such a segment is placed by the first later
segment of the same unbroken stream that did see packets on time (`placed_offsets`):
camera clock drift over a burst's few seconds is microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

SNAP_TOLERANCE_NS = 100_000_000
MAX_UNEXPLAINED_JUMP_NS = 5_000_000_000


@dataclass
class OffsetEstimator:
    """Minimum of arrival − media time over the packets of one segment, and how long the
    packets took to arrive against how much media time they cover."""

    min_offset_ns: int | None = None
    first_arrival_ns: int = 0
    last_arrival_ns: int = 0
    first_media_ns: int = 0
    last_media_ns: int = 0

    def observe(self, arrival_ns: int, media_ns: int) -> None:
        offset = arrival_ns - media_ns
        if self.min_offset_ns is None:
            self.first_arrival_ns, self.first_media_ns = arrival_ns, media_ns
        if self.min_offset_ns is None or offset < self.min_offset_ns:
            self.min_offset_ns = offset
        self.last_arrival_ns, self.last_media_ns = arrival_ns, media_ns

    @property
    def arrived_in_burst(self) -> bool:
        """The packets came in less than half the media time they cover: none of them on
        time, so the minimum says when the burst came, not when the frames were made."""
        arrival_span = self.last_arrival_ns - self.first_arrival_ns
        return 2 * arrival_span < self.last_media_ns - self.first_media_ns

    @property
    def offset_ns(self) -> int:
        """Wall time − media time: add it to a frame's media time to place it."""
        if self.min_offset_ns is None:
            raise ValueError("no packet observed yet")
        return self.min_offset_ns


def placed_offsets(held: list[tuple[int, bool]], later: int | None) -> list[int]:
    """The offsets to place segments held for arriving in a burst with, in order: each
    the smallest of its own and those of the segments after it on the same camera clock.
    `held`: (own offset, whether it runs on the clock of the segment before it: False
    after a jump of the camera's clock); `later`: the offset of the first segment that
    did not come in a burst, None when the stream ended first or its clock jumped."""
    placed: list[int] = []
    best = later
    for own, same_clock in reversed(held):
        best = own if best is None else min(own, best)
        placed.append(best)
        if not same_clock:  # nothing after a jump says where what came before it lies
            best = None
    return placed[::-1]


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
