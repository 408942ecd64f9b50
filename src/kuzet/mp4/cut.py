"""A recorded fragment cut short at an instant, so that no sample at or after it leaves.

The archive socket sends a caller no footage past the end of their window (a grant's,
clause 3.5.5, or the range they asked for), and a GOP fragment (a second or more) often
runs across that end. Only boxes change, as in an export (kuzet.mp4.reader.moved): each
`trun` keeps its first entries (the sample count and the box sizes follow), and its data
offset points into a shorter `mdat` that holds the kept samples' bytes as they lay. The
samples of a track run in decode order, so a prefix of them decodes; the prefix stops at
the first sample shown at or after the cut, so with reordered frames a few before the
cut may go too, never one after it (ISO/IEC 14496-12, 8.8). Pure functions of bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

from kuzet.mp4.boxes import FragmentError, children, walk
from kuzet.mp4.reader import DeclaredTrack

NS = 1_000_000_000
# tfhd flags (ISO/IEC 14496-12, 8.8.7)
_BASE_OFFSET, _DESC_INDEX, _DURATION, _SIZE = 0x1, 0x2, 0x8, 0x10
_BASE_IS_MOOF = 0x020000
# trun flags (8.8.8): the per-sample fields, in the order they are stored
_DATA_OFFSET, _FIRST_FLAGS = 0x1, 0x4
_SAMPLE_DURATION, _SAMPLE_SIZE, _SAMPLE_FLAGS, _CTO = 0x100, 0x200, 0x400, 0x800
_SAMPLE_FIELDS = (_SAMPLE_DURATION, _SAMPLE_SIZE, _SAMPLE_FLAGS, _CTO)


@dataclass
class _Run:
    """One `trun` as kept: its rewritten box and the bytes of its kept samples."""

    box: bytearray
    offset_at: int  # where its data offset lies in `box`
    data: bytes


def cut(fragment: bytes, tracks: Mapping[int, DeclaredTrack], until_ns: int) -> bytes | None:
    """`fragment` (moof + mdat) without its samples shown at or after `until_ns` (media
    time of the file, in ns); the fragment itself when nothing lies there, None when
    nothing is left. FragmentError for a layout the recorder does not write (the caller
    then sends nothing of the fragment). `tracks`: the init segment's, by track ID."""
    boxes = walk(fragment)
    moof, after = next(boxes, None), next(boxes, None)
    if moof is None or moof.type != "moof" or after is None:
        raise FragmentError("a fragment starts with a moof followed by an mdat")
    if after.type != "mdat":
        raise FragmentError("the moof is not followed by an mdat")
    moof_size = moof.size
    out = bytearray(fragment[:8])
    runs: list[tuple[int, _Run]] = []  # (where the run's box starts in `out`, the run)
    dropped = False
    for box, off, size in children(fragment, 8, moof_size):
        if box != "traf":
            out += fragment[off:off + size]
            continue
        kept, lost = _traf(fragment, off, size, tracks, until_ns)
        dropped = dropped or lost
        if not kept:
            continue
        traf_at = len(out)
        out += b"\0\0\0\0traf"
        for part in kept:
            if isinstance(part, _Run):
                runs.append((len(out), part))
                out += part.box
            else:
                out += part
        struct.pack_into(">I", out, traf_at, len(out) - traf_at)
    if not dropped:
        return fragment
    if not runs:
        return None
    struct.pack_into(">I", out, 0, len(out))
    mdat = bytearray()
    for at, run in runs:
        struct.pack_into(">i", out, at + run.offset_at, len(out) + 8 + len(mdat))
        mdat += run.data
    return bytes(out) + struct.pack(">I4s", len(mdat) + 8, b"mdat") + bytes(mdat)


def _traf(frag: bytes, start: int, size: int, tracks: Mapping[int, DeclaredTrack],
          until_ns: int) -> tuple[list[bytes | _Run], bool]:
    """A traf's boxes with its runs cut (runs left empty are left out; nothing when no run
    is left), and whether any sample was dropped."""
    parts: list[bytes | _Run] = []
    track: _TrafTrack | None = None
    dropped = False
    for kind, off, box_size in children(frag, start + 8, start + size):
        if kind == "tfhd":
            track = _tfhd(frag, off, tracks)
            parts.append(frag[off:off + box_size])
        elif kind == "tfdt" and track is not None:
            track.t = struct.unpack_from(">Q" if frag[off + 8] == 1 else ">I", frag, off + 12)[0]
            parts.append(frag[off:off + box_size])
        elif kind == "trun" and track is not None:
            run = _trun(frag, off, track, until_ns)
            dropped = dropped or track.stopped
            if run is not None:
                parts.append(run)
        else:
            raise FragmentError(f"cannot cut a traf holding {kind}")
    if not any(isinstance(p, _Run) for p in parts):
        return [], dropped
    return parts, dropped


@dataclass
class _TrafTrack:
    """A traf's track while its runs are read: sample defaults and the decode time of the
    next sample; `stopped` once a sample at or after the cut was met."""

    declared: DeclaredTrack
    duration: int
    size: int
    t: int | None = None  # from the tfdt, which a run needs before it
    stopped: bool = False


def _tfhd(frag: bytes, off: int, tracks: Mapping[int, DeclaredTrack]) -> _TrafTrack:
    return _TrafTrack(*traf_defaults(frag, off, tracks))


def traf_defaults(frag: bytes, off: int,
                  tracks: Mapping[int, DeclaredTrack]) -> tuple[DeclaredTrack, int, int]:
    """The track of the `tfhd` at `off` and its samples' default duration and size;
    FragmentError unless its data offsets count from the moof, as the recorder writes."""
    flags = int.from_bytes(frag[off + 9:off + 12], "big")
    if flags & _BASE_OFFSET or not flags & _BASE_IS_MOOF:
        raise FragmentError("data offsets are not from the moof")
    track_id = struct.unpack_from(">I", frag, off + 12)[0]
    if track_id not in tracks:
        raise FragmentError(f"track {track_id} is not in the init segment")
    track = tracks[track_id]
    at = off + 16 + (4 if flags & _DESC_INDEX else 0)
    duration, size = track.default_duration, track.default_size
    if flags & _DURATION:
        duration = struct.unpack_from(">I", frag, at)[0]
        at += 4
    if flags & _SIZE:
        size = struct.unpack_from(">I", frag, at)[0]
    return track, duration, size


def _trun(frag: bytes, off: int, track: _TrafTrack, until_ns: int) -> _Run | None:
    """The run's kept prefix (None: nothing kept); moves the track's decode time past the
    whole run."""
    version = frag[off + 8]
    flags = int.from_bytes(frag[off + 9:off + 12], "big")
    if not flags & _DATA_OFFSET:
        raise FragmentError("a trun without a data offset")
    if track.t is None:
        raise FragmentError("a trun before its tfdt")
    t = track.t
    count, data_offset = struct.unpack_from(">Ii", frag, off + 12)
    head = 20 + (4 if flags & _FIRST_FLAGS else 0)
    fields = [f for f in _SAMPLE_FIELDS if flags & f]
    entry = 4 * len(fields)
    kept = data_size = 0
    for i in range(count):
        values = dict(zip(fields, struct.unpack_from(">" + "I" * len(fields), frag,
                                                     off + head + i * entry), strict=True))
        shown = t + _offset(values.get(_CTO, 0), version)
        track.stopped = track.stopped or shown * NS >= until_ns * track.declared.timescale
        if not track.stopped:
            kept += 1
            data_size += values.get(_SAMPLE_SIZE, track.size)
        t += values.get(_SAMPLE_DURATION, track.duration)
    track.t = t
    if kept == 0:
        return None
    box = bytearray(frag[off:off + head + kept * entry])
    struct.pack_into(">I", box, 0, len(box))
    struct.pack_into(">I", box, 12, kept)
    data = frag[data_offset:data_offset + data_size]
    if data_offset < 0 or len(data) != data_size:
        raise FragmentError("a trun's samples lie outside the fragment")
    return _Run(box, 16, data)


def _offset(value: int, version: int) -> int:
    """A composition offset: unsigned in a version 0 trun, signed in version 1."""
    return value - (1 << 32) if version == 1 and value >= 1 << 31 else value
