"""An asyncio RTSP server that serves looping clips as live cameras.

One ticker paces every playing session from the wall clock: frame F (25 per second since
the epoch) is due at F/25 s and carries RTP timestamp F*3600 plus the session's random
offset, so RTP time maps linearly onto wall time and recorded times can be checked
against it. A session starts at the current second's keyframe; a client that cannot keep
up loses whole GOPs (the next frame sent is a keyframe), never half of one.

By default a frame's RTP packets leave in one write when the frame is due. With `spread`
they leave as a camera's encoder and NIC emit them, across the frame interval: packet k of
a frame's n is due k/n of an interval after the frame, and the ticker, run at a finer
tick, sends each session the slice of its current frame that has come due.

For issue 20 a stream can behave as more real cameras do, each off unless asked: a clip
with B-frames (sent in decoding order, each frame's RTP timestamp its presentation time),
a second medium of sound (`trackID=1`, set up by a second SETUP in the same session, paced
from the same epoch as the video), and scripted network faults (`NetworkFaults`: bursts of
loss, reordered and duplicated packets, a frozen encoder that then sends what it held back
in one burst). The default path pays one test of a flag a frame for them.

The field corpus (kuzet.rtsp.corpus) adds what vendors' cameras do differently, each off
unless asked: `CameraQuirks` for the RTSP side (control names and forms, SDP attributes,
Session header forms, keep-alive handling, interleaved channels the camera picks) and
`StreamSource` for the RTP side (an encoder restart, clocks and sequence numbers that
wrap early, parameter sets only in the SDP).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import math
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from urllib.parse import urljoin, urlsplit

from kuzet.rtsp import digest
from kuzet.rtsp.clip import CLIP_SECONDS, FPS, GOP_FRAMES, AudioClip, Clip
from kuzet.rtsp.protocol import (
    MAX_HEADER_BYTES,
    Request,
    RtspProtocolError,
    Transport,
    format_response,
    parse_request_head,
    parse_transport,
)
from kuzet.rtsp.rtp import interleaved, rtcp_sender_report, rtp_header
from kuzet.rtsp.stamp import sei_stamp

log = logging.getLogger(__name__)

PAYLOAD_TYPE = 96
RTP_TICKS_PER_FRAME = 90_000 // FPS
SLOW_CLIENT_BUFFER_BYTES = 8 * 1024 * 1024
SR_INTERVAL_S = 5.0
RTP_HEADER_BYTES = 12  # rtp_header's: no CSRC, no extension
TICK_S = 0.01
SPREAD_TICK_S = 0.004  # with `spread`: each 40-ms frame interval in ten slices
TS_JUMP_S = 30  # `ts_jump_every_s`: how far back the RTP clock jumps
LOSS_AT_FRAME = FPS // 2  # a loss burst starts half a second in: a P-frame, mid-GOP
FREEZE_EDGE_S = 0.001  # a frozen stream sends what was due up to 1 ms before the freeze
TRACKS = ("trackID=0", "trackID=1")  # video, audio
PARAMETER_SETS = (7, 8)  # H.264 NAL unit types of SPS and PPS
PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"
KEEPALIVES = ("GET_PARAMETER", "OPTIONS", "SET_PARAMETER")


@dataclass(frozen=True)
class NetworkFaults:
    """Scripted, deterministic faults on a stream's video RTP packets (issue 20), for UDP
    mostly but over TCP too: what a recorder must survive from a real network and camera.
    Every `loss_every_s` seconds (at frame 12 of the second: mid-GOP) `loss_packets`
    consecutive packets are dropped, their sequence numbers used, so the receiver sees a
    gap; every `reorder_every`-th packet is sent after its successor; every
    `duplicate_every`-th is sent twice. Every `freeze_every_s` seconds the encoder
    freezes for `freeze_for_s`: no media packet (video nor sound) leaves, RTSP and RTCP
    sender reports go on, and then the frames held back leave in one catch-up burst with
    their own timestamps, as GStreamer saw a field camera do."""

    loss_every_s: int = 0
    loss_packets: int = 0
    reorder_every: int = 0
    duplicate_every: int = 0
    freeze_every_s: int = 0
    freeze_for_s: int = 0

    @property
    def any(self) -> bool:
        return any(asdict(self).values())

    def freeze_start(self, now: float) -> int | None:
        """The second the freeze `now` falls in began, or None when not frozen."""
        if not self.freeze_every_s:
            return None
        second = math.floor(now)
        into = second % self.freeze_every_s
        return second - into if into < self.freeze_for_s else None


@dataclass
class FaultCounts:
    """What the faults did to a stream, over all its sessions: written to --stats-file so
    that a test can compare what the recorder kept with what was sent."""

    packets_dropped: int = 0
    packets_reordered: int = 0
    packets_duplicated: int = 0
    frames_frozen: int = 0  # held back by a freeze, then sent late in its catch-up burst


@dataclass
class StreamSource:
    """One camera stream (main or sub): its clips and scripted faults."""

    name: str
    clip: Clip
    alt_clip: Clip | None = None
    resize_every_s: int = 0
    ts_jump_every_s: int = 0
    offset_s: int = 0  # this camera's picture runs this many seconds ahead of the clock
    stamp: bool = False  # each frame's send time in an SEI message (kuzet.rtsp.stamp)
    audio: AudioClip | None = None  # a second medium, trackID=1
    faults: NetworkFaults | None = None  # None unless some fault is asked for
    # the field corpus (kuzet.rtsp.corpus): the encoder restarts every this many wall
    # seconds (a new SSRC, sequence and RTP time base, at a keyframe)
    restart_every_s: int = 0
    ts_wrap_in_s: int = 0  # the video's RTP clock passes 2**32 this long after PLAY
    seq_wrap_in: int = 0  # the video's sequence passes 65535 this many packets in
    inband_params: bool = True  # False: SPS and PPS only in the SDP, not before keyframes
    # issue 22: the camera's own clock runs this far ahead of the true time (negative:
    # behind), as its RTCP sender reports tell
    clock_offset_ms: int = 0
    sender_reports: bool = True  # False: a camera that sends no RTCP sender reports
    frames_sent: int = 0
    fault_counts: FaultCounts = field(default_factory=FaultCounts)

    def report_at(self, now: float, since_ns: int, rtp_ts: int, rate: int) -> tuple[int, int]:
        """A sender report's (NTP time, RTP time) at `now`, as a camera stamps it: its own
        wall clock (`clock_offset_ms` off the true time) and the RTP time of that instant,
        `since_ns` after the last packet's `rtp_ts`, so that the two still map onto each
        other exactly (before, the report carried the last packet's time, up to a frame
        old, or a freeze's length during a freeze)."""
        ntp_ns = int(now * 1e9) + self.clock_offset_ms * 1_000_000
        return ntp_ns, (rtp_ts + since_ns * rate // 1_000_000_000) & 0xFFFFFFFF

    def frame_for(self, frame_no: int) -> tuple[Clip, int]:
        second = frame_no // FPS + self.offset_s
        clip = self.clip
        alternate = self.resize_every_s and (second // self.resize_every_s) % 2
        if self.alt_clip is not None and alternate:
            clip = self.alt_clip
        return clip, (second % CLIP_SECONDS) * GOP_FRAMES + frame_no % FPS

    def rtp_shift(self, frame_no: int) -> int:
        """Scripted backwards jumps of 30 s every `ts_jump_every_s` seconds."""
        if not self.ts_jump_every_s:
            return 0
        return -(frame_no // FPS // self.ts_jump_every_s) * TS_JUMP_S * 90_000

    def audio_shift(self, second: int, rate: int) -> int:
        """The same jumps for the sound, at the same instants: a camera's clock moves
        both."""
        if not self.ts_jump_every_s:
            return 0
        return -(second // self.ts_jump_every_s) * TS_JUMP_S * rate

    def sdp(self, host: str, quirks: CameraQuirks | None = None) -> bytes:
        """The session description; `quirks` changes its attributes as a vendor's does."""
        clip = self.clip
        sprop = ",".join(base64.b64encode(x).decode() for x in (clip.sps, clip.pps))
        fmtp = f"packetization-mode=1;profile-level-id={clip.profile_level_id}"
        if quirks is None or quirks.sprop:
            fmtp += f";sprop-parameter-sets={sprop}"
        lines = [
            "v=0",
            f"o=- {secrets.randbelow(10**9)} 1 IN IP4 {host}",
            f"s=Kuzet simulator {self.name}",
            "c=IN IP4 0.0.0.0",
            "t=0 0",
            "a=control:*",
            "a=range:npt=now-",
            f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
            f"a=rtpmap:{PAYLOAD_TYPE} H264/90000",
            f"a=fmtp:{PAYLOAD_TYPE} {fmtp}",
            f"a=framerate:{FPS}",
            "a=control:trackID=0",
        ]
        if self.audio is not None:
            lines += self.audio.sdp()
        if quirks is not None:
            lines = quirks.sdp_lines(lines)
        return ("\r\n".join(lines) + "\r\n").encode()


@dataclass
class AudioTrack:
    """The sound of a session: its own transport, SSRC, sequence and RTP clock. Packet p
    (since the epoch) is due at p*samples/rate s and stamped p*samples plus a random
    offset, like the video's frames, so both map onto the same wall clock."""

    clip: AudioClip
    transport: Transport
    udp_peer: tuple[str, int, int] | None = None
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    seq: int = field(default_factory=lambda: secrets.randbits(16))
    ts_offset: int = field(default_factory=lambda: secrets.randbits(32))
    next_packet: int = 0
    packets: int = 0
    octets: int = 0
    last_sr: float = 0.0

    def rtp_ts(self, packet_no: int, source: StreamSource) -> int:
        fmt = self.clip.format
        sample = packet_no * fmt.samples
        return (sample + self.ts_offset
                + source.audio_shift(sample // fmt.rate, fmt.rate)) & 0xFFFFFFFF

    def first_packet(self, second: int) -> int:
        """The first packet that starts at or after `second`."""
        fmt = self.clip.format
        return -(-second * fmt.rate // fmt.samples)


@dataclass
class Session:
    id: str
    source: StreamSource
    transport: Transport  # the video's (the sound's until the video is set up)
    writer: asyncio.StreamWriter
    udp_peer: tuple[str, int, int] | None = None
    video: bool = True  # False while only the sound is set up
    audio: AudioTrack | None = None
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    seq: int = field(default_factory=lambda: secrets.randbits(16))
    ts_offset: int = field(default_factory=lambda: secrets.randbits(32))
    next_frame: int = 0
    playing: bool = False
    packets: int = 0
    octets: int = 0
    last_sr: float = 0.0
    # with `spread`: the RTP packets of the frame being sent, and how many have left
    pending: list[bytes] = field(default_factory=list)
    pending_frame: int = 0
    pending_sent: int = 0
    alive_at: float = field(default_factory=time.monotonic)  # last request answered 200
    # with the source's faults, on the video: packets left to drop, packets counted, and
    # one held back to follow its successor
    faults: NetworkFaults | None = None
    loss_left: int = 0
    nth_packet: int = 0
    held: bytes | None = None

    def rtp_ts(self, frame_no: int) -> int:
        return (frame_no * RTP_TICKS_PER_FRAME + self.ts_offset
                + self.source.rtp_shift(frame_no)) & 0xFFFFFFFF


@dataclass
class AuthConfig:
    scheme: str  # "digest" or "basic"
    user: str
    password: str
    realm: str = "kuzet-sim"
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))


@dataclass
class CameraQuirks:
    """Ways real cameras differ from the simulator's default, for tests (off unless given):
    the Content-Base is the DESCRIBE URL as asked, query and all, with no trailing slash
    (Dahua's `/cam/realmonitor?channel=1&subtype=0`); one form of the track URL is refused
    (`appended`: the base, a slash and the control, as FFmpeg and live555 ask; `rfc`: the
    control joined to the base by RFC 3986); the Session header's `timeout=` in SETUP and,
    when set, in PLAY. Every request seen is noted in `requests`."""

    bare_base: bool = False
    refuse_form: str = ""  # "", "appended" or "rfc"
    refuse_status: int = 404
    setup_timeout_s: int = 60
    play_timeout_s: int | None = None
    # -- the field corpus (kuzet.rtsp.corpus) --
    # the video's and the sound's control attributes, and how the SDP writes them:
    # "relative" (`a=control:trackID=0`) or "absolute" (the base and the control as one
    # URL, the query after the control, as Axis and some NVRs write it)
    controls: tuple[str, str] = TRACKS
    control_form: str = "relative"
    sprop: bool = True  # sprop-parameter-sets in the SDP
    framerate: bool = True  # a=framerate in the SDP
    # the Session header's parameter after the id, `{}` the seconds; "" for none
    timeout_form: str = ";timeout={}"
    public: str = PUBLIC  # OPTIONS' Public header
    get_parameter_status: int = 200  # 501 or 405: a camera that does not take it
    # the camera ends a session (closes its connection) when no request on it was
    # answered 200 for this long; None: sessions live as long as their connection
    keepalive_timeout_s: float | None = None
    silent_keepalives: bool = False  # keep-alives after PLAY get no reply at all
    # the first interleaved channel of the video and of the sound, whatever was asked
    channels: tuple[int, int] | None = None
    # (time.monotonic(), method, URI) of each request, in order of arrival
    requests: list[tuple[float, str, str]] = field(default_factory=list)

    def sdp_lines(self, lines: list[str]) -> list[str]:
        """The simulator's SDP lines with this camera's attributes."""
        out = []
        for line in lines:
            if line.startswith("a=framerate:") and not self.framerate:
                continue
            for number, control in enumerate(TRACKS):
                if line == f"a=control:{control}":
                    line = f"a=control:{{base}}{self.controls[number]}{{query}}"
            out.append(line)
        return out

    def control_urls(self, sdp: bytes, base: str) -> bytes:
        """Fill in the controls' `{base}` and `{query}`: empty for relative ones, the
        Content-Base (its query moved after the control) for absolute ones."""
        prefix = query = ""
        if self.control_form == "absolute":
            path, _, tail = base.rstrip("/").partition("?")
            prefix, query = path.rstrip("/") + "/", f"?{tail}" if tail else ""
        return sdp.replace(b"{base}", prefix.encode()).replace(b"{query}", query.encode())


class RtspServer:
    def __init__(self, sources: dict[str, StreamSource], *, auth: AuthConfig | None = None,
                 clock: Callable[[], float] = time.time, spread: bool = False,
                 quirks: CameraQuirks | None = None) -> None:
        self.sources = sources
        self.spread = spread
        self.quirks = quirks
        self._track_forms: dict[str, tuple[str, StreamSource, int]] = {}  # with quirks
        self._controls = quirks.controls if quirks is not None else TRACKS
        self.auth = auth
        self.clock = clock
        self.sessions: dict[str, Session] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_rtcp: asyncio.DatagramTransport | None = None
        self._udp_ports = (0, 0)
        self._server: asyncio.base_events.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._clients: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                           local_addr=(host, 0))
        self._udp_rtcp, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                                local_addr=(host, 0))
        self._udp_ports = (self._udp.get_extra_info("sockname")[1],
                           self._udp_rtcp.get_extra_info("sockname")[1])
        self._server = await asyncio.start_server(self._serve_client, host, port)
        for sock in self._server.sockets:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._ticker = asyncio.create_task(self._tick_forever())

    @property
    def port(self) -> int:
        """The TCP port listened on: the one asked for, or the one port 0 got."""
        assert self._server is not None, "not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop serving; client connections are closed, not cancelled, so they end quietly."""
        if self._ticker:
            self._ticker.cancel()
        if self._server:
            self._server.close()
        for writer in self._clients.values():
            writer.close()
        if self._clients:
            await asyncio.wait(list(self._clients), timeout=2)
        for t in (self._udp, self._udp_rtcp):
            if t:
                t.close()

    # -- pacing -------------------------------------------------------------------
    async def _tick_forever(self) -> None:
        tick = SPREAD_TICK_S if self.spread else TICK_S
        while True:
            now = self.clock()
            due = math.floor(now * FPS)
            for session in list(self.sessions.values()):
                if session.playing:
                    self._send_due(session, due, now)
            await asyncio.sleep(tick)

    def _send_due(self, session: Session, due: int, now: float) -> None:
        if session.writer.is_closing():
            self.sessions.pop(session.id, None)
            return
        quirks = self.quirks
        if (quirks is not None and quirks.keepalive_timeout_s is not None
                and time.monotonic() - session.alive_at > quirks.keepalive_timeout_s):
            log.info("session %s timed out: no request answered in %g s", session.id,
                     quirks.keepalive_timeout_s)
            self.sessions.pop(session.id, None)
            session.writer.close()
            return
        media_now = now
        faults = session.source.faults
        if faults is not None and (frozen := faults.freeze_start(now)) is not None:
            media_now = frozen - FREEZE_EDGE_S
            due = math.floor(media_now * FPS)
        if session.audio is not None:
            self._send_audio(session, session.audio, media_now, now)
        if not session.video:
            return
        if self.spread:
            self._send_spread(session, media_now)
        else:
            while (frame := self._next_frame(session, due)) is not None:
                self._send_packets(session, frame[1])
                session.source.frames_sent += 1
        if now - session.last_sr >= SR_INTERVAL_S and session.source.sender_reports:
            session.last_sr = now
            frame_no = session.next_frame - 1
            since_ns = int(now * 1e9) - frame_no * 1_000_000_000 // FPS
            sr = rtcp_sender_report(
                session.ssrc, *session.source.report_at(now, since_ns, session.rtp_ts(frame_no),
                                                        RTP_TICKS_PER_FRAME * FPS),
                session.packets, session.octets)
            self._send_rtcp(session, sr)

    def _send_audio(self, session: Session, track: AudioTrack, media_now: float,
                    now: float) -> None:
        """The sound's packets due by `media_now`, in one write; its sender report every
        5 s of `now`. A TCP client that is behind skips to the packets due now."""
        fmt = track.clip.format
        due = math.floor(media_now * fmt.rate / fmt.samples)
        if track.transport.tcp and (session.writer.transport.get_write_buffer_size()
                                    > SLOW_CLIENT_BUFFER_BYTES):
            track.next_packet = max(track.next_packet, due + 1)
        packets = []
        payloads = track.clip.payloads
        while track.next_packet <= due:
            p = track.next_packet
            track.next_packet += 1
            payload = payloads[p % len(payloads)]
            packets.append(rtp_header(fmt.payload_type, False, track.seq,
                                      track.rtp_ts(p, session.source), track.ssrc) + payload)
            track.seq = (track.seq + 1) & 0xFFFF
            track.octets += len(payload)
        if packets:
            track.packets += len(packets)
            self._write_rtp(session.writer, track.transport, track.udp_peer, packets)
        if now - track.last_sr >= SR_INTERVAL_S and track.next_packet \
                and session.source.sender_reports:
            track.last_sr = now
            last = track.next_packet - 1
            since_ns = int(now * 1e9) - last * fmt.samples * 1_000_000_000 // fmt.rate
            sr = rtcp_sender_report(
                track.ssrc, *session.source.report_at(now, since_ns,
                                                      track.rtp_ts(last, session.source),
                                                      fmt.rate),
                track.packets, track.octets)
            self._write_rtcp(session.writer, track.transport, track.udp_peer, sr)

    def _send_spread(self, session: Session, now: float) -> None:
        """Send the packets of the session's frames that have come due by `now`: all of
        each earlier frame's, and of the current frame's n, packet k once k/n of the
        interval has passed (packet 0 at the frame's own instant)."""
        position = now * FPS
        while True:
            if not session.pending:
                frame = self._next_frame(session, math.floor(position))
                if frame is None:
                    return
                session.pending_frame, session.pending = frame
                session.pending_sent = 0
            n = len(session.pending)
            upto = min(n, math.floor((position - session.pending_frame) * n) + 1)
            if upto > session.pending_sent:
                self._send_packets(session, session.pending[session.pending_sent:upto])
                session.pending_sent = upto
            if upto < n:
                return
            session.pending = []
            session.source.frames_sent += 1  # counted once its last packet has left

    def _next_frame(self, session: Session, due: int) -> tuple[int, list[bytes]] | None:
        """The next frame due by frame number `due`, as RTP packets (sequence numbers
        taken), or None when none is due yet."""
        while session.next_frame <= due:
            frame_no = session.next_frame
            session.next_frame += 1
            clip, index = session.source.frame_for(frame_no)
            frame = clip.frames[index]
            transport = session.writer.transport
            if (transport.get_write_buffer_size() > SLOW_CLIENT_BUFFER_BYTES
                    and session.transport.tcp):
                # Skip to the start of the next GOP instead of queueing without bound.
                session.next_frame = (frame_no // GOP_FRAMES + 1) * GOP_FRAMES
                continue
            payloads = frame.payloads
            source = session.source
            if source.restart_every_s and session.packets \
                    and frame_no % (source.restart_every_s * FPS) == 0:
                self._restart(session)
            if not source.inband_params and frame.is_keyframe:
                payloads = tuple(p for p in payloads if p[0] & 0x1F not in PARAMETER_SETS)
            if session.source.stamp:
                payloads = (sei_stamp(time.time_ns()), *payloads)
            if session.faults is not None:
                self._frame_faults(session, session.faults, frame_no)
            # stamped with its presentation time: with B-frames, not the order sent
            shown = frame_no - frame_no % GOP_FRAMES + frame.shown
            return frame_no, self._packetize(session, payloads, session.rtp_ts(shown))
        return None

    @staticmethod
    def _restart(session: Session) -> None:
        """The encoder restarts: a new SSRC, sequence and RTP time base, as a camera's
        does after a settings change or a crash of its streaming process."""
        session.ssrc = secrets.randbits(32)
        session.seq = secrets.randbits(16)
        session.ts_offset = secrets.randbits(32)

    def _frame_faults(self, session: Session, faults: NetworkFaults, frame_no: int) -> None:
        """A loss burst begins at this frame's first packet; a frozen frame is counted."""
        if faults.loss_every_s and frame_no % (faults.loss_every_s * FPS) == LOSS_AT_FRAME:
            session.loss_left = faults.loss_packets
        if faults.freeze_start(frame_no / FPS) is not None:
            session.source.fault_counts.frames_frozen += 1

    def _disturb(self, session: Session, faults: NetworkFaults,
                 packets: list[bytes]) -> list[bytes]:
        """The packets as the faulty network delivers them: some dropped (their sequence
        numbers spent), one held back behind its successor, some twice."""
        counts = session.source.fault_counts
        out: list[bytes] = []
        for packet in packets:
            session.nth_packet += 1
            n = session.nth_packet
            if session.loss_left:
                session.loss_left -= 1
                counts.packets_dropped += 1
                continue
            if faults.duplicate_every and n % faults.duplicate_every == 0:
                out += (packet, packet)
                counts.packets_duplicated += 1
            elif faults.reorder_every and n % faults.reorder_every == 0 and session.held is None:
                session.held = packet
                counts.packets_reordered += 1
                continue
            else:
                out.append(packet)
            if session.held is not None:
                out.append(session.held)
                session.held = None
        return out

    def _packetize(self, session: Session, payloads: tuple[bytes, ...], ts: int) -> list[bytes]:
        last = len(payloads) - 1
        packets = []
        for i, payload in enumerate(payloads):
            packets.append(rtp_header(PAYLOAD_TYPE, i == last, session.seq, ts, session.ssrc)
                           + payload)
            session.seq = (session.seq + 1) & 0xFFFF
        return packets

    def _send_packets(self, session: Session, packets: list[bytes]) -> None:
        """The video's packets: one write over TCP (a datagram each over UDP), however
        many. Counted as sent before the faulty network loses any, as a camera's sender
        reports count them."""
        session.packets += len(packets)
        session.octets += sum(len(p) for p in packets) - RTP_HEADER_BYTES * len(packets)
        if session.faults is not None:
            packets = self._disturb(session, session.faults, packets)
        if session.transport.tcp:  # _write_rtp inlined: its call was 0.3 of 7 us a frame
            assert session.transport.interleaved is not None
            session.writer.write(interleaved(session.transport.interleaved[0], packets))
        else:
            self._write_rtp(session.writer, session.transport, session.udp_peer, packets)

    def _write_rtp(self, writer: asyncio.StreamWriter, transport: Transport,
                   udp_peer: tuple[str, int, int] | None, packets: list[bytes]) -> None:
        if transport.tcp:
            assert transport.interleaved is not None
            writer.write(interleaved(transport.interleaved[0], packets))
        elif self._udp is not None and udp_peer is not None:
            host, rtp_port, _ = udp_peer
            for p in packets:
                self._udp.sendto(p, (host, rtp_port))

    def _send_rtcp(self, session: Session, packet: bytes) -> None:
        self._write_rtcp(session.writer, session.transport, session.udp_peer, packet)

    def _write_rtcp(self, writer: asyncio.StreamWriter, transport: Transport,
                    udp_peer: tuple[str, int, int] | None, packet: bytes) -> None:
        if transport.tcp:
            assert transport.interleaved is not None
            writer.write(interleaved(transport.interleaved[1], [packet]))
        elif self._udp_rtcp is not None and udp_peer is not None:
            host, _, rtcp_port = udp_peer
            self._udp_rtcp.sendto(packet, (host, rtcp_port))

    # -- requests -----------------------------------------------------------------
    async def _serve_client(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        owned: list[str] = []
        task = asyncio.current_task()
        if task is not None:
            self._clients[task] = writer
        try:
            while True:
                first = await reader.readexactly(1)
                if first == b"$":  # interleaved RTCP from the client: read and drop
                    header = await reader.readexactly(3)
                    await reader.readexactly(int.from_bytes(header[1:3], "big"))
                    continue
                head = first + await reader.readuntil(b"\r\n\r\n")
                if len(head) > MAX_HEADER_BYTES:
                    raise RtspProtocolError("request head too large")
                request = parse_request_head(head[:-4])
                length = int(request.header("content-length", "0") or 0)
                if length:
                    request.body = await reader.readexactly(min(length, MAX_HEADER_BYTES))
                if self.quirks is not None:
                    self.quirks.requests.append((time.monotonic(), request.method,
                                                 request.uri))
                response = self._handle(request, writer, owned)
                if self.quirks is not None:
                    if self._silenced(request, owned):
                        continue
                    if response.startswith(b"RTSP/1.0 200"):
                        for sid in owned:
                            if sid in self.sessions:
                                self.sessions[sid].alive_at = time.monotonic()
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except RtspProtocolError as exc:
            writer.write(format_response(400, "0", {"X-Error": str(exc)[:120]}))
        finally:
            for sid in owned:
                self.sessions.pop(sid, None)
            writer.close()
            if task is not None:
                self._clients.pop(task, None)

    def _silenced(self, request: Request, owned: list[str]) -> bool:
        """A camera with `silent_keepalives` answers no keep-alive once a session plays."""
        assert self.quirks is not None
        return (self.quirks.silent_keepalives and request.method in KEEPALIVES
                and any(s in self.sessions and self.sessions[s].playing for s in owned))

    def _handle(self, request: Request, writer: asyncio.StreamWriter, owned: list[str]) -> bytes:
        cseq = request.cseq
        if not request.version.startswith("RTSP/1."):
            return format_response(505, cseq)
        quirks = self.quirks
        if request.method == "OPTIONS":
            return format_response(200, cseq, {
                "Public": quirks.public if quirks is not None else PUBLIC})
        if (request.method == "GET_PARAMETER" and quirks is not None
                and quirks.get_parameter_status != 200):
            return format_response(quirks.get_parameter_status, cseq)
        if self.auth and not digest.check_authorization(
                request.header("authorization"), scheme=self.auth.scheme, user=self.auth.user,
                password=self.auth.password, realm=self.auth.realm, nonce=self.auth.nonce,
                method=request.method):
            return format_response(401, cseq, {"WWW-Authenticate": digest.challenge(
                self.auth.scheme, self.auth.realm, self.auth.nonce)})
        if request.method == "DESCRIBE":
            source = self._track_for(request.uri)[0]
            if source is None:
                return format_response(404, cseq)
            host = writer.get_extra_info("sockname")[0]
            base = request.uri.rstrip("/") + "/"
            if quirks is None:
                return format_response(200, cseq, {"Content-Type": "application/sdp",
                                                   "Content-Base": base}, source.sdp(host))
            if quirks.bare_base:
                base = request.uri
                for track, control in enumerate(self._controls[:2 if source.audio else 1]):
                    self._track_forms[base.rstrip("/") + "/" + control] = ("appended", source,
                                                                           track)
                    self._track_forms[urljoin(base, control)] = ("rfc", source, track)
            sdp = quirks.control_urls(source.sdp(host, quirks), base)
            return format_response(200, cseq, {"Content-Type": "application/sdp",
                                               "Content-Base": base}, sdp)
        if request.method == "SETUP":
            return self._setup(request, writer, owned)
        if request.method in ("PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER"):
            return self._session_request(request, owned)
        return format_response(501, cseq)

    def _track_for(self, uri: str) -> tuple[StreamSource | None, int]:
        """The stream a URI names and which of its tracks: 0 video, 1 sound (also for
        the stream's own URL, which names the video)."""
        path = urlsplit(uri).path.strip("/")
        track = 0
        for number, control in enumerate(self._controls):
            if path.endswith(control):
                path, track = path[: -len(control)].rstrip("/"), number
                break
        if path in self.sources:
            return self.sources[path], track
        return self.sources.get(f"{path}/main"), track

    def _setup(self, request: Request, writer: asyncio.StreamWriter, owned: list[str]) -> bytes:
        cseq = request.cseq
        source, track = self._track_for(request.uri)
        quirks = self.quirks
        if quirks is not None and request.uri in self._track_forms:
            form, source, track = self._track_forms[request.uri]
            if form == quirks.refuse_form:
                return format_response(quirks.refuse_status, cseq)
        if source is None or (track == 1 and source.audio is None):
            return format_response(404, cseq)
        session: Session | None = None
        if sid := (request.header("session") or "").split(";")[0].strip():
            session = self.sessions.get(sid)
            if session is None:
                return format_response(454, cseq)
            if session.source is not source or (session.audio is not None if track
                                                else session.video):
                return format_response(459, cseq)  # another stream's, or set up already
        try:
            transport = parse_transport(request.header("transport", "") or "")
        except RtspProtocolError:
            return format_response(461, cseq)
        udp_peer = None
        if transport.tcp and quirks is not None and quirks.channels is not None:
            first = quirks.channels[track]
            transport = replace(transport, interleaved=(first, first + 1))
        if transport.tcp:
            assert transport.interleaved is not None
            reply = "RTP/AVP/TCP;unicast;interleaved={}-{}".format(*transport.interleaved)
        else:
            assert transport.client_ports is not None
            udp_peer = (writer.get_extra_info("peername")[0], *transport.client_ports)
            reply = ("RTP/AVP;unicast;client_port={}-{};server_port={}-{}".format(
                *transport.client_ports, *self._udp_ports))
        if session is None:
            session = Session(id=secrets.token_hex(8), source=source, transport=transport,
                              writer=writer, udp_peer=udp_peer, video=track == 0)
            self.sessions[session.id] = session
            owned.append(session.id)
        if track == 0:
            session.transport, session.udp_peer, session.video = transport, udp_peer, True
            session.faults = source.faults
            ssrc = session.ssrc
        else:
            assert source.audio is not None
            session.audio = AudioTrack(source.audio, transport, udp_peer)
            ssrc = session.audio.ssrc
        reply += f";ssrc={ssrc:08X}"
        if quirks is None:
            announced = f"{session.id};timeout=60"
        else:
            announced = session.id + quirks.timeout_form.format(quirks.setup_timeout_s)
        return format_response(200, cseq, {"Transport": reply, "Session": announced})

    def _session_request(self, request: Request, owned: list[str]) -> bytes:
        cseq = request.cseq
        sid = (request.header("session") or "").split(";")[0].strip()
        if request.method in ("GET_PARAMETER", "SET_PARAMETER") and not sid:
            return format_response(200, cseq)
        session = self.sessions.get(sid)
        if session is None:
            return format_response(454, cseq)
        if request.method == "PLAY":
            if not session.playing:
                second = math.floor(self.clock())
                session.next_frame = second * FPS
                if not session.packets:
                    self._first_bases(session)
                session.pending = []  # a frame cut off by PAUSE is not finished later
                if session.audio is not None:
                    session.audio.next_packet = session.audio.first_packet(second)
                session.playing = True
            rtp_info = (f"url={request.uri};seq={session.seq};"
                        f"rtptime={session.rtp_ts(session.next_frame)}")
            if session.audio is not None:
                rtp_info = self._rtp_info(request.uri, session, session.audio)
            announced = sid
            if self.quirks is not None and self.quirks.play_timeout_s is not None:
                announced += self.quirks.timeout_form.format(self.quirks.play_timeout_s)
            return format_response(200, cseq, {"Session": announced, "Range": "npt=now-",
                                               "RTP-Info": rtp_info})
        if request.method == "PAUSE":
            session.playing = False
            return format_response(200, cseq, {"Session": sid})
        if request.method == "TEARDOWN":
            self.sessions.pop(sid, None)
            if sid in owned:
                owned.remove(sid)
            return format_response(200, cseq, {"Session": sid})
        return format_response(200, cseq, {"Session": sid})

    @staticmethod
    def _first_bases(session: Session) -> None:
        """Sequence and RTP time bases that wrap soon after PLAY, where the source asks."""
        source = session.source
        if source.ts_wrap_in_s:
            wraps_at = session.next_frame + source.ts_wrap_in_s * FPS
            session.ts_offset = -wraps_at * RTP_TICKS_PER_FRAME & 0xFFFFFFFF
        if source.seq_wrap_in:
            session.seq = -source.seq_wrap_in & 0xFFFF

    def _rtp_info(self, uri: str, session: Session, audio: AudioTrack) -> str:
        """RTP-Info for an aggregate PLAY: each track set up, its URL, sequence number
        and RTP time of its first packet."""
        base = uri.rstrip("/")
        controls = self._controls
        for control in controls:
            base = base.removesuffix(control).rstrip("/")
        info = []
        if session.video:
            info.append(f"url={base}/{controls[0]};seq={session.seq};"
                        f"rtptime={session.rtp_ts(session.next_frame)}")
        info.append(f"url={base}/{controls[1]};seq={audio.seq};"
                    f"rtptime={audio.rtp_ts(audio.next_packet, session.source)}")
        return ",".join(info)
