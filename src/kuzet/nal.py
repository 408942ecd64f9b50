"""H.264 / H.265 NAL unit helpers over Annex B byte streams.

The recorder needs two facts from the bitstream without decoding it: where NAL units
start (to packetize for RTP and to find parameter sets) and whether a keyframe carries
parameter sets different from the segment's (a resolution or profile change, which must
start a new file rather than corrupt the current one). Pure, and importing nothing of
Kuzet's: the RTSP protocol modules, the ingest and the recorder all read bitstreams here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

Codec = Literal["h264", "hevc"]

H264_SPS, H264_PPS = 7, 8
HEVC_VPS, HEVC_SPS, HEVC_PPS = 32, 33, 34
HEVC_RASL = (8, 9)  # leading pictures skipped when decoding starts at their keyframe
HEVC_OPEN_KEYFRAMES = (16, 17, 18, 21)  # BLA and CRA: keyframes RASL pictures may follow
HEVC_FIRST_NON_SLICE = 32


def split_annexb(data: bytes) -> Iterator[bytes]:
    """Yield the NAL units of an Annex B stream, start codes removed."""
    n = len(data)
    start = _next_start_code(data, 0)
    if start is None:
        if data:
            yield data
        return
    pos = start[1]
    while pos < n:
        nxt = _next_start_code(data, pos)
        if nxt is None:
            yield data[pos:]
            return
        end, following = nxt
        unit = data[pos:end]
        if unit:
            yield unit
        pos = following


def _next_start_code(data: bytes, pos: int) -> tuple[int, int] | None:
    """Return (index of the start code, index after it), or None."""
    i = data.find(b"\x00\x00\x01", pos)
    if i < 0:
        return None
    # A zero byte before a 3-byte start code makes it a 4-byte one.
    begin = i - 1 if i > pos and data[i - 1] == 0 else i
    return begin, i + 3


def nal_type(codec: Codec, unit: bytes) -> int:
    if not unit:
        return -1
    if codec == "h264":
        return unit[0] & 0x1F
    return (unit[0] >> 1) & 0x3F


def parameter_sets(codec: Codec, data: bytes) -> tuple[bytes, ...]:
    """The parameter-set NAL units (VPS/SPS/PPS) found in an Annex B access unit, each
    once, in order: cameras that slice a picture repeat them before every slice."""
    wanted = {H264_SPS, H264_PPS} if codec == "h264" else {HEVC_VPS, HEVC_SPS, HEVC_PPS}
    return tuple(dict.fromkeys(u for u in split_annexb(data) if nal_type(codec, u) in wanted))


def to_annexb(units: tuple[bytes, ...]) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + u for u in units)


def first_slice_type(codec: Codec, data: bytes) -> int | None:
    """The NAL type of an access unit's first slice (None: it holds none)."""
    for unit in split_annexb(data):
        kind = nal_type(codec, unit)
        if (codec == "h264" and 1 <= kind <= 5) or (codec == "hevc"
                                                   and 0 <= kind < HEVC_FIRST_NON_SLICE):
            return kind
    return None
