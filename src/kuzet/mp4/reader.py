"""Reading a segment file back without decoding it: its init segment and tracks (from
`moov`), each fragment's place, decode times and sample counts (from `moof`), a fragment
moved to another place on a timeline, and the codec string a browser is asked about.

One reader serves every use of stored footage: the archive socket (kuzet.mp4.playback)
sends the init segment and fragments as they lie, the last cut short at the window's end
(kuzet.mp4.cut); the live view names the codec of its init segment; an export joins
fragments of many files into one without touching a byte of the pictures: only the
`moof` header changes (its sequence number and each track's `tfdt`, `moved`), and the
`mdat` is copied as it lies (ISO/IEC 14496-12, 8.8). Pure functions of bytes, so they are
tested without files.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

from kuzet.mp4.boxes import Box, Buf, FragmentError, children, find


@dataclass(frozen=True)
class DeclaredTrack:
    """A track as an init segment declares it, with the `trex` defaults a sample of its
    fragments falls back on when neither its `trun` nor its `tfhd` says."""

    track_id: int
    timescale: int
    handler: str  # 'vide', 'soun'
    default_duration: int = 0
    default_size: int = 0


@dataclass(frozen=True)
class FragmentFacts:
    """Where a fragment lies in its file, and what its `moof` says of each track."""

    offset: int  # of its moof in the file
    moof_size: int
    end: int  # end of its mdat
    decode_times: dict[int, int]  # track_ID -> tfdt, in the track's timescale
    samples: dict[int, int]  # track_ID -> samples in this fragment


class SegmentReader:
    """A segment file in a buffer (the file mapped, as a rule): its init segment (ftyp +
    moov), its tracks, and its fragments (moof + mdat pairs). FragmentError for boxes the
    recorder does not write."""

    def __init__(self, data: Buf) -> None:
        self.data = data
        boxes = list(children(data, 0, len(data)))
        self.init = b"".join(bytes(data[b.offset:b.end]) for b in boxes
                             if b.type in ("ftyp", "moov"))
        self._moov = next((b for b in boxes if b.type == "moov"), None)
        self.pairs = [(a, b) for a, b in pairwise(boxes)
                      if a.type == "moof" and b.type == "mdat"]

    @cached_property
    def tracks(self) -> list[DeclaredTrack]:
        if self._moov is None:
            raise FragmentError("the init segment has no moov")
        return declared_tracks(self.data, self._moov)

    @property
    def video(self) -> DeclaredTrack:
        video = next((t for t in self.tracks if t.handler == "vide"), None)
        if video is None:
            raise FragmentError("the init segment declares no video track")
        return video

    def facts(self) -> list[FragmentFacts]:
        """Every fragment's place, decode times and sample counts."""
        return [read_moof(self.data, moof.offset, moof.size, mdat.end)
                for moof, mdat in self.pairs]

    def fragment(self, k: int) -> bytes:
        """Fragment k's bytes, moof and mdat."""
        moof, mdat = self.pairs[k]
        return bytes(self.data[moof.offset:mdat.end])


def declared_tracks(data: Buf, moov: Box) -> list[DeclaredTrack]:
    """The tracks a `moov` declares."""
    found: list[tuple[int, int, str]] = []
    defaults: dict[int, tuple[int, int]] = {}
    for box in children(data, moov.offset + 8, moov.end):
        if box.type == "trak":
            found.append(_trak(data, box))
        elif box.type == "mvex":
            for b in children(data, box.offset + 8, box.end):
                if b.type == "trex":
                    track_id, _, duration, size = struct.unpack_from(">4I", data, b.offset + 12)
                    defaults[track_id] = (duration, size)
    if not found:
        raise FragmentError("the init segment declares no track")
    return [DeclaredTrack(track_id, timescale, handler, *defaults.get(track_id, (0, 0)))
            for track_id, timescale, handler in found]


def _trak(data: Buf, trak: Box) -> tuple[int, int, str]:
    """A trak's ID, timescale and handler."""
    tkhd = find(data, trak.offset + 8, trak.end, "tkhd").offset
    version = data[tkhd + 8]
    track_id: int = struct.unpack_from(">I", data, tkhd + (28 if version == 1 else 20))[0]
    mdia = find(data, trak.offset + 8, trak.end, "mdia")
    mdhd = find(data, mdia.offset + 8, mdia.end, "mdhd").offset
    version = data[mdhd + 8]
    timescale: int = struct.unpack_from(">I", data, mdhd + (28 if version == 1 else 20))[0]
    hdlr = find(data, mdia.offset + 8, mdia.end, "hdlr").offset
    handler = bytes(data[hdlr + 16:hdlr + 20]).decode("latin-1")
    if timescale == 0:
        raise FragmentError(f"track {track_id} has timescale 0")
    return track_id, timescale, handler


def read_moof(data: Buf, offset: int, size: int, end: int) -> FragmentFacts:
    """A fragment whose moof lies at data[offset:offset+size] and whose mdat ends at `end`."""
    times: dict[int, int] = {}
    samples: dict[int, int] = {}
    for traf in children(data, offset + 8, offset + size):
        if traf.type != "traf":
            continue
        track_id = None
        for box in children(data, traf.offset + 8, traf.end):
            o = box.offset
            if box.type == "tfhd":
                track_id = struct.unpack_from(">I", data, o + 12)[0]
            elif box.type == "tfdt" and track_id is not None:
                fmt = ">Q" if data[o + 8] == 1 else ">I"
                times[track_id] = struct.unpack_from(fmt, data, o + 12)[0]
            elif box.type == "trun" and track_id is not None:
                samples[track_id] = samples.get(track_id, 0) + struct.unpack_from(
                    ">I", data, o + 12)[0]
        if track_id is None or track_id not in times:
            raise FragmentError(f"fragment at {offset} lacks tfhd or tfdt")
    return FragmentFacts(offset, size, end, times, samples)


def moved(moof: Buf, sequence: int, shift: dict[int, int]) -> bytes:
    """The moof renumbered `sequence`, each track's decode time moved by `shift[track]`
    ticks. Sizes do not change, so the data offsets into the mdat that follows stay true."""
    out = bytearray(moof)
    for box in children(out, 8, len(out)):
        if box.type == "mfhd":
            struct.pack_into(">I", out, box.offset + 12, sequence)
        elif box.type == "traf":
            track_id = None
            for b in children(out, box.offset + 8, box.end):
                o = b.offset
                if b.type == "tfhd":
                    track_id = struct.unpack_from(">I", out, o + 12)[0]
                elif b.type == "tfdt" and track_id is not None:
                    wide = out[o + 8] == 1
                    fmt = ">Q" if wide else ">I"
                    value = struct.unpack_from(fmt, out, o + 12)[0] + shift.get(track_id, 0)
                    if value < 0 or value >= (1 << (64 if wide else 32)):
                        raise FragmentError(f"decode time {value} does not fit the tfdt box")
                    struct.pack_into(fmt, out, o + 12, value)
    return bytes(out)


def mime_codec(init: bytes) -> str:
    """The MSE type of an init segment, from its decoder configuration: H.264's profile
    and level from `avcC`, H.265's profile, tier, level and constraints from `hvcC` (the
    codecs string of ISO/IEC 14496-15 annex E), so `MediaSource.isTypeSupported` answers
    for this very stream."""
    i = init.find(b"avcC")
    if i >= 0 and len(init) >= i + 8:
        profile, compat, level = init[i + 5], init[i + 6], init[i + 7]
        return f'video/mp4; codecs="avc1.{profile:02x}{compat:02x}{level:02x}"'
    i = init.find(b"hvcC")
    if i >= 0 and len(init) >= i + 17:
        return f'video/mp4; codecs="{hevc_codec(init, i + 4)}"'
    return 'video/mp4; codecs="avc1.640028"'


def hevc_codec(init: bytes, at: int) -> str:
    """`hvc1.1.6.L93.B0` from the hvcC record starting at `at`."""
    sample = "hev1" if b"hev1" in init[:at] else "hvc1"
    first = init[at + 1]
    space = ("", "A", "B", "C")[first >> 6]
    tier = "H" if first & 0x20 else "L"
    profile = first & 0x1F
    compat = int.from_bytes(init[at + 2:at + 6], "big")
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    constraints = list(init[at + 6:at + 12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    level = init[at + 12]
    tail = "".join(f".{b:X}" for b in constraints)
    return f"{sample}.{space}{profile}.{reversed_compat:X}.{tier}{level}{tail}"
