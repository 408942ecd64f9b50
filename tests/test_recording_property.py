"""Issue 20: whatever the network and a camera's clock do to its packets (loss, duplicates,
frames out of order, jumps of the clock forwards and back, sound running ahead of or
behind the picture), every segment the recorder writes is a file whose length is the
length the catalog gives it, and no frame is recorded twice.

The recorder (`Supervisor`) runs on its own thread as in `kuzet serve`, on a real
catalog and real files, fed by a scripted source: real H.264 frames of the simulator's
clip, each tagged with its serial number in an SEI message (kuzet.rtsp.stamp) so that a
file's frames can be told apart, and real AAC sound. Its clock is the source's arrival
time, so the examples run as fast as the files can be written.
"""

from __future__ import annotations

import io
import itertools
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Storage, ffprobe
from kuzet.catalog import keyindex
from kuzet.catalog.store import Catalog
from kuzet.credentials import SecretUrl
from kuzet.export.writer import export_camera
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.ingest.source import Track
from kuzet.mp4.playback import read_segment, segment_parts
from kuzet.mp4.reader import SegmentReader, read_moof
from kuzet.nal import H264_PPS, H264_SPS, first_slice_type, nal_type, split_annexb, to_annexb
from kuzet.recorder.supervisor import CameraSource, Supervisor
from kuzet.rtsp.clip import ClipSpec, load_access_units
from kuzet.rtsp.stamp import sei_stamp, stamp_of

FPS = 25
VIDEO_TB = Fraction(1, 90_000)
TICKS = 90_000 // FPS
AUDIO_RATE = 16_000
AUDIO_SAMPLES = 1024  # one AAC frame: 64 ms at 16 kHz
AUDIO_FRAME_NS = AUDIO_SAMPLES * 10**9 // AUDIO_RATE
FRAME_NS = 1_000_000_000 // FPS
T0_NS = 1_800_000_000 * 10**9  # arrival time of the first frame; any instant would do
START_CODE = b"\x00\x00\x00\x01"


@dataclass
class Scripted:
    """What one example's network delivers: (arrival ns, track, dts, key, data, lost
    before it) in order of arrival."""

    deliveries: list[tuple[int, int, int, bool, bytes, int]]
    sent_serials: set[int] = field(default_factory=set)


class Network:
    """The camera's packets as the script delivers them, across the recorder's sessions:
    a session the recorder drops and opens again goes on where the last one stopped."""

    def __init__(self, script: Scripted) -> None:
        self.now = script.deliveries[0][0]  # the recorder's clock: the last arrival
        self._left = iter(script.deliveries)
        self._next = next(self._left, None)

    def deliveries(self) -> Iterator[tuple[int, int, int, bool, bytes, int]]:
        while self._next is not None:
            delivery, self._next = self._next, next(self._left, None)
            self.now = delivery[0]
            yield delivery

    @property
    def over(self) -> bool:
        return self._next is None


class ScriptedSource:
    """A `Source` on one session of the network's packets."""

    def __init__(self, video: Track, audio: Track, network: Network,
                 on_end: Callable[[], None]) -> None:
        self.video = video
        self.audio: Track | None = audio
        self.audio_left: str | None = None
        self.lost_packets = self.expected_packets = 0
        self._network = network
        self._on_end = on_end

    def packets(self) -> Iterator[tuple[int, Any]]:
        for _, index, dts, key, data, lost in self._network.deliveries():
            self.lost_packets += lost
            packet = av.Packet(data)
            packet.dts = packet.pts = dts
            track = self.video if index == 0 else self.audio
            assert track is not None
            packet.time_base = track.time_base
            packet.is_keyframe = key
            yield index, packet
        self._on_end()

    def watched(self, on: bool) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    """A catalog on SQLite with two-second segments, so that an example of a few seconds
    cuts several (the recorder's logic is the catalog's engine's business nowhere)."""
    st = Storage(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path / "home", segment_s=2.0)
    yield st
    st.close()


class Material:
    """Real media to script with: frames of the simulator's clip (key flag, Annex B) and
    their track; AAC packets of a tone, one per 1024 samples, and theirs."""

    def __init__(self, frames: list[tuple[bool, bytes]], video: Track, sound: list[bytes],
                 audio: Track) -> None:
        self.frames, self.video, self.sound, self.audio = frames, video, sound, audio

    def __repr__(self) -> str:  # Hypothesis shows a failing example's arguments
        return f"<{len(self.frames)} frames, {len(self.sound)} AAC packets>"


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    units, _ = load_access_units(ClipSpec(160, 120, 100_000),
                                 tmp_path_factory.mktemp("clip"))
    holder = av.open(io.BytesIO(), "w", format="mp4")
    stream = holder.add_stream("aac", rate=AUDIO_RATE)
    stream.layout = "mono"
    packets: list[bytes] = []
    for k in range(FRAMES * AUDIO_RATE // FPS // AUDIO_SAMPLES + 1):
        t = np.arange(AUDIO_SAMPLES) + k * AUDIO_SAMPLES
        tone = (0.2 * np.sin(2 * np.pi * 440 * t / AUDIO_RATE)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = AUDIO_RATE, k * AUDIO_SAMPLES
        packets.extend(bytes(p) for p in stream.encode(frame))
    audio = Track(1, "aac", Fraction(1, AUDIO_RATE), stream,
                  bytes(stream.codec_context.extradata or b""), sample_rate=AUDIO_RATE)
    return Material(units[:FRAMES], video_track(units[0][1]), packets, audio)


def video_track(keyframe: bytes) -> Track:
    sets = tuple(u for u in split_annexb(keyframe) if nal_type("h264", u) in (H264_SPS, H264_PPS))
    stream = av.open(io.BytesIO(keyframe), format="h264").streams.video[0]
    stream.time_base = VIDEO_TB
    ctx = stream.codec_context
    return Track(0, "h264", VIDEO_TB, stream, to_annexb(sets), ctx.width, ctx.height, FPS)


FRAMES = 6 * FPS  # of the clip, at most, in one example
Jumps = dict[int, int]  # frame number: seconds the camera's clock jumps there


def script_of(material: Material, count: int, fates: list[str], jumps: Jumps,
              sound_lead_ms: int, start_s: int = 10, loss_early: int = 0) -> Scripted:
    """`count` frames with their fates, the camera's clock jumping at some of them, the
    sound led (or lagged) by the network. A loss is counted `loss_early` frames before
    the hole it leaves, as Kuzet's own client counts a batch's losses before handing its
    frames over."""
    jumps = {at: s for at, s in jumps.items() if at < count}

    def offset_ticks(frame: int) -> int:  # the camera's clock at frame `frame`
        return sum(s * 90_000 for at, s in jumps.items() if at <= frame)

    video: list[tuple[int, int, int, bool, bytes, int]] = []
    script = Scripted([])
    lost = 0
    order = list(range(count))
    for i in range(count - 1):  # a swapped frame arrives after its successor
        if fates[i] == "swapped" and order[i] == i:
            order[i], order[i + 1] = order[i + 1], order[i]
    for position, i in enumerate(order):
        key, data = material.frames[i]
        arrival = T0_NS + position * FRAME_NS
        if fates[i] == "lost":
            lost += 3
            continue
        tagged = START_CODE + sei_stamp(i + 1) + data
        dts = start_s * 90_000 + i * TICKS + offset_ticks(i)
        video.append((arrival, 0, dts, key, tagged, lost))
        script.sent_serials.add(i + 1)
        lost = 0
        if fates[i] == "duplicate":
            video.append((arrival + 1, 0, dts, key, tagged, 0))
    for n, (arrival, index, dts, key, data, lost) in enumerate(video):
        if lost and loss_early:
            early = max(0, n - loss_early)
            video[n] = (arrival, index, dts, key, data, 0)
            then = video[early]
            video[early] = (*then[:5], then[5] + lost)
    audio: list[tuple[int, int, int, bool, bytes, int]] = []
    for k, data in enumerate(material.sound):
        media_ns = k * AUDIO_SAMPLES * 10**9 // AUDIO_RATE
        if media_ns >= count * FRAME_NS:
            break
        frame = media_ns // FRAME_NS
        dts = (start_s * 90_000 + offset_ticks(frame)) * AUDIO_RATE // 90_000 \
            + k * AUDIO_SAMPLES
        arrival = T0_NS + media_ns - sound_lead_ms * 1_000_000
        audio.append((arrival, 1, dts, True, data, 0))
    script.deliveries = sorted(video + audio, key=lambda d: (d[0], d[1]))
    return script


def record(storage: Storage, camera: str, material: Material,
           script: Scripted) -> Supervisor:
    """Run the recorder over the script until the network has delivered all of it."""
    cam = storage.catalog.add_camera(camera, "rtsp://10.0.0.2/s", zone="corridor")
    network = Network(script)

    def opener(*_: Any, **__: Any) -> ScriptedSource:
        if network.over:
            supervisor.stop()
            raise SourceError(GapCause.CONNECT_FAILED, "the script is over")
        return ScriptedSource(material.video, material.audio, network, supervisor.stop)

    supervisor = Supervisor(CameraSource(cam.id, camera, SecretUrl("rtsp://10.0.0.2/s"), "tcp",
                                         keep_audio=True),
                            storage.catalog, storage.settings, storage.volumes, opener=opener,
                            clock_ns=lambda: network.now)
    supervisor.start()
    assert supervisor.join(60), "the recorder did not finish the script"
    return supervisor


def file_facts(path: Path) -> tuple[list[int], int, int]:
    """Serials of the file's frames in order, its video's duration and its whole length
    (the latest end of any frame or sound packet), in ns. A sound packet lasts its 1024
    samples: readers disagree on the last sample's length after a hole in the sound
    (PyAV's FFmpeg gave the gap before it, Debian's ffprobe the sample's own)."""
    serials: list[int] = []
    video_end = audio_end = 0
    first: int | None = None
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.dts is None or not packet.size:
                continue
            tb = packet.time_base
            assert packet.pts is not None
            assert tb is not None
            video = packet.stream.type == "video"
            length = (packet.duration or 0) if video else AUDIO_SAMPLES
            end = int((packet.pts + length) * tb * 10**9)
            if video:
                serial = stamp_of(bytes(packet))
                assert serial is not None, path
                serials.append(serial)
                if first is None:
                    first = int(packet.dts * tb * 10**9)
                video_end = max(video_end, end)
            else:
                audio_end = max(audio_end, end)
    start = first or 0
    return serials, video_end - start, max(video_end, audio_end) - start


def check(catalog: Catalog, camera: str, script: Scripted) -> None:
    cam = catalog.camera(camera)
    seen: list[int] = []
    rows = catalog.segments(cam.id)
    for row in rows:
        serials, video_ns, whole_ns = file_facts(catalog.path_of(row))
        length = row.end_ns - row.start_ns
        assert len(serials) == row.frames, (row, serials)
        assert abs(video_ns - length) <= 1_000_000, (row, video_ns, length)
        # Sound ends within the AAC frame that overlaps the picture's last one, plus the
        # one frame's offset of the sound's start that a fragmented MP4 cannot hold (FFmpeg
        # puts the first sample at zero and counts the offset into the track's length).
        assert whole_ns - length <= 2 * AUDIO_FRAME_NS, (row, whole_ns)
        assert serials == sorted(serials), serials
        seen += serials
    assert len(seen) == len(set(seen)), "a frame was recorded twice"
    assert set(seen) <= script.sent_serials
    starts = [r.start_ns for r in rows]
    assert all(a.end_ns <= b.start_ns for a, b in itertools.pairwise(rows)), starts
    # no gap of a failure: every hole is the stream's doing (or the script's end)
    causes = {g.cause for g in catalog.gaps(cam.id)}
    assert causes <= {"timestamp_jump", "packet_loss", "connect_failed"}, causes


EVENTS = ["lost", "lost", "duplicate", "swapped"]
# Half the events fall on keyframes, where segments are cut and most can go wrong.
FRAME_OR_KEYFRAME = st.one_of(st.integers(0, FRAMES - 1),
                              st.integers(0, FRAMES // FPS - 1).map(lambda g: g * FPS))


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(count=st.integers(2 * FPS, FRAMES),
       events=st.dictionaries(FRAME_OR_KEYFRAME, st.sampled_from(EVENTS), max_size=8),
       jumps=st.dictionaries(st.integers(1, FRAMES - 1),
                             st.sampled_from([-30, -6, -1, 7, 50]), max_size=3),
       start_s=st.sampled_from([-3, 10]),
       loss_early=st.integers(0, 6),
       sound_lead_ms=st.integers(-300, 400))
def test_a_segment_lasts_what_the_catalog_says_and_no_frame_is_recorded_twice(
        count: int, events: dict[int, str], jumps: Jumps, start_s: int, loss_early: int,
        sound_lead_ms: int, storage: Storage, material: Material) -> None:
    """UE-10-22 3.3.2 (cameras recorded continuously, what is recorded is what the catalog
    says). Loss, duplicates, frames out of order, clock jumps and sound ahead or behind,
    in any mix: each file's video lasts its catalog length, its sound no longer, its frames
    in order, and no frame twice anywhere. Each example is a new camera on one catalog
    (the fixture outlives the examples; nothing else is shared)."""
    fates = [events.get(i, "ok") for i in range(count)]
    script = script_of(material, count, fates, jumps, sound_lead_ms, start_s, loss_early)
    camera = f"cam{len(storage.catalog.cameras()) + 1}"
    record(storage, camera, material, script)
    check(storage.catalog, camera, script)
    if not events and not jumps:  # a clean stream is recorded whole
        rows = storage.catalog.segments(storage.catalog.camera(camera).id)
        assert sum(r.frames for r in rows) == count


def test_whole_frames_lost_leave_a_packet_loss_gap(storage: Storage,
                                                   material: Material) -> None:
    """UE-10-22 3.3.2, issue 20 defect 5: frames the network lost are a gap with cause
    packet_loss placed where they were, and the status counts the RTP packets lost; a
    packet lost within a frame that still arrives is counted and leaves no gap."""
    count = 4 * FPS
    deliveries = []
    for i in range(count):
        if 30 <= i < 35:  # five frames lost in the middle of the second GOP
            continue
        key, data = material.frames[i]
        lost = 9 if i == 35 else 2 if i == 70 else 0
        deliveries.append((T0_NS + i * FRAME_NS, 0, 10 * 90_000 + i * TICKS, key,
                           START_CODE + sei_stamp(i + 1) + data, lost))
    script = Scripted(deliveries, {i + 1 for i in range(count)})
    supervisor = record(storage, "lossy", material, script)
    assert supervisor.status.packets_lost == 11
    catalog = storage.catalog
    cam = catalog.camera("lossy")
    gaps = [g for g in catalog.gaps(cam.id) if g.cause == "packet_loss"]
    assert len(gaps) == 1, gaps
    rows = catalog.segments(cam.id)
    first = rows[0]
    # the first segment ends after frame 29; the next starts at the keyframe 50
    assert first.frames == 30
    assert gaps[0].start_ns == first.end_ns
    assert gaps[0].end_ns == rows[1].start_ns
    assert abs((rows[1].start_ns - first.end_ns) - 20 * FRAME_NS) < FRAME_NS
    assert "11 RTP packets lost" not in (gaps[0].detail or "")
    assert "9 RTP packets lost" in (gaps[0].detail or "")
    check(catalog, "lossy", script)


def test_a_catch_up_burst_is_placed_where_its_frames_were_made(storage: Storage,
                                                               material: Material) -> None:
    """UE-10-22 3.3.2 (what is recorded is placed when it happened), issue 20: a camera
    that held its first 3.5 s back and sent them in one burst, as a frozen camera does to
    a session that reconnected during the freeze. Its segments are placed on the wall
    clock where their frames were made, as the frames after the burst tell, not seconds
    late by their arrival; before, the first was placed 1.54 s late and every later one
    with it (each starts at the end of the one before)."""
    count, burst_ns = 6 * FPS, 3_500_000_000
    deliveries = []
    for i in range(count):
        key, data = material.frames[i]
        media_ns = i * FRAME_NS
        deliveries.append((T0_NS + max(media_ns, burst_ns) + i, 0, 10 * 90_000 + i * TICKS,
                           key, START_CODE + sei_stamp(i + 1) + data, 0))
    for k, data in enumerate(material.sound):
        media_ns = k * AUDIO_FRAME_NS
        if media_ns >= count * FRAME_NS:
            break
        deliveries.append((T0_NS + max(media_ns, burst_ns) + k, 1,
                           10 * AUDIO_RATE + k * AUDIO_SAMPLES, True, data, 0))
    script = Scripted(sorted(deliveries, key=lambda d: (d[0], d[1])),
                      {i + 1 for i in range(count)})
    record(storage, "frozen", material, script)
    catalog = storage.catalog
    rows = catalog.segments(catalog.camera("frozen").id)
    assert len(rows) >= 3, rows  # two segments of the burst and one after it
    for row in rows:
        serials, _, _ = file_facts(catalog.path_of(row))
        made_ns = T0_NS + (serials[0] - 1) * FRAME_NS
        assert abs(row.start_ns - made_ns) < 1_000_000, (row, made_ns - T0_NS)
    check(catalog, "frozen", script)


def test_a_segment_starting_at_an_open_gop_keyframe_holds_no_undecodable_frame(
        storage: Storage, material: Material, tmp_path: Path) -> None:
    """UE-10-22 3.3.2, issue 20: an H.265 camera with open GOPs (x265's default) sends
    after each CRA keyframe leading pictures (RASL) that refer to the GOP before it; a
    file that starts at that CRA cannot show them, and a decoder skips them, so they are
    not written: every frame the catalog counts, ffprobe decodes. Inside a segment they
    stay (they decode there); played back or exported from a later keyframe of it, they
    are left out again: every picture sent or packaged is one a player shows."""
    encoder = av.CodecContext.create("libx265", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 160, 120, "yuv420p"
    encoder.time_base, encoder.framerate = Fraction(1, FPS), Fraction(FPS)
    encoder.options = {"x265-params": "keyint=24:min-keyint=24:open-gop=1:bframes=3:"
                                      "b-adapt=0:scenecut=0:log-level=error"}
    packets = []
    for i in range(4 * FPS):
        picture = np.full((120, 160, 3), (i * 7) % 255, np.uint8)
        picture[:, (i * 3) % 150:(i * 3) % 150 + 10] = 255
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
        frame.pts = i
        packets.extend(encoder.encode(frame))
    packets.extend(encoder.encode(None))
    coded = [(p.is_keyframe, p.pts or 0, p.dts or 0, bytes(p)) for p in packets]
    start = next(i for i, (key, pts, _, _) in enumerate(coded) if key and pts > 0)
    assert first_slice_type("hevc", coded[start][3]) == 21  # a CRA, RASL pictures after it
    stream = av.open(io.BytesIO(coded[0][3]), format="hevc").streams.video[0]
    stream.time_base = VIDEO_TB
    sets = tuple(u for u in split_annexb(coded[0][3]) if nal_type("hevc", u) in (32, 33, 34))
    video = Track(0, "hevc", VIDEO_TB, stream, to_annexb(sets), 160, 120, FPS)
    deliveries = [(T0_NS + n * FRAME_NS, 0, 10 * 90_000 + dts * TICKS, key, data, 0)
                  for n, (key, _, dts, data) in enumerate(coded[start:])]
    # and sound, whose bytes follow the pictures' in each fragment
    first_ticks = 10 * 90_000 + coded[start][2] * TICKS
    for k, data in enumerate(material.sound[:3 * AUDIO_RATE // AUDIO_SAMPLES]):
        media_ns = k * AUDIO_SAMPLES * 10**9 // AUDIO_RATE
        deliveries.append((T0_NS + media_ns, 1, first_ticks * AUDIO_RATE // 90_000
                           + k * AUDIO_SAMPLES, True, data, 0))
    deliveries.sort(key=lambda d: (d[0], d[1]))
    hevc = Material([], video, [], material.audio)
    record(storage, "opengop", hevc, Scripted(deliveries))
    rows = storage.catalog.segments(storage.catalog.camera("opengop").id)
    assert rows
    for row in rows:
        probe = ffprobe(storage.catalog.path_of(row))
        assert int(probe["streams"][0]["nb_read_frames"]) == row.frames, row.frames
    row = rows[0]
    kfs = keyindex.decode(row.keyframes)
    assert len(kfs) >= 2
    with storage.catalog.path_of(row).open("rb") as f:
        parts = segment_parts(f, 1, lambda n: f.seek(n, 1))
        init, fragments = read_segment(*parts, kfs, row.end_ns - row.start_ns, 1,
                                       row.end_ns - row.start_ns)
        sent = [fragment.data for fragment in fragments]
    assert len(sent) == len(kfs) - 1
    shown = decoded(init + b"".join(sent))
    assert shown == sum(read_moof(d, 0, struct.unpack_from(">I", d)[0], len(d)).samples[1]
                        for d in sent)
    first = SegmentReader(storage.catalog.path_of(row).read_bytes()).facts()[0].samples[1]
    assert shown == row.frames - first - 3  # the three RASL after the CRA went
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        part = export_camera(storage.catalog, zf, "p", "opengop", row.start_ns + kfs[1],
                             rows[-1].end_ns, T0_NS).parts[0]
    assert part.start_ns == row.start_ns + kfs[1]
    assert part.frames == sum(r.frames for r in rows) - first - 3
    exported = tmp_path / "part.mp4"
    exported.write_bytes(zipfile.ZipFile(zipped).read(part.file))
    assert int(ffprobe(exported)["streams"][0]["nb_read_frames"]) == part.frames


def decoded(data: bytes) -> int:
    """How many pictures a decoder shows of a fragmented MP4 (init segment first); its
    sound, where it has some, must decode too."""
    with av.open(io.BytesIO(data), "r") as container:
        pictures = len(list(container.decode(video=0)))
    with av.open(io.BytesIO(data), "r") as container:
        for packet in container.demux(audio=0):
            packet.decode()
    return pictures


def test_an_unforeseen_error_opening_a_camera_is_a_gap_and_a_retry(storage: Storage) -> None:
    """UE-10-22 3.3.2: a camera whose answer the client did not foresee (an exception
    other than a SourceError while opening: `a=rtpmap:8 PCMA/0` divided by zero) is a
    `connect_failed` gap and is tried again; before, the camera's thread ended and its
    status stayed `starting` for good."""
    cam = storage.catalog.add_camera("odd", "rtsp://10.0.0.2/s", zone="corridor")
    tries = itertools.count()

    def opener(*_: Any, **__: Any) -> ScriptedSource:
        if next(tries) == 2:
            supervisor.stop()
        raise ZeroDivisionError("an answer nobody foresaw")

    supervisor = Supervisor(CameraSource(cam.id, "odd", SecretUrl("rtsp://10.0.0.2/s"), "tcp"),
                            storage.catalog, storage.settings, storage.volumes, opener=opener)
    supervisor.start()
    assert supervisor.join(15)
    assert next(tries) == 3  # tried again, twice
    assert [g.cause for g in storage.catalog.gaps(cam.id)] == ["connect_failed"]
    assert "internal error" in (supervisor.status.last_error or "")
