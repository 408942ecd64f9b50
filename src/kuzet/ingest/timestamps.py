"""Timestamps and access units for the video packets FFmpeg's RTSP client hands over.

FFmpeg's RTSP client hands over the first access unit of a session before it can place
it in time (its dts and pts are unset). That packet is the keyframe the whole first GOP
depends on, so dropping it would lose a GOP on every connect. It is held until the next
timed packet arrives and then placed one frame interval before it, or at the same time
when the timed packet is the rest of the same picture (see below).

FFmpeg's H.264 parser also cuts one picture into several packets when the camera repeats
its parameter sets before every slice of a keyframe (x264's sliced threads, many
cameras): each SPS after a slice looks to it like the start of a new picture. Those
packets share one timestamp, and the later ones do not start a picture, so
`join_access_units` puts them back together before the recorder sees them: parts of one
picture are one frame, never a timestamp jump. Whole pictures sent with one frozen
timestamp are not joined; the recorder still takes that for a jump.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import av

from kuzet.nal import Codec, split_annexb

H264_SLICE, H264_IDR, H264_AUD = 1, 5, 9
HEVC_AUD = 35


def starts_picture(codec: Codec, data: bytes) -> bool:
    """Whether an Annex B packet begins a new picture: it carries an access unit
    delimiter, or its first slice is the picture's first (H.264 first_mb_in_slice 0,
    H.265 first_slice_segment_in_pic_flag). A packet without a slice counts as a start."""
    for unit in split_annexb(data):
        if codec == "h264":
            if len(unit) < 2:
                continue
            kind = unit[0] & 0x1F
            if kind == H264_AUD:
                return True
            if H264_SLICE <= kind <= H264_IDR:
                return bool(unit[1] & 0x80)  # ue(v) first_mb_in_slice is 0: a single 1 bit
        else:
            if len(unit) < 3:
                continue
            kind = (unit[0] >> 1) & 0x3F
            if kind == HEVC_AUD:
                return True
            if kind < 32:  # a slice segment
                return bool(unit[2] & 0x80)
    return True


def fill_missing_timestamps(packets: Iterable[Any], video_index: int,
                            step_ticks: int, codec: Codec | None = None) -> Iterator[Any]:
    """Place the untimed packets a session starts with. With `codec`, a held packet that
    the next one continues (the next does not start a picture) shares its time."""
    held: list[Any] = []
    last_dts: int | None = None
    for packet in packets:
        if not packet.size:
            continue  # the demuxer's empty end-of-stream packet
        if packet.stream_index != video_index:
            yield packet
            continue
        if packet.dts is None:
            if last_dts is None:
                held.append(packet)
                continue
            packet.dts = last_dts + step_ticks
            if packet.pts is None:
                packet.pts = packet.dts
        if held:
            dts = packet.dts
            later_starts = codec is None or starts_picture(codec, bytes(packet))
            for early in reversed(held):
                if later_starts:
                    dts -= step_ticks
                early.dts = early.pts = dts
                later_starts = codec is None or starts_picture(codec, bytes(early))
            yield from held
            held.clear()
        last_dts = packet.dts
        yield packet


# A picture is at most this many parts (slices) joined; a camera whose timestamps froze
# sends whole pictures with one time, which start a picture and are never joined.
MAX_PARTS = 64
MAX_WAITING = 64  # sound packets kept behind a held keyframe before it goes on unjoined


def join_access_units(packets: Iterable[Any], video_index: int,
                      codec: Codec) -> Iterator[Any]:
    """A keyframe FFmpeg's parser cut into packets, one a slice (each slice carrying
    parameter sets), joined back into one access unit: a later packet with the same dts
    and pts that does not start a picture is more of it (Annex B bytes one after the
    other). Only a keyframe waits for the next packet to show whether more follows;
    every other frame goes on at once (live view waits for nothing else), and sound that
    arrives while a keyframe waits stays behind it, so the order is kept."""
    held: Any = None
    parts: list[Any] = []
    waiting: list[Any] = []
    for packet in packets:
        if packet.stream_index != video_index:
            if held is None:
                yield packet
                continue
            waiting.append(packet)
            if len(waiting) <= MAX_WAITING:
                continue
            packet = None  # the picture froze while sound goes on: let the keyframe go
        elif (held is not None and packet.dts is not None and packet.dts == held.dts
              and packet.pts == held.pts and len(parts) < MAX_PARTS
              and not starts_picture(codec, bytes(packet))):
            parts.append(packet)
            continue
        if held is not None:
            yield _joined(held, parts)
            yield from waiting
            held, parts, waiting = None, [], []
        if packet is None:
            continue
        if packet.is_keyframe:
            held = packet
        else:
            yield packet
    if held is not None:
        yield _joined(held, parts)
        yield from waiting


def _joined(first: Any, rest: list[Any]) -> Any:
    if not rest:
        return first
    packet = av.Packet(b"".join(bytes(p) for p in (first, *rest)))
    if first.stream is not None:
        packet.stream = first.stream  # the stream index with it
    if first.time_base is not None:
        packet.time_base = first.time_base
    packet.dts, packet.pts = first.dts, first.pts
    packet.duration = first.duration
    packet.is_keyframe = first.is_keyframe or any(p.is_keyframe for p in rest)
    return packet
