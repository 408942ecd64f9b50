"""RTP over RTSP's TCP-interleaved framing, back into access units (RFC 2326 10.12,
RFC 3550, RFC 6184 for H.264, RFC 7798 for H.265, RFC 3640 for AAC).

Free of sockets: the client hands over a buffer of whatever bytes arrived, often tens of
RTP packets at once. Each packet's payload is sliced straight out of that buffer once;
an access unit is joined once, when its last packet (the marker bit, or the next
timestamp) is in, and a packet with the timestamp of a unit not yet handed over joins it
even after a marker. That is what lets the recorder read a camera in large chunks
instead of FFmpeg's three `recv` calls per packet, which were most of its CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

START_CODE = b"\x00\x00\x00\x01"
MAX_RTSP_REPLY = 16 * 1024

H264_IDR = 5
H264_STAP_A, H264_FU_A = 24, 28
HEVC_IRAP = range(16, 24)
HEVC_AP, HEVC_FU = 48, 49


class StreamSyncError(ValueError):
    """The interleaved byte stream holds something that is neither RTP nor an RTSP reply."""


@dataclass(slots=True)
class AccessUnit:
    """One frame (video) or one AAC frame (audio): Annex B bytes for video."""

    timestamp: int  # RTP clock, 32 bits, as sent
    data: bytes
    keyframe: bool


def split_interleaved(buf: bytearray, pos: int, end: int,
                      sink: dict[int, Depacketizer]) -> int:
    """Hand every complete RTP packet in `buf[pos:end]` to its channel's depacketizer.

    Returns where the first incomplete frame starts. RTSP replies (to keep-alives) that
    arrive between packets are skipped; channels nobody listens on (RTCP) are dropped.
    """
    while end - pos >= 4:
        if buf[pos] == 0x24:  # '$'
            size = (buf[pos + 2] << 8) | buf[pos + 3]
            stop = pos + 4 + size
            if stop > end:
                break
            depacketizer = sink.get(buf[pos + 1])
            if depacketizer is not None and size >= 12:
                _rtp(buf, pos + 4, stop, depacketizer)
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
            pos = stop
        else:
            raise StreamSyncError(f"lost the interleaved framing at byte 0x{buf[pos]:02x}")
    return pos


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


def _rtp(buf: bytearray, start: int, stop: int, depacketizer: Depacketizer) -> None:
    first = buf[start]
    if first >> 6 != 2:
        return  # not RTP version 2
    header = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension
        if start + header + 4 > stop:
            return
        header += 4 + 4 * ((buf[start + header + 2] << 8) | buf[start + header + 3])
    if first & 0x20:  # padding: its length is the last byte
        stop -= buf[stop - 1]
    if start + header >= stop:
        return
    second = buf[start + 1]
    timestamp = int.from_bytes(buf[start + 4:start + 8], "big")
    depacketizer.push(buf, start + header, stop, timestamp, bool(second & 0x80))


class Depacketizer:
    """Collects payloads into access units; `ready` is drained by the reader."""

    def __init__(self) -> None:
        self.ready: list[AccessUnit] = []

    def push(self, buf: bytearray, start: int, stop: int, timestamp: int,
             marker: bool) -> None:
        raise NotImplementedError


class _VideoDepacketizer(Depacketizer):
    """Shared by H.264 and H.265: NAL units gathered until the marker or a new timestamp."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes | bytearray] = []
        self._timestamp = -1
        self._key = False
        self._in_fragment = False  # a fragmented NAL unit has begun and not ended

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
            self._parts = [last.data]
            self._key = last.keyframe
        self._payload(buf, start, stop)
        if marker and self._parts:
            self._flush()

    def _payload(self, buf: bytearray, start: int, stop: int) -> None:
        raise NotImplementedError

    def _is_key(self, buf: bytearray, at: int) -> bool:
        """Whether the NAL unit starting at `at` begins a keyframe (IDR, IRAP)."""
        raise NotImplementedError

    def _unit(self, buf: bytearray, start: int, stop: int) -> None:
        self._parts.append(START_CODE)
        self._parts.append(buf[start:stop])
        if self._is_key(buf, start):
            self._key = True

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
        self.ready.append(AccessUnit(self._timestamp, b"".join(self._parts), self._key))
        self._parts = []
        self._key = False
        self._in_fragment = False


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
        elif 0 < kind < H264_STAP_A:
            self._unit(buf, start, stop)
        elif kind == H264_STAP_A:
            self._aggregate(buf, start + 1, stop)

    def _is_key(self, buf: bytearray, at: int) -> bool:
        return buf[at] & 0x1F == H264_IDR


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
        elif kind == HEVC_AP:
            self._aggregate(buf, start + 2, stop)
        elif kind < HEVC_AP:
            self._unit(buf, start, stop)

    def _is_key(self, buf: bytearray, at: int) -> bool:
        return (buf[at] >> 1) & 0x3F in HEVC_IRAP


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
        for i in range(count):
            h = start + 2 + 2 * i
            size = ((buf[h] << 8) | buf[h + 1]) >> 3
            if size == 0 or pos + size > stop:
                return  # fragmented or damaged AU: not carried by cameras we know
            ts = (timestamp + i * self._frame_samples) & 0xFFFFFFFF
            self.ready.append(AccessUnit(ts, bytes(buf[pos:pos + size]), True))
            pos += size


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
