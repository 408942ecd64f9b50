"""Issue 20, defect 4: a picture sent in several slices, each after its own SPS and PPS
(GStreamer's x264enc with sliced threads, many cameras), is one frame. FFmpeg's H.264
parser cuts such a keyframe into a packet a slice, all with the picture's timestamp;
taken for a timestamp jump, every GOP became a 1-frame segment, a long one and a
zero-length `timestamp_jump` gap. And a keyframe repeating its parameter sets is not a
change of parameters that starts a segment (the lower item: sets compared as sets).

Checked with GStreamer's RTSP server as the camera, over TCP (Kuzet's own client) and
over UDP (FFmpeg's client): segments only at the configured length, no gap, and every
file decodes with the catalog's frame count.
"""

from __future__ import annotations

import signal
from itertools import pairwise
from typing import Any

import av
import pytest

from conftest import FRAME_NS, Kuzet, ffprobe, stop, wait_for
from kuzet.ingest.timestamps import fill_missing_timestamps, join_access_units, starts_picture
from kuzet.rtsp.depacketize import H264Depacketizer, split_interleaved

SEGMENT_S = 2  # the camera's GOP is 1 s: a cut at every second keyframe
CAMERAS = {"sliced_tcp": "tcp", "sliced_udp": "udp"}


@pytest.mark.slow
def test_a_picture_in_slices_is_one_frame_on_both_transports(kuzet: Kuzet,
                                                             gst_server: int) -> None:
    """3.3.2: a camera that sends each picture in slices, parameter sets before every
    slice (GStreamer's x264enc with sliced threads, as many cameras do), is recorded in
    whole segments on both transports: no 1-frame segments, no `timestamp_jump` gaps."""
    kuzet.env["KUZET_SEGMENT_S"] = str(SEGMENT_S)
    for name, transport in CAMERAS.items():
        kuzet.run("camera", "add", name, f"rtsp://127.0.0.1:{gst_server}/h264slices",
                  "--zone", "corridor", "--transport", transport)
    serve = kuzet.serve()

    def segments(name: str) -> int:
        catalog = kuzet.catalog()
        return len(catalog.segments(catalog.camera(name).id))

    # three closed segments a camera: some 6-8 s of each
    wait_for(lambda: all(segments(n) >= 3 for n in CAMERAS), 60, interval=0.5,
             what="three segments from each sliced camera")
    stop(serve, signal.SIGTERM, timeout=10)
    assert serve.returncode == 0, kuzet.log("serve")
    log = kuzet.log("serve")
    assert "Traceback" not in log
    target_ns = SEGMENT_S * 10**9
    for name in CAMERAS:
        gaps = kuzet.json("recordings", "gaps", name)
        assert [g for g in gaps if g["cause"] == "timestamp_jump"] == [], (name, gaps)
        assert gaps == [], (name, gaps)
        rows = kuzet.json("recordings", "list", name)
        assert len(rows) >= 4, (name, rows)  # three full ones and the one closed at SIGTERM
        with av.open(str(kuzet.volume / rows[0]["path"])) as f:  # the camera does slice
            key = bytes(next(p for p in f.demux(video=0) if p.is_keyframe))
        kinds, at = [], 0
        while at + 4 <= len(key):  # length-prefixed NAL units
            kinds.append(key[at + 4] & 0x1F)
            at += 4 + int.from_bytes(key[at:at + 4], "big")
        assert kinds.count(5) >= 2, (name, kinds)  # one keyframe, several IDR slices
        for row in rows:
            probe = ffprobe(kuzet.volume / row["path"])
            video = next(s for s in probe["streams"] if s["codec_type"] == "video")
            assert video["codec_name"] == "h264"
            assert int(video["nb_read_frames"]) == row["frames"], (name, row["path"])
            assert (video["width"], video["height"]) == (320, 240)
        for row in rows[:-1]:  # cut at the configured length, and only there
            assert row["end_ns"] - row["start_ns"] == pytest.approx(target_ns, abs=FRAME_NS // 2), \
                (name, row)
            assert row["frames"] == target_ns // FRAME_NS, (name, row)
            assert len(row["keyframes_ns"]) == SEGMENT_S, (name, row)
        assert rows[-1]["end_ns"] - rows[-1]["start_ns"] <= target_ns + FRAME_NS // 2
        for prev, row in pairwise(rows):
            assert row["start_ns"] == prev["end_ns"], (name, prev, row)  # unbroken


# Three slices of one IDR picture, each after the SPS and PPS, then one P picture.
SPS, PPS = b"\x67\x42\xc0\x1e", b"\x68\xce\x3c\x80"
SLICES = [b"\x65\x88\x84", b"\x65\x20\x11", b"\x65\x10\x22"]  # first_mb 0, then not
P_SLICE = b"\x41\x9a\x02"


def _annexb(*units: bytes) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + u for u in units)


def _video(data: bytes, dts: int | None, key: bool = False) -> Any:
    packet = av.Packet(data)
    packet.dts = packet.pts = dts
    packet.is_keyframe = key
    return packet


class _Sound:
    stream_index, size = 1, 10

    def __init__(self, dts: int) -> None:
        self.dts = self.pts = dts


def test_packets_with_one_timestamp_are_joined_into_one_frame() -> None:
    """FFmpeg's parser hands a keyframe over as a packet a slice; joined back, in order,
    with the sound that arrived in between kept behind the frame it followed."""
    parts = [_video(_annexb(SPS, PPS, s), 0, key=True) for s in SLICES]
    sound = _Sound(0)
    later = _video(_annexb(P_SLICE), 3600)
    out = list(join_access_units([parts[0], sound, parts[1], parts[2], later], 0, "h264"))
    assert [p.stream_index for p in out] == [0, 1, 0]
    assert bytes(out[0]) == b"".join(bytes(p) for p in parts)
    assert (out[0].dts, out[0].pts, out[0].is_keyframe) == (0, 0, True)
    assert out[1] is sound
    assert out[2] is later
    assert [starts_picture("h264", bytes(p)) for p in parts] == [True, False, False]


def test_pictures_with_one_frozen_timestamp_are_never_joined() -> None:
    """A camera whose timestamps froze sends whole pictures with one time: each starts a
    picture, so none is joined into another (the recorder sees the repeated time as a
    jump, as before), and a frame that is not a keyframe goes on at once, never held."""
    key = _video(_annexb(SPS, PPS, SLICES[0]), 0, key=True)
    frozen = [_video(_annexb(P_SLICE), 0) for _ in range(3)]
    out = list(join_access_units([key, *frozen], 0, "h264"))
    assert len(out) == 4
    assert bytes(out[0]) == bytes(key)
    it = join_access_units(iter([frozen[0]]), 0, "h264")
    assert next(it) is frozen[0]  # not held for the next packet


def test_an_untimed_first_slice_takes_the_time_of_the_rest_of_its_picture() -> None:
    """The session's first packet comes without a time; when the next packet is the rest
    of the same picture it shares that time (before, it was put a frame earlier: half a
    picture as a frame of its own)."""
    first = _video(_annexb(b"\x09\xf0", SPS, PPS, SLICES[0]), None, key=True)
    rest = _video(_annexb(SPS, PPS, SLICES[1]), 0, key=True)
    nxt = _video(_annexb(P_SLICE), 3600)
    out = list(fill_missing_timestamps([first, rest, nxt], 0, 3600, "h264"))
    assert [p.dts for p in out] == [0, 0, 3600]
    whole = list(join_access_units(out, 0, "h264"))
    assert [p.dts for p in whole] == [0, 3600]


def _rtp(seq: int, timestamp: int, payload: bytes, marker: bool) -> bytes:
    header = bytes((0x80, (0x80 if marker else 0) | 96)) + seq.to_bytes(2, "big") \
        + timestamp.to_bytes(4, "big") + b"\x00\x00\x00\x01"
    packet = header + payload
    return b"$\x00" + len(packet).to_bytes(2, "big") + packet


def test_own_client_keeps_a_picture_whole_when_each_slice_is_marked() -> None:
    """A camera that sets the marker bit on every slice: the slices that follow with the
    same timestamp join the picture, which is one access unit."""
    units = [SPS, PPS, SLICES[0], SPS, PPS, SLICES[1], SPS, PPS, SLICES[2]]
    stream = b"".join(_rtp(i, 1000, u, marker=u in SLICES) for i, u in enumerate(units))
    stream += _rtp(len(units), 4600, P_SLICE, marker=True)
    depacketizer = H264Depacketizer()
    buf = bytearray(stream)
    assert split_interleaved(buf, 0, len(buf), {0: depacketizer}) == len(buf)
    ready = depacketizer.ready
    assert [(u.timestamp, u.keyframe) for u in ready] == [(1000, True), (4600, False)]
    assert ready[0].data == _annexb(*units)
