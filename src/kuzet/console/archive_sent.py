"""What one archive socket sent, and how fast it was asked to play. Pure.

The `archive.close` entry (clause 4.2; a grant's viewer, 3.5.5) says what footage a
viewer was sent: the first instant that went out (the keyframe playback began at, not the
instant asked for, which may lie after it or inside a gap before any footage), the end of
the last fragment that went out, how many seconds of footage that was (the span may hold
gaps the player jumped over), and every speed the player asked for, with the instant it
asked. `Sent` gathers those facts while the socket streams, so that whichever way the
socket ends, the entry written in its `finally` holds them as they stand.

`Pace` is the media clock the sender runs ahead of: seconds of media played so far, each
stretch of real time counted at the speed asked during it. Multiplying the whole elapsed
time by the current speed instead (as the socket once did) counted the minutes before a
change to 2x twice over, so the sender ran that far ahead at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_SPEED_CHANGES = 64  # recorded in the entry; a player sending more has the rest counted
MIN_SPEED, MAX_SPEED = 0.25, 16.0  # the player's ¼x to 16x
# How the other end closed, by close code: 1005 is a close without a code, what a page's
# `socket.close()` sends.
_CLOSE_CODES = {1000: "closed by the player", 1005: "closed by the player",
                1001: "the page went away", 1006: "the connection was lost",
                1012: "the server is stopping"}


def speed_asked(value: object) -> float | None:
    """A speed the player may ask for, as a float (None: not a number from ¼ to 16)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if MIN_SPEED <= value <= MAX_SPEED else None


@dataclass
class Pace:
    """Seconds of media played, by real time (monotonic seconds) times the speed asked."""

    speed: float = 1.0
    _played_s: float = 0.0  # media seconds up to `_since`
    _since: float | None = None  # when the current speed's stretch began; None: not started

    def start(self, now_s: float) -> None:
        self._since = now_s

    def played_s(self, now_s: float) -> float:
        if self._since is None:
            return 0.0
        return self._played_s + (now_s - self._since) * self.speed

    def set_speed(self, speed: float, now_s: float) -> None:
        if self._since is not None:
            self._played_s = self.played_s(now_s)
            self._since = now_s
        self.speed = speed


@dataclass
class Sent:
    """The footage a socket sent and the speeds asked, for its `archive.close` entry."""

    opened_ns: int  # wall time the socket opened: the first speed's instant
    opening_speed: float = 1.0  # the player's speed when it opened the socket
    first_ns: int | None = None  # the first instant sent (a fragment's start)
    last_ns: int | None = None  # the end of the last fragment sent
    footage_ns: int = 0  # length of footage sent, gaps between fragments not counted
    speeds: list[tuple[int, float]] = field(default_factory=list)
    speeds_unrecorded: int = 0

    def __post_init__(self) -> None:
        if not self.speeds:
            self.speeds.append((self.opened_ns, self.opening_speed))

    def fragment(self, start_ns: int, end_ns: int) -> None:
        """A fragment of footage [start, end) went out."""
        if self.first_ns is None:
            self.first_ns = start_ns
        self.last_ns = end_ns if self.last_ns is None else max(self.last_ns, end_ns)
        self.footage_ns += max(0, end_ns - start_ns)

    def speed(self, at_ns: int, speed: float) -> None:
        """The player asked for `speed` at wall instant `at_ns` (a repeat is not a change)."""
        if speed == self.speeds[-1][1]:
            return
        if len(self.speeds) >= MAX_SPEED_CHANGES:
            self.speeds_unrecorded += 1
            return
        self.speeds.append((at_ns, speed))

    def detail(self, ended: str) -> dict[str, Any]:
        """The entry's fields: `footage` [first, last] in ns (null when nothing was sent),
        `footage_s`, `speeds` as [[at_ns, speed], ...], and how the socket `ended`."""
        doc: dict[str, Any] = {
            "footage": (None if self.first_ns is None or self.last_ns is None
                        else [self.first_ns, self.last_ns]),
            "footage_s": round(self.footage_ns / 1e9, 3),
            "speeds": [[at, s] for at, s in self.speeds],
            "ended": ended}
        if self.speeds_unrecorded:
            doc["speeds_unrecorded"] = self.speeds_unrecorded
        return doc


def closed_by(code: int | None) -> str:
    """How a socket closed by its other end (or its connection) ended, from the close code."""
    if code is None:
        return "the socket closed"
    return _CLOSE_CODES.get(code, f"the socket closed (code {code})")
