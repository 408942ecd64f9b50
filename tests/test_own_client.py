"""Kuzet's own RTSP client on what a network and a camera do to a stream: UDP transport,
packets reordered, duplicated and lost, B-frames (decoding times made up), a camera that
freezes while its RTCP goes on, and RTCP sender and receiver reports. Pure logic first,
then sessions against the simulator (`kuzet sim` with its scripted faults) and GStreamer."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Kuzet, ffprobe, stop, wait_for
from kuzet.credentials import SecretUrl
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.ingest.rtsp_source import BATCH_S, RtspSource
from kuzet.nal import to_annexb
from kuzet.rtsp.clip import Clip, ClipSpec, load_clip
from kuzet.rtsp.depacketize import H264Depacketizer
from kuzet.rtsp.reorder import REORDER_PACKETS, DecodingTimes, SequenceOrder, reorder_depth
from kuzet.rtsp.rtcp import RR, SDES, SR, packets, receiver_report, sender_reports
from kuzet.rtsp.rtp import packetize_h264, rtcp_sender_report, rtp_header

# -- putting packets back in order --------------------------------------------------------

BLOCK = REORDER_PACKETS // 2  # reordered within blocks this long: never further than the window


@st.composite
def network(draw: st.DrawFn) -> tuple[int, list[int], set[int], list[int], int]:
    """What a network makes of `count` packets from sequence number `first` on: some lost,
    the rest shuffled within blocks, some sent twice. The first packet arrives first."""
    first = draw(st.integers(0, 0xFFFF))  # crossing the 16-bit wrap often
    count = draw(st.integers(1, 300))
    lost = draw(st.sets(st.integers(1, count - 1), max_size=count // 3)) if count > 1 else set()
    arrival = [0]
    for start in range(1, count, BLOCK):
        block = [i for i in range(start, min(count, start + BLOCK)) if i not in lost]
        block = draw(st.permutations(block))
        twice = draw(st.sets(st.sampled_from(block), max_size=3)) if block else set()
        for i in block:
            arrival.append(i)
            if i in twice:
                arrival.insert(draw(st.integers(len(arrival) - 1, len(arrival))), i)
    return first, arrival, lost, sorted(set(range(count)) - lost), len(arrival) - count + len(lost)


def rtp(seq: int, payload: bytes = b"x", timestamp: int = 0, marker: bool = False) -> bytearray:
    return bytearray(rtp_header(96, marker, seq, timestamp, 0x1234) + payload)


@given(network())
def test_packets_come_out_in_order_once_and_losses_are_counted_exactly(
        case: tuple[int, list[int], set[int], list[int], int]) -> None:
    first, arrival, lost, kept, twice = case
    seen: list[int | str] = []
    order = SequenceOrder(lambda buf, start, _: seen.append((buf[start + 2] << 8)
                                                            | buf[start + 3]),
                          lambda: seen.append("loss"))
    for i in arrival:
        order.push(rtp((first + i) & 0xFFFF), 0, 13)
    order.flush()
    delivered = [s for s in seen if s != "loss"]
    assert delivered == [(first + i) & 0xFFFF for i in kept]  # in order, each once
    # Each gap is told before the packet after it, once; a loss after the last packet
    # that came cannot be seen.
    gaps = [i for i in kept[1:] if i - 1 in lost]
    assert [seen[seen.index((first + i) & 0xFFFF) - 1] for i in gaps] == ["loss"] * len(gaps)
    assert seen.count("loss") == len(gaps)
    assert order.lost == sum(1 for i in lost if i < kept[-1])
    assert order.duplicates == twice


def test_a_new_sequence_is_not_counted_as_lost() -> None:
    seen: list[int] = []
    order = SequenceOrder(lambda buf, start, _: seen.append(buf[start + 3]), lambda: None)
    for seq in (10, 11, 12, 40_000, 40_001):  # the camera restarted its stream
        order.push(rtp(seq), 0, 13)
    assert (len(seen), order.lost, order.duplicates) == (5, 0, 0)


def test_a_fragmented_nal_unit_with_its_middle_lost_is_dropped_whole() -> None:
    """The depacketizer is told of the loss before the next packet: the torn IDR is left
    out rather than glued; what came whole (parameter sets, an SEI) holds no picture, so
    no frame is handed over at all (a frame no decoder shows, the recorder would not see
    missing)."""
    sps, idr, tail = b"\x67\x42\xc0\x1e", b"\x65" + bytes(range(256)) * 20, b"\x06\x05\x01"
    payloads = list(packetize_h264(to_annexb((sps, idr, tail)), 1000))
    assert len(payloads) > 4
    video = H264Depacketizer()
    for seq, payload in enumerate(payloads):
        if seq != 3:  # a middle fragment of the IDR
            video.packet(rtp(seq, payload, 9000, seq == len(payloads) - 1), 0, 12 + len(payload))
    video.order.flush()
    assert video.ready == []
    assert video.order.lost == 1


# -- decoding times for B-frames ------------------------------------------------------------

@given(st.integers(1, 40).flatmap(lambda n: st.permutations(range(1, n))),
       st.integers(-(2**33), 2**33))
def test_decoding_times_rise_and_never_pass_presentation(later: list[int], base: int) -> None:
    """Any decoding order that starts at its earliest picture (a keyframe), with the delay
    the probe measures: every dts at most its pts, strictly rising. One frame deeper than
    that delay is refused (the camera goes to FFmpeg's client)."""
    pts = [base + 3600 * i for i in [0, *later]]
    depth = reorder_depth(pts)
    times = DecodingTimes(depth, 3600)
    dts = [times(p) for p in pts]
    assert all(d is not None and d <= p for d, p in zip(dts, pts, strict=True))
    assert all(a < b for a, b in itertools.pairwise(dts))  # type: ignore[operator]
    if depth:
        short = DecodingTimes(depth - 1, 3600)
        assert None in [short(p) for p in pts]


def test_reorder_depth_of_common_patterns() -> None:
    assert reorder_depth([0, 1, 2, 3]) == 0  # no B-frames
    assert reorder_depth([0, 3, 1, 2, 6, 4, 5]) == 1  # IPBB
    assert reorder_depth([0, 4, 2, 1, 3]) == 2  # IPBbb with a B-pyramid


# -- RTCP -----------------------------------------------------------------------------------

def test_sender_reports_of_a_compound_packet() -> None:
    """The simulator's sender report (what a camera sends), with an SDES after it."""
    sent_ns = 1_796_000_000_123_456_789
    sr = rtcp_sender_report(0xCAFE, sent_ns, 0xFFFFFFF0, 100, 140_000)
    sdes = struct.pack("!BBHIBB6sH", 0x81, SDES, 3, 0xCAFE, 1, 6, b"camera", 0)
    [(ssrc, ntp_ns, rtp_ts)] = sender_reports(sr + sdes)
    assert (ssrc, rtp_ts) == (0xCAFE, 0xFFFFFFF0)
    assert abs(ntp_ns - sent_ns) <= 1  # 32-bit fractions of a second: under a nanosecond
    assert [kind for kind, _, _ in packets(sr + sdes)] == [SR, SDES]
    assert sender_reports(b"\x00" * 28) == []  # not RTCP version 2


def test_receiver_report_fields() -> None:
    report = receiver_report(0x11, 0x22, fraction_lost=64, cumulative_lost=37,
                             highest_seq=0x1_0005, last_sr=0xABCD1234, since_sr_s=1.5)
    (kind, count, body), (kind2, _, sdes) = packets(report)
    assert (kind, count, kind2) == (RR, 1, SDES)
    own, source, lost, highest, jitter, lsr, dlsr = struct.unpack("!7I", body)
    assert (own, source, lost >> 24, lost & 0xFFFFFF) == (0x11, 0x22, 64, 37)
    assert (highest, jitter, lsr, dlsr) == (0x1_0005, 0, 0xABCD1234, 98_304)
    assert b"kuzet" in sdes
    assert len(report) % 4 == 0


# -- sessions against the simulator and GStreamer --------------------------------------------

slow = pytest.mark.slow


def read(source: RtspSource, frames: int) -> list[tuple[int, int, bool]]:
    """(pts, dts, keyframe) of the next `frames` video frames."""
    got = []
    for index, packet in source.packets():
        if index == 0:
            got.append((packet.pts, packet.dts, packet.is_keyframe))
            if len(got) == frames:
                break
    return got


def stats(kuzet: Kuzet, proc: subprocess.Popen[bytes], name: str) -> dict[str, Any]:
    """What the simulator says it sent and what its faults did, written as it stops."""
    stop(proc, signal.SIGTERM)
    return dict(json.loads((kuzet.home / name).read_text()))


@slow
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_losses_reordering_and_duplicates_are_put_right_and_counted(
        kuzet: Kuzet, transport: str) -> None:
    proc, port = kuzet.sim("--loss-every", "1", "--loss-packets", "3", "--reorder-every", "7",
                           "--duplicate-every", "11", "--stats-file",
                           str(kuzet.home / "stats.json"))
    source = RtspSource.open(SecretUrl(f"rtsp://127.0.0.1:{port}/cam01/main"), stall_s=5,
                             transport=transport)
    try:
        got = read(source, 80)  # 3.2 s: three loss bursts at least
        lost, duplicates = source.lost_packets, source.duplicate_packets
    finally:
        source.close()
    faults = stats(kuzet, proc, "stats.json")["faults"]["cam01/main"]
    assert lost % 3 == 0  # whole bursts: a reordered packet is never counted lost
    assert 3 * 2 <= lost <= faults["packets_dropped"]
    assert 3 <= duplicates <= faults["packets_duplicated"]
    assert faults["packets_reordered"] > 10
    dts = [d for _, d, _ in got]
    assert all(a < b for a, b in itertools.pairwise(dts))


@slow
def test_udp_datagrams_from_another_address_are_dropped(kuzet: Kuzet) -> None:
    """Anyone may send to a UDP port: datagrams from an address other than the camera's
    never reach the recording, nor count as lost or duplicated."""
    _, port = kuzet.sim()
    source = RtspSource.open(SecretUrl(f"rtsp://127.0.0.1:{port}/cam01/main"), stall_s=5,
                             transport="udp")
    try:
        target = source._streams[0].rtp_sock.getsockname()  # type: ignore[union-attr]
        got = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
            stranger.bind(("127.0.0.2", 0))
            for index, packet in source.packets():
                got += [packet.pts] if index == 0 else []
                if len(got) == 5:
                    expected = source._streams[0].depacketizer.order.expected
                    for step in range(1, 40):  # ahead of the camera's: held, then "lost"
                        stranger.sendto(rtp((expected + step) & 0xFFFF, b"\x65x", 1), target)
                if len(got) == 45:
                    break
        lost, duplicates = source.lost_packets, source.duplicate_packets
    finally:
        source.close()
    assert (lost, duplicates) == (0, 0)
    assert got == [3600 * i for i in range(45)]


@slow
def test_a_frozen_camera_stalls_within_stall_s_though_rtcp_goes_on(kuzet: Kuzet) -> None:
    """The simulator's encoder freezes for 4 s in every 8 while RTSP and RTCP go on: the
    session fails as stalled `stall_s` after the last video, not when every byte stops
    (over UDP; TCP's, where RTCP shares the connection, is the scripted camera's below)."""
    transport = "udp"
    _, port = kuzet.sim("--freeze-every", "8", "--freeze-for", "4")
    url = SecretUrl(f"rtsp://127.0.0.1:{port}/cam01/main")
    stall_s = 1.5
    source = open_past_freeze(url, stall_s, transport)
    try:
        failure, waited = read_until_failure(source)
    finally:
        source.close()
    assert failure.cause is GapCause.STALLED
    assert str(failure) == "no video arrived in 1.5 s"
    assert stall_s - 0.3 <= waited <= stall_s + BATCH_S + 1.0, waited  # slack: a loaded machine


@slow
def test_rtcp_does_not_keep_a_frozen_camera_alive(clip_cache: Path) -> None:
    """Over TCP, RTCP shares the connection: a camera whose video stopped while its sender
    reports go on (every 0.1 s here) is stalled `stall_s` after its last video, and its
    reports are read meanwhile. Before, any byte kept the session alive."""
    clip = load_clip(ClipSpec(320, 180, 500_000), clip_cache / "sim")
    port = frozen_camera(clip, frames=30)
    source = RtspSource.open(SecretUrl(f"rtsp://127.0.0.1:{port}/cam"), stall_s=1.0)
    try:
        failure, waited = read_until_failure(source)
        last_video_ns = time.time_ns() - int(waited * 1e9)
        reports = dict(source.sender_reports)
    finally:
        source.close()
    assert failure.cause is GapCause.STALLED, failure
    assert 0.7 <= waited <= 1.0 + BATCH_S + 1.0, waited  # slack: a loaded machine
    ntp_ns, rtp_ts, arrival_ns = reports["video"]
    assert arrival_ns > last_video_ns + 200_000_000  # reports came well into the freeze
    assert (ntp_ns, rtp_ts) == (SR_NTP_NS, 29 * 3600)


SR_NTP_NS = 1_796_000_000_000_000_000


def frozen_camera(clip: Clip, frames: int) -> int:
    """A one-session RTSP camera over TCP-interleaved: `frames` of the clip, then only
    RTCP sender reports, every 0.1 s, until the client goes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    sdp = ("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
           "a=fmtp:96 packetization-mode=1;sprop-parameter-sets="
           f"{base64.b64encode(clip.sps).decode()},{base64.b64encode(clip.pps).decode()}\r\n"
           "a=control:trackID=0\r\n").encode()

    def interleaved(channel: int, packet: bytes) -> bytes:
        return struct.pack(">cBH", b"$", channel, len(packet)) + packet

    def send_media(conn: socket.socket, lock: threading.Lock) -> None:
        seq = 0
        for n, frame in enumerate(clip.frames[:frames]):
            for i, payload in enumerate(frame.payloads):
                header = rtp_header(96, i == len(frame.payloads) - 1, seq, n * 3600, 0xBEEF)
                with lock:
                    conn.sendall(interleaved(0, header + payload))
                seq += 1
        sr = rtcp_sender_report(0xBEEF, SR_NTP_NS, (frames - 1) * 3600, seq, 0)
        with contextlib.suppress(OSError):
            while True:
                time.sleep(0.1)
                with lock:
                    conn.sendall(interleaved(1, sr))

    def serve() -> None:
        conn, _ = listener.accept()
        lock = threading.Lock()
        with conn, listener, contextlib.suppress(OSError):  # the client reset it: done
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
                while data.startswith(b"$") and len(data) >= 4:  # the client's RTCP
                    size = 4 + int.from_bytes(data[2:4], "big")
                    if len(data) < size:
                        break
                    data = data[size:]
                while b"\r\n\r\n" in data and not data.startswith(b"$"):
                    head, data = data.split(b"\r\n\r\n", 1)
                    method = head.split(b" ", 1)[0]
                    cseq = next(line for line in head.split(b"\r\n")
                                if line.lower().startswith(b"cseq")).split(b":")[1].strip()
                    body = sdp if method == b"DESCRIBE" else b""
                    extra = (b"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
                             if method == b"SETUP" else b"")
                    with lock:
                        conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: " + cseq + b"\r\nSession: 7\r\n"
                                     + extra + b"Content-Length: " + str(len(body)).encode()
                                     + b"\r\n\r\n" + body)
                    if method == b"PLAY":
                        threading.Thread(target=send_media, args=(conn, lock),
                                         daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return int(listener.getsockname()[1])


def open_past_freeze(url: SecretUrl, stall_s: float, transport: str) -> RtspSource:
    """A session, tried again while opening one inside a freeze stalls before the first
    keyframe."""
    causes = []
    for _ in range(4):
        try:
            return RtspSource.open(url, stall_s=stall_s, transport=transport)
        except SourceError as exc:
            causes.append(exc.cause)
    raise AssertionError(f"the simulator stayed frozen: {causes}")


def read_until_failure(source: RtspSource) -> tuple[SourceError, float]:
    """How the stream failed, and how long after its last video frame."""
    last = time.monotonic()
    try:
        for index, _ in source.packets():
            if index == 0:
                last = time.monotonic()
    except SourceError as exc:
        return exc, time.monotonic() - last
    raise AssertionError("the stream ended without failing")


@slow
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_b_frames_of_the_simulator_get_decoding_times(kuzet: Kuzet, transport: str) -> None:
    _, port = kuzet.sim("--bframes", "2")
    source = RtspSource.open(SecretUrl(f"rtsp://127.0.0.1:{port}/cam01/main"), stall_s=5,
                             transport=transport)
    try:
        got = read(source, 60)
        reports = source.sender_reports
    finally:
        source.close()
    assert all(d <= p for p, d, _ in got)
    dts = [d for _, d, _ in got]
    assert all(a < b for a, b in itertools.pairwise(dts))
    assert sum(p != d for p, d, _ in got) >= 15  # each reference frame waits for its B-frames
    assert sorted(p for p, _, _ in got)[:40] == [3600 * i for i in range(40)]  # none lost
    if "video" in reports:  # the simulator sends one every 5 s
        ntp_ns, _, arrival_ns = reports["video"]
        assert abs(arrival_ns - time.time_ns()) < 10 * 10**9
        assert ntp_ns > 0


@slow
def test_udp_and_b_frame_cameras_recorded_by_the_own_client(
        kuzet: Kuzet, gst_server: int) -> None:
    """Whole recordings: the simulator over UDP through a network that reorders and
    duplicates, with B-frames; GStreamer's B-frame camera over UDP and over TCP; an H.265
    camera over UDP, and one with open GOPs (x265's default: leading pictures after each
    CRA keyframe, issue 20). Every frame recorded decodes, the files keep their B-frames,
    and no camera went to FFmpeg's client (UE-10-22 3.3.2)."""
    proc, port = kuzet.sim("--bframes", "2", "--reorder-every", "9", "--duplicate-every", "13")
    cameras = {
        "simudp": (f"rtsp://127.0.0.1:{port}/cam01/main", "udp", True),
        # its own mount: a second client of a shared GStreamer media restarts its clock
        "gstbudp": (f"rtsp://127.0.0.1:{gst_server}/h264bpcma", "udp", True),
        "gstbtcp": (f"rtsp://127.0.0.1:{gst_server}/h264b", "tcp", True),
        "gsthevc": (f"rtsp://127.0.0.1:{gst_server}/h265aac", "udp", False),
        "gstopen": (f"rtsp://127.0.0.1:{gst_server}/h265open", "tcp", True),
    }
    for name, (url, transport, _) in cameras.items():
        kuzet.run("camera", "add", name, url, "--zone", "corridor", "--transport", transport)
    serve = kuzet.serve()

    def recorded() -> bool:
        catalog = kuzet.catalog()
        return all(len(catalog.segments(catalog.camera(n).id)) >= 2 for n in cameras)

    wait_for(recorded, 60, what="every camera recording two segments")
    stop(serve, timeout=10)
    stop(proc)
    log = kuzet.log("serve")
    assert "FFmpeg's RTSP client" not in log, log
    assert "Traceback" not in log, log
    catalog = kuzet.catalog()
    for name, (_, _, bframes) in cameras.items():
        assert kuzet.json("recordings", "gaps", name) == [], name
        for segment in catalog.segments(catalog.camera(name).id)[:2]:
            path = catalog.path_of(segment)
            probe = ffprobe(path)
            video = next(s for s in probe["streams"] if s["codec_type"] == "video")
            assert int(video["nb_read_frames"]) == segment.frames, (name, probe)
            assert segment.frames >= 25, (name, segment.frames)  # a GOP at least
            assert reordered(path) == bframes, name


def reordered(path: Any) -> bool:
    """Whether the file's video packets carry B-frames: some presentation time differs
    from its decoding time."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                          "packet=pts,dts", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, timeout=60, check=True)
    rows = [line.split(",") for line in out.stdout.split()]
    return any(pts != dts for pts, dts in rows)


@slow
def test_a_camera_that_ends_the_session_loses_no_frame(kuzet: Kuzet, tmp_path: Path) -> None:
    """Every frame the camera sent before it went away is handed over: the last batch's
    frames too (over UDP the RTP sockets were drained, the RTSP connection found closed,
    and up to 0.25 s of frames thrown away: bench/recording.py --mix saw 9 of 3,908)."""
    stats = tmp_path / "stats.json"
    sim, port = kuzet.sim("--stats-file", str(stats))
    source = RtspSource.open(SecretUrl(f"rtsp://127.0.0.1:{port}/cam01/main"), stall_s=5.0,
                             transport="udp")  # over TCP the end comes after the bytes
    got = 0
    # the camera goes away mid-stream: half a batch after the reader took one, so that
    # frames it sent wait in the socket as the connection closes
    leaves = threading.Timer(BATCH_S / 2, sim.send_signal, (signal.SIGTERM,))
    try:
        for index, _ in source.packets():
            got += index == 0
            if got == 60:
                leaves.start()
    finally:
        leaves.cancel()
        source.close()
    sim.wait(10)
    assert got == json.loads(stats.read_text())["frames_sent"]["cam01/main"]
