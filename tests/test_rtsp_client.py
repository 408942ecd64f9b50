"""Kuzet's own RTSP client: framing, depacketizing and SDP as pure logic, then sessions
against the simulator and gst-rtsp-server."""

from __future__ import annotations

import base64
import contextlib
import itertools
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Kuzet
from kuzet.credentials import SecretUrl
from kuzet.ingest.choice import ClientChoice
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.ingest.rtsp_source import RtspSource
from kuzet.ingest.source import NeedsFfmpeg
from kuzet.nal import to_annexb
from kuzet.rtsp.depacketize import (
    AacDepacketizer,
    Depacketizer,
    H264Depacketizer,
    H265Depacketizer,
    StreamSyncError,
    TimestampUnwrapper,
    split_interleaved,
)
from kuzet.rtsp.rtp import packetize_h264, rtp_header
from kuzet.rtsp.sdp import parse_sdp
from kuzet.rtsp.stamp import sei_stamp, stamp_of

SPS, PPS = b"\x67\x42\xc0\x1e\xaa", b"\x68\xce\x3c\x80"


SEQUENCES: defaultdict[int, Iterator[int]] = defaultdict(itertools.count)


def frames(channel: int, payloads: list[bytes], timestamp: int, pt: int = 96,
           marker: bool = True) -> bytes:
    """RTP packets of one access unit in RTSP's interleaved framing, each channel's
    sequence numbers going on from its last packet."""
    out = b""
    for i, payload in enumerate(payloads):
        packet = rtp_header(pt, marker and i == len(payloads) - 1, next(SEQUENCES[channel]),
                            timestamp, 7) + payload
        out += struct.pack(">cBH", b"$", channel, len(packet)) + packet
    return out


def feed(data: bytes, cuts: list[int], sink: dict[int, Depacketizer]) -> None:
    """Hand `data` over in pieces cut at `cuts`, as reads from a socket would."""
    buf = bytearray()
    pos = 0
    edges = sorted({c % (len(data) + 1) for c in cuts} | {len(data)})
    start = 0
    for edge in edges:
        buf += data[start:edge]
        start = edge
        pos = split_interleaved(buf, pos, len(buf), sink)
    assert pos == len(buf), "every complete packet is consumed"


units_strategy = st.lists(st.binary(min_size=1, max_size=4000), min_size=1, max_size=5)


@given(units_strategy, units_strategy, st.integers(100, 1400), st.lists(st.integers(0, 10**6)))
def test_h264_access_units_survive_any_chunking(first: list[bytes], second: list[bytes],
                                                mtu: int, cuts: list[int]) -> None:
    # NAL units as an encoder makes them: no start code inside, type 1 (a slice).
    one = tuple(b"\x41" + b.replace(b"\x00\x00", b"\x00\x01") for b in first)
    two = tuple(b"\x65" + b.replace(b"\x00\x00", b"\x00\x01") for b in second)
    reply = b"RTSP/1.0 200 OK\r\nCSeq: 9\r\nContent-Length: 4\r\n\r\nok\r\n"
    data = (frames(0, list(packetize_h264(to_annexb(one), mtu)), 3600) + reply
            + frames(1, [b"\x80\xc8\x00\x06" + bytes(24)], 0)  # RTCP on a channel not read
            + frames(0, list(packetize_h264(to_annexb(two), mtu)), 7200))
    video = H264Depacketizer()
    feed(data, cuts, {0: video})
    assert [(u.timestamp, u.data, u.keyframe) for u in video.ready] == [
        (3600, to_annexb(one), False), (7200, to_annexb(two), True)]


def test_h264_stap_a_and_a_lost_marker() -> None:
    idr = b"\x65" + bytes(range(1, 200))
    stap = b"\x18" + b"".join(struct.pack(">H", len(u)) + u for u in (SPS, PPS))
    video = H264Depacketizer()
    # No marker bit on the first frame: the next timestamp ends it.
    feed(frames(0, [stap, idr], 1000, marker=False) + frames(0, [b"\x41\x01"], 4600), [],
         {0: video})
    assert [u.data for u in video.ready] == [to_annexb((SPS, PPS, idr)), to_annexb((b"\x41\x01",))]
    assert [u.keyframe for u in video.ready] == [True, False]


def test_h264_fragment_without_its_start_is_dropped() -> None:
    video = H264Depacketizer()
    middle = bytes((0x7C, 0x05)) + b"lost start"  # FU-A, neither start nor end bit
    feed(frames(0, [middle, b"\x41\x02"], 10), [], {0: video})
    assert [u.data for u in video.ready] == [to_annexb((b"\x41\x02",))]


def test_h265_fragments_and_aggregation() -> None:
    vps, sps, pps = b"\x40\x01\x0c", b"\x42\x01\x01", b"\x44\x01\xc1"
    idr = b"\x26\x01" + bytes(range(256)) * 10  # IDR_W_RADL
    ap = b"\x60\x01" + b"".join(struct.pack(">H", len(u)) + u for u in (vps, sps, pps))
    body = idr[2:]
    fus = [b"\x62\x01" + bytes(((0x80 if i == 0 else 0) | (0x40 if i + 1000 >= len(body) else 0)
                                | 19,)) + body[i:i + 1000] for i in range(0, len(body), 1000)]
    video = H265Depacketizer()
    feed(frames(0, [ap, *fus], 90_000), [5, 1001, 2048], {0: video})
    assert [(u.data, u.keyframe) for u in video.ready] == [(to_annexb((vps, sps, pps, idr)), True)]


def test_aac_access_units() -> None:
    au1, au2 = b"\x21" * 100, b"\x22" * 57
    payload = struct.pack(">HHH", 32, len(au1) << 3, len(au2) << 3) + au1 + au2
    audio = AacDepacketizer()
    feed(frames(2, [payload], 0xFFFFFF00, pt=97), [3], {2: audio})
    assert [(u.timestamp, u.data) for u in audio.ready] == [(0xFFFFFF00, au1), (0x300, au2)]


def test_damaged_sound_and_a_zero_clock_are_no_crash() -> None:
    """A camera's garbage is dropped, not raised in the recorder's thread: AU headers
    that run past a short AAC packet (it raised IndexError), and `PCMA/0` in the SDP (a
    zero clock divided by), which keeps the payload type's own 8 kHz."""
    audio = AacDepacketizer()
    feed(frames(2, [b"\x00\x40\x01"], 5, pt=97), [], {2: audio})
    assert audio.ready == []
    sdp = "v=0\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/0\r\n"
    assert [(m.codec, m.clock_rate) for m in parse_sdp(sdp)] == [("pcm_alaw", 8000)]


def test_lost_framing_is_an_error() -> None:
    with pytest.raises(StreamSyncError):
        split_interleaved(bytearray(b"HTTP/1.1 200 OK\r\n\r\n"), 0, 19, {})


@pytest.mark.parametrize("length", [b"-19", b"x", b"99999999"])
def test_a_reply_with_a_bad_length_is_lost_framing_not_a_hang(length: bytes) -> None:
    """A keep-alive reply inside the stream whose Content-Length is minus its head's
    length held the reader in one place for good (issue 20's review)."""
    reply = b"RTSP/1.0 200 OK\r\nCSeq: 9\r\nContent-Length: " + length + b"\r\n\r\n"
    with pytest.raises(StreamSyncError):
        split_interleaved(bytearray(reply + b"$\x00\x00\x00"), 0, len(reply) + 4, {})


def test_keep_alive_replies_are_read_for_their_status() -> None:
    replies: list[int] = []
    data = b"RTSP/1.0 501 Not Implemented\r\nCSeq: 4\r\n\r\n" + frames(0, [b"\x41\x01"], 5)
    split_interleaved(bytearray(data), 0, len(data), {0: H264Depacketizer()}, replies)
    assert replies == [501]


def test_timestamps_unwrap_across_32_bits_and_jump_back() -> None:
    unwrap = TimestampUnwrapper()
    back = (0x100 - 2_700_000) & 0xFFFFFFFF  # 30 s back
    seen = [unwrap(t) for t in (0xFFFFF000, 0xFFFFFF00, 0x100, 0x50, back)]
    assert seen == [0, 0xF00, 0x1100, 0x1050, 0x1100 - 2_700_000]


CAMERA_SDP = """v=0
o=- 1 1 IN IP4 10.0.0.9
s=Media Presentation
c=IN IP4 0.0.0.0
t=0 0
a=control:rtsp://10.0.0.9:554/Streaming/Channels/101/
m=video 0 RTP/AVP 96
a=rtpmap:96 H264/90000
a=fmtp:96 profile-level-id=420029; packetization-mode=1; sprop-parameter-sets={sps},{pps}
a=control:rtsp://10.0.0.9:554/Streaming/Channels/101/trackID=1?transportmode=unicast
a=framerate:30.000000
m=audio 0 RTP/AVP 97
a=rtpmap:97 MPEG4-GENERIC/16000/1
a=fmtp:97 streamtype=5; profile-level-id=15; mode=AAC-hbr; config=1408; sizeLength=13; \
indexLength=3; indexDeltaLength=3
a=control:trackID=2
m=application 0 RTP/AVP 107
a=rtpmap:107 isapi.metadata/90000
"""


def test_sdp_of_a_camera() -> None:
    # Parameter sets without their base64 padding, as some cameras send them.
    sdp = CAMERA_SDP.format(sps=base64.b64encode(SPS).decode().rstrip("="),
                            pps=base64.b64encode(PPS).decode())
    video, audio, data = parse_sdp(sdp)
    assert (video.kind, video.codec, video.clock_rate) == ("video", "h264", 90_000)
    assert video.parameter_sets() == (SPS, PPS)
    assert video.framerate == 30
    assert video.url("rtsp://10.0.0.9/x").endswith("/101/trackID=1?transportmode=unicast")
    assert (audio.codec, audio.clock_rate, audio.audio_config()) == ("aac", 16_000, b"\x14\x08")
    assert audio.fmtp["sizelength"] == "13"
    assert audio.url("rtsp://10.0.0.9/Streaming/Channels/101/") == \
        "rtsp://10.0.0.9/Streaming/Channels/101/trackID=2"
    assert data.codec is None


# -- sessions with real servers -----------------------------------------------------------

slow = pytest.mark.slow


@slow
@pytest.mark.parametrize("scheme", ["digest", "basic"])
def test_session_with_credentials(kuzet: Kuzet, scheme: str) -> None:
    _, port = kuzet.sim("--auth", scheme, "--user", "guard", "--password", "Qw3rty")
    source = RtspSource.open(SecretUrl(f"rtsp://guard:Qw3rty@127.0.0.1:{port}/cam01/main"),
                             stall_s=5)
    try:
        assert (source.video.codec, source.video.width, source.video.height) == ("h264", 640, 360)
        got = []
        for index, packet in source.packets():
            got.append((index, packet.dts, packet.is_keyframe))
            if len(got) == 60:
                break
    finally:
        source.close()
    assert got[0] == (0, 0, True)
    assert [dts for _, dts, _ in got] == [3600 * i for i in range(60)]  # 25 fps, none lost
    assert sum(key for _, _, key in got) == 3  # a keyframe every second
    for url, cause in ((f"rtsp://guard:wrong@127.0.0.1:{port}/cam01/main", GapCause.AUTH_FAILED),
                       (f"rtsp://127.0.0.1:{port}/cam01/main", GapCause.AUTH_FAILED),
                       (f"rtsp://guard:Qw3rty@127.0.0.1:{port}/cam99/main",
                        GapCause.CONNECT_FAILED)):
        with pytest.raises(SourceError) as caught:
            RtspSource.open(SecretUrl(url), stall_s=5)
        assert caught.value.cause is cause, caught.value
    assert "404" in str(caught.value)


@slow
def test_a_stamped_camera_carries_its_send_time_in_each_frame(kuzet: Kuzet) -> None:
    """Issue 19: `kuzet sim --stamp` puts each frame's send time in an SEI message, and the
    own client's frames keep it (so recording and live fragments carry it to the browser,
    where bench/live.py reads it); the decoder's picture is the same."""
    _, port = kuzet.sim("--stamp")
    before = time.time_ns()
    source = RtspSource.open(SecretUrl(f"rtsp://127.0.0.1:{port}/cam01/main"), stall_s=5)
    try:
        stamps = []
        for _, packet in source.packets():
            stamps.append(stamp_of(bytes(packet)))
            if len(stamps) == 30:
                break
    finally:
        source.close()
    after = time.time_ns()
    sent = [s for s in stamps if s is not None]
    assert len(sent) == 30, stamps
    assert all(before <= s <= after for s in sent), sent
    assert sent == sorted(sent)  # in the order sent
    assert sei_stamp(before)[0] & 0x1F == 6  # an SEI NAL unit, which decoders skip
    assert stamp_of(sei_stamp(before)) == before
    assert stamp_of(b"no stamp here") is None


@slow
def test_peer_that_never_answers(kuzet: Kuzet) -> None:
    import socket
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            RtspSource.open(SecretUrl(f"rtsp://127.0.0.1:{listener.getsockname()[1]}/x"),
                            stall_s=1)
    assert caught.value.cause is GapCause.CONNECT_FAILED
    assert "did not answer within 1 s" in str(caught.value)
    assert time.monotonic() - started < 3


@slow
def test_b_frames_stay_with_the_own_client(gst_server: int) -> None:
    """A camera that sends B-frames is read by the own client, which makes up decoding
    times RTP does not carry: each at most the frame's presentation time, strictly rising."""
    url = SecretUrl(f"rtsp://127.0.0.1:{gst_server}/h264b")
    choice = ClientChoice()
    source = choice.open(url, transport="tcp", stall_s=5)
    try:
        assert isinstance(source, RtspSource)
        times = []
        for _, packet in source.packets():
            times.append((packet.pts, packet.dts))
            if len(times) == 50:
                break
    finally:
        source.close()
    assert not choice.handed_to_ffmpeg(url)
    dts = [d for _, d in times]
    assert all(d <= p for p, d in times)
    assert all(a < b for a, b in itertools.pairwise(dts))
    assert sum(p != d for p, d in times) > 10  # reordered frames, not a plain camera
    assert sorted(p for p, _ in times)[:3] == [0, 3600, 7200]  # every frame, none lost


@slow
def test_batches_are_small_while_someone_watches(kuzet: Kuzet) -> None:
    """Recording alone reads a quarter second of the stream per wake-up; live view and
    detection get frames within tens of milliseconds."""
    import socket

    from kuzet.ingest.rtsp_source import BATCH_S, WATCHED_BATCH_S

    _, port = kuzet.sim()
    source = RtspSource.open(SecretUrl(f"rtsp://127.0.0.1:{port}/cam01/main"), stall_s=5)
    sock = source.client.sock
    assert sock is not None
    try:
        started, size = time.monotonic(), 0
        for _, packet in source.packets():
            size += packet.size
            if time.monotonic() - started > 2.5:
                break
        rate = size / (time.monotonic() - started)
        lowat = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT)
        assert lowat == pytest.approx(rate * BATCH_S, rel=0.5)
        source.watched(True)
        lowat = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT)
        assert lowat == pytest.approx(rate * WATCHED_BATCH_S, rel=0.5)
    finally:
        source.close()


def scripted_camera(sdp: str) -> tuple[int, threading.Thread]:
    """A one-connection RTSP peer that answers every request with 200 and `sdp` to
    DESCRIBE: enough to see what the client decides from a camera's SDP."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, listener:
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
                while b"\r\n\r\n" in data:
                    head, data = data.split(b"\r\n\r\n", 1)
                    method = head.split(b" ", 1)[0]
                    cseq = next(line for line in head.split(b"\r\n")
                                if line.lower().startswith(b"cseq")).split(b":")[1].strip()
                    body = sdp.encode() if method == b"DESCRIBE" else b""
                    conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: " + cseq + b"\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\n\r\n" + body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


@pytest.mark.parametrize("fmtp", ["packetization-mode=2", "sprop-max-don-diff=2"])
def test_out_of_order_packetization_goes_to_ffmpegs_client(fmtp: str) -> None:
    codec = "H264" if "packetization" in fmtp else "H265"
    sdp = (f"v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 {codec}/90000\r\n"
           f"a=fmtp:96 {fmtp}\r\na=control:track1\r\n")
    port, thread = scripted_camera(sdp)
    url = SecretUrl(f"rtsp://guard:Qw3rty@127.0.0.1:{port}/{fmtp}")  # remembered as configured
    with pytest.raises(NeedsFfmpeg, match="out of order"):
        RtspSource.open(url, stall_s=2)
    port, thread2 = scripted_camera(sdp)
    choice = ClientChoice()
    url = SecretUrl(f"rtsp://guard:Qw3rty@127.0.0.1:{port}/{fmtp}")
    with contextlib.suppress(SourceError):  # FFmpeg's client may not like the script either
        choice.open(url, transport="tcp", stall_s=2).close()
    assert choice.handed_to_ffmpeg(url)
    thread2.join(5)
    thread.join(5)


def test_a_unit_left_without_a_slice_by_a_loss_is_no_frame() -> None:
    """Issue 20 (found by the field corpus): a loss that takes a frame's SEI and slices but
    leaves its filler data must not hand over a frame with no picture ("missing picture
    in access unit"): the frame is missing, and the recorder must see it missing. A unit
    without a slice where nothing was lost (parameter sets sent apart) is kept."""
    video = H264Depacketizer()
    sei, slice_, filler = b"\x06\x05\x01\x00\x80", b"\x41\x9a\x02", b"\x0c\xff\xff"
    data = frames(0, [sei, slice_], 10)
    next(SEQUENCES[0]), next(SEQUENCES[0])  # the next frame's SEI and slice are lost
    data += frames(0, [filler], 20) + frames(0, [b"\x67\x42"], 25) + frames(0, [slice_], 30)
    feed(data, [], {0: video})
    video.order.flush()
    assert [u.timestamp for u in video.ready] == [10, 25, 30]
    assert video.order.lost == 2
