"""Reading a segment file back without decoding it: its init segment and tracks (from
`moov`), each fragment's place, decode times and sample counts (from `moof`), a fragment
moved to another place on a timeline, and the codec string a browser is asked about.

One reader serves every use of stored footage: the archive socket (kuzet.mp4.playback)
sends the init segment and fragments as they lie, the last cut short at the window's end
(kuzet.mp4.cut); the live view names the codec of its init segment; an export joins
fragments of many files into one without touching a byte of the pictures: only the
`moof` header changes (its sequence number and each track's `tfdt`, `moved`), and the
`mdat` is copied as it lies (ISO/IEC 14496-12, 8.8); salvage (kuzet.mp4.salvage) reads
the catalog's facts of a file cut short from each sample's duration and flags (`trun`,
`SegmentReader.samples`) and from the track's sample entry (`stsd`, `sample_entry`), so
that no second MP4 reader (FFmpeg's demuxer) can disagree with this one about a stored
file. The per-sample walk is apart from `facts()`, which playback, live and export call
on every request and which reads one count per `trun`. Pure functions of bytes, so they
are tested without files.
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
    default_flags: int = 0


@dataclass(frozen=True)
class FragmentFacts:
    """Where a fragment lies in its file, and what its `moof` says of each track."""

    offset: int  # of its moof in the file
    moof_size: int
    end: int  # end of its mdat
    decode_times: dict[int, int]  # track_ID -> tfdt, in the track's timescale
    samples: dict[int, int]  # track_ID -> samples in this fragment


@dataclass(frozen=True)
class TrackSamples:
    """One track's samples over a whole file, in decode order, in the track's timescale."""

    track_id: int
    timescale: int
    decode_times: list[int]
    durations: list[int]
    sync: list[bool]  # a sync sample (a keyframe), by its sample flags


@dataclass(frozen=True)
class SampleEntry:
    """A track's sample description (`stsd`, its first entry): the codec by FFmpeg's name
    ("h264", "hevc", "aac", ...; the entry's four-character code when it is none Kuzet
    records), a video entry's picture size, and its decoder configuration record: the
    payload of `avcC` or `hvcC` (ISO/IEC 14496-15), byte for byte what FFmpeg's MP4
    demuxer hands a decoder as extradata."""

    fourcc: str
    codec: str
    width: int = 0
    height: int = 0
    config: bytes = b""

    def parameter_sets(self) -> tuple[bytes, ...]:
        """The NAL units the configuration record holds, in its order (H.264: SPS, PPS;
        H.265: VPS, SPS, PPS and any SEI its arrays carry); () for other codecs."""
        if self.codec == "h264":
            return avcc_units(self.config)
        if self.codec == "hevc":
            return hvcc_units(self.config)
        return ()


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

    def samples(self, track: DeclaredTrack) -> TrackSamples:
        """Every sample of `track` in the file's fragments: decode time, duration, sync.

        A walk over every sample's fields, which the callers of `facts()` (playback, live,
        export) do not need and are not made to pay for."""
        times: list[int] = []
        durations: list[int] = []
        sync: list[bool] = []
        at = 0
        for moof, _ in self.pairs:
            at = read_samples(self.data, moof.offset, moof.size, track, at, times, durations,
                              sync)
        return TrackSamples(track.track_id, track.timescale, times, durations, sync)

    def sample_entry(self, track: DeclaredTrack) -> SampleEntry:
        """The sample entry `track`'s `stsd` declares."""
        if self._moov is None:
            raise FragmentError("the init segment has no moov")
        return sample_entry(self.data, self._moov, track.track_id)


def declared_tracks(data: Buf, moov: Box) -> list[DeclaredTrack]:
    """The tracks a `moov` declares."""
    found: list[tuple[int, int, str]] = []
    defaults: dict[int, tuple[int, int, int]] = {}
    for box in children(data, moov.offset + 8, moov.end):
        if box.type == "trak":
            found.append(_trak(data, box))
        elif box.type == "mvex":
            for b in children(data, box.offset + 8, box.end):
                if b.type == "trex":
                    if b.size < 32:
                        raise FragmentError(f"trex at {b.offset} is too short")
                    track_id, _, duration, size, flags = struct.unpack_from(
                        ">5I", data, b.offset + 12)
                    defaults[track_id] = (duration, size, flags)
    if not found:
        raise FragmentError("the init segment declares no track")
    return [DeclaredTrack(track_id, timescale, handler, *defaults.get(track_id, (0, 0, 0)))
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


# tfhd flags (ISO/IEC 14496-12, 8.8.7) and trun flags (8.8.8)
TFHD_BASE_DATA_OFFSET, TFHD_DESCRIPTION_INDEX = 0x01, 0x02
TFHD_DURATION, TFHD_SIZE, TFHD_FLAGS = 0x08, 0x10, 0x20
TRUN_DATA_OFFSET, TRUN_FIRST_FLAGS = 0x001, 0x004
TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS = 0x100, 0x200, 0x400, 0x800
# sample flags (8.8.3.1): sample_depends_on 1 (the sample depends on others: not an I
# picture) or sample_is_non_sync_sample; either makes it no keyframe, as for FFmpeg
NOT_SYNC = 0x01000000 | 0x00010000


def read_samples(data: Buf, offset: int, size: int, track: DeclaredTrack, start: int,
                 times: list[int], durations: list[int], sync: list[bool]) -> int:
    """Append each sample of `track` in the moof at data[offset:offset+size]: its decode
    time, duration and whether it is a sync sample; return the decode time after the last.

    Duration and flags come from the sample's own `trun` fields, else (flags of a trun's
    first sample) its first_sample_flags, else the `tfhd` defaults, else the `trex` ones
    (ISO/IEC 14496-12, 8.8.8.1). A traf without `tfdt` goes on from `start`, where the
    samples before it ended."""
    for traf in children(data, offset + 8, offset + size):
        if traf.type != "traf":
            continue
        mine = False
        duration, flags = track.default_duration, track.default_flags
        for box in children(data, traf.offset + 8, traf.end):
            o = box.offset
            if box.type == "tfhd":
                mine, duration, flags = _tfhd(data, box, track)
            elif not mine:
                continue
            elif box.type == "tfdt":
                wide = data[o + 8] == 1
                if box.size < (20 if wide else 16):
                    raise FragmentError(f"tfdt at {o} is too short")
                start = struct.unpack_from(">Q" if wide else ">I", data, o + 12)[0]
            elif box.type == "trun":
                start = _trun(data, box, start, duration, flags, times, durations, sync)
    return start


def _tfhd(data: Buf, box: Box, track: DeclaredTrack) -> tuple[bool, int, int]:
    """Whether a tfhd is `track`'s, and the default duration and flags of its samples."""
    o = box.offset
    if box.size < 16:
        raise FragmentError(f"tfhd at {o} is too short")
    tf_flags = int.from_bytes(data[o + 9:o + 12], "big")
    mine = struct.unpack_from(">I", data, o + 12)[0] == track.track_id
    at = o + 16
    at += 8 if tf_flags & TFHD_BASE_DATA_OFFSET else 0
    at += 4 if tf_flags & TFHD_DESCRIPTION_INDEX else 0
    fields = bin(tf_flags & (TFHD_DURATION | TFHD_SIZE | TFHD_FLAGS)).count("1")
    if at + 4 * fields > box.end:
        raise FragmentError(f"tfhd at {o} is too short for its flags")
    duration, flags = track.default_duration, track.default_flags
    if tf_flags & TFHD_DURATION:
        duration = struct.unpack_from(">I", data, at)[0]
        at += 4
    at += 4 if tf_flags & TFHD_SIZE else 0
    if tf_flags & TFHD_FLAGS:
        flags = struct.unpack_from(">I", data, at)[0]
    return mine, duration, flags


def _trun(data: Buf, box: Box, start: int, duration: int, flags: int, times: list[int],
          durations: list[int], sync: list[bool]) -> int:
    """Append a trun's samples from decode time `start` on; the decode time after them."""
    o = box.offset
    if box.size < 16:
        raise FragmentError(f"trun at {o} is too short")
    tr_flags = int.from_bytes(data[o + 9:o + 12], "big")
    count: int = struct.unpack_from(">I", data, o + 12)[0]
    at = o + 16 + (4 if tr_flags & TRUN_DATA_OFFSET else 0)
    per = [f for f in (TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS) if tr_flags & f]
    first = 4 if tr_flags & TRUN_FIRST_FLAGS else 0
    if at + first + count * len(per) * 4 > box.end:
        raise FragmentError(f"trun at {o} is too short for its {count} samples")
    first_flags = struct.unpack_from(">I", data, at)[0] if first else None
    at += first
    if count == 0:
        return start
    fields = struct.unpack_from(f">{count * len(per)}I", data, at) if per else ()
    if tr_flags & TRUN_DURATION:
        these = list(fields[per.index(TRUN_DURATION)::len(per)])
    else:
        these = [duration] * count
    if tr_flags & TRUN_FLAGS:
        sample_flags = list(fields[per.index(TRUN_FLAGS)::len(per)])
    else:
        sample_flags = [flags] * count
        if first_flags is not None:
            sample_flags[0] = first_flags
    for d in these:
        times.append(start)
        start += d
    durations.extend(these)
    sync.extend(not f & NOT_SYNC for f in sample_flags)
    return start


VIDEO_ENTRIES = {"avc1": ("h264", "avcC"), "avc3": ("h264", "avcC"),
                 "hvc1": ("hevc", "hvcC"), "hev1": ("hevc", "hvcC")}
AUDIO_ENTRIES = {"Opus": "opus", "alac": "alac", "fLaC": "flac", "ac-3": "ac3",
                 "ec-3": "eac3", ".mp3": "mp3", "ulaw": "pcm_mulaw", "alaw": "pcm_alaw"}
# an `esds` objectTypeIndication (ISO/IEC 14496-1, the MP4 registration authority):
# MPEG-4 AAC, MPEG-2 AAC main/LC/SSR; MPEG-2 and MPEG-1 audio (layer 3 as FFmpeg reads it)
MP4A_OBJECTS = {0x40: "aac", 0x66: "aac", 0x67: "aac", 0x68: "aac", 0x69: "mp3", 0x6B: "mp3",
                0xA5: "ac3", 0xA6: "eac3", 0xAD: "opus"}
VISUAL_ENTRY = 86  # bytes of a VisualSampleEntry before its boxes (8.5.2, 12.1.3)
AUDIO_ENTRY = 36  # of a version-0 AudioSampleEntry (12.2.3)


def sample_entry(data: Buf, moov: Box, track_id: int) -> SampleEntry:
    """The first sample entry in the `stsd` of track `track_id` of a `moov`."""
    for trak in children(data, moov.offset + 8, moov.end):
        if trak.type == "trak" and _trak(data, trak)[0] == track_id:
            break
    else:
        raise FragmentError(f"the init segment declares no track {track_id}")
    box = trak
    for kind in ("mdia", "minf", "stbl", "stsd"):
        box = find(data, box.offset + 8, box.end, kind)
    entry = next(children(data, box.offset + 16, box.end), None)
    if entry is None:
        raise FragmentError(f"track {track_id} has no sample entry")
    o = entry.offset
    if entry.type in VIDEO_ENTRIES:
        codec, record = VIDEO_ENTRIES[entry.type]
        if entry.size < VISUAL_ENTRY:
            raise FragmentError(f"{entry.type} at {o} is too short")
        width, height = struct.unpack_from(">2H", data, o + 32)
        config = find(data, o + VISUAL_ENTRY, entry.end, record)
        return SampleEntry(entry.type, codec, width, height,
                           bytes(data[config.offset + 8:config.end]))
    if entry.type == "mp4a":
        return SampleEntry(entry.type, _mp4a_codec(data, entry))
    return SampleEntry(entry.type, AUDIO_ENTRIES.get(entry.type, entry.type))


def _mp4a_codec(data: Buf, entry: Box) -> str:
    """The codec of an `mp4a` entry, from its `esds` decoder configuration's object type."""
    if entry.size < AUDIO_ENTRY:
        raise FragmentError(f"mp4a at {entry.offset} is too short")
    version = struct.unpack_from(">H", data, entry.offset + 16)[0]  # QuickTime's 1 and 2
    boxes = entry.offset + AUDIO_ENTRY + {1: 16, 2: 36}.get(version, 0)  # are longer
    esds = find(data, boxes, entry.end, "esds")
    at, end = esds.offset + 12, esds.end
    while at < end:
        tag = data[at]
        at += 1
        length = 0
        for _ in range(4):  # expandable size: 7 bits a byte while the top bit is set
            if at >= end:
                break
            byte = data[at]
            at += 1
            length = length << 7 | byte & 0x7F
            if not byte & 0x80:
                break
        if tag == 0x03:  # ES_Descriptor: ES_ID, flags, what the flags add, then its children
            if at + 3 > end:
                break
            es_flags = data[at + 2]
            at += 3
            at += 2 if es_flags & 0x80 else 0
            at += 1 + data[at] if es_flags & 0x40 and at < end else 0
            at += 2 if es_flags & 0x20 else 0
        elif tag == 0x04:  # DecoderConfigDescriptor
            if at < end:
                return MP4A_OBJECTS.get(data[at], f"mp4a.{data[at]:02x}")
            break
        else:
            at += length
    raise FragmentError(f"mp4a at {entry.offset} has no decoder configuration")


def avcc_units(record: bytes) -> tuple[bytes, ...]:
    """The SPS and PPS NAL units of an AVCDecoderConfigurationRecord (ISO/IEC 14496-15,
    5.3.3.1)."""
    try:
        units: list[bytes] = []
        at = 5
        for mask in (0x1F, 0xFF):  # numOfSequenceParameterSets, then numOfPictureParameterSets
            count = record[at] & mask
            at += 1
            for _ in range(count):
                at = _unit(record, at, units)
    except IndexError:
        raise FragmentError("avcC record is cut short") from None
    return tuple(units)


def hvcc_units(record: bytes) -> tuple[bytes, ...]:
    """The NAL units of an HEVCDecoderConfigurationRecord's arrays (ISO/IEC 14496-15,
    8.3.3.1): VPS, SPS, PPS (and SEI) in the record's order."""
    try:
        units: list[bytes] = []
        arrays = record[22]
        at = 23
        for _ in range(arrays):
            count = int.from_bytes(record[at + 1:at + 3], "big")
            at += 3
            for _ in range(count):
                at = _unit(record, at, units)
    except IndexError:
        raise FragmentError("hvcC record is cut short") from None
    return tuple(units)


def _unit(record: bytes, at: int, units: list[bytes]) -> int:
    """Append the NAL unit with a 16-bit length at record[at:]; where the next begins."""
    size = int.from_bytes(record[at:at + 2], "big")
    if at + 2 + size > len(record):
        raise IndexError
    units.append(record[at + 2:at + 2 + size])
    return at + 2 + size


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
