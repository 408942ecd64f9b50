"""A camera's clock against this server's, from ONVIF's GetSystemDateAndTime. Pure.

ONVIF gives the camera's time in whole seconds (tt:Time is Hour, Minute, Second), so one
answer places the offset within a second and a round trip. Each answer read between
`sent_ns` and `received_ns` on this server's clock, showing second S, says the camera's
clock read S ≤ t + offset < S + 1 s at some t in between: offset lies in
(S − received, S + 1 s − sent). The intersection of several such intervals narrows it;
the estimate is its middle, so half the round trip is taken out as NTP does.

Which answers narrow it is a matter of when they are asked: an answer splits the interval
at `s` when asked at the instant its clock would turn a second if the offset were `s`.
`next_ask_ns` walks `s` down from the interval's top in steps of `step_ns`: within the
next second the camera's second turns, and the first answer that shows it leaves the
interval a step (plus a round trip) wide; an interval still wider (a slow answer) is
halved from then on, a second apart. Measured on loopback (tests/test_onvif.py): ±30
ms in under 1.2 s and some 20 questions; a bisection would need fewer questions but a wait
of up to a second before each.

Assumed: the camera truncates its clock to the second, as a `struct tm` does; one that
rounds would read half a second ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SECOND_NS = 1_000_000_000
SLACK_NS = 5_000_000  # a question asked this late still splits where it was meant to


class ClockMoved(ValueError):
    """The answers contradict each other: the camera's clock was set while it was read."""


@dataclass(frozen=True)
class Answer:
    """One GetSystemDateAndTime: this server's clock around it, the camera's second."""

    sent_ns: int
    received_ns: int
    camera_s: int  # the camera's UTC, seconds since 1970

    @property
    def round_trip_ns(self) -> int:
        return self.received_ns - self.sent_ns


@dataclass(frozen=True)
class Bounds:
    """The camera's clock minus this server's lies in [low_ns, high_ns)."""

    low_ns: int
    high_ns: int

    @property
    def offset_ns(self) -> int:
        return (self.low_ns + self.high_ns) // 2

    @property
    def error_ns(self) -> int:
        """At most this far from the true offset."""
        return (self.high_ns - self.low_ns + 1) // 2


def bounds(answers: Sequence[Answer]) -> Bounds:
    """The offset that every answer allows; ClockMoved when none does."""
    if not answers:
        raise ValueError("no answer")
    low = max(a.camera_s * SECOND_NS - a.received_ns for a in answers)
    high = min(a.camera_s * SECOND_NS + SECOND_NS - a.sent_ns for a in answers)
    if low >= high:
        raise ClockMoved(f"the answers allow no offset ({low} ≥ {high} ns)")
    return Bounds(low, high)


def settled(answers: Sequence[Answer], step_ns: int) -> bool:
    """Whether another answer can narrow the bounds by much: they are a step, twice the
    shortest round trip and `SLACK_NS` (a timer's lateness) wide, or narrower."""
    b = bounds(answers)
    rtt = min(a.round_trip_ns for a in answers)
    return b.high_ns - b.low_ns <= step_ns + 2 * rtt + SLACK_NS


def next_ask_ns(b: Bounds, now_ns: int, step_ns: int) -> int:
    """When to ask next (this server's clock, not before `now_ns`): the instant at which
    the camera's second would turn if the offset were a step below the bounds' top (or
    their middle, once they are narrower than two steps)."""
    split = max(b.high_ns - step_ns, b.offset_ns)
    turn = -(-(now_ns + split) // SECOND_NS) * SECOND_NS  # the next whole second, ceiling
    return turn - split
