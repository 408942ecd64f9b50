"""Pure logic: bitstream, RTP, boxes, time, rotation, policy, parsing. No sockets, no disks."""

from __future__ import annotations

import base64
import json
import logging
import re
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kuzet.catalog.paths import CameraNameError, check_camera_name, segment_relpath
from kuzet.credentials import SecretUrl
from kuzet.ingest.errors import GapCause, SourceError, check_url
from kuzet.ingest.ffmpeg_source import classify_open_error
from kuzet.mp4.boxes import Box, complete_prefix, file_boxes
from kuzet.nal import parameter_sets, split_annexb, to_annexb
from kuzet.recorder.camera_health import CLOCK, LAG, LOSS, OFFLINE, RATE, Decision, Watch
from kuzet.recorder.clock import (
    OffsetEstimator,
    is_discontinuity,
    placed_offsets,
    segment_start_ns,
)
from kuzet.recorder.rotation import Cut, PacketFacts, decide_cut
from kuzet.recorder.status import RateWindow, backoff_delay_s, rates
from kuzet.recorder.supervisor import CameraSource
from kuzet.rtsp import digest
from kuzet.rtsp.depacketize import H264Depacketizer
from kuzet.rtsp.protocol import RtspProtocolError, parse_request_head, parse_transport
from kuzet.rtsp.rtp import packetize_h264
from kuzet.timefmt import TimeFormatError, format_instant, parse_file_stamp, parse_instant

SPS, PPS, IDR = b"\x67\x42\xc0\x1e\xaa", b"\x68\xce\x3c\x80", b"\x65" + bytes(range(200)) * 20


def test_split_annexb_handles_3_and_4_byte_start_codes() -> None:
    data = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS + b"\x00\x00\x00\x01" + IDR
    assert list(split_annexb(data)) == [SPS, PPS, IDR]
    assert parameter_sets("h264", data) == (SPS, PPS)
    assert list(split_annexb(to_annexb((SPS, PPS)))) == [SPS, PPS]


def test_hevc_parameter_sets() -> None:
    vps, sps, pps, idr = b"\x40\x01\x0c", b"\x42\x01\x01", b"\x44\x01\xc1", b"\x26\x01\xaf"
    assert parameter_sets("hevc", to_annexb((vps, sps, pps, idr))) == (vps, sps, pps)


def _depacketize(payloads: tuple[bytes, ...]) -> list[bytes]:
    """Kuzet's own depacketizer, given the payloads as RTP packets of one frame."""
    depacketizer = H264Depacketizer()
    for i, payload in enumerate(payloads):
        buf = bytearray(payload)
        depacketizer.push(buf, 0, len(buf), 3600, i == len(payloads) - 1)
    (unit,) = depacketizer.ready
    return list(split_annexb(unit.data))


@given(st.lists(st.binary(min_size=2, max_size=5000), min_size=1, max_size=6),
       st.integers(min_value=100, max_value=1400))
def test_rtp_packetization_round_trips(bodies: list[bytes], mtu: int) -> None:
    units = tuple(bytes([0x41]) + b.replace(b"\x00\x00", b"\x00\x01") for b in bodies)
    payloads = packetize_h264(to_annexb(units), mtu)
    assert all(len(p) <= mtu for p in payloads)
    assert _depacketize(payloads) == list(units)


def _boxes(sizes: list[int]) -> bytes:
    return b"".join(struct.pack(">I4s", 8 + n, b"moof" if i % 2 else b"mdat") + bytes(n)
                    for i, n in enumerate(sizes))


@given(st.lists(st.integers(0, 300), min_size=1, max_size=12), st.integers(0, 400))
def test_file_boxes_finds_every_box(tmp_path_factory: pytest.TempPathFactory, sizes: list[int],
                                    cut: int) -> None:
    raw = _boxes(sizes)
    path = tmp_path_factory.mktemp("boxes") / "f.mp4"
    path.write_bytes(raw)
    offsets = [0]
    for n in sizes[:-1]:
        offsets.append(offsets[-1] + 8 + n)
    assert [(b.offset, b.size) for b in file_boxes(path)] == [(o, 8 + n) for o, n in
                                                              zip(offsets, sizes, strict=True)]
    path.write_bytes(raw[: max(0, len(raw) - cut)])
    boxes = file_boxes(path)
    assert complete_prefix(boxes, path.stat().st_size) <= path.stat().st_size


def test_complete_prefix_keeps_whole_fragments_only() -> None:
    boxes = [Box("ftyp", 0, 20), Box("moov", 20, 100), Box("moof", 120, 50),
             Box("mdat", 170, 1000), Box("moof", 1170, 50), Box("mdat", 1220, 1000)]
    assert complete_prefix(boxes, 2220) == 2220
    assert complete_prefix(boxes, 2000) == 1170  # second mdat cut short
    assert complete_prefix(boxes, 1190) == 1170
    assert complete_prefix(boxes[:2], 120) == 120
    assert complete_prefix(boxes, 60) == 20  # moov cut short: only ftyp survives


def test_offset_estimator_takes_the_earliest_arrival() -> None:
    est = OffsetEstimator()
    for media, late in [(0, 30), (40, 5), (80, 200), (120, 12)]:
        est.observe(1_000_000 + media + late, media)
    assert est.offset_ns == 1_000_005
    assert not est.arrived_in_burst  # 120 ms of media in 127 ms
    with pytest.raises(ValueError, match="no packet observed yet"):
        _ = OffsetEstimator().offset_ns


def test_a_burst_is_placed_by_the_stream_after_it() -> None:
    """A segment whose frames came all at once (a frozen camera's catch-up) is known by
    its arrival, and takes the offset of the first later segment that came on time."""
    burst = OffsetEstimator()
    for media in range(0, 2_000, 40):  # two seconds of frames within 49 µs
        burst.observe(5_000 + media // 40, media)
    assert burst.arrived_in_burst
    assert placed_offsets([(burst.offset_ns, True)], 10) == [10]  # the later one on time
    assert placed_offsets([(30, True), (20, True), (25, True)], 22) == [20, 20, 22]
    assert placed_offsets([(30, True), (20, True)], None) == [20, 20]  # ended in the burst
    # the camera's clock jumped at the second held segment: the first keeps its own
    assert placed_offsets([(30, True), (20, False), (25, True)], 22) == [30, 20, 22]
    assert placed_offsets([], 5) == []


def test_segment_start_snaps_to_predecessor_and_never_overlaps() -> None:
    assert segment_start_ns(1_000, None, True) == 1_000
    assert segment_start_ns(10_050_000, 10_000_000, True) == 10_000_000  # jitter: abut
    assert segment_start_ns(10_500_000_000, 10_000_000_000, True) == 10_500_000_000  # drift step
    assert segment_start_ns(9_000_000_000, 10_000_000_000, False) == 10_000_000_000  # no overlap
    assert segment_start_ns(12_000_000_000, 10_000_000_000, False) == 12_000_000_000  # a gap


def test_discontinuity() -> None:
    s = 1_000_000_000
    assert not is_discontinuity(0, 40_000_000, 0, 41_000_000)
    assert not is_discontinuity(0, 40_000_000, 0, 3 * s)  # late arrival alone is not a jump
    assert not is_discontinuity(0, 40_000_000, 0, 30 * s)  # nor a long stall
    assert not is_discontinuity(0, 10 * s, 0, 10 * s)  # a pause with the camera's clock running
    assert is_discontinuity(40_000_000, 40_000_000, 0, 40_000_000)  # repeated timestamp
    assert is_discontinuity(30 * s, 0, 0, 40_000_000)  # backwards
    assert is_discontinuity(0, 60 * s, 0, 40_000_000)  # leap forward


@pytest.mark.parametrize(("facts", "expected"), [
    (PacketFacts(False, 99 * 10**9, True, True), Cut.NONE),
    (PacketFacts(True, 10**9, False, False), Cut.NONE),
    (PacketFacts(True, 60 * 10**9, False, False), Cut.LENGTH),
    (PacketFacts(True, 10**9, True, False), Cut.PARAMETERS),
    (PacketFacts(True, 10**9, True, True), Cut.DISCONTINUITY),
])
def test_decide_cut(facts: PacketFacts, expected: Cut) -> None:
    assert decide_cut(facts, 0, 60 * 10**9) is expected


def test_backoff_is_capped_at_ten_seconds() -> None:
    assert [backoff_delay_s(a, 10) for a in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert backoff_delay_s(10_000, 10) == 10
    # credentials a camera refused: tried from 10 s on, doubling to ten minutes, so the
    # camera's lock-out after failed logins can end (issue 20)
    assert [backoff_delay_s(a, 10, refused=True) for a in range(8)] == [
        10, 20, 40, 80, 160, 320, 600, 600]


def test_rates() -> None:
    assert rates(50, 250_000, 2_000_000_000) == (25.0, 1_000_000.0)
    assert rates(5, 5, 0) == (0.0, 0.0)


def test_rates_hold_still_when_frames_come_in_batches() -> None:
    """25 fps read in quarter-second batches of 6 or 7 frames, looked at every second."""
    window = RateWindow()
    frames, seen = 0, []
    for second in range(12):
        seen.append(window.observe(second * 1_000_000_000, frames, frames * 20_000)[0])
        frames += (19, 31, 25, 25)[second % 4]  # what a second-long look may count
    assert seen[0] == 0.0
    assert all(abs(fps - 25) <= 1.5 for fps in seen[5:]), seen
    assert max(seen[1:5]) - min(seen[1:5]) > 5  # shorter windows would not hold still


def test_parse_instant() -> None:
    assert parse_instant("1970-01-01T00:00:01Z") == 1_000_000_000
    assert parse_instant("1970-01-01T05:00:01+05:00") == 1_000_000_000
    assert parse_instant("1970-01-01T00:00:00.000000001Z") == 1
    for bad in ("2026-11-27T10:00:00", "tomorrow", "2026-11-27T10:00:00.Z", ""):
        with pytest.raises(TimeFormatError):
            parse_instant(bad)


@given(st.integers(0, 4_102_444_800 * 10**9))
def test_instant_round_trips(ns: int) -> None:
    assert parse_instant(format_instant(ns)) == ns
    stamp = segment_relpath("cam", ns).rsplit("/", 1)[1].removesuffix(".mp4")
    assert parse_file_stamp(stamp) == ns


def test_segment_path_layout() -> None:
    assert segment_relpath("gate", parse_instant("2026-11-27T23:59:59.5+05:00")) == \
        "gate/2026/11/27/20261127T185959.500000000Z.mp4"


@pytest.mark.parametrize("name", ["a/b", "..", "../x", "a\\b", "", "-x", "x" * 65, "a b"])
def test_bad_camera_names(name: str) -> None:
    with pytest.raises(CameraNameError):
        check_camera_name(name)


def test_good_camera_names() -> None:
    for name in ("gate", "B2-floor3_cam01", "7"):
        assert check_camera_name(name) == name


def test_digest_and_basic_authorization() -> None:
    nonce, realm = "abc", "kuzet-sim"
    good = digest.digest_response("admin", realm, "pw", "DESCRIBE", "rtsp://h/x", nonce)
    header = (f'Digest username="admin", realm="{realm}", nonce="{nonce}", '
              f'uri="rtsp://h/x", response="{good}"')
    kw = {"scheme": "digest", "user": "admin", "password": "pw", "realm": realm,
          "nonce": nonce, "method": "DESCRIBE"}
    assert digest.check_authorization(header, **kw)
    assert not digest.check_authorization(header.replace(good, "0" * 32), **kw)
    assert not digest.check_authorization(header, **{**kw, "method": "SETUP"})
    assert not digest.check_authorization(None, **kw)
    basic = "Basic " + base64.b64encode(b"admin:pw").decode()
    assert digest.check_authorization(basic, **{**kw, "scheme": "basic"})
    assert not digest.check_authorization(basic, **kw)
    assert not digest.check_authorization("Basic !!!", **{**kw, "scheme": "basic"})


def test_rtsp_request_and_transport_parsing() -> None:
    req = parse_request_head(b"DESCRIBE rtsp://h/cam01/main RTSP/1.0\r\nCSeq: 2\r\n"
                             b"Accept: application/sdp")
    assert (req.method, req.cseq, req.header("accept")) == ("DESCRIBE", "2", "application/sdp")
    for bad in (b"GARBAGE", b"DESCRIBE x RTSP/1.0\r\nno colon here", b"\xff\xfe"):
        with pytest.raises(RtspProtocolError):
            parse_request_head(bad)
    tcp = parse_transport("RTP/AVP/TCP;unicast;interleaved=2-3")
    assert tcp.tcp
    assert tcp.interleaved == (2, 3)
    udp = parse_transport("RTP/AVP;multicast,RTP/AVP;unicast;client_port=5000-5001")
    assert not udp.tcp
    assert udp.client_ports == (5000, 5001)
    with pytest.raises(RtspProtocolError):
        parse_transport("RAW/RAW/UDP;unicast")


def test_urls_are_checked() -> None:
    check_url(SecretUrl("rtsp://10.0.0.5:554/Streaming/Channels/101"))
    check_url(SecretUrl("rtsps://admin:hunter2@[fe80::5]/s"))
    for bad in ("http://cam/x", "file:///etc/passwd", "rtsp:///nohost", "cam:554",
                "http://admin:hunter2@cam/x"):
        with pytest.raises(SourceError) as err:
            check_url(SecretUrl(bad))
        assert err.value.cause is GapCause.UNSUPPORTED
        assert "hunter2" not in str(err.value)


def test_a_secret_url_shows_only_its_masked_form(caplog: pytest.LogCaptureFixture) -> None:
    real = "rtsp://admin:hunter2@10.0.0.5:554/s"
    url = SecretUrl(real)
    shown = "rtsp://admin:***@10.0.0.5:554/s"
    assert url.reveal() == real
    assert url.shown == str(url) == f"{url}" == f"{url!s}" == format(url) == shown
    assert repr(url) == f"{url!r}" == f"SecretUrl({shown!r})"
    assert f"{url:>40}" == f"{shown:>40}"
    # in containers and the recorder's description of a camera, as a log line prints them
    assert "hunter2" not in repr({"url": url}) + str([url])
    assert "hunter2" not in repr(CameraSource(id=1, name="cam01", url=url, transport="tcp"))
    with caplog.at_level(logging.WARNING):
        logging.getLogger("kuzet.test").warning("camera %s (%s, %r)", "cam01", url, url)
    assert shown in caplog.text
    assert "hunter2" not in caplog.text
    # JSON refuses it: a status file or listing writes `shown`, as it says
    with pytest.raises(TypeError):
        json.dumps({"camera": "cam01", "url": url})
    assert json.dumps({"url": url.shown}) == json.dumps({"url": shown})
    # equal by the URL itself: the set of cameras handed to FFmpeg's client finds it again
    assert url == SecretUrl(real)
    assert hash(url) == hash(SecretUrl(real))
    assert url != SecretUrl("rtsp://admin:other@10.0.0.5:554/s")
    assert url != real
    # no password: as given; the host kept as written (case, IPv6 brackets), '@' in a password
    assert SecretUrl("rtsp://10.0.0.5/s").shown == "rtsp://10.0.0.5/s"
    assert SecretUrl("rtsp://admin@Cam-1.lan/s").shown == "rtsp://admin@Cam-1.lan/s"
    assert SecretUrl("rtsp://u:p@ss@[fe80::1]:8554/s?x=1").shown == \
        "rtsp://u:***@[fe80::1]:8554/s?x=1"
    assert SecretUrl("rtsp://u:@Cam-1.lan/s").shown == "rtsp://u:***@Cam-1.lan/s"


def test_open_errors_are_named_without_leaking_the_url() -> None:
    err = classify_open_error(OSError(111, "Connection refused", "rtsp://a:secret@h/"))
    assert err.cause is GapCause.CONNECT_FAILED
    assert "secret" not in str(err)
    assert classify_open_error(Exception("Server returned 401 Unauthorized")).cause \
        is GapCause.AUTH_FAILED
    assert "404" in str(classify_open_error(Exception("Server returned 404 Not Found")))
    odd = OSError(5, "Input/output error", "rtsp://a:secret@h/")
    assert "secret" not in str(classify_open_error(odd))


class _Pkt:
    def __init__(self, index: int, dts: int | None, size: int = 100) -> None:
        self.stream_index, self.dts, self.pts, self.size = index, dts, dts, size


def test_untimed_first_keyframe_is_placed_before_the_next_packet() -> None:
    from kuzet.ingest.timestamps import fill_missing_timestamps

    packets = [_Pkt(0, None), _Pkt(1, None), _Pkt(0, 3600), _Pkt(0, None), _Pkt(0, 10800),
               _Pkt(0, None, size=0)]
    out = list(fill_missing_timestamps(packets, 0, 3600))
    assert [(p.stream_index, p.dts) for p in out] == [(1, None), (0, 0), (0, 3600), (0, 7200),
                                                      (0, 10800)]


def test_address_throttle_blocks_and_forgets_only_what_has_aged_out() -> None:
    from kuzet.access.policy import MAX_ADDRESSES, THROTTLE_MAX, AddressThrottle

    t = AddressThrottle()
    s = 10**9
    for _ in range(THROTTLE_MAX):
        t.fail("10.0.0.1", 0)
    assert t.blocked("10.0.0.1", s)
    assert not t.blocked("10.0.0.2", s)
    assert not t.blocked("10.0.0.1", 61 * s)  # the window has passed
    # A flood of one-off addresses: old ones are forgotten, a recent guesser is not.
    for i in range(MAX_ADDRESSES):
        t.fail(f"10.1.{i // 256}.{i % 256}", 100 * s)
    for _ in range(THROTTLE_MAX):
        t.fail("10.0.0.9", 150 * s)
    t.fail("10.2.0.1", 170 * s)  # over the cap at 170 s: the 100-s ones have aged out
    assert len(t._failures) <= 3
    assert t.blocked("10.0.0.9", 170 * s)


@pytest.mark.parametrize("encoder", ["libx264", "libx265"])
def test_live_init_names_the_codec_a_browser_is_asked_about(encoder: str) -> None:
    """The MSE type comes from the stream's own decoder configuration: for H.265 the
    annex E string (profile, compatibility, tier, level, constraints)."""
    import io

    import av
    import numpy as np

    from kuzet.mp4.livemux import LiveMuxer
    from kuzet.mp4.reader import hevc_codec, mime_codec
    from kuzet.mp4.writer import VideoParams

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        s = out.add_stream(encoder, rate=25)
        assert isinstance(s, av.VideoStream)
        s.width, s.height, s.pix_fmt = 320, 240, "yuv420p"
        if encoder == "libx265":
            s.options = {"x265-params": "log-level=none"}
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(
                np.full((240, 320, 3), i * 40, np.uint8), format="rgb24")
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    buf.seek(0)
    with av.open(buf, "r") as src:
        v = src.streams.video[0]
        params = VideoParams(v.codec_context.name, bytes(v.codec_context.extradata or b""),
                             320, 240)
        muxer = LiveMuxer(params, v)
        for p in src.demux(v):
            if p.dts is not None:
                muxer.add(bytes(p), p.dts, p.pts, 1, p.is_keyframe)
        assert muxer.init is not None
        mime = mime_codec(muxer.init)
        muxer.close()
    if encoder == "libx264":
        assert re.fullmatch(r'video/mp4; codecs="avc1\.[0-9a-f]{6}"', mime), mime
    else:
        assert re.fullmatch(r'video/mp4; codecs="(hvc1|hev1)\.1\.6\.L\d+(\.[0-9A-F]+)*"',
                            mime), mime
    # Main profile, level 3.1, constraint byte 0xB0: the example of annex E.
    record = bytes([1, 0x01, 0x60, 0, 0, 0, 0xB0, 0, 0, 0, 0, 0, 93])
    assert hevc_codec(b"hvc1" + b"hvcC" + record, 8) == "hvc1.1.6.L93.B0"


def test_failed_logins_count_per_address_and_per_ipv6_network() -> None:
    """One host rotating addresses inside its IPv6 /64 is one place for lockout and
    throttling; IPv4 and IPv4-mapped addresses count as themselves."""
    from kuzet.access.policy import address_key

    assert address_key("2001:db8:1:2::5") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::5") != address_key("2001:db8:1:3::5")
    assert address_key("::ffff:10.0.0.7") == address_key("10.0.0.7") == "10.0.0.7"
    assert address_key("unknown") == "unknown"


def test_passwords_are_hashed_at_argon2ids_recommended_cost() -> None:
    """What production hashes with (the tests' own hashing is cheaper: conftest)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", (
        "from kuzet.access.passwords import hash_password; print(hash_password('a' * 12))")],
        capture_output=True, text=True, check=True).stdout
    assert out.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), out


def test_a_camera_not_recording_is_alarmed_after_its_delay_and_cleared_when_back() -> None:
    """UE-10-22 3.3.2, 3.4.3 (issue 22): `camera_alarm_s` of not recording raise one
    alarm naming the cause; recording clears it; a full disk (its volume's own alarm) and
    a stop never raise it; a camera restarting for a new setting (absent from the
    recorder's statuses a moment) keeps its timer; one removed from the register has its
    alarm cleared."""
    watch = Watch(after_ns=30 * 10**9, clock_limit_ms=1000)
    register = {"gate", "hall"}

    def st(camera: str, state: str, error: str | None = None) -> dict[str, object]:
        return {"camera": camera, "state": state, "last_error": error}

    def decide(statuses: list[dict[str, object]], at_s: int) -> list[Decision]:
        return watch.decide(statuses, at_s * 10**9, register)

    assert decide([st("gate", "recording"), st("hall", "storage_full")], 0) == []
    down = [st("gate", "reconnecting", "connection refused"), st("hall", "storage_full")]
    assert decide(down, 1) == []
    assert decide([], 20) == []  # restarting for a new setting: not removed
    assert decide(down, 30) == []  # 29 s down
    assert decide(down, 31) == [Decision(
        OFFLINE, "gate", True, "camera gate: not recording for 30 s (connection refused)")]
    assert decide(down, 90) == []  # raised once
    assert decide([st("gate", "recording")], 91) == [Decision(OFFLINE, "gate", False)]
    assert decide([st("gate", "stopped")], 200) == []
    decide([st("gate", "failed")], 300)
    assert decide([st("gate", "failed")], 330)[0].raise_
    register.discard("gate")
    assert decide([], 331) == [Decision(OFFLINE, "gate", False)]  # removed


def test_a_camera_recording_far_below_its_normal_rates_is_warned_of() -> None:
    """UE-10-22 3.3.2, 3.4.3 (issue 22): a recording camera whose frame rate or bitrate
    stays under `camera_rate_low_ratio` of what it normally records for `camera_alarm_s`
    is warned of, once; cleared when back. Its normal is learnt while it records and
    judged only after a window of it; a session's first seconds and an outage are not
    judged (the outage is camera_offline's); a lasting drop is learnt ten times slower."""
    watch = Watch(after_ns=30 * 10**9, clock_limit_ms=1000, rate_ratio=0.5,
                  rate_window_ns=60 * 10**9)
    S = 10**9

    def decide(at_s: int, fps: float, kbps: float, state: str = "recording",
               since_s: int = 0) -> list[Decision]:
        return watch.decide([{"camera": "gate", "state": state, "since_ns": since_s * S,
                              "fps": fps, "bitrate_bps": kbps * 1000}], at_s * S, {"gate"})

    assert all(decide(t, 25, 4000) == [] for t in range(0, 5))  # ramping up: not judged
    assert all(decide(t, 25, 4000) == [] for t in range(10, 80))  # learning its normal
    assert all(decide(t, 6, 900) == [] for t in range(80, 110))  # low, for 30 s...
    (raised,) = decide(110, 6, 900)
    assert (raised.kind, raised.raise_) == (RATE, True)
    assert raised.message == ("camera gate: 6.0 fps and 900 kbit/s, normally 24.1 fps and "
                              "3849 kbit/s")
    assert decide(200, 6, 900) == []  # raised once, still below the slowly learnt normal
    assert decide(201, 24, 4000) == [Decision(RATE, "gate", False)]
    assert decide(202, 25, 1500) == []  # low bitrate alone: the timer starts again
    assert decide(203, 0, 0, "reconnecting") == []  # an outage is not a low rate
    assert decide(300, 25, 4000, since_s=298) == []  # a new session settling
    assert watch.decide([], 400 * S, set()) == []  # removed: forgotten
    assert "gate" not in watch.normal


def test_a_camera_clock_off_the_servers_is_alarmed_while_it_records() -> None:
    """UE-10-22 3.4.1 (one real-time system; issue 22): a recording camera whose sender
    reports put its clock more than `camera_clock_alarm_ms` off is warned of, once, and
    cleared when back within it or when nothing tells its clock any more (FFmpeg's
    client); a camera not recording is not judged by an old report."""
    watch = Watch(after_ns=30 * 10**9, clock_limit_ms=1000)

    def decide(offset: int | None, at: int, state: str = "recording") -> list[Decision]:
        return watch.decide([{"camera": "gate", "state": state, "clock_offset_ms": offset}],
                            at, {"gate"})

    assert decide(None, 0) == []
    assert decide(-1000, 1) == []  # within the limit
    assert decide(-3012, 2) == [Decision(
        CLOCK, "gate", True,
        "camera gate: its clock is 3012 ms behind this server's (more than 1000 ms)")]
    assert decide(2990, 3) == []  # still off: raised once
    assert decide(5, 4, "reconnecting") == []
    assert decide(5, 5) == [Decision(CLOCK, "gate", False)]
    assert decide(4000, 6)[0].message.endswith("ms ahead of this server's (more than 1000 ms)")
    assert decide(None, 7) == [Decision(CLOCK, "gate", False)]  # no reports any more


def test_a_camera_losing_packets_on_the_way_is_warned_of() -> None:
    """UE-10-22 3.3.6 (the cable network; issue 22): more than `camera_loss_alarm_percent`
    of a camera's RTP packets lost over a whole `camera_loss_window_s` is warned of, once,
    with both counts; a window that loses less than half that share clears it. Too few
    packets, a window not yet whole, or a camera not recording are not judged."""
    watch = Watch(after_ns=30 * 10**9, clock_limit_ms=1000, loss_percent=2.0,
                  loss_window_ns=60 * 10**9)
    S = 10**9
    sent = lost = 0

    def tick(at_s: int, per_s: int, lost_per_s: int, state: str = "recording"
             ) -> list[Decision]:
        nonlocal sent, lost
        sent, lost = sent + per_s, lost + lost_per_s
        return watch.decide([{"camera": "gate", "state": state, "packets_expected": sent,
                              "packets_lost": lost}], at_s * S, {"gate"})

    assert all(tick(t, 300, 9) == [] for t in range(0, 60))  # 3 %, but no whole window
    (raised,) = tick(60, 300, 9)
    assert raised == Decision(LOSS, "gate", True, "camera gate: 540 of 18000 RTP packets "
                              "lost in the last 60 s (3.0 %, more than 2 %)")
    assert all(tick(t, 300, 9) == [] for t in range(61, 70))  # raised once
    assert all(tick(t, 300, 0, "reconnecting") == [] for t in range(70, 80))  # not judged
    assert all(tick(t, 300, 4) == [] for t in range(80, 200))  # 1.3 %: not yet half
    assert all(tick(t, 300, 2) == [] for t in range(200, 220))  # the window still holds more
    cleared = [d for t in range(220, 300) for d in tick(t, 300, 2)]
    assert cleared == [Decision(LOSS, "gate", False)]  # 0.7 %: under half the limit
    quiet = Watch(after_ns=30 * S, clock_limit_ms=1000, loss_window_ns=60 * S)
    for t in range(0, 200):  # 3 of 100 a minute: too few packets to say
        assert quiet.decide([{"camera": "gate", "state": "recording",
                              "packets_expected": t * 100 // 60,
                              "packets_lost": t * 3 // 60}], t * S, {"gate"}) == []


def test_a_recorder_falling_behind_a_camera_is_warned_of() -> None:
    """UE-10-22 3.3.5 (the recorders kept in order; issue 22): frames read more than
    `camera_lag_alarm_ms` later than their timestamps say (the status's `behind_ms`) for
    `camera_alarm_s` is warned of, once; back within the limit clears it; a moment's
    lateness (a catch-up burst, a pause) is no alarm."""
    watch = Watch(after_ns=30 * 10**9, clock_limit_ms=1000, lag_limit_ms=2000)

    def decide(behind: int | None, at_s: int, state: str = "recording") -> list[Decision]:
        return watch.decide([{"camera": "gate", "state": state, "behind_ms": behind}],
                            at_s * 10**9, {"gate"})

    assert decide(7000, 0) == []
    assert decide(40, 1) == []  # a burst read at once: over
    assert all(decide(2500 + 100 * t, t) == [] for t in range(2, 32))
    (raised,) = decide(5600, 32)
    assert raised == Decision(LAG, "gate", True, "camera gate: its frames are read 5.6 s "
                              "later than their timestamps say (more than 2000 ms for 30 s): "
                              "the recorder or the network falls behind")
    assert decide(9000, 33) == []  # raised once
    assert decide(None, 34, "reconnecting") == []  # an outage is camera_offline's
    assert decide(120, 40) == [Decision(LAG, "gate", False)]
