"""The one MP4 reader (kuzet.mp4.reader) against FFmpeg's demuxer, on files the recorder's
own writer (kuzet.mp4.writer) makes: H.264 and H.265, with and without AAC sound, whole
and cut short for salvage (kuzet.mp4.salvage). A few seconds of tiny pictures each, so the
module runs in seconds."""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from kuzet.ingest.rtsp_source import _aac_template
from kuzet.ingest.source import Track
from kuzet.mp4.boxes import FragmentError, walk
from kuzet.mp4.playback import segment_parts
from kuzet.mp4.reader import DeclaredTrack, SegmentReader, avcc_units, hvcc_units, read_samples
from kuzet.mp4.salvage import NothingToSalvage, salvage_file
from kuzet.mp4.writer import ClosedSegment, SegmentFile, VideoParams, ticks_to_ns
from kuzet.nal import Codec, parameter_sets, to_annexb

FPS = 25
SECONDS = 3
WIDTH, HEIGHT = 160, 96
TB = Fraction(1, 90_000)
TICK = 90_000 // FPS
RATE = 48_000
START = 7_200  # the camera's clock at the first frame, in TB: the writer starts it at 0


def encode_video(codec: Codec) -> list[tuple[bool, bytes]]:
    """SECONDS of changing grey, one-second closed GOPs, no B-frames, Annex B."""
    ctx: Any = av.CodecContext.create("libx264" if codec == "h264" else "libx265", "w")
    ctx.width, ctx.height, ctx.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    ctx.time_base, ctx.framerate, ctx.gop_size = Fraction(1, FPS), Fraction(FPS), FPS
    ctx.options = {"preset": "ultrafast", "bf": "0", "keyint_min": str(FPS),
                   "sc_threshold": "0"} if codec == "h264" else {
        "preset": "ultrafast",
        "x265-params": f"bframes=0:keyint={FPS}:min-keyint={FPS}:scenecut=0:log-level=error"}
    ctx.open()
    out: list[tuple[bool, bytes]] = []
    for i in range(SECONDS * FPS):
        frame = av.VideoFrame.from_ndarray(np.full((HEIGHT, WIDTH, 3), i * 3 % 256, np.uint8),
                                           format="bgr24")
        frame.pts = i
        out += [(p.is_keyframe, bytes(p)) for p in ctx.encode(frame)]
    out += [(p.is_keyframe, bytes(p)) for p in ctx.encode(None)]
    assert len(out) == SECONDS * FPS
    return out


def encode_audio() -> tuple[list[tuple[int, bytes]], bytes]:
    """SECONDS of mono AAC silence: (decode time, frame) and the AudioSpecificConfig."""
    ctx: Any = av.CodecContext.create("aac", "w")
    ctx.sample_rate, ctx.layout, ctx.format = RATE, "mono", "fltp"
    ctx.time_base = Fraction(1, RATE)
    ctx.open()
    out: list[tuple[int, bytes]] = []
    for k in range(SECONDS * RATE // 1024):
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                           layout="mono")
        frame.sample_rate, frame.pts = RATE, k * 1024
        out += [(p.dts, bytes(p)) for p in ctx.encode(frame)]
    out += [(p.dts, bytes(p)) for p in ctx.encode(None)]
    return out, bytes(ctx.extradata)


@dataclass
class Made:
    path: Path
    closed: ClosedSegment  # what the writer said of the file it closed


def make(folder: Path, codec: Codec, audio: bool) -> Made:
    """A segment file written as the recorder writes one (kuzet.mp4.writer.SegmentFile)."""
    units = encode_video(codec)
    extradata = to_annexb(parameter_sets(codec, units[0][1]))
    raw = folder / f"{codec}.raw"
    raw.write_bytes(b"".join(u for _, u in units))
    template = av.open(str(raw), format=codec)
    try:
        stream = template.streams.video[0]
        stream.time_base = TB
        video = Track(0, codec, TB, stream, extradata, WIDTH, HEIGHT, FPS)
        sound: Track | None = None
        frames: list[tuple[int, bytes]] = []
        if audio:
            frames, config = encode_audio()
            sound = Track(1, "aac", Fraction(1, RATE), _aac_template(config, RATE), config,
                          sample_rate=RATE)
        path = folder / f"{codec}-{'av' if audio else 'v'}.mp4.part"
        seg = SegmentFile(path, video, sound, VideoParams(codec, extradata, WIDTH, HEIGHT))
        a = 0
        for i, (key, data) in enumerate(units):
            dts = START + i * TICK
            packet = av.Packet(data)
            packet.is_keyframe, packet.time_base, packet.pts = key, TB, dts
            seg.add_video(packet, dts, TICK)
            while a < len(frames) and frames[a][0] * TB.denominator // RATE <= i * TICK:
                sample = av.Packet(frames[a][1])
                sample.time_base = Fraction(1, RATE)
                sample.pts = sample.dts = frames[a][0] + START * RATE // TB.denominator
                seg.add_audio(sample)
                a += 1
        closed = seg.close()
    finally:
        template.close()
    path.chmod(0o600)
    return Made(path, closed)


KINDS: list[tuple[Codec, bool]] = [("h264", False), ("h264", True), ("hevc", False), ("hevc", True)]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Made]:
    folder = tmp_path_factory.mktemp("mp4")
    return {(codec, audio): make(folder, codec, audio) for codec, audio in KINDS}


@dataclass
class Demuxed:
    """What FFmpeg's demuxer, through PyAV, says of one stream of a file."""

    codec: str
    width: int
    height: int
    extradata: bytes
    packets: list[tuple[int, int, bool]]  # dts, duration, keyframe
    time_base: Fraction


def demux(path: Path, kind: str) -> Demuxed | None:
    with av.open(str(path)) as container:
        streams = container.streams.video if kind == "video" else container.streams.audio
        if not streams:
            return None
        stream = streams[0]
        ctx: Any = stream.codec_context
        tb = stream.time_base
        assert tb is not None
        packets = [(p.dts, p.duration or 0, p.is_keyframe) for p in container.demux(stream)
                   if p.dts is not None]
        return Demuxed(ctx.name, getattr(ctx, "width", 0), getattr(ctx, "height", 0),
                       bytes(ctx.extradata or b""), packets, Fraction(tb))


def track(reader: SegmentReader, handler: str) -> DeclaredTrack | None:
    return next((t for t in reader.tracks if t.handler == handler), None)


@pytest.mark.parametrize(("codec", "audio"), KINDS)
def test_the_reader_says_what_ffmpeg_says(made: dict[tuple[str, bool], Made], codec: str,
                                          audio: bool) -> None:
    """Every sample's decode time, duration and keyframe flag, the codec, picture size and
    decoder configuration record, and the sound's codec, as FFmpeg's demuxer reads them."""
    path = made[codec, audio].path
    reader = SegmentReader(path.read_bytes())
    video = reader.video
    theirs = demux(path, "video")
    assert theirs is not None
    assert theirs.time_base == Fraction(1, video.timescale)
    samples = reader.samples(video)
    assert list(zip(samples.decode_times, samples.durations, samples.sync, strict=True)) \
        == theirs.packets
    assert len(theirs.packets) == SECONDS * FPS
    assert sum(samples.sync) == SECONDS
    entry = reader.sample_entry(video)
    assert (entry.codec, entry.width, entry.height, entry.config) \
        == (theirs.codec, theirs.width, theirs.height, theirs.extradata) \
        == (codec, WIDTH, HEIGHT, theirs.extradata)
    # the record holds the very parameter sets the writer was given
    assert to_annexb(entry.parameter_sets()) == made[codec, audio].closed.params.extradata
    sound = track(reader, "soun")
    heard = demux(path, "audio")
    assert (sound is None, heard is None) == (not audio, not audio)
    if sound is not None and heard is not None:
        assert reader.sample_entry(sound).codec == heard.codec == "aac"
        mine = reader.samples(sound)
        # FFmpeg calls every audio packet a keyframe whatever its flags say: times only
        assert list(zip(mine.decode_times, mine.durations, strict=True)) \
            == [(dts, d) for dts, d, _ in heard.packets]
    # facts() is untouched: one count per trun
    assert sum(f.samples[video.track_id] for f in reader.facts()) == SECONDS * FPS


@pytest.mark.parametrize(("codec", "audio"), KINDS)
def test_salvage_of_a_whole_file_says_what_the_writer_said(
        made: dict[tuple[str, bool], Made], codec: str, audio: bool, tmp_path: Path) -> None:
    """All but the `mfra` index the muxer writes at close (no fragment: not kept)."""
    original = made[codec, audio]
    copy = tmp_path / original.path.name
    data = original.path.read_bytes()
    copy.write_bytes(data)
    salvaged = salvage_file(copy)
    closed = original.closed
    assert salvaged.frames == closed.frames == SECONDS * FPS
    assert salvaged.media_duration_ns == closed.media_duration_ns == SECONDS * 10**9
    assert salvaged.keyframes_ns == closed.keyframes_ns == [k * 10**9 for k in range(SECONDS)]
    assert salvaged.params == closed.params  # parameter sets in Annex B, as the writer's
    assert salvaged.audio_codec == closed.audio_codec == ("aac" if audio else None)
    end = SegmentReader(data).facts()[-1].end
    assert [b.type for b in walk(data, end)] == ["mfra"]
    assert (salvaged.size_bytes, salvaged.sha256) == (end, hashlib.sha256(data[:end]).digest())


@pytest.mark.parametrize(("codec", "audio"), [("h264", True), ("hevc", False)])
def test_salvage_of_a_file_cut_short(made: dict[tuple[str, bool], Made], codec: str,
                                     audio: bool, tmp_path: Path) -> None:
    """Cut in the last fragment: two whole fragments are kept, and the facts of what is
    left are FFmpeg's for the same bytes."""
    data = made[codec, audio].path.read_bytes()
    reader = SegmentReader(data)
    last = reader.facts()[-1]
    cut = tmp_path / "20261127T000000.000000000Z.mp4.part"
    cut.write_bytes(data[:last.offset + last.moof_size + 100])
    salvaged = salvage_file(cut)
    assert cut.stat().st_size == last.offset == salvaged.size_bytes
    assert salvaged.frames == (SECONDS - 1) * FPS
    theirs = demux(cut, "video")
    assert theirs is not None
    ns = [ticks_to_ns(dts, theirs.time_base) for dts, _, _ in theirs.packets]
    assert salvaged.frames == len(theirs.packets)
    assert salvaged.keyframes_ns == [t - ns[0] for t, (_, _, key) in
                                     zip(ns, theirs.packets, strict=True) if key] \
        == [0, 10**9]
    assert salvaged.media_duration_ns == ns[-1] - ns[0] + ticks_to_ns(
        theirs.packets[-1][1], theirs.time_base) == (SECONDS - 1) * 10**9
    assert salvaged.params == made[codec, audio].closed.params
    assert salvaged.audio_codec == ("aac" if audio else None)
    header = tmp_path / "h.mp4.part"
    header.write_bytes(data[:reader.facts()[0].offset + 50])
    with pytest.raises(NothingToSalvage):
        salvage_file(header)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full(kind: bytes, flags: int, payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", flags) + payload)


def moof(*trafs: bytes) -> bytes:
    return box(b"moof", full(b"mfhd", 0, struct.pack(">I", 1)) + b"".join(trafs))


SYNC, NON_SYNC, DEPENDS = 0x02000000, 0x00010000, 0x01000000


def test_sample_durations_and_flags_fall_back_as_iso_14496_12_says() -> None:
    """trun fields first, then a trun's first_sample_flags (first sample only), then the
    tfhd defaults, then the trex ones; a traf without tfdt goes on where the last ended;
    another track's traf is not read."""
    track = DeclaredTrack(1, 90_000, "vide", default_duration=3000, default_size=0,
                          default_flags=NON_SYNC)
    other = full(b"tfhd", 0x08, struct.pack(">II", 2, 1))
    data = moof(
        # trex defaults alone, but for the first sample's flags
        box(b"traf", full(b"tfhd", 0x020000, struct.pack(">I", 1))
            + full(b"tfdt", 1 << 24, struct.pack(">Q", 900))
            + full(b"trun", 0x005, struct.pack(">IiI", 3, 0, SYNC))),
        box(b"traf", other + full(b"trun", 0x100, struct.pack(">III", 2, 5, 5))),
        # tfhd defaults (duration, size, flags) after a base data offset; no tfdt
        box(b"traf", full(b"tfhd", 0x3B, struct.pack(">IQIIII", 1, 0, 1, 3600, 99, SYNC))
            + full(b"trun", 0x001, struct.pack(">Ii", 2, 0))),
        # per-sample duration, size and flags (these over first_sample_flags), and a
        # sample that depends on others is no keyframe, whatever its sync bit
        box(b"traf", full(b"tfhd", 0, struct.pack(">I", 1))
            + full(b"tfdt", 0, struct.pack(">I", 20_000))
            + full(b"trun", 0x704, struct.pack(">I I III III", 2, SYNC,
                                               10, 7, NON_SYNC, 20, 7, DEPENDS))))
    times: list[int] = []
    durations: list[int] = []
    sync: list[bool] = []
    end = read_samples(data, 0, len(data), track, 0, times, durations, sync)
    assert times == [900, 3900, 6900, 9900, 13500, 20_000, 20_010]
    assert durations == [3000, 3000, 3000, 3600, 3600, 10, 20]
    assert sync == [True, False, False, True, True, False, False]
    assert end == 20_030
    cut = moof(box(b"traf", full(b"tfhd", 0, struct.pack(">I", 1))
                   + full(b"trun", 0x100, struct.pack(">II", 3, 10))))
    with pytest.raises(FragmentError):
        read_samples(cut, 0, len(cut), track, 0, [], [], [])


def test_parameter_sets_from_configuration_records() -> None:
    sps, pps = b"\x67\x42\xc0\x1e\xaa", b"\x68\xce\x3c\x80"
    avcc = bytes([1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1]) + struct.pack(">H", len(sps)) + sps \
        + bytes([1]) + struct.pack(">H", len(pps)) + pps
    assert avcc_units(avcc) == (sps, pps)
    vps, hsps, hpps = b"\x40\x01\x0c", b"\x42\x01\x01", b"\x44\x01\xc1"
    hvcc = bytes(22) + bytes([3]) + b"".join(
        bytes([0x80 | kind]) + struct.pack(">HH", 1, len(u)) + u
        for kind, u in ((32, vps), (33, hsps), (34, hpps)))
    assert hvcc_units(hvcc) == (vps, hsps, hpps)
    with pytest.raises(FragmentError):
        avcc_units(avcc[:-2])
    with pytest.raises(FragmentError):
        hvcc_units(hvcc[:20])


@pytest.mark.parametrize(("codec", "audio"), KINDS)
def test_playback_read_box_by_box_is_the_whole_file_reader(
        made: dict[tuple[str, bool], Made], codec: str, audio: bool) -> None:
    """What playback reads a file box by box (seeking, as here, or as a stream from
    another node, passing what it skips) is byte for byte what the reader of the whole
    file finds, from every fragment on; a file cut short gives its whole fragments, and
    no init segment is an error, not an empty playback."""
    data = made[codec, audio].path.read_bytes()
    whole = SegmentReader(data)
    count = len(whole.pairs)
    assert count == SECONDS
    for k in range(count + 1):
        for seeking in (True, False):
            source = io.BytesIO(data)
            skip = seeker(source) if seeking else source.read
            init, fragments = segment_parts(source, k, skip)
            assert init == whole.init
            assert list(fragments) == [whole.fragment(j) for j in range(k, count)]
    ends = sorted({b.end for b in walk(data)} | {b.offset + 5 for b in walk(data)})
    for cut in ends:
        kept = [j for j, (_, mdat) in enumerate(whole.pairs) if mdat.end <= cut]
        short = io.BytesIO(data[:cut])
        if cut < whole.pairs[0][0].offset:
            with pytest.raises(FragmentError):
                segment_parts(short, 0, short.read)
            continue
        init, fragments = segment_parts(short, 0, short.read)
        assert init == whole.init
        assert list(fragments) == [whole.fragment(j) for j in kept]
    # a damaged size is no box to allocate for: the fragments end before it
    moof = whole.pairs[1][0].offset
    for size in (struct.pack(">I", 0xFFFFFFF0), struct.pack(">I4sQ", 1, b"moof", 1 << 62)):
        damaged = io.BytesIO(data[:moof] + size + data[moof + len(size):])
        init, fragments = segment_parts(damaged, 0, damaged.read)
        assert list(fragments) == [whole.fragment(0)]


def seeker(f: io.BytesIO) -> Callable[[int], object]:
    return lambda n: f.seek(n, 1)
