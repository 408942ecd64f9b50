"""The fragment an export or a playback starts at, without the H.265 pictures that its
keyframe cannot show.

An H.265 camera with open GOPs (x265's default) starts most GOPs at a CRA keyframe, and
the pictures after it in decoding order that show before it (RASL, ITU-T H.265 7.4.2.2)
refer to the GOP before. The recorder leaves them out where a segment starts at such a
keyframe (kuzet.recorder.supervisor); inside a segment they stay, since they decode
there. An export or a playback that starts at a later keyframe of the segment starts a
decoder at that CRA, which skips them (8.3.1, NoRaslOutputFlag): the file would hold
frames nobody can show, counted as exported all the same, and MSE players stall on the
hole in presentation times. So the first fragment is rewritten without them: only boxes
change and the other pictures' bytes are copied as they lay (as kuzet.mp4.cut does for
a cut at the end). The keyframe's duration takes over the removed pictures', so every
later sample keeps its decoding and presentation time. Pure functions of bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from kuzet.mp4.boxes import FragmentError, children
from kuzet.mp4.cut import traf_defaults
from kuzet.mp4.reader import (
    TRUN_CTS,
    TRUN_DATA_OFFSET,
    TRUN_DURATION,
    TRUN_FIRST_FLAGS,
    TRUN_FLAGS,
    TRUN_SIZE,
    DeclaredTrack,
    SampleEntry,
)
from kuzet.nal import HEVC_FIRST_NON_SLICE, HEVC_OPEN_KEYFRAMES, HEVC_RASL

_PER_SAMPLE = (TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS)


def without_leading(fragment: bytes, tracks: Mapping[int, DeclaredTrack], video: DeclaredTrack,
                    entry: SampleEntry) -> tuple[bytes, int]:
    """`fragment` (moof + mdat) without the leading pictures of the keyframe its video
    starts at, and how many went. The fragment itself and 0 where there are none: not
    H.265, no CRA or BLA first, or a layout the recorder does not write (then players skip
    the pictures, as before)."""
    if entry.codec != "hevc" or len(entry.config) < 22:
        return fragment, 0
    length_size = (entry.config[21] & 3) + 1
    try:
        return _rewrite(fragment, tracks, video, length_size)
    except (FragmentError, struct.error, IndexError):
        return fragment, 0


def _rewrite(fragment: bytes, tracks: Mapping[int, DeclaredTrack], video: DeclaredTrack,
             length_size: int) -> tuple[bytes, int]:
    boxes = list(children(fragment, 0, len(fragment)))
    if len(boxes) != 2 or boxes[0].type != "moof" or boxes[1].type != "mdat":
        return fragment, 0
    moof, mdat = boxes
    found = _video_trun(fragment, moof.end, tracks, video)
    if found is None:
        return fragment, 0
    traf_at, trun_at, trun_size, default_duration, default_size = found
    version = fragment[trun_at + 8]
    flags = int.from_bytes(fragment[trun_at + 9:trun_at + 12], "big")
    if not flags & TRUN_DATA_OFFSET:
        return fragment, 0
    count, data_offset = struct.unpack_from(">Ii", fragment, trun_at + 12)
    head = 20 + (4 if flags & TRUN_FIRST_FLAGS else 0)
    fields = [f for f in _PER_SAMPLE if flags & f]
    rows = [dict(zip(fields, struct.unpack_from(">" + "I" * len(fields), fragment,
                                                 trun_at + head + i * 4 * len(fields)),
                     strict=True)) for i in range(count)]
    durations = [r.get(TRUN_DURATION, default_duration) for r in rows]
    sizes = [r.get(TRUN_SIZE, default_size) for r in rows]
    starts = [data_offset + sum(sizes[:i]) for i in range(count)]
    if count < 2 or starts[-1] + sizes[-1] > mdat.end:
        return fragment, 0
    if _slice_type(fragment, starts[0], sizes[0], length_size) not in HEVC_OPEN_KEYFRAMES:
        return fragment, 0
    k = 0
    while k + 1 < count and _slice_type(fragment, starts[k + 1], sizes[k + 1],
                                        length_size) in HEVC_RASL:
        k += 1
    if not k:
        return fragment, 0
    # The trun again with each sample's duration and size (the keyframe's duration now
    # spans the pictures that went), its other fields as they were.
    new_flags = flags | TRUN_DURATION | TRUN_SIZE
    kept = [0, *range(k + 1, count)]
    out_fields = [f for f in _PER_SAMPLE if new_flags & f]
    trun = bytearray(fragment[trun_at:trun_at + head])
    struct.pack_into(">I", trun, 8, (version << 24) | new_flags)
    struct.pack_into(">I", trun, 12, len(kept))
    for i in kept:
        values = {**rows[i], TRUN_DURATION: durations[i], TRUN_SIZE: sizes[i]}
        if i == 0:
            values[TRUN_DURATION] = sum(durations[:k + 1])
        trun += struct.pack(">" + "I" * len(out_fields), *(values[f] for f in out_fields))
    struct.pack_into(">I", trun, 0, len(trun))
    grown = len(trun) - trun_size
    new_moof = bytearray(fragment[:trun_at]) + trun + fragment[trun_at + trun_size:moof.end]
    for at in (0, traf_at):  # the moof's size and the traf's
        struct.pack_into(">I", new_moof, at, struct.unpack_from(">I", new_moof, at)[0] + grown)
    gone_from, gone_to = starts[1], starts[k] + sizes[k]
    _move_offsets(new_moof, grown, gone_from, gone_to)
    body = fragment[mdat.offset + 8:gone_from] + fragment[gone_to:mdat.end]
    return bytes(new_moof) + struct.pack(">I4s", len(body) + 8, b"mdat") + body, k


def _video_trun(data: bytes, moof_end: int, tracks: Mapping[int, DeclaredTrack],
                video: DeclaredTrack) -> tuple[int, int, int, int, int] | None:
    """Where the video's traf and its (one) trun lie, the trun's size and the samples'
    default duration and size; None when the video has no traf or several runs."""
    found = None
    for traf in children(data, 8, moof_end):
        if traf.type != "traf":
            continue
        track, duration, size = None, 0, 0
        truns = []
        for box in children(data, traf.offset + 8, traf.end):
            if box.type == "tfhd":
                track, duration, size = traf_defaults(data, box.offset, tracks)
            elif box.type == "trun":
                truns.append(box)
        if track is video and len(truns) == 1:
            found = (traf.offset, truns[0].offset, truns[0].size, duration, size)
    return found


def _move_offsets(moof: bytearray, grown: int, gone_from: int, gone_to: int) -> None:
    """Each trun's data offset in the rewritten `moof`, which grew by `grown` bytes, over
    an mdat that lost the bytes [gone_from, gone_to) of the old fragment."""
    for traf in children(moof, 8, len(moof)):
        if traf.type != "traf":
            continue
        for box in children(moof, traf.offset + 8, traf.end):
            if box.type != "trun" or not int.from_bytes(moof[box.offset + 9:box.offset + 12],
                                                       "big") & TRUN_DATA_OFFSET:
                continue
            old = struct.unpack_from(">i", moof, box.offset + 16)[0]
            new = old + grown - (gone_to - gone_from if old >= gone_to else 0)
            struct.pack_into(">i", moof, box.offset + 16, new)


def _slice_type(data: bytes, at: int, size: int, length_size: int) -> int | None:
    """The NAL type of the first slice of a sample of length-prefixed NAL units."""
    end = at + size
    while at + length_size <= end:
        length = int.from_bytes(data[at:at + length_size], "big")
        at += length_size
        if length == 0 or at + length > end:
            return None
        kind = (data[at] >> 1) & 0x3F
        if kind < HEVC_FIRST_NON_SLICE:
            return kind
        at += length
    return None
