"""A camera read by Kuzet's own RTSP client: RTP over TCP-interleaved or UDP, in batches.

FFmpeg's client reads each RTP packet with three `recv` calls (about 360 packets a second
for a 4 Mbit/s camera). Over TCP the socket's receive low-water mark (SO_RCVLOWAT) holds
the thread asleep until a batch of the stream has arrived (`BATCH_S` of it, or
`WATCHED_BATCH_S` while someone waits on each frame), then one `recv_into` takes it all
and kuzet.rtsp.depacketize cuts the packets out of the buffer. Over UDP, where a datagram
socket has no low-water mark, the thread sleeps out the batch while the datagrams queue in
the socket, then drains every queued one without blocking. The batch size is most of the
difference in CPU (docs/design/recording.md, Numbers).

Every packet passes its stream's `SequenceOrder` (reordered and duplicated datagrams put
right, losses counted in `lost_packets`); frames of a camera that sends B-frames get
decoding times from `DecodingTimes` (kuzet.rtsp.reorder); RTCP sender reports are kept per
medium in `sender_reports` and a receiver report goes back every `REPORT_S`. A stall is
`stall_s` without a video packet: RTCP and keep-alive replies do not count.

An `rtsps://` camera is the same session over TLS (kuzet.rtsp.client), its RTP always
interleaved on the TLS connection: RTP over UDP beside RTSPS would be SRTP, which cameras
key in ways of their own, and FFmpeg's client forces TCP for rtsps:// too, so `udp` is
taken as `tcp` there. The low-water mark stays on the raw socket: the thread wakes once a
batch of encrypted bytes is in, and the client decrypts all of it before the next sleep.
"""

from __future__ import annotations

import contextlib
import errno
import io
import ipaddress
import itertools
import os
import select
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from kuzet.credentials import SecretUrl
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.ingest.sound import G711
from kuzet.ingest.source import SUPPORTED_VIDEO, NeedsFfmpeg, Track, not_stored, sound_name
from kuzet.nal import to_annexb
from kuzet.rtsp.client import (
    CertificateRefused,
    ConnectionLost,
    CredentialsRefused,
    RequestRefused,
    RtspClient,
    RtspError,
)
from kuzet.rtsp.depacketize import (
    AacDepacketizer,
    AccessUnit,
    Depacketizer,
    G711Depacketizer,
    H264Depacketizer,
    H265Depacketizer,
    Sink,
    StreamSyncError,
    TimestampUnwrapper,
    reply_status,
    split_interleaved,
)
from kuzet.rtsp.protocol import decimal
from kuzet.rtsp.reorder import DecodingTimes, LeadingPictures, reorder_depth
from kuzet.rtsp.rtcp import middle_ntp, receiver_report, sender_reports
from kuzet.rtsp.sdp import Medium, parse_sdp

BUFFER_BYTES = 256 * 1024  # holds any RTP packet (64 KiB) with room for a batch
BATCH_S = 0.25  # of the stream per wake-up while only the recorder reads it
WATCHED_BATCH_S = 0.04  # while live viewers or detection wait on each frame
MAX_LOWAT = 256 * 1024
# Asked of each RTP socket; the kernel caps it at net.core.rmem_max (4 MiB here, which it
# doubles for its bookkeeping). Measured here (loopback): that buffer queued 3 640
# datagrams of 1 400 bytes before dropping, some 10 s of a 4 Mbit/s camera (357 packets a
# second, 90 in a 0.25 s batch); the default (208 KiB) queued 92: one batch, no margin.
UDP_RCVBUF = 16 * 1024 * 1024
MAX_DATAGRAMS = 4096  # read from one socket per wake-up: 11 s of a 4 Mbit/s camera
UDP_PORT_TRIES = 20  # an even port with its odd neighbour free, on a busy machine
FIRST_KEYFRAME_S = 15.0  # cameras send a keyframe every 1-10 s
# Read past the first keyframe before recording: how far a camera's B-frames reorder shows
# within a GOP's first pattern (x264's bframes=2 with b-pyramid: 2, by the fourth frame).
PROBE_FRAMES = 8
REORDER_WINDOW = 45_000  # a step back this small (0.5 s at 90 kHz) is a B-frame, not a jump
JUMP_AHEAD_S = 5  # a step forward longer than this is a jump, not a late frame
REPORT_S = 5.0  # between receiver reports (RFC 3550's minimum interval)
ADTS_FREQUENCIES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000,
                    11025, 8000, 7350)


class RtcpReader:
    """A medium's RTCP: keeps the camera's last sender report (in `reports`, the source's
    `sender_reports`, under the medium's kind; and for the next receiver report).

    When a report arrived: the batch it came in is read up to a quarter second after its
    first bytes, so the time of reading says it late by as much (a camera's clock read
    −2908 and −2984 ms for −3000). The report's own RTP timestamp is where the camera's
    clock stood when it sent it, and the batch's newest RTP packet, sent after it, came
    within one frame before the read: the report came that much media time before it
    (`settle`). Measured against GStreamer's server under faketime +3 s: within 50 ms."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.reports: dict[str, tuple[int, int, int]] = {}
        self.last_sr = 0  # its NTP time's middle 32 bits (LSR), 0 before the first
        self.last_sr_at = 0.0  # when it came, monotonic
        self.pending: tuple[int, int] | None = None  # (NTP ns, RTP) of this batch's report

    def packet(self, buf: bytearray, start: int, stop: int) -> None:
        for _, ntp_ns, rtp in sender_reports(buf[start:stop]):
            self.pending = (ntp_ns, rtp)
            self.last_sr = middle_ntp(ntp_ns)
            self.last_sr_at = time.monotonic()

    def settle(self, newest_rtp: int, clock_rate: int, read_ns: int) -> None:
        """Date the batch's sender report (if any), the batch read at `read_ns` and its
        newest RTP packet stamped `newest_rtp` (-1: none yet)."""
        if self.pending is None:
            return
        ntp_ns, rtp = self.pending
        self.pending = None
        ahead = 0
        if newest_rtp >= 0:  # media time the camera sent after the report, in this batch
            ahead = ((newest_rtp - rtp + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
            ahead = max(0, min(ahead, int(clock_rate * BATCH_S)))
        self.reports[self.kind] = (ntp_ns, rtp, read_ns - ahead * 1_000_000_000 // clock_rate)


@dataclass
class _Stream:
    """One medium of the session: where its RTP and RTCP come in, and what receiver
    reports have told the camera so far."""

    kind: str
    channel: int  # the interleaved RTP channel (TCP), a label (UDP); RTCP is the next
    depacketizer: Depacketizer
    rtcp: RtcpReader
    clock_rate: int = 90_000  # of its RTP timestamps
    rtp_sock: socket.socket | None = None  # UDP only
    rtcp_sock: socket.socket | None = None
    camera_rtcp: tuple[str, int] | None = None  # where receiver reports go over UDP
    seq_seen: int = -1  # the sequence number expected at the last report
    extended: int = 0  # packets expected until then, less one: RFC 3550's highest seq
    lost_seen: int = 0  # lost until then
    seq_counted: int = -1  # the sequence number expected when packets were last counted
    expected_packets: int = 0  # packets the camera sent in this session, lost or not

    def report(self, own_ssrc: int) -> bytes | None:
        """A receiver report on what arrived since the last (RFC 3550 6.4.1, A.3); None
        before the first packet. Jitter is left 0: batched reads do not know when each
        packet arrived, and it would measure the batching, not the network."""
        order = self.depacketizer.order
        if order.expected < 0:
            return None
        if self.seq_seen < 0:
            self.seq_seen, self.extended = order.first, order.first - 1
        # Sequence numbers advanced since the last report (fewer than 65 536 in 5 s).
        interval = (order.expected - self.seq_seen) & 0xFFFF
        self.seq_seen = order.expected
        self.extended += interval
        lost = order.lost - self.lost_seen
        self.lost_seen = order.lost
        fraction = (lost << 8) // interval if interval and lost > 0 else 0
        since = time.monotonic() - self.rtcp.last_sr_at
        return receiver_report(own_ssrc, order.ssrc, fraction_lost=fraction,
                               cumulative_lost=order.lost, highest_seq=self.extended,
                               last_sr=self.rtcp.last_sr, since_sr_s=since)

    def close(self) -> None:
        for sock in (self.rtp_sock, self.rtcp_sock):
            if sock is not None:
                sock.close()


class RtspSource:
    def __init__(self, url: SecretUrl, client: RtspClient, video: Track, audio: Track | None,
                 streams: list[_Stream], stall_s: float, transport: str = "tcp") -> None:
        self.url = url  # as configured, credentials and all: what the recorder asks for
        # told when the stream turns out to need FFmpeg's client after recording began
        self.handed_back: Callable[[SecretUrl], None] | None = None
        self.client = client
        self.video = video
        self.audio = audio
        self.audio_left: str | None = None  # the sound offered that is not kept
        self.transport = transport
        # The SHA-256 of the camera's TLS certificate (rtsps://), lower-case hex
        self.peer_certificate_sha256 = client.peer_certificate_sha256
        # RTP packets that never came, all media, this session (counted when given up)
        self.lost_packets = 0
        # RTP packets the camera sent, all media, this session: what the losses are of
        self.expected_packets = 0
        # RTP packets that came twice, or after they were given up: dropped
        self.duplicate_packets = 0
        # Each medium's last RTCP sender report: kind -> (its NTP time as UTC ns, the RTP
        # timestamp of that instant, when it arrived as UTC ns)
        self.sender_reports: dict[str, tuple[int, int, int]] = {}
        self._streams = streams
        for stream in streams:
            stream.rtcp.reports = self.sender_reports
        self._sinks: dict[int, Sink] = {s.channel: s.depacketizer for s in streams}
        self._sinks.update({s.channel + 1: s.rtcp for s in streams})
        self._channels = {s.channel: s.depacketizer for s in streams}
        self._video_channel = streams[0].channel
        self._video_order = streams[0].depacketizer.order
        self._stall_s = stall_s
        self._buf = bytearray(BUFFER_BYTES)
        self._start = 0
        self._end = 0
        self._held: list[tuple[int, AccessUnit]] = []
        self._delay = 0  # how many frames the camera's B-frames reorder (the probe's)
        self._interval = video.frame_ticks
        self._leading = LeadingPictures(video.codec == "hevc")
        now = time.monotonic()
        self._next_keepalive = now + client.session_timeout_s / 2
        self._next_report = now + REPORT_S
        self._own_ssrc = int.from_bytes(os.urandom(4), "big")
        self._video_seq = -1  # the video sequence number expected after the last batch
        self._video_at = now  # when the last batch with video came
        self._woke = now
        self._lowat = 1
        self._ended = False  # the camera closed the session; its last batch goes on
        self._batch_s = BATCH_S
        self._bytes_per_s = 0.0
        self._rate_since = now
        self._rate_bytes = 0
        self._poll: Any = None  # UDP: one poll over every socket of the session
        self._by_fd: dict[int, Callable[[], bool]] = {}
        sock = client.sock
        assert sock is not None
        if transport == "udp":
            self._poll = select.poll()
            self._camera = {sock.getpeername()[0]}
            for stream in streams:
                assert stream.rtp_sock is not None
                assert stream.rtcp_sock is not None
                for udp, taker in ((stream.rtp_sock, stream.depacketizer),
                                   (stream.rtcp_sock, stream.rtcp)):
                    self._poll.register(udp, select.POLLIN)
                    self._by_fd[udp.fileno()] = self._datagrams(udp, taker)
                if stream.camera_rtcp is not None:
                    self._camera.add(stream.camera_rtcp[0])
            self._poll.register(sock, select.POLLIN)
            self._by_fd[sock.fileno()] = self._replies
            sock.setblocking(False)
        else:
            sock.settimeout(stall_s)

    # -- opening ----------------------------------------------------------------------
    @classmethod
    def open(cls, url: SecretUrl, *, stall_s: float, audio: bool = False,
             transport: str = "tcp", tls_fingerprint: str | None = None) -> RtspSource:
        """A session playing the camera's video, and its AAC sound only with `audio`
        (a camera whose sound the rector's order keeps, UE-10-22 3.1.2): without it the
        sound is never set up, so the camera sends none of it. `transport` is "tcp"
        (RTP interleaved on the RTSP connection) or "udp" (a port pair per medium; "tcp"
        for rtsps://, see the module). `tls_fingerprint`, for rtsps://: the SHA-256 the
        camera's certificate must have, else the session is refused (`auth_failed`)."""
        client = RtspClient(url, timeout_s=stall_s, tls_fingerprint=tls_fingerprint)
        if client.secure:
            transport = "tcp"
        streams: list[_Stream] = []
        try:
            client.connect()
            return cls._handshake(url, client, stall_s, audio, transport, streams)
        except NeedsFfmpeg:
            cls._abandon(client, streams)
            raise
        except RtspError as exc:
            cls._abandon(client, streams)
            raise _gap(exc) from exc
        except BaseException:
            cls._abandon(client, streams)
            raise

    @staticmethod
    def _abandon(client: RtspClient, streams: list[_Stream]) -> None:
        client.close()
        for stream in streams:
            stream.close()

    @classmethod
    def _handshake(cls, url: SecretUrl, client: RtspClient, stall_s: float,
                   audio_wanted: bool, transport: str, streams: list[_Stream]) -> RtspSource:
        client.request("OPTIONS", client.url)
        reply = client.request("DESCRIBE", client.url, {"Accept": "application/sdp"})
        base = reply.header("content-base") or reply.header("content-location") or client.url
        media = parse_sdp(reply.body.decode("utf-8", "replace"))
        video = next((m for m in media if m.kind == "video"), None)
        if video is None:
            raise SourceError(GapCause.NO_VIDEO, "the stream carries no video")
        if video.codec not in SUPPORTED_VIDEO:
            raise SourceError(GapCause.UNSUPPORTED,
                              f"video codec {video.encoding or video.payload_type} is not H.264 "
                              "or H.265")
        if video.fmtp.get("packetization-mode") == "2" or \
                video.fmtp.get("sprop-max-don-diff", "0") != "0":
            raise NeedsFfmpeg("the camera sends its NAL units out of order (interleaved "
                              "packetization)")
        audio = next((m for m in media if audio_wanted and m.kind == "audio"
                      and (_aac_hbr(m) or m.codec in G711)), None)
        depacketizer: Depacketizer = (H264Depacketizer() if video.codec == "h264"
                                      else H265Depacketizer())
        stream = _Stream("video", 0, depacketizer, RtcpReader("video"), video.clock_rate)
        streams.append(stream)
        _setup(client, video, base, stream, transport)
        audio_track: Track | None = None
        refused: str | None = None
        if audio is not None and audio.codec in G711:
            # no template: the recorder makes AAC of it (kuzet.ingest.sound)
            audio_track, refused = cls._setup_audio(
                client, audio, base, transport, streams, G711Depacketizer(),
                Track(1, audio.codec or "", Fraction(1, audio.clock_rate), None, b"",
                      sample_rate=audio.clock_rate))
        elif audio is not None:
            config = audio.audio_config()
            template = _aac_template(config, audio.clock_rate)
            if template is not None:
                audio_track, refused = cls._setup_audio(
                    client, audio, base, transport, streams, AacDepacketizer(),
                    Track(1, "aac", Fraction(1, audio.clock_rate), template, config,
                          sample_rate=audio.clock_rate))
        client.request("PLAY", base, {"Range": "npt=0.000-"})  # the aggregate control URL
        placeholder = Track(0, video.codec or "", Fraction(1, video.clock_rate), None,
                            b"", rate=video.framerate or 25.0)
        source = cls(url, client, placeholder, audio_track, streams, stall_s, transport)
        offered = next((m for m in media if m.kind == "audio"), None)
        if audio_wanted and audio_track is None and offered is not None:
            source.audio_left = refused or not_stored(offered.encoding
                                                      or str(offered.payload_type))
        source._find_keyframe(video)
        return source

    @staticmethod
    def _setup_audio(client: RtspClient, audio: Medium, base: str, transport: str,
                     streams: list[_Stream], depacketizer: Depacketizer,
                     track: Track) -> tuple[Track | None, str | None]:
        """SETUP the sound: its track, or why there is none (the sound never stops the
        video)."""
        depacketizer.payload_type = audio.payload_type  # not telephone-event beside it
        stream = _Stream("audio", 2, depacketizer, RtcpReader("audio"), audio.clock_rate)
        streams.append(stream)
        try:
            _setup(client, audio, base, stream, transport)
        except RequestRefused as exc:
            streams.pop().close()
            return None, (f"the camera refused to set its {sound_name(audio.encoding)} sound "
                          f"up ({exc})")
        return track, None

    def _find_keyframe(self, medium: Medium) -> None:
        """Read until the first keyframe, whose picture fixes the video track's template,
        and a few frames past it: how far the camera reorders its frames (B-frames) shows
        there, and with it how long decoding times must lag."""
        deadline = time.monotonic() + max(FIRST_KEYFRAME_S, self._stall_s)
        held: list[tuple[int, AccessUnit]] = []
        times: list[int] = []
        unwrap = TimestampUnwrapper()
        while len(times) < PROBE_FRAMES:
            units = self._read()
            if units is None:
                raise SourceError(GapCause.STREAM_ENDED,
                                  "the camera ended the stream before its first keyframe")
            for channel, unit in units:
                video = channel == self._video_channel
                if not held:
                    if not (video and unit.keyframe):
                        continue  # nothing before the first keyframe is of use
                    self.video = _video_track(medium, unit, self.video)
                    self._leading.start(True)
                elif video and self._leading.skip(unit.keyframe, unit.data):
                    continue  # not decodable from this keyframe, nor part of the depth
                held.append((channel, unit))
                if video:
                    times.append(unwrap(unit.timestamp))
            if not held and time.monotonic() > deadline:
                raise SourceError(GapCause.STALLED,
                                  f"no keyframe within {FIRST_KEYFRAME_S:g} s")
        self._held = held
        self._delay = reorder_depth(times)
        steps = [b - a for a, b in itertools.pairwise(sorted(times)) if b > a]
        self._interval = min(steps, default=self.video.frame_ticks)

    # -- reading ----------------------------------------------------------------------
    def packets(self) -> Iterator[tuple[int, Any]]:
        try:
            yield from self._packets()
        except NeedsFfmpeg:
            if self.handed_back is not None:
                self.handed_back(self.url)
            raise
        except RtspError as exc:  # a keep-alive the camera did not take
            raise _gap(exc) from exc

    def _packets(self) -> Iterator[tuple[int, Any]]:
        video_channel = self._video_channel
        video_tb = self.video.time_base
        audio_tb = self.audio.time_base if self.audio else video_tb
        video_unwrap = TimestampUnwrapper()
        audio_unwrap: TimestampUnwrapper | None = None
        decoding = DecodingTimes(self._delay, self._interval)
        leading = self._leading
        ahead = JUMP_AHEAD_S * video_tb.denominator // video_tb.numerator
        top: int | None = None  # the latest presentation time of this run
        units: list[tuple[int, AccessUnit]] | None = self._held
        self._held = []
        while units is not None:
            for channel, unit in units:
                packet = av.Packet(unit.data)
                if channel == video_channel:
                    if leading.skip(unit.keyframe, unit.data):
                        continue
                    pts = video_unwrap(unit.timestamp)
                    back = decoding.last - pts
                    if top is None or pts - top > ahead or back >= REORDER_WINDOW or not back:
                        # The first frame, or a jump (a repeated time is one too): a new
                        # run, which the recorder sees as one discontinuity.
                        decoding.restart()
                        leading.start(unit.keyframe)
                        top = pts
                    dts = decoding(pts)
                    if dts is None:
                        raise NeedsFfmpeg(
                            "the camera reorders its frames further than it did at first "
                            f"({self._delay} frames); FFmpeg's RTSP client records it from now on")
                    top = max(top, pts)
                    packet.pts, packet.dts = pts, dts
                    packet.time_base = video_tb
                    packet.is_keyframe = unit.keyframe
                    yield 0, packet
                else:
                    if audio_unwrap is None:
                        # Sound starts where the picture is (within a batch), not at zero.
                        audio_unwrap = TimestampUnwrapper(
                            int((top or 0) * video_tb / audio_tb))
                    packet.pts = packet.dts = audio_unwrap(unit.timestamp)
                    packet.time_base = audio_tb
                    yield 1, packet
            units = self._read()

    def _read(self) -> list[tuple[int, AccessUnit]] | None:
        """Wait for the next batch of the stream; None when the camera closed it (after
        the frames its last batch completed: over UDP up to 0.25 s of them)."""
        while not self._ended:
            now = time.monotonic()
            if now >= self._next_keepalive:
                self.client.keepalive()
                self._next_keepalive = now + self.client.session_timeout_s / 2
            if now >= self._next_report:
                self._report()
                self._next_report = now + REPORT_S
            if now - self._rate_since >= 1.0:
                self._bytes_per_s = self._rate_bytes / (now - self._rate_since)
                self._set_lowat()
                self._rate_since, self._rate_bytes = now, 0
            deadline = min(self._video_at + self._stall_s, self._next_keepalive,
                           self._next_report)
            self._ended = not (self._wait_udp(deadline) if self._poll
                               else self._wait_tcp(deadline))
            lost = duplicates = expected = 0
            read_ns = time.time_ns()
            for stream in self._streams:
                order = stream.depacketizer.order
                order.flush()  # the batch is in: what is still missing is lost
                stream.rtcp.settle(stream.depacketizer.newest, stream.clock_rate, read_ns)
                lost += order.lost
                duplicates += order.duplicates
                if order.expected >= 0:  # sequence numbers advanced (< 65 536 a batch)
                    if stream.seq_counted < 0:
                        stream.seq_counted = order.first
                    stream.expected_packets += (order.expected - stream.seq_counted) & 0xFFFF
                    stream.seq_counted = order.expected
                expected += stream.expected_packets
            self.lost_packets, self.duplicate_packets = lost, duplicates
            self.expected_packets = expected
            now = time.monotonic()
            if self._video_order.expected != self._video_seq:
                self._video_seq = self._video_order.expected
                self._video_at = now
            elif now - self._video_at >= self._stall_s and not self._ended:
                raise SourceError(GapCause.STALLED,
                                  f"no video arrived in {self._stall_s:g} s")
            units = self._drain()
            if units:
                return units
        return None

    def _wait_tcp(self, deadline: float) -> bool:
        """Take what arrived on the RTSP connection within the low-water mark or by
        `deadline`; False when the camera closed it."""
        sock = self.client.sock
        assert sock is not None
        buf = self._buf
        view = memoryview(buf)
        if self.client.leftover:
            chunk = self.client.leftover
            buf[self._end:self._end + len(chunk)] = chunk
            self._end += len(chunk)
            self.client.leftover = b""
        if self._end > len(buf) - 65536:  # keep room for a whole read
            size = self._end - self._start
            buf[:size] = buf[self._start:self._end]
            self._start, self._end = 0, size
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            got = self.client.read_into(view[self._end:])
        except TimeoutError:
            # The low-water mark was not reached in time; whatever did arrive is read
            # at once (a stall is decided on the video that came, not on bytes).
            sock.setblocking(False)
            try:
                got = self.client.read_into(view[self._end:])
            except BlockingIOError:
                return True
            except OSError as exc:
                raise SourceError(GapCause.STREAM_ENDED, exc.strerror or str(exc)) from exc
            finally:
                sock.settimeout(self._stall_s)  # keep-alives are sent blocking
            if not got:
                return False
        except OSError as exc:
            raise SourceError(GapCause.STREAM_ENDED, exc.strerror or str(exc)) from exc
        if not got:
            return False
        self._end += got
        self._rate_bytes += got
        replies: list[int] = []
        try:
            self._start = split_interleaved(buf, self._start, self._end, self._sinks,
                                            replies)
        except StreamSyncError as exc:
            raise NeedsFfmpeg(str(exc)) from exc
        if self._start == self._end:
            self._start = self._end = 0
        for status in replies:
            self.client.keepalive_answered(status)
        return True

    def _wait_udp(self, deadline: float) -> bool:
        """Sleep out the rest of the batch (the datagrams queue in the sockets), then take
        every datagram waiting, or wait for the first until `deadline`; False when the
        camera closed the RTSP connection."""
        rest = self._woke + self._batch_s - time.monotonic()
        if rest > 0:
            time.sleep(rest)
        wait_ms = max(0, int((deadline - time.monotonic()) * 1000) + 1)
        ready = self._poll.poll(wait_ms)
        self._woke = time.monotonic()
        return all([self._by_fd[fd]() for fd, _ in ready])  # every socket drained

    def _datagrams(self, sock: socket.socket, taker: Sink) -> Callable[[], bool]:
        """What drains one UDP socket: every datagram queued, those from the camera's
        address to `taker`."""
        buf = self._buf
        camera = self._camera

        def drain() -> bool:
            size = 0
            for _ in range(MAX_DATAGRAMS):  # a flood from elsewhere cannot hold the thread
                try:
                    got, sender = sock.recvfrom_into(buf)
                except BlockingIOError:
                    break
                except OSError as exc:
                    raise SourceError(GapCause.STREAM_ENDED,
                                      exc.strerror or str(exc)) from exc
                if sender[0] in camera:
                    taker.packet(buf, 0, got)
                    size += got
            self._rate_bytes += size
            return True
        return drain

    def _replies(self) -> bool:
        """Over UDP the RTSP connection carries only keep-alive replies: each one's
        status to the client; False when the camera closed the connection."""
        sock = self.client.sock
        assert sock is not None
        try:
            data = sock.recv(16384)
        except BlockingIOError:
            return True
        except OSError as exc:
            raise SourceError(GapCause.STREAM_ENDED, exc.strerror or str(exc)) from exc
        at = data.find(b"RTSP/")
        while at >= 0:
            self.client.keepalive_answered(reply_status(data[at:at + 16]))
            at = data.find(b"RTSP/", at + 1)
        return bool(data)

    def _report(self) -> None:
        """A receiver report for each medium, to the camera's RTCP port (UDP) or on the
        medium's RTCP channel (TCP)."""
        for stream in self._streams:
            report = stream.report(self._own_ssrc)
            if report is None:
                continue
            if stream.rtcp_sock is not None:
                if stream.camera_rtcp is not None:
                    with contextlib.suppress(OSError):  # the camera's loss, not the session's
                        stream.rtcp_sock.sendto(report, stream.camera_rtcp)
            else:
                self.client.send(b"$" + bytes((stream.channel + 1,))
                                 + len(report).to_bytes(2, "big") + report)

    def watched(self, on: bool) -> None:
        self._batch_s = WATCHED_BATCH_S if on else BATCH_S
        self._set_lowat()

    def _set_lowat(self) -> None:
        """Sleep until a batch of the stream is waiting: one wake-up per batch (TCP; a
        datagram socket has no low-water mark, and `_wait_udp` sleeps instead)."""
        if self._poll:
            return
        lowat = max(1, min(MAX_LOWAT, int(self._bytes_per_s * self._batch_s)))
        if abs(lowat - self._lowat) * 4 > self._lowat:  # moved by more than a quarter
            sock = self.client.sock
            assert sock is not None
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, lowat)
            self._lowat = lowat

    def _drain(self) -> list[tuple[int, AccessUnit]]:
        out: list[tuple[int, AccessUnit]] = []
        for channel, depacketizer in self._channels.items():
            ready = depacketizer.ready
            if ready:
                # A camera that marks each slice's end may not have sent all of the last
                # picture yet: it waits for the next batch, which may add to it (else
                # the rest came as another frame of the same time: a jump).
                keep = 1 if depacketizer.marks_slices else 0
                out.extend((channel, unit) for unit in ready[:len(ready) - keep])
                del ready[:len(ready) - keep]
        return out

    def close(self) -> None:
        self.client.close()
        for stream in self._streams:
            stream.close()


def _gap(exc: RtspError) -> SourceError:
    """The session's failure as the gap it makes."""
    if isinstance(exc, CredentialsRefused | CertificateRefused):
        return SourceError(GapCause.AUTH_FAILED, str(exc))
    if isinstance(exc, ConnectionLost):
        return SourceError(GapCause.STREAM_ENDED, str(exc))
    return SourceError(GapCause.CONNECT_FAILED, str(exc))


def _setup(client: RtspClient, medium: Medium, base: str, stream: _Stream,
           transport: str) -> None:
    """SETUP one medium: over TCP-interleaved (the stream's channel becomes the one the
    camera chose) or over UDP to a fresh port pair (the camera's RTCP port noted)."""
    if transport == "udp":
        _setup_udp(client, medium, base, stream)
        return
    channel = stream.channel
    reply = client.setup(medium.urls(base),
                         f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}")
    for key, value in _transport(reply.header("transport")):
        if key == "interleaved":
            first = value.partition("-")[0]
            if decimal(first):
                stream.channel = int(first)
                return
    if "TCP" not in reply.header("transport", "RTP/AVP/TCP").upper():
        raise NeedsFfmpeg("the camera offered no TCP-interleaved transport")


def _setup_udp(client: RtspClient, medium: Medium, base: str, stream: _Stream) -> None:
    stream.rtp_sock, stream.rtcp_sock = _udp_pair(client)
    port = stream.rtp_sock.getsockname()[1]
    reply = client.setup(medium.urls(base), f"RTP/AVP;unicast;client_port={port}-{port + 1}")
    assert client.sock is not None
    host = client.sock.getpeername()[0]
    rtcp_port = 0
    for key, value in _transport(reply.header("transport")):
        if key == "interleaved":
            raise NeedsFfmpeg("the camera answered a UDP SETUP with TCP-interleaved")
        if key == "source" and _literal_ip(value):
            host = value  # the camera names another address it sends from (no host name:
            # a lookup on the recorder's thread every report)
        if key == "server_port":
            parts = value.split("-")
            if decimal(parts[-1]):
                rtcp_port = int(parts[-1]) + (len(parts) == 1)
    if 0 < rtcp_port < 65536:
        stream.camera_rtcp = (host, rtcp_port)


def _literal_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _transport(header: str) -> Iterator[tuple[str, str]]:
    """A Transport header's parameters, names in lower case."""
    for field in header.split(";"):
        key, _, value = field.strip().partition("=")
        yield key.lower(), value.strip()


def _udp_pair(client: RtspClient) -> tuple[socket.socket, socket.socket]:
    """An even RTP port and the odd RTCP port above it (RFC 3550 11), on the address that
    reaches the camera, non-blocking, the RTP one with as large a buffer as allowed."""
    assert client.sock is not None
    family, host = client.sock.family, client.sock.getsockname()[0]
    for _ in range(UDP_PORT_TRIES):
        rtp = socket.socket(family, socket.SOCK_DGRAM)
        rtcp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            rtp.bind((host, 0))
            port = rtp.getsockname()[1]
            if port % 2 == 0 and port < 65535:
                rtcp.bind((host, port + 1))
                rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RCVBUF)
                rtp.setblocking(False)
                rtcp.setblocking(False)
                return rtp, rtcp
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                rtp.close()
                rtcp.close()
                raise RtspError(f"no UDP port for the stream ({exc.strerror})") from exc
        rtp.close()
        rtcp.close()
    raise RtspError(f"no free pair of UDP ports in {UDP_PORT_TRIES} tries")


def _aac_hbr(medium: Medium) -> bool:
    fmtp = medium.fmtp
    return (medium.codec == "aac" and fmtp.get("mode", "").lower() == "aac-hbr"
            and fmtp.get("sizelength") == "13" and fmtp.get("indexlength", "3") == "3")


def _video_track(medium: Medium, keyframe: AccessUnit, placeholder: Track) -> Track:
    """The video track, with a template stream made by FFmpeg's parser from the keyframe
    (and the SDP's parameter sets, which some cameras send only there)."""
    codec = medium.codec or ""
    sets = medium.parameter_sets()
    data = to_annexb(sets) + keyframe.data
    try:
        container = av.open(io.BytesIO(data), format="h264" if codec == "h264" else "hevc")
        stream = container.streams.video[0]
    except (av.FFmpegError, IndexError) as exc:
        raise NeedsFfmpeg(f"the first keyframe did not parse: {exc}") from exc
    stream.time_base = placeholder.time_base
    ctx = stream.codec_context
    return Track(0, codec, placeholder.time_base, stream, to_annexb(sets),
                 ctx.width, ctx.height, placeholder.rate)


def _aac_template(config: bytes, clock_rate: int) -> Any:
    """An AAC stream for muxers to copy, from one empty ADTS frame built on the SDP's
    AudioSpecificConfig; None when ADTS cannot say it (then the camera is recorded
    without its sound)."""
    if len(config) < 2:
        return None
    profile = config[0] >> 3
    frequency = ((config[0] & 0x07) << 1) | (config[1] >> 7)
    channels = (config[1] >> 3) & 0x0F
    if not 1 <= profile <= 4 or frequency >= len(ADTS_FREQUENCIES) or not channels:
        return None
    size = 7  # the header alone
    header = bytes((0xFF, 0xF1, ((profile - 1) << 6) | (frequency << 2) | (channels >> 2),
                    ((channels & 3) << 6) | (size >> 11), (size >> 3) & 0xFF,
                    ((size & 7) << 5) | 0x1F, 0xFC))
    try:
        stream = av.open(io.BytesIO(header), format="aac").streams.audio[0]
    except (av.FFmpegError, IndexError):
        return None
    stream.time_base = Fraction(1, clock_rate)
    return stream

