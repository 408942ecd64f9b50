"""The camera simulator, played by independent RTSP clients: ffprobe, ffmpeg, GStreamer."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import av
import pytest

from bare_rtsp import VIDEO, Received, play
from conftest import Kuzet, ffprobe
from kuzet.credentials import SecretUrl
from kuzet.ingest.rtsp_source import RtspSource

pytestmark = pytest.mark.slow


@pytest.fixture
def sim(kuzet: Kuzet) -> int:
    return kuzet.sim(cameras=2)[1]


def probe(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ffprobe", "-v", "error", *args, "-show_entries",
                           "stream=codec_name,width,height,r_frame_rate", "-of", "json", url],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffprobe_sees_main_and_sub_streams(sim: int, transport: str) -> None:
    for path, size in (("cam01/main", (640, 360)), ("cam02/sub", (320, 180))):
        out = probe(f"rtsp://127.0.0.1:{sim}/{path}", "-rtsp_transport", transport)
        assert out.returncode == 0, out.stderr
        stream = json.loads(out.stdout)["streams"][0]
        assert stream["codec_name"] == "h264"
        assert (stream["width"], stream["height"]) == size
        assert stream["r_frame_rate"] == "25/1"


def test_ffmpeg_records_every_frame(sim: int, tmp_path: Path) -> None:
    out = tmp_path / "copy.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i",
                    f"rtsp://127.0.0.1:{sim}/cam01/main", "-t", "4", "-c", "copy", str(out)],
                   check=True, timeout=30)
    frames = int(ffprobe(out)["streams"][0]["nb_read_frames"])
    assert 95 <= frames <= 130  # 4 s at 25 fps, plus the GOP sent at PLAY


@pytest.mark.parametrize("protocols", ["tcp", "udp"])
def test_gstreamer_decodes_the_stream(sim: int, protocols: str) -> None:
    """GStreamer's rtspsrc plays and decodes 50 frames. One retry: this checks that the two
    implementations interoperate, and a loaded CI machine can make gst-launch itself give
    up on its first try; both outputs are shown if both fail."""
    outputs = []
    for _ in range(2):
        out = subprocess.run(
            ["gst-launch-1.0", "-q", "rtspsrc", f"location=rtsp://127.0.0.1:{sim}/cam01/main",
             f"protocols={protocols}", "!", "rtph264depay", "!", "h264parse", "!",
             "avdec_h264", "!", "fakesink", "num-buffers=50"],
            capture_output=True, text=True, timeout=60)
        if out.returncode == 0:
            return
        outputs.append(out.stderr + out.stdout)
    pytest.fail("gst-launch failed twice:\n" + "\n---\n".join(outputs))


@pytest.mark.parametrize("scheme", ["digest", "basic"])
def test_authentication(kuzet: Kuzet, scheme: str) -> None:
    _, port = kuzet.sim("--auth", scheme, "--user", "guard", "--password", "Qw3rty")
    ok = probe(f"rtsp://guard:Qw3rty@127.0.0.1:{port}/cam01/main")
    assert ok.returncode == 0, ok.stderr
    for url in (f"rtsp://guard:wrong@127.0.0.1:{port}/cam01/main",
                f"rtsp://127.0.0.1:{port}/cam01/main"):
        bad = probe(url)
        assert bad.returncode != 0
        assert "401" in bad.stderr


def _rtsp(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        return s.recv(4096)


def test_protocol_answers(sim: int) -> None:
    assert b"Public:" in _rtsp(sim, b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    describe = _rtsp(sim, b"DESCRIBE rtsp://h/cam01/main RTSP/1.0\r\nCSeq: 2\r\n\r\n")
    assert describe.startswith(b"RTSP/1.0 200")
    assert b"sprop-parameter-sets=" in describe
    assert _rtsp(sim, b"DESCRIBE rtsp://h/cam99/main RTSP/1.0\r\nCSeq: 3\r\n\r\n") \
        .startswith(b"RTSP/1.0 404")
    assert _rtsp(sim, b"PLAY rtsp://h/cam01/main RTSP/1.0\r\nCSeq: 4\r\nSession: nope\r\n\r\n") \
        .startswith(b"RTSP/1.0 454")
    assert _rtsp(sim, b"GET_PARAMETER rtsp://h/cam01/main RTSP/1.0\r\nCSeq: 5\r\n\r\n") \
        .startswith(b"RTSP/1.0 200")
    assert _rtsp(sim, b"garbage\r\n\r\n").startswith(b"RTSP/1.0 400")
    assert _rtsp(sim, b"DESCRIBE rtsp://h/cam01/main HTTP/1.1\r\nCSeq: 6\r\n\r\n") \
        .startswith(b"RTSP/1.0 505")


def test_a_person_that_is_not_a_picture_is_refused(kuzet: Kuzet, tmp_path: Path) -> None:
    """`kuzet sim --person` names the file that is no picture, and exits before serving;
    `--person-on` (issue 21: `kuzet demo`'s person walks through cam01 only) names a
    camera it does not serve."""
    from kuzet.rtsp.clip import PERSON_PHOTO

    text = tmp_path / "person.txt"
    text.write_text("not a photograph")
    for path in (text, tmp_path / "missing.png"):
        proc = kuzet.run("sim", "--port", "1", "--person", str(path), check=False)
        assert proc.returncode != 0
        assert "--person" in proc.stderr
        assert "is not a picture" in proc.stderr
    proc = kuzet.run("sim", "--port", "1", "--cameras", "4", "--person", str(PERSON_PHOTO),
                     "--person-on", "cam09", check=False)
    assert proc.returncode != 0
    assert "--person-on cam09: no such camera (cam01 to cam04)" in proc.stderr


def _frame_arrivals(port: int, frames: int, skip: int) -> list[float]:
    """Play cam01/main over TCP on a bare socket and note when each packet's read
    returned; for `frames` whole frames after the first `skip` (PLAY sends the current
    second's frames at once), how long from its first packet's arrival to its last's."""
    def enough(packets: list[Received]) -> bool:  # the marker bit ends a frame
        return sum(p.data[1] >> 7 for p in packets if p.channel == VIDEO) >= skip + frames

    _, packets = play(port, 1, enough)
    first: dict[int, float] = {}  # RTP timestamp: arrival of its first and last packet
    last: dict[int, float] = {}
    order: list[int] = []
    for packet in packets:
        if packet.channel == VIDEO:
            if packet.ts not in first:
                first[packet.ts] = packet.at
                order.append(packet.ts)
            last[packet.ts] = packet.at
    return [last[ts] - first[ts] for ts in order[skip:skip + frames]]


def test_spread_sends_a_frames_packets_across_its_interval(kuzet: Kuzet) -> None:
    """Issue 19: `kuzet sim --spread` sends each frame's packets over its 40 ms, as a
    camera's encoder and network card do, rather than in one write; a plain client reads
    each frame over several reads, and Kuzet's own client still gets and decodes every
    frame, as ffprobe over UDP still plays the stream."""
    _, port = kuzet.sim("--spread")
    spreads = sorted(_frame_arrivals(port, frames=50, skip=30))
    # Packet k of n leaves k/n of 40 ms after the frame's first: about 30 ms for the test
    # clip's four-odd packets a frame. Unspread, a frame is one write, read at once (0 ms).
    assert spreads[len(spreads) // 2] >= 0.010, spreads

    source = RtspSource.open(SecretUrl(f"rtsp://127.0.0.1:{port}/cam01/main"), stall_s=5)
    try:
        assert (source.video.codec, source.video.width, source.video.height) == ("h264", 640, 360)
        decoder = av.CodecContext.create("h264", "r")
        got: list[tuple[int, int]] = []
        pictures = 0
        for index, packet in source.packets():
            data = bytes(packet)
            if not got:
                data = source.video.extradata + data
            got.append((index, packet.dts))
            pictures += len(decoder.decode(av.Packet(data)))
            if len(got) == 60:
                break
        pictures += len(decoder.decode(None))
    finally:
        source.close()
    assert got == [(0, 3600 * i) for i in range(60)]  # 25 fps, none lost
    assert pictures == 60

    out = probe(f"rtsp://127.0.0.1:{port}/cam01/main", "-rtsp_transport", "udp")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["streams"][0]["codec_name"] == "h264"
