"""RTP over RTSP's TCP-interleaved framing, back into access units (RFC 2326 10.12,
RFC 3550, RFC 6184 for H.264, RFC 7798 for H.265, RFC 3640 for AAC).

Free of sockets: the client hands over a buffer of whatever bytes arrived, often tens of
RTP packets at once. Each packet's payload is sliced straight out of that buffer once;
an access unit is joined once, when its last packet (the marker bit, or the next
timestamp) is in, and a packet with the timestamp of a unit not yet handed over joins it
even after a marker. That is what lets the recorder read a camera in large chunks
instead of FFmpeg's three `recv` calls per packet, which were most of its CPU.

Every RTP packet passes a `SequenceOrder` (kuzet.rtsp.reorder) first: UDP datagrams come
reordered, duplicated or not at all, and a depacketizer told of a loss drops the NAL unit
it was in the middle of rather than join its two sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from kuzet.rtsp.reorder import SequenceOrder

START_CODE = b"\x00\x00\x00\x01"
MAX_RTSP_REPLY = 16 * 1024
MAX_UNIT_BYTES = 8 * 1024 * 1024  # one frame: a 4K keyframe is about 1 MB

H264_IDR = 5
H264_STAP_A, H264_FU_A = 24, 28
HEVC_IRAP = range(16, 24)
HEVC_AP, HEVC_FU = 48, 49
HEVC_FIRST_NON_SLICE = 32  # NAL types below are slices (VCL)


class StreamSyncError(ValueError):
    """The interleaved byte stream holds something that is neither RTP nor an RTSP reply."""


@dataclass(slots=True)
class AccessUnit:
    """One frame (video) or one AAC frame (audio): Annex B bytes for video."""

    timestamp: int  # RTP clock, 32 bits, as sent
    data: bytes
    keyframe: bool


class Sink(Protocol):
    """What takes one channel's packets: a depacketizer (RTP) or an RTCP reader."""

    def packet(self, buf: bytearray, start: int, stop: int) -> None: ...


def split_interleaved(buf: bytearray, pos: int, end: int, sink: Mapping[int, Sink],
                      replies: list[int] | None = None) -> int:
    """Hand every complete packet in `buf[pos:end]` to its channel's sink.

    Returns where the first incomplete frame starts. RTSP replies (to keep-alives) that
    arrive between packets are skipped; channels nobody listens on are dropped.
    """
    while end - pos >= 4:
        if buf[pos] == 0x24:  # '$'
            size = (buf[pos + 2] << 8) | buf[pos + 3]
            stop = pos + 4 + size
            if stop > end:
                break
            taker = sink.get(buf[pos + 1])
            if taker is not None:
                taker.packet(buf, pos + 4, stop)
            pos = stop
        elif buf[pos:pos + 5] == b"RTSP/"[:end - pos]:
            if end - pos < 5:
                break  # the reply's first bytes only
            head_end = buf.find(b"\r\n\r\n", pos, end)
            if head_end < 0:
                if end - pos > MAX_RTSP_REPLY:
                    raise StreamSyncError("an RTSP reply without end inside the stream")
                break
            stop = head_end + 4 + _content_length(bytes(buf[pos:head_end]))
            if stop > end:
                break
            if replies is not None:
                replies.append(reply_status(bytes(buf[pos:pos + 16])))
            pos = stop
        else:
            raise StreamSyncError(f"lost the interleaved framing at byte 0x{buf[pos]:02x}")
    return pos


def reply_status(line: bytes) -> int:
    """The status code of an RTSP reply starting `line` ("RTSP/1.0 501 ..."); 0 if none."""
    code = line[9:12]
    return int(code) if code.isdigit() else 0


def _content_length(head: bytes) -> int:
    """The reply's body length; a length that is not a decimal number loses the framing
    (a negative one held the reader in one place for good)."""
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            value = value.strip() or b"0"
            if not value.isdigit() or len(value) > 6:
                raise StreamSyncError("an RTSP reply inside the stream with a bad Content-Length")
            return int(value)
    return 0


class Depacketizer:
    """Collects payloads into access units; `ready` is drained by the reader. Packets
    come in through `packet`, in any order; `order` counts what was lost."""

    def __init__(self) -> None:
        self.ready: list[AccessUnit] = []
        self.order = SequenceOrder(self._rtp, self.lost)
        # the medium's payload type, when known: a camera may send others on the same
        # stream (telephone-event beside G.711), which are not this codec's
        self.payload_type: int | None = None
        # a video camera that marks the end of each slice, not of each picture (below)
        self.marks_slices = False
        # the RTP timestamp of the last packet pushed: where the camera's clock was when it
        # sent the newest packet of a batch (dates the batch's RTCP sender report)
        self.newest = -1

    def packet(self, buf: bytearray, start: int, stop: int) -> None:
        """One RTP packet as it arrived: `buf[start:stop]`."""
        if stop - start >= 12 and buf[start] >> 6 == 2:  # RTP version 2
            self.order.push(buf, start, stop)

    def _rtp(self, buf: bytearray, start: int, stop: int) -> None:
        """One RTP packet, in sequence: its payload to `push`."""
        first = buf[start]
        header = 12 + 4 * (first & 0x0F)
        if first & 0x10:  # header extension
            if start + header + 4 > stop:
                return
            header += 4 + 4 * ((buf[start + header + 2] << 8) | buf[start + header + 3])
        if first & 0x20:  # padding: its length is the last byte
            stop -= buf[stop - 1]
        if start + header >= stop:
            return
        if self.payload_type is not None and buf[start + 1] & 0x7F != self.payload_type:
            return
        timestamp = self.newest = int.from_bytes(buf[start + 4:start + 8], "big")
        self.push(buf, start + header, stop, timestamp, bool(buf[start + 1] & 0x80))

    def push(self, buf: bytearray, start: int, stop: int, timestamp: int,
             marker: bool) -> None:
        raise NotImplementedError

    def lost(self) -> None:
        """Packets between the last one pushed and the next are lost."""


class _VideoDepacketizer(Depacketizer):
    """Shared by H.264 and H.265: NAL units gathered until the marker or a new timestamp."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes | bytearray] = []
        self._timestamp = -1
        self._key = False
        self._in_fragment = False  # a fragmented NAL unit has begun and not ended
        self._fragment_at = 0  # where in `_parts` it begins
        self._slices = 0  # whole slices (picture data) in the unit being joined
        self._size = 0  # bytes of payload in it
        self._damaged = False  # packets were lost since the last unit was handed over

    def push(self, buf: bytearray, start: int, stop: int, timestamp: int,
             marker: bool) -> None:
        if timestamp != self._timestamp:
            if self._parts:
                self._flush()
            self._timestamp = timestamp
        elif not self._parts and self.ready and self.ready[-1].timestamp == timestamp:
            # More of a picture after its marker (a camera that marks every slice): an
            # access unit is all that carries one timestamp, so it is opened again.
            last = self.ready.pop()
            # The camera marks each slice's end: a picture's last unit may still grow,
            # so the reader hands it over only once the next has begun.
            self.marks_slices = True
            self._parts = [last.data]
            self._key = last.keyframe
            self._size = len(last.data)
        self._size += stop - start
        if self._size > MAX_UNIT_BYTES:  # a frame never ends (no marker, one time): dropped
            self._parts, self._size, self._in_fragment = [], 0, False
            self._damaged = True
            return
        self._payload(buf, start, stop)
        if marker and self._parts:
            self._flush()

    def lost(self) -> None:
        """A fragmented NAL unit whose middle or end is lost is dropped whole, as one
        whose start is lost: a decoder takes a missing NAL unit better than a torn one."""
        self._damaged = True
        if self._in_fragment:
            del self._parts[self._fragment_at:]
            self._in_fragment = False

    def _payload(self, buf: bytearray, start: int, stop: int) -> None:
        raise NotImplementedError

    def _is_key(self, buf: bytearray, at: int) -> bool:
        """Whether the NAL unit starting at `at` begins a keyframe (IDR, IRAP)."""
        raise NotImplementedError

    def _is_slice(self, buf: bytearray, at: int) -> bool:
        """Whether the NAL unit starting at `at` carries picture data (a VCL unit)."""
        raise NotImplementedError

    def _unit(self, buf: bytearray, start: int, stop: int) -> None:
        self._parts.append(START_CODE)
        self._parts.append(buf[start:stop])
        if self._is_key(buf, start):
            self._key = True
        if self._is_slice(buf, start):
            self._slices += 1

    def _aggregate(self, buf: bytearray, pos: int, stop: int) -> None:
        """STAP-A (H.264) or AP (H.265): whole NAL units, each after its 16-bit size."""
        while pos + 2 < stop:
            size = (buf[pos] << 8) | buf[pos + 1]
            pos += 2
            if size == 0 or pos + size > stop:
                return
            self._unit(buf, pos, pos + size)
            pos += size

    def _flush(self) -> None:
        # After a loss, a unit left with no slice (its SEI or filler data alone, say)
        # is no picture: handed over, it was a frame no decoder shows ("missing picture
        # in access unit"), and the recorder would not see the frames missing.
        if self._slices or not self._damaged:
            self.ready.append(AccessUnit(self._timestamp, b"".join(self._parts), self._key))
        self._parts = []
        self._key = False
        self._in_fragment = False
        self._slices = 0
        self._size = 0
        self._damaged = False


class H264Depacketizer(_VideoDepacketizer):
    """RFC 6184, packetization modes 0 and 1: single NAL units, STAP-A and FU-A."""

    def _payload(self, buf: bytearray, start: int, stop: int) -> None:
        kind = buf[start] & 0x1F
        parts = self._parts
        if kind == H264_FU_A:
            if stop - start < 3:
                return
            fu = buf[start + 1]
            if fu & 0x80:  # start of the NAL unit: rebuild its header
                inner = fu & 0x1F
                self._fragment_at = len(parts)
                parts.append(START_CODE)
                parts.append(bytes(((buf[start] & 0xE0) | inner,)))
                self._in_fragment = True
                if inner == H264_IDR:
                    self._key = True
            elif not self._in_fragment:
                return  # the start was lost: the rest is of no use
            parts.append(buf[start + 2:stop])
            if fu & 0x40:
                self._in_fragment = False
                if 0 < (fu & 0x1F) <= H264_IDR:
                    self._slices += 1
        elif 0 < kind < H264_STAP_A:
            self._unit(buf, start, stop)
        elif kind == H264_STAP_A:
            self._aggregate(buf, start + 1, stop)

    def _is_key(self, buf: bytearray, at: int) -> bool:
        return buf[at] & 0x1F == H264_IDR

    def _is_slice(self, buf: bytearray, at: int) -> bool:
        return 0 < buf[at] & 0x1F <= H264_IDR


class H265Depacketizer(_VideoDepacketizer):
    """RFC 7798 without DONL (sprop-max-don-diff 0, what cameras send): single NAL
    units, aggregation packets and fragmentation units."""

    def _payload(self, buf: bytearray, start: int, stop: int) -> None:
        if stop - start < 3:
            return
        kind = (buf[start] >> 1) & 0x3F
        parts = self._parts
        if kind == HEVC_FU:
            fu = buf[start + 2]
            inner = fu & 0x3F
            if fu & 0x80:
                self._fragment_at = len(parts)
                parts.append(START_CODE)
                parts.append(bytes(((buf[start] & 0x81) | (inner << 1), buf[start + 1])))
                self._in_fragment = True
                if inner in HEVC_IRAP:
                    self._key = True
            elif not self._in_fragment:
                return
            parts.append(buf[start + 3:stop])
            if fu & 0x40:
                self._in_fragment = False
                if inner < HEVC_FIRST_NON_SLICE:
                    self._slices += 1
        elif kind == HEVC_AP:
            self._aggregate(buf, start + 2, stop)
        elif kind < HEVC_AP:
            self._unit(buf, start, stop)

    def _is_key(self, buf: bytearray, at: int) -> bool:
        return (buf[at] >> 1) & 0x3F in HEVC_IRAP

    def _is_slice(self, buf: bytearray, at: int) -> bool:
        return (buf[at] >> 1) & 0x3F < HEVC_FIRST_NON_SLICE


class AacDepacketizer(Depacketizer):
    """RFC 3640 mpeg4-generic in AAC-hbr mode (13-bit sizes, 3-bit indices), what
    cameras and GStreamer send. Each AU is one AAC frame of `frame_samples` samples."""

    def __init__(self, frame_samples: int = 1024) -> None:
        super().__init__()
        self._frame_samples = frame_samples

    def push(self, buf: bytearray, start: int, stop: int, timestamp: int,
             marker: bool) -> None:
        if stop - start < 2:
            return
        header_bits = (buf[start] << 8) | buf[start + 1]
        count = header_bits // 16
        pos = start + 2 + (header_bits + 7) // 8
        if pos > stop:
            return  # the AU headers run past the packet: damaged
        for i in range(count):
            h = start + 2 + 2 * i
            size = ((buf[h] << 8) | buf[h + 1]) >> 3
            if size == 0 or pos + size > stop:
                return  # fragmented or damaged AU: not carried by cameras we know
            ts = (timestamp + i * self._frame_samples) & 0xFFFFFFFF
            self.ready.append(AccessUnit(ts, bytes(buf[pos:pos + size]), True))
            pos += size


class G711Depacketizer(Depacketizer):
    """RFC 3551 PCMA/PCMU: the payload is the samples, one byte each, the timestamp the
    first's; a packet is a unit (the recorder makes AAC of them, kuzet.ingest.sound)."""

    def push(self, buf: bytearray, start: int, stop: int, timestamp: int,
             marker: bool) -> None:
        if stop > start:
            self.ready.append(AccessUnit(timestamp, bytes(buf[start:stop]), True))


class TimestampUnwrapper:
    """32-bit RTP timestamps onto a 64-bit line starting at `first` for the first packet.

    A step of more than half the 32-bit range counts as backwards: that is how a wrap
    and a real jump back are told apart, as RFC 3550 A.1 does for sequence numbers.
    """

    def __init__(self, first: int = 0) -> None:
        self._last: int | None = None
        self._value = first

    def __call__(self, timestamp: int) -> int:
        if self._last is None:
            self._last = timestamp
            return self._value
        step = (timestamp - self._last) & 0xFFFFFFFF
        if step >= 0x80000000:
            step -= 0x100000000
        self._last = timestamp
        self._value += step
        return self._value
