"""Putting a camera's RTP packets and frames back in order, free of sockets.

`SequenceOrder` orders one RTP stream's packets by their 16-bit sequence numbers and
counts what never came (UDP loses and reorders; TCP never does, and costs one compare a
packet here). `DecodingTimes` makes up the decoding times RTP does not carry for a
camera that sends B-frames: frames arrive in decoding order with presentation times only.
`LeadingPictures` drops the H.265 pictures that cannot be decoded where a run begins.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from kuzet.nal import HEVC_RASL, first_slice_type

SEQ_MOD = 0x10000
HALF = 0x8000
REORDER_PACKETS = 32  # held out of order before the missing ones count as lost
MAX_DROPOUT = 3000  # a jump ahead further than this is a new sequence (RFC 3550 A.1)
MAX_MISORDER = 100  # a packet this far behind is late; further, a new sequence

Deliver = Callable[[bytearray, int, int], None]


class SequenceOrder:
    """Hands one RTP stream's packets to `deliver` in sequence order, exactly once.

    A packet that is next in sequence goes straight through (the case of every packet
    over TCP and nearly every one over a LAN), sliced out of the caller's buffer without a
    copy. One ahead of a gap is copied and held until the gap fills, until more than
    `window` are held, or until `flush` (the end of a batch); then the missing ones are
    given up: counted in `lost`, and `on_loss` is called before the next packet goes on,
    so the depacketizer never glues the two sides of a hole together. A packet already
    delivered or given up is dropped and counted in `duplicates`.
    """

    __slots__ = ("deliver", "duplicates", "expected", "first", "held", "lost", "on_loss",
                 "ssrc", "window")

    def __init__(self, deliver: Deliver, on_loss: Callable[[], None],
                 window: int = REORDER_PACKETS) -> None:
        self.deliver = deliver
        self.on_loss = on_loss
        self.window = window
        self.expected = -1  # the next sequence number; -1 before the first packet
        self.held: dict[int, bytearray] = {}
        self.lost = 0
        self.duplicates = 0
        self.ssrc = 0  # the sender's, from the first packet (for receiver reports)
        self.first = 0  # the first packet's sequence number

    def push(self, buf: bytearray, start: int, stop: int) -> None:
        """One RTP packet, `buf[start:stop]` (its header checked by the caller)."""
        seq = (buf[start + 2] << 8) | buf[start + 3]
        if seq == self.expected and not self.held:
            self.expected = (seq + 1) & 0xFFFF
            self.deliver(buf, start, stop)
        else:
            self._out_of_line(seq, buf, start, stop)

    def _out_of_line(self, seq: int, buf: bytearray, start: int, stop: int) -> None:
        if self.expected < 0:
            self.ssrc = int.from_bytes(buf[start + 8:start + 12], "big")
            self.first = seq
            self.expected = (seq + 1) & 0xFFFF
            self.deliver(buf, start, stop)
            return
        ahead = (seq - self.expected) & 0xFFFF
        if ahead >= HALF:  # behind what was handed on
            if SEQ_MOD - ahead <= MAX_MISORDER:
                self.duplicates += 1
                return
            self._restart(seq, buf, start, stop)
        elif ahead > MAX_DROPOUT:
            self._restart(seq, buf, start, stop)
        elif seq in self.held:
            self.duplicates += 1
        else:
            self.held[seq] = buf[start:stop]
            self._release()
            if len(self.held) > self.window:
                self._skip()

    def _restart(self, seq: int, buf: bytearray, start: int, stop: int) -> None:
        """The camera began a new sequence (it restarted its stream): what is held goes
        on first, and the new sequence starts here."""
        self.flush()
        self.on_loss()
        self.expected = (seq + 1) & 0xFFFF
        self.deliver(buf, start, stop)

    def _release(self) -> None:
        """Hand on the held packets that are now next in sequence."""
        held = self.held
        packet = held.pop(self.expected, None)
        while packet is not None:
            self.expected = (self.expected + 1) & 0xFFFF
            self.deliver(packet, 0, len(packet))
            packet = held.pop(self.expected, None)

    def _skip(self) -> None:
        """Give up on the gap before the first held packet."""
        first = min(self.held, key=lambda s: (s - self.expected) & 0xFFFF)
        self.lost += (first - self.expected) & 0xFFFF
        self.expected = first
        self.on_loss()
        self._release()

    def flush(self) -> None:
        """Give up on every gap: the batch's packets are all in, and a packet still
        missing after them is lost (a LAN reorders within microseconds, not batches)."""
        while self.held:
            self._skip()


class DecodingTimes:
    """Decoding times for frames that arrive in decoding order with presentation times
    (RTP's, unwrapped), for a camera whose frames come at most `delay` out of order.

    Each frame's time goes into a min-heap; once it holds more than `delay`, the smallest
    is the next decoding time. The first `delay` frames of a run get times before the
    first one's, a frame interval apart. That keeps dts <= pts and dts strictly rising
    as long as the camera's reorder depth stays within `delay`. `__call__` returns None
    when it did not (a frame older than a decoding time already handed out).
    """

    def __init__(self, delay: int, interval: int) -> None:
        self.delay = delay
        self.interval = interval
        self._heap: list[int] = []
        self._first = 0
        self._count = 0
        self.last = 0  # the last decoding time handed out

    def restart(self) -> None:
        """After a timestamp jump: the next frame starts a new run."""
        self._heap.clear()
        self._count = 0

    def __call__(self, pts: int) -> int | None:
        if self._count and pts <= self.last:
            return None
        heap = self._heap
        if self._count < self.delay:
            if not self._count:
                self._first = pts
            heapq.heappush(heap, pts)
            dts = self._first - (self.delay - self._count) * self.interval
        else:
            dts = heapq.heappushpop(heap, pts)
        self._count += 1
        self.last = dts
        return dts


class LeadingPictures:
    """Drops the leading pictures (RASL) that follow the H.265 keyframe a run starts at.

    An open GOP (x265's default) begins at a CRA keyframe, and the pictures right after
    it in decoding order show before it and refer to the GOP before: where decoding
    starts at that CRA, no decoder can show them (ITU-T H.265, 8.3.1 NoRaslOutputFlag),
    and their presentation times lie before the keyframe's, under the decoding times
    `DecodingTimes` gave the run's first frames (measured: x265 `open-gop=1:bframes=3`,
    CRA at 24 then RASL at 22, 21, 23; the first run's dts were 22 and 23). At a CRA
    inside a run they decode and stay. `start` at the first frame of a run; `skip` for
    every frame (one slice header read while a run's leading pictures may still come).
    """

    __slots__ = ("active", "hevc")

    def __init__(self, hevc: bool) -> None:
        self.hevc = hevc
        self.active = False

    def start(self, keyframe: bool) -> None:
        self.active = self.hevc and keyframe

    def skip(self, keyframe: bool, data: bytes) -> bool:
        """Whether this frame is a leading picture of the run's first keyframe."""
        if not self.active:
            return False
        if not keyframe and first_slice_type("hevc", data) in HEVC_RASL:
            return True
        self.active = False
        return False


def reorder_depth(timestamps: list[int]) -> int:
    """The most earlier frames with a later presentation time any frame has: how many
    frames a decoder must hold back (0 for a camera without B-frames)."""
    return max((sum(1 for earlier in timestamps[:i] if earlier > t)
                for i, t in enumerate(timestamps)), default=0)
