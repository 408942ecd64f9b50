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
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from kuzet.rtsp import digest
from kuzet.rtsp.clip import CLIP_SECONDS, FPS, GOP_FRAMES, Clip
from kuzet.rtsp.protocol import (
    MAX_HEADER_BYTES,
    Request,
    RtspProtocolError,
    Transport,
    format_response,
    parse_request_head,
    parse_transport,
)
from kuzet.rtsp.rtp import rtcp_sender_report, rtp_header
from kuzet.rtsp.stamp import sei_stamp

log = logging.getLogger(__name__)

PAYLOAD_TYPE = 96
RTP_TICKS_PER_FRAME = 90_000 // FPS
SLOW_CLIENT_BUFFER_BYTES = 8 * 1024 * 1024
SR_INTERVAL_S = 5.0
RTP_HEADER_BYTES = 12  # rtp_header's: no CSRC, no extension
TICK_S = 0.01
SPREAD_TICK_S = 0.004  # with `spread`: each 40-ms frame interval in ten slices


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
    frames_sent: int = 0

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
        return -(frame_no // FPS // self.ts_jump_every_s) * 30 * 90_000

    def sdp(self, host: str) -> bytes:
        clip = self.clip
        sprop = ",".join(base64.b64encode(x).decode() for x in (clip.sps, clip.pps))
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
            f"a=fmtp:{PAYLOAD_TYPE} packetization-mode=1;profile-level-id={clip.profile_level_id};"
            f"sprop-parameter-sets={sprop}",
            f"a=framerate:{FPS}",
            "a=control:trackID=0",
        ]
        return ("\r\n".join(lines) + "\r\n").encode()


@dataclass
class Session:
    id: str
    source: StreamSource
    transport: Transport
    writer: asyncio.StreamWriter
    udp_peer: tuple[str, int, int] | None = None
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
    # (time.monotonic(), method, URI) of each request, in order of arrival
    requests: list[tuple[float, str, str]] = field(default_factory=list)


class RtspServer:
    def __init__(self, sources: dict[str, StreamSource], *, auth: AuthConfig | None = None,
                 clock: Callable[[], float] = time.time, spread: bool = False,
                 quirks: CameraQuirks | None = None) -> None:
        self.sources = sources
        self.spread = spread
        self.quirks = quirks
        self._track_forms: dict[str, tuple[str, StreamSource]] = {}  # with quirks
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
        if self.spread:
            self._send_spread(session, now)
        else:
            while (frame := self._next_frame(session, due)) is not None:
                self._send_packets(session, frame[1])
                session.source.frames_sent += 1
        if now - session.last_sr >= SR_INTERVAL_S:
            session.last_sr = now
            frame_no = session.next_frame - 1
            sr = rtcp_sender_report(session.ssrc, frame_no * 1_000_000_000 // FPS,
                                    session.rtp_ts(frame_no), session.packets, session.octets)
            self._send_rtcp(session, sr)

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
            if session.source.stamp:
                payloads = (sei_stamp(time.time_ns()), *payloads)
            return frame_no, self._packetize(session, payloads, session.rtp_ts(frame_no))
        return None

    def _packetize(self, session: Session, payloads: tuple[bytes, ...], ts: int) -> list[bytes]:
        last = len(payloads) - 1
        packets = []
        for i, payload in enumerate(payloads):
            packets.append(rtp_header(PAYLOAD_TYPE, i == last, session.seq, ts, session.ssrc)
                           + payload)
            session.seq = (session.seq + 1) & 0xFFFF
        return packets

    def _send_packets(self, session: Session, packets: list[bytes]) -> None:
        """One write over TCP (a datagram each over UDP), however many packets."""
        session.packets += len(packets)
        session.octets += sum(len(p) for p in packets) - RTP_HEADER_BYTES * len(packets)
        if session.transport.tcp:
            assert session.transport.interleaved is not None
            channel = session.transport.interleaved[0]
            session.writer.write(b"".join(
                b"$" + bytes((channel,)) + len(p).to_bytes(2, "big") + p for p in packets))
        elif self._udp is not None and session.udp_peer is not None:
            host, rtp_port, _ = session.udp_peer
            for p in packets:
                self._udp.sendto(p, (host, rtp_port))

    def _send_rtcp(self, session: Session, packet: bytes) -> None:
        if session.transport.tcp:
            assert session.transport.interleaved is not None
            channel = session.transport.interleaved[1]
            session.writer.write(b"$" + bytes((channel,)) + len(packet).to_bytes(2, "big")
                                 + packet)
        elif self._udp_rtcp is not None and session.udp_peer is not None:
            host, _, rtcp_port = session.udp_peer
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

    def _handle(self, request: Request, writer: asyncio.StreamWriter, owned: list[str]) -> bytes:
        cseq = request.cseq
        if not request.version.startswith("RTSP/1."):
            return format_response(505, cseq)
        if request.method == "OPTIONS":
            return format_response(200, cseq, {
                "Public": "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"})
        if self.auth and not digest.check_authorization(
                request.header("authorization"), scheme=self.auth.scheme, user=self.auth.user,
                password=self.auth.password, realm=self.auth.realm, nonce=self.auth.nonce,
                method=request.method):
            return format_response(401, cseq, {"WWW-Authenticate": digest.challenge(
                self.auth.scheme, self.auth.realm, self.auth.nonce)})
        if request.method == "DESCRIBE":
            source = self._source_for(request.uri)
            if source is None:
                return format_response(404, cseq)
            host = writer.get_extra_info("sockname")[0]
            base = request.uri.rstrip("/") + "/"
            if self.quirks is not None and self.quirks.bare_base:
                base = request.uri
                self._track_forms[base.rstrip("/") + "/trackID=0"] = ("appended", source)
                self._track_forms[urljoin(base, "trackID=0")] = ("rfc", source)
            return format_response(200, cseq, {"Content-Type": "application/sdp",
                                               "Content-Base": base}, source.sdp(host))
        if request.method == "SETUP":
            return self._setup(request, writer, owned)
        if request.method in ("PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER"):
            return self._session_request(request, owned)
        return format_response(501, cseq)

    def _source_for(self, uri: str) -> StreamSource | None:
        path = urlsplit(uri).path.strip("/")
        if path.endswith("trackID=0"):
            path = path[: -len("trackID=0")].rstrip("/")
        if path in self.sources:
            return self.sources[path]
        return self.sources.get(f"{path}/main")

    def _setup(self, request: Request, writer: asyncio.StreamWriter, owned: list[str]) -> bytes:
        cseq = request.cseq
        source = self._source_for(request.uri)
        quirks = self.quirks
        if quirks is not None and request.uri in self._track_forms:
            form, source = self._track_forms[request.uri]
            if form == quirks.refuse_form:
                return format_response(quirks.refuse_status, cseq)
        if source is None:
            return format_response(404, cseq)
        if request.header("session"):
            return format_response(459, cseq)  # one track per path: no aggregate SETUP
        try:
            transport = parse_transport(request.header("transport", "") or "")
        except RtspProtocolError:
            return format_response(461, cseq)
        session = Session(id=secrets.token_hex(8), source=source, transport=transport,
                          writer=writer)
        if transport.tcp:
            assert transport.interleaved is not None
            reply = "RTP/AVP/TCP;unicast;interleaved={}-{}".format(*transport.interleaved)
        else:
            assert transport.client_ports is not None
            peer = writer.get_extra_info("peername")[0]
            session.udp_peer = (peer, *transport.client_ports)
            reply = ("RTP/AVP;unicast;client_port={}-{};server_port={}-{}".format(
                *transport.client_ports, *self._udp_ports))
        reply += f";ssrc={session.ssrc:08X}"
        self.sessions[session.id] = session
        owned.append(session.id)
        timeout = quirks.setup_timeout_s if quirks is not None else 60
        return format_response(200, cseq, {"Transport": reply,
                                           "Session": f"{session.id};timeout={timeout}"})

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
                session.next_frame = math.floor(self.clock()) * FPS
                session.pending = []  # a frame cut off by PAUSE is not finished later
                session.playing = True
            rtp_info = (f"url={request.uri};seq={session.seq};"
                        f"rtptime={session.rtp_ts(session.next_frame)}")
            announced = sid
            if self.quirks is not None and self.quirks.play_timeout_s is not None:
                announced += f";timeout={self.quirks.play_timeout_s}"
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
