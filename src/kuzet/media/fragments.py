"""Inside a segment file's boxes: its tracks (from `moov`) and each fragment's decode
time and sample count (from `moof`), and a fragment moved to another place on a timeline.

An export joins fragments of many segment files into one file without touching a byte of
the pictures: only the `moof` header changes (its sequence number and each track's
`tfdt`), and the `mdat` is copied as it lies (ISO/IEC 14496-12, 8.8). Pure functions of
bytes, so they are tested without files.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"moof", b"traf"}


class FragmentError(ValueError):
    """A segment file's boxes are not what the recorder writes."""


@dataclass(frozen=True)
class Track:
    track_id: int
    timescale: int
    handler: str  # 'vide', 'soun'


@dataclass(frozen=True)
class Fragment:
    offset: int  # of its moof in the file
    moof_size: int
    end: int  # end of its mdat
    decode_times: dict[int, int]  # track_ID -> tfdt, in the track's timescale
    samples: dict[int, int]  # track_ID -> samples in this fragment


Buf = bytes | bytearray | memoryview | mmap.mmap


def children(data: Buf, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset, size) of each box in data[start:end]."""
    off = start
    while off + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, off)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, off + 8)[0]
            header = 16
        elif size == 0:
            size = end - off
        if size < header or off + size > end:
            raise FragmentError(f"box {kind!r} at {off} runs past its parent")
        yield bytes(kind), off, size
        off += size


def _find(data: Buf, start: int, end: int, kind: bytes) -> tuple[int, int]:
    for k, off, size in children(data, start, end):
        if k == kind:
            return off, size
    raise FragmentError(f"no {kind.decode()} box")


def tracks(moov: bytes) -> list[Track]:
    """The tracks an init segment (`moov`, with its header) declares."""
    out = []
    for kind, off, size in children(moov, 8, len(moov)):
        if kind != b"trak":
            continue
        tkhd, _ = _find(moov, off + 8, off + size, b"tkhd")
        version = moov[tkhd + 8]
        track_id = struct.unpack_from(">I", moov, tkhd + (28 if version == 1 else 20))[0]
        mdia, mdia_size = _find(moov, off + 8, off + size, b"mdia")
        mdhd, _ = _find(moov, mdia + 8, mdia + mdia_size, b"mdhd")
        version = moov[mdhd + 8]
        timescale = struct.unpack_from(">I", moov, mdhd + (28 if version == 1 else 20))[0]
        hdlr, _ = _find(moov, mdia + 8, mdia + mdia_size, b"hdlr")
        handler = bytes(moov[hdlr + 16:hdlr + 20]).decode("latin-1")
        if timescale == 0:
            raise FragmentError(f"track {track_id} has timescale 0")
        out.append(Track(track_id, timescale, handler))
    if not out:
        raise FragmentError("the init segment declares no track")
    return out


def read_moof(data: Buf, offset: int, size: int, end: int) -> Fragment:
    """A fragment whose moof lies at data[offset:offset+size] and whose mdat ends at `end`."""
    times: dict[int, int] = {}
    samples: dict[int, int] = {}
    for kind, off, box_size in children(data, offset + 8, offset + size):
        if kind != b"traf":
            continue
        track_id = None
        for k, o, _ in children(data, off + 8, off + box_size):
            if k == b"tfhd":
                track_id = struct.unpack_from(">I", data, o + 12)[0]
            elif k == b"tfdt" and track_id is not None:
                fmt = ">Q" if data[o + 8] == 1 else ">I"
                times[track_id] = struct.unpack_from(fmt, data, o + 12)[0]
            elif k == b"trun" and track_id is not None:
                samples[track_id] = samples.get(track_id, 0) + struct.unpack_from(
                    ">I", data, o + 12)[0]
        if track_id is None or track_id not in times:
            raise FragmentError(f"fragment at {offset} lacks tfhd or tfdt")
    return Fragment(offset, size, end, times, samples)


def moved(moof: Buf, sequence: int, shift: dict[int, int]) -> bytes:
    """The moof renumbered `sequence`, each track's decode time moved by `shift[track]`
    ticks. Sizes do not change, so the data offsets into the mdat that follows stay true."""
    out = bytearray(moof)
    for kind, off, size in children(out, 8, len(out)):
        if kind == b"mfhd":
            struct.pack_into(">I", out, off + 12, sequence)
        elif kind == b"traf":
            track_id = None
            for k, o, _ in children(out, off + 8, off + size):
                if k == b"tfhd":
                    track_id = struct.unpack_from(">I", out, o + 12)[0]
                elif k == b"tfdt" and track_id is not None:
                    wide = out[o + 8] == 1
                    fmt = ">Q" if wide else ">I"
                    value = struct.unpack_from(fmt, out, o + 12)[0] + shift.get(track_id, 0)
                    if value < 0 or value >= (1 << (64 if wide else 32)):
                        raise FragmentError(f"decode time {value} does not fit the tfdt box")
                    struct.pack_into(fmt, out, o + 12, value)
    return bytes(out)
