"""Kuzet's RTSP server toward external centres: the cameras the rector approved, live,
to the centres registered (UE-10-22 3.2.11).

Frames come from the recorder's fan-out (`recorder.fanout.LiveHub.relays`): the camera's
one session, no second connection to it and no decoding; each frame is cut into RTP
packets as the camera coded it (H.264 or H.265, no transcoding) and stamped with the
camera's own presentation time. RTSP over TCP (interleaved), over UDP (to the address
the request came from, never another) and over TLS; digest authentication against the
centre's HA1 (its password is kept nowhere); the centre's addresses, its days and its
approved set checked at every request and again whenever the register changes, so a
camera taken out of the set, a centre disabled or expired ends its sessions at once.
Live only: a `Range` into the past, or a playback URL, is refused (457).

A centre that does not read (its TCP window closed) holds at most `SLOW_READER_BYTES`
in the socket's buffer: frames past it are dropped and it resumes at the next keyframe,
so a slow centre never grows memory nor holds up recording or the other centres.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import secrets
import socket
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from kuzet.catalog.streams import Stream
from kuzet.mp4.writer import VideoParams
from kuzet.nal import Codec, parameter_sets
from kuzet.recorder.fanout import LiveHub
from kuzet.restream.access import (
    STATUS,
    STREAMS,
    CentreAccess,
    Refusal,
    Table,
    admit,
    live_only,
    still_allowed,
)
from kuzet.restream.centres import REALM
from kuzet.rtsp import digest
from kuzet.rtsp.protocol import (
    MAX_HEADER_BYTES,
    Request,
    RtspProtocolError,
    Transport,
    decimal,
    format_response,
    parse_request_head,
    parse_transport,
)
from kuzet.rtsp.rtp import (
    interleaved,
    packetize_h264,
    packetize_h265,
    rtcp_sender_report,
    rtp_header,
)

log = logging.getLogger(__name__)

PAYLOAD_TYPE = 96
SERVER = "kuzet"
PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"
SLOW_READER_BYTES = 1 << 20  # about 2 s of a 4 Mbit/s camera waiting in the socket
# The kernel's send buffer of a centre's connection, fixed (no autotuning to 4 MiB): with
# SLOW_READER_BYTES the most a centre that stops reading holds, and a bandwidth-delay
# product of 8 Mbit/s over 250 ms, more than a dedicated channel's round trip.
SOCKET_BUFFER_BYTES = 256 * 1024
FIRST_FRAME_S = 10.0  # DESCRIBE waits this long for a keyframe (a sub stream opens on demand)
SR_INTERVAL_NS = 5_000_000_000
CHECK_S = 0.2  # sessions are checked against the register this often: a cut within 1 s
FLOOD_WINDOW_NS = 10_000_000_000
MAX_ADDRESSES = 4096  # addresses counted for floods before quiet ones are forgotten
MAX_CONNECTIONS = 1024  # open at once, all addresses together (file descriptors)
# How long a connection may stay silent: a stranger's first request, a centre's requests
# before it plays, and its keep-alives once it plays (it is told timeout=60).
SILENCE_S = {"stranger": 5.0, "idle": 30.0, "playing": 90.0}
SETUP_UNPLAYED_S = 60.0  # a session set up and never played is ended after this
MAX_IN_FLIGHT = 50  # frames handed to the loop and not yet sent (2 s): a loop that stalls
REGISTER_STALE_S = 1.0  # no good read of the register for this long: every session ends


class Journal(Protocol):
    """Where sessions and refusals are written (kuzet.restream.journal), off the loop."""

    def started(self, session: LiveSession) -> Future[None]: ...

    def ended(self, session: LiveSession) -> None: ...

    def refused(self, address: str, why: Refusal, centre: str | None, detail: str) -> None: ...

    def tick(self) -> None: ...


Hubs = Callable[[str, Stream], LiveHub | None]


class Payloads:
    """Each frame cut into RTP payloads once, however many centres receive its camera: a
    hub hands every session the same frame object, and the loop sends them one after the
    other, so the last frame cut per hub is the one asked for again."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[bytes, tuple[bytes, ...]]] = {}  # id(hub) -> frame

    def of(self, hub: LiveHub | None, params: VideoParams, data: bytes,
           keyframe: bool) -> tuple[bytes, ...]:
        last = self._last.get(id(hub))
        if last is not None and last[0] is data:
            return last[1]
        frame = data
        codec: Codec = "h264" if params.codec == "h264" else "hevc"
        if keyframe and not parameter_sets(codec, data):  # sets only in the SDP
            frame = params.extradata + data
        payloads = (packetize_h264 if codec == "h264" else packetize_h265)(frame)
        self._last[id(hub)] = (data, payloads)
        return payloads

    def forget(self, hub: LiveHub) -> None:
        """A hub no session relays any more: its last frame is let go."""
        self._last.pop(id(hub), None)


@dataclass
class LiveSession:
    """One centre's session of one camera's stream."""

    id: str
    centre: CentreAccess
    camera: str
    stream: str
    address: str
    transport: str  # tcp, udp or tls
    writer: asyncio.StreamWriter
    loop: asyncio.AbstractEventLoop
    rtp: Transport | None = None
    udp_peer: tuple[str, int, int] | None = None
    hub: LiveHub | None = None
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    seq: int = field(default_factory=lambda: secrets.randbits(16))
    # the RTP time of the first frame sent, said in PLAY's RTP-Info (clients place the
    # stream's start by it: FFmpeg leaves the first frame untimed without it); each frame's
    # is then the camera's, shifted by `shift`, set when the first frame goes
    rtptime: int = field(default_factory=lambda: secrets.randbits(32))
    shift: int | None = None
    playing: bool = False
    skipping: bool = True  # until a keyframe
    start_ns: int = 0
    octets: int = 0  # RTP bytes sent, headers included
    frames: int = 0
    dropped: int = 0
    packets: int = 0
    last_sr_ns: int = 0
    ended: str | None = None
    row: int | None = None  # its row in the register, once written
    # the send rate over the last check, for the centre's bitrate limit
    rate_kbps: float = 0.0
    _rate_bytes: int = 0
    _rate_at: float = field(default_factory=time.monotonic)
    udp: asyncio.DatagramTransport | None = None
    udp_rtcp: asyncio.DatagramTransport | None = None
    payloads: Payloads = field(default_factory=Payloads)  # the server's, shared
    limit: int = SLOW_READER_BYTES  # what may wait in the socket's buffer
    peer_sha256: str | None = None  # the client certificate its connection presented
    set_up: float = field(default_factory=time.monotonic)
    # frames offered by the recorder's thread (written there only) and handled on the
    # loop (written there only): the difference is what waits in the loop's queue
    offered: int = 0
    handled: int = 0
    overflowed: int = 0  # frames not queued because too many waited
    resync: bool = False  # set by the recorder's thread: start again at a keyframe

    # -- from the recorder's thread ----------------------------------------------------
    def offer(self, params: VideoParams, data: bytes, keyframe: bool, rtp_ts: int,
              arrival_ns: int) -> None:
        if self.offered - self.handled >= MAX_IN_FLIGHT:  # the loop is stalled
            self.overflowed += 1
            self.resync = True
            return
        self.offered += 1
        with contextlib.suppress(RuntimeError):  # the server's loop has closed
            self.loop.call_soon_threadsafe(self.send, params, data, keyframe, rtp_ts,
                                           arrival_ns)

    # -- on the server's loop ----------------------------------------------------------
    def send(self, params: VideoParams, data: bytes, keyframe: bool, rtp_ts: int,
             arrival_ns: int) -> None:
        self.handled += 1
        if not self.playing or self.ended is not None:
            return
        if self.resync:
            self.resync, self.skipping = False, True
        # a datagram transport buffers what the kernel would not take at once too (its
        # size method is asyncio's, not in the typing stubs of DatagramTransport)
        buffered = (self.udp.get_write_buffer_size()  # type: ignore[attr-defined]
                    if self.udp is not None else self.writer.transport.get_write_buffer_size())
        behind = buffered > self.limit
        if behind or (self.skipping and not keyframe):
            self.skipping = True  # a reader this far behind starts again at a keyframe
            if self.frames:  # the wait for the first keyframe loses nothing
                self.dropped += 1
            return
        self.skipping = False
        if self.shift is None:
            self.shift = self.rtptime - rtp_ts
        rtp_ts = (rtp_ts + self.shift) & 0xFFFFFFFF
        payloads = self.payloads.of(self.hub, params, data, keyframe)
        last = len(payloads) - 1
        packets = []
        for i, payload in enumerate(payloads):
            packets.append(rtp_header(PAYLOAD_TYPE, i == last, self.seq, rtp_ts, self.ssrc)
                           + payload)
            self.seq = (self.seq + 1) & 0xFFFF
        if arrival_ns - self.last_sr_ns >= SR_INTERVAL_NS:
            self.last_sr_ns = arrival_ns
            self._write(1, [rtcp_sender_report(self.ssrc, arrival_ns, rtp_ts, self.packets,
                                               self.octets)])
        self._write(0, packets)
        self.packets += len(packets)
        self.octets += sum(map(len, packets))
        self.frames += 1

    def _write(self, channel: int, packets: list[bytes]) -> None:
        assert self.rtp is not None
        if self.rtp.tcp:
            assert self.rtp.interleaved is not None
            self.writer.write(interleaved(self.rtp.interleaved[channel], packets))
        elif self.udp is not None and self.udp_peer is not None:
            # RTP from the server's RTP port, RTCP from its RTCP port, as SETUP said
            sock = self.udp if channel == 0 else (self.udp_rtcp or self.udp)
            host, port = self.udp_peer[0], self.udp_peer[1 + channel]
            for p in packets:
                sock.sendto(p, (host, port))

    def measure(self) -> None:
        """The send rate over the last second or so (a keyframe alone is a burst)."""
        now = time.monotonic()
        span = now - self._rate_at
        if span >= 1.0:
            self.rate_kbps = (self.octets - self._rate_bytes) * 8 / 1000 / span
            self._rate_bytes, self._rate_at = self.octets, now


def sdp_of(params: VideoParams, host: str, camera: str) -> bytes:
    """The session description of a camera's stream as recorded: its codec and
    parameter sets, at 90 kHz, live (`a=range:npt=now-`)."""
    codec: Codec = "h264" if params.codec == "h264" else "hevc"
    sets = [base64.b64encode(u).decode() for u in parameter_sets(codec, params.extradata)]
    if params.codec == "h264":
        rtpmap = "H264/90000"
        fmtp = "packetization-mode=1"
        if len(sets) >= 2:
            fmtp += ";sprop-parameter-sets=" + ",".join(sets)
    else:
        rtpmap = "H265/90000"
        fmtp = ";".join(f"sprop-{k}={v}" for k, v in zip(("vps", "sps", "pps"), sets,
                                                         strict=False))
    lines = ["v=0", f"o=- {secrets.randbelow(10**9)} 1 IN IP4 {host}",
             f"s=Kuzet {camera}", "c=IN IP4 0.0.0.0", "t=0 0", "a=control:*",
             "a=range:npt=now-", f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
             f"a=rtpmap:{PAYLOAD_TYPE} {rtpmap}"]
    if fmtp:
        lines.append(f"a=fmtp:{PAYLOAD_TYPE} {fmtp}")
    lines.append("a=control:trackID=0")
    return ("\r\n".join(lines) + "\r\n").encode()


class _Udp(asyncio.DatagramProtocol):
    """The server's RTP and RTCP sockets: what centres send to them (receiver reports)
    is read and dropped."""


class RestreamServer:
    def __init__(self, table: Callable[[], Table], hubs: Hubs, journal: Journal, *,
                 host: str, port: int, tls_port: int | None = None,
                 tls: ssl.SSLContext | None = None, flood_limit: int = 20,
                 slow_reader_bytes: int = SLOW_READER_BYTES,
                 socket_buffer_bytes: int = SOCKET_BUFFER_BYTES) -> None:
        self.table = table
        self.hubs = hubs
        self.journal = journal
        self.host, self.port, self.tls_port, self.tls = host, port, tls_port, tls
        self._trusted: set[str] = set()  # the centres' client certificates trusted so far
        self.sessions: dict[str, LiveSession] = {}
        self.payloads = Payloads()
        self.flood_limit = flood_limit
        self._opened: dict[str, deque[int]] = {}  # connections an address opened lately
        self.open: dict[str, int] = {}  # connections open now, by address
        self.slow_reader_bytes = slow_reader_bytes
        self.socket_buffer_bytes = socket_buffer_bytes
        self.ports: dict[str, int] = {}
        self._servers: list[asyncio.base_events.Server] = []
        self._udp: tuple[asyncio.DatagramTransport, asyncio.DatagramTransport] | None = None
        self._udp_ports = (0, 0)
        self._checker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> dict[str, int]:
        loop = asyncio.get_running_loop()
        self._loop = loop
        server = await asyncio.start_server(self._client("tcp"), self.host, self.port,
                                            limit=MAX_HEADER_BYTES)
        self._servers.append(server)
        self.ports["rtsp"] = server.sockets[0].getsockname()[1]
        if self.tls is not None:
            # a centre's client certificate is asked for, and checked against its pin; a
            # CA-issued one is trusted as registered, its issuer need not be
            self.tls.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
            self._trust(self.table())
        if self.tls is not None and self.tls_port is not None:
            # the handshake comes before any count or timeout of the connection's own
            secure = await asyncio.start_server(self._client("tls"), self.host, self.tls_port,
                                                ssl=self.tls, limit=MAX_HEADER_BYTES,
                                                ssl_handshake_timeout=SILENCE_S["stranger"])
            self._servers.append(secure)
            self.ports["rtsps"] = secure.sockets[0].getsockname()[1]
        rtp, _ = await loop.create_datagram_endpoint(_Udp, local_addr=(self.host, 0))
        rtcp, _ = await loop.create_datagram_endpoint(_Udp, local_addr=(self.host, 0))
        self._udp = (rtp, rtcp)
        self._udp_ports = (rtp.get_extra_info("sockname")[1],
                           rtcp.get_extra_info("sockname")[1])
        self._checker = asyncio.create_task(self._check())
        return self.ports

    async def stop(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
        for s in self._servers:
            s.close()
        for session in list(self.sessions.values()):
            self._end(session, "the server stopped")
        for s in self._servers:
            await s.wait_closed()
        if self._udp is not None:
            for t in self._udp:
                t.close()

    # -- the register's changes ------------------------------------------------------
    async def _check(self) -> None:
        """Every CHECK_S: each running session against the register as it is now (read on
        a worker thread). A register that cannot be read for REGISTER_STALE_S ends every
        session: the cut fails closed."""
        loop = asyncio.get_running_loop()
        good = time.monotonic()
        while True:
            await asyncio.sleep(CHECK_S)
            try:
                self.journal.tick()
                # a read stuck on a lock is a failed read: the cut never waits on it
                table = await asyncio.wait_for(loop.run_in_executor(None, self.table),
                                               REGISTER_STALE_S)
                self._enforce(table)
                good = time.monotonic()
            except Exception:  # the catalog busy a moment: the next check reads again
                log.exception("restream: checking the sessions against the register failed")
                if time.monotonic() - good > REGISTER_STALE_S:
                    for session in list(self.sessions.values()):
                        self._end(session, "the register could not be read")

    def _trust(self, table: Table) -> None:
        """Trust each centre's client certificate as its own issuer (they are self-signed
        as a rule), so that the handshake accepts it; which centre it proves is its pin's
        business (`Connection._handle`). A certificate no longer registered stays trusted
        until the restart, and proves nothing without its pin."""
        if self.tls is None:
            return
        for c in table.centres:
            if c.client_cert and c.client_sha256 not in self._trusted:
                self._trusted.add(c.client_sha256 or "")  # tried once, taken or not
                try:
                    self.tls.load_verify_locations(cadata=c.client_cert)
                except (ssl.SSLError, ValueError):
                    log.exception("restream: centre %s's client certificate is not usable",
                                  c.name)
        # asked for only while some centre is held to one: a centre without a pin whose
        # software sends a certificate nobody registered is not refused at the handshake
        self.tls.verify_mode = ssl.CERT_OPTIONAL if self._trusted else ssl.CERT_NONE

    def _enforce(self, table: Table) -> None:
        self._trust(table)
        now = time.monotonic()
        for session in list(self.sessions.values()):
            session.measure()
            if not session.start_ns and now - session.set_up > SETUP_UNPLAYED_S:
                self._end(session, "set up and never played")
                continue
            why = still_allowed(table, session.centre.id, session.address,
                                session.camera, session.stream, session.peer_sha256)
            if why is not None:
                self.journal.refused(session.address, why, session.centre.name,
                                     f"{session.camera}/{session.stream}: session ended")
                self._end(session, f"refused: {why.value}")

    def cut(self, session_id: str, by: str) -> LiveSession | None:
        """End a session at once (the head of internal security's cut)."""
        session = self.sessions.get(session_id)
        if session is not None:
            self._end(session, f"cut by {by}")
        return session

    def _end(self, session: LiveSession, why: str, *, close: bool = True) -> None:
        """End a session; unless the centre itself ended it, its connection too."""
        if session.ended is not None:
            return
        session.ended = why
        session.playing = False
        if session.hub is not None:
            with contextlib.suppress(ValueError):
                session.hub.relays.remove(session)
            if not any(isinstance(r, LiveSession) for r in session.hub.relays):
                self.payloads.forget(session.hub)
        self.sessions.pop(session.id, None)
        if session.start_ns:
            self.journal.ended(session)
        if close:
            session.writer.close()

    # -- connections -----------------------------------------------------------------
    def _client(self, kind: str) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                             Awaitable[None]]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await Connection(self, kind, reader, writer).run()
        return serve

    def crowded(self, address: str, now_ns: int) -> bool:
        """Count a connection from `address`; True when it is one too many: more than it
        may open in FLOOD_WINDOW_NS or hold open at once (`flood_limit`, plus the streams
        of the centres it is one of: a centre opens a connection a stream, all at once
        after an outage), or MAX_CONNECTIONS open in all."""
        table = self.table()
        allowed = self.flood_limit + sum(c.max_streams for c in table.centres
                                         if c.admits(address))
        # strangers share one count: rotating addresses gains nothing
        recent = self._opened.setdefault(address if table.from_address(address) else "*",
                                         deque())
        while recent and recent[0] <= now_ns - FLOOD_WINDOW_NS:
            recent.popleft()
        recent.append(now_ns)
        if len(self._opened) > MAX_ADDRESSES:  # forget addresses quiet for a window
            for key in [k for k, v in self._opened.items()
                        if v[-1] <= now_ns - FLOOD_WINDOW_NS]:
                del self._opened[key]
        return (len(recent) > allowed or self.open.get(address, 0) >= allowed
                or sum(self.open.values()) >= MAX_CONNECTIONS)

    def udp_reply(self, client_ports: tuple[int, int]) -> str:
        return ("RTP/AVP;unicast;client_port={}-{};server_port={}-{}".format(
            *client_ports, *self._udp_ports))


class Connection:
    """One centre's RTSP connection: its nonce, who it proved to be, its sessions."""

    def __init__(self, server: RestreamServer, kind: str, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.kind = kind
        self.reader, self.writer = reader, writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, server.socket_buffer_bytes)
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0]).removeprefix("::ffff:")
        self.nonce = secrets.token_hex(16)
        self.centre: CentreAccess | None = None
        self.owned: list[LiveSession] = []
        self.closing = False  # a refusal that ends the connection was answered
        self.challenge = {"WWW-Authenticate": f'Digest realm="{REALM}", nonce="{self.nonce}"'}

    async def run(self) -> None:
        server = self.server
        flooded = server.crowded(self.address, time.monotonic_ns())
        server.open[self.address] = server.open.get(self.address, 0) + 1
        try:
            if flooded:
                server.journal.refused(self.address, Refusal.FLOOD, None, "connection")
                self.writer.write(format_response(503, "0", {"Retry-After": "10"},
                                                  server=SERVER))
                await self.writer.drain()
                return
            await self._requests()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
                ssl.SSLError, TimeoutError):
            pass
        except RtspProtocolError as exc:
            self.writer.write(format_response(400, "0", {"X-Error": str(exc)[:120]},
                                              server=SERVER))
        finally:
            for session in self.owned:
                server._end(session, "the centre closed the connection")
            self.writer.close()
            left = server.open.get(self.address, 1) - 1
            if left:
                server.open[self.address] = left
            else:
                server.open.pop(self.address, None)

    async def _requests(self) -> None:
        while True:
            silence = SILENCE_S["stranger" if self.centre is None else
                                "playing" if any(s.playing for s in self.owned) else "idle"]
            async with asyncio.timeout(silence):
                first = await self.reader.readexactly(1)
                if first == b"$":  # interleaved RTCP from the centre: read and drop
                    header = await self.reader.readexactly(3)
                    await self.reader.readexactly(int.from_bytes(header[1:3], "big"))
                    continue
                head = first + await self.reader.readuntil(b"\r\n\r\n")
                if len(head) > MAX_HEADER_BYTES:
                    raise RtspProtocolError("request head too large")
                request = parse_request_head(head[:-4])
                length = request.header("content-length", "0") or "0"
                if not decimal(length):
                    raise RtspProtocolError("a Content-Length that is no number")
                if int(length) > MAX_HEADER_BYTES:
                    raise RtspProtocolError("request body too large")
                if int(length):
                    await self.reader.readexactly(int(length))
            response = await self._handle(request)
            self.writer.write(response)
            await self.writer.drain()
            if self.closing:
                return  # refused: nothing more on this connection

    def _refuse(self, cseq: str, why: Refusal, detail: str,
                headers: dict[str, str] | None = None) -> bytes:
        name = self.centre.name if self.centre is not None else None
        self.server.journal.refused(self.address, why, name, detail)
        # who is not let in, or not who they say, gets no second try on the connection
        self.closing = why in (Refusal.ADDRESS, Refusal.CREDENTIALS, Refusal.INACTIVE)
        return format_response(STATUS[why], cseq, {
            "X-Refused": f"{why.value}: UE-10-22 3.2.11", **(headers or {})}, server=SERVER)

    async def _handle(self, request: Request) -> bytes:
        cseq = request.cseq
        if not request.version.startswith("RTSP/1."):
            return format_response(505, cseq, server=SERVER)
        table = self.server.table()
        if not table.from_address(self.address):
            return self._refuse(cseq, Refusal.ADDRESS, f"{request.method} {request.uri}"[:200])
        if self.centre is None:
            found = self._authenticated(request, table)
            if found is None:
                if request.header("authorization"):
                    return self._refuse(cseq, Refusal.CREDENTIALS, request.method,
                                        self.challenge)
                return format_response(401, cseq, self.challenge, server=SERVER)
            self.centre = found
        else:  # the register may have changed since: its row as it is now
            now = table.by_user(self.centre.username)
            if now is None:
                return self._refuse(cseq, Refusal.INACTIVE, request.method)
            self.centre = now
            if not self._proves(request, self.centre):
                return self._refuse(cseq, Refusal.CREDENTIALS, request.method,
                                    self.challenge)
        pinned = self.centre.client_sha256
        if pinned is not None and self._peer_sha256() != pinned:
            return self._refuse(cseq, Refusal.CREDENTIALS, f"{request.method}: the centre's "
                                "client certificate over RTSPS")
        why = admit(self.centre, self.address, None, None, 0, 0.0)
        if why is not None:
            return self._refuse(cseq, why, request.method)
        method = request.method
        if method == "OPTIONS":
            return format_response(200, cseq, {"Public": PUBLIC}, server=SERVER)
        if method in ("DESCRIBE", "SETUP", "PLAY"):
            target = self._target(request)
            if isinstance(target, bytes):
                return target
        if method == "DESCRIBE":
            return await self._describe(request, *target)
        if method == "SETUP":
            return self._setup(request, *target)
        if method == "PLAY":
            return await self._play(request, *target)
        if method == "PAUSE":
            session = self._session(request)
            if session is None:
                return format_response(454, cseq, server=SERVER)
            session.playing = False
            return format_response(200, cseq, {"Session": session.id}, server=SERVER)
        if method == "TEARDOWN":
            session = self._session(request)
            if session is not None:
                self.owned.remove(session)
                self.server._end(session, "the centre ended it", close=False)
            return format_response(200, cseq, server=SERVER)
        if method in ("GET_PARAMETER", "SET_PARAMETER"):
            return format_response(200, cseq, server=SERVER)
        return format_response(501, cseq, server=SERVER)

    def _peer_sha256(self) -> str | None:
        """The SHA-256 of the client certificate this connection presented over TLS."""
        tls = self.writer.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        return hashlib.sha256(der).hexdigest() if der else None

    def _authenticated(self, request: Request, table: Table) -> CentreAccess | None:
        params = digest.digest_user(request.header("authorization"))
        if params is None:
            return None
        centre = table.by_user(params.get("username", ""))
        if centre is None or params.get("realm") != REALM:
            return None
        return centre if digest.check_ha1(params, centre.ha1, self.nonce,
                                          request.method) else None

    def _proves(self, request: Request, centre: CentreAccess) -> bool:
        """Every request carries the digest again (clients resend it): a request without
        one after the first is taken as the connection's (RFC 2617 allows caching the
        credentials per connection; we do not ask again for GET_PARAMETER keep-alives)."""
        header = request.header("authorization")
        if not header:
            return True
        params = digest.digest_user(header)
        return (params is not None and params.get("username") == centre.username
                and digest.check_ha1(params, centre.ha1, self.nonce, request.method))

    def _target(self, request: Request) -> tuple[str, str] | bytes:
        """The camera and stream a URL names (`/cam01/main`, a track's control after it),
        refused unless live and in the centre's set."""
        assert self.centre is not None
        parts = urlsplit(request.uri)
        if not live_only(parts.query, request.header("range")):
            return self._refuse(request.cseq, Refusal.PAST, request.uri[:200])
        path = [p for p in parts.path.split("/") if p]
        if path and path[-1].startswith("trackID="):
            path = path[:-1]
        if len(path) != 2 or path[1] not in STREAMS:
            return self._refuse(request.cseq, Refusal.CAMERA, request.uri[:200])
        camera, stream = path
        mine = ([s for s in self.server.sessions.values() if s.centre.id == self.centre.id]
                if request.method == "SETUP" else [])  # the limits count when one starts
        why = admit(self.centre, self.address, camera, stream, len(mine),
                    sum(s.rate_kbps for s in mine))
        if why is not None:
            return self._refuse(request.cseq, why, f"{camera}/{stream}")
        return camera, stream

    async def _describe(self, request: Request, camera: str, stream: str) -> bytes:
        hub = self.server.hubs(camera, Stream.parse(stream))
        params = None if hub is None else await _first_params(hub)
        if params is None:
            return format_response(503, request.cseq, {
                "X-Error": "the camera is not recording now"}, server=SERVER)
        host = self.writer.get_extra_info("sockname")[0]
        base = request.uri.rstrip("/") + "/"
        return format_response(200, request.cseq, {"Content-Type": "application/sdp",
                                                   "Content-Base": base},
                               sdp_of(params, host, camera), server=SERVER)

    def _setup(self, request: Request, camera: str, stream: str) -> bytes:
        assert self.centre is not None
        cseq = request.cseq
        if request.header("session"):
            return format_response(459, cseq, server=SERVER)  # one track a session
        try:
            rtp = parse_transport(request.header("transport", "") or "")
        except RtspProtocolError:
            return format_response(461, cseq, server=SERVER)
        server = self.server
        assert server._loop is not None
        if not rtp.tcp and self.kind == "tls":
            return format_response(461, cseq, {  # RTSPS keeps the video inside the TLS
                "X-Error": "over RTSPS the video goes interleaved (RTP/AVP/TCP)"},
                server=SERVER)
        kind = self.kind if rtp.tcp else "udp"
        session = LiveSession(secrets.token_hex(8), self.centre, camera, stream,
                              self.address, kind, self.writer, server._loop, rtp,
                              payloads=server.payloads, limit=server.slow_reader_bytes)
        session.peer_sha256 = self._peer_sha256()
        if rtp.tcp:
            assert rtp.interleaved is not None
            reply = "RTP/AVP/TCP;unicast;interleaved={}-{}".format(*rtp.interleaved)
        else:
            assert rtp.client_ports is not None
            assert server._udp is not None
            session.udp_peer = (self.address, *rtp.client_ports)
            session.udp, session.udp_rtcp = server._udp
            reply = server.udp_reply(rtp.client_ports)
        server.sessions[session.id] = session
        self.owned.append(session)
        return format_response(200, cseq, {"Transport": f"{reply};ssrc={session.ssrc:08X}",
                                           "Session": f"{session.id};timeout=60"},
                               server=SERVER)

    def _session(self, request: Request) -> LiveSession | None:
        sid = (request.header("session") or "").split(";")[0].strip()
        return next((s for s in self.owned if s.id == sid), None)

    async def _play(self, request: Request, camera: str, stream: str) -> bytes:
        """Play the session set up for the URL's camera (admitted by `_target` just now);
        its start is in the register and the audit log before any frame leaves."""
        session = self._session(request)
        if session is None:
            return format_response(454, request.cseq, server=SERVER)
        if (session.camera, session.stream) != (camera, stream):
            return format_response(459, request.cseq, server=SERVER)  # another camera's
        if not session.playing:
            hub = self.server.hubs(session.camera, Stream.parse(session.stream))
            if hub is None:
                return format_response(503, request.cseq, server=SERVER)
            if session.hub is not None:  # after a PAUSE: placed anew by its RTP-Info
                session.shift, session.rtptime = None, secrets.randbits(32)
            else:
                session.start_ns = time.time_ns()
                try:
                    await asyncio.wrap_future(self.server.journal.started(session))
                except Exception:
                    log.exception("restream: a session's start could not be written")
                    session.start_ns = 0
                    return format_response(503, request.cseq, {
                        "X-Error": "the session could not be registered"}, server=SERVER)
                if session.ended is not None:  # cut while its start was written
                    return format_response(454, request.cseq, server=SERVER)
                session.hub = hub
                hub.relays.append(session)
            session.skipping = True
            session.playing = True
        return format_response(200, request.cseq, {
            "Session": session.id, "Range": "npt=now-",
            "RTP-Info": f"url={request.uri.rstrip('/')}/trackID=0;seq={session.seq};"
                        f"rtptime={session.rtptime}"},
            server=SERVER)


class _Probe:
    """A relay that only waits for a stream's first keyframe, to describe it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.found: asyncio.Future[VideoParams] = loop.create_future()

    def offer(self, params: VideoParams, data: bytes, keyframe: bool, rtp_ts: int,
              arrival_ns: int) -> None:
        if keyframe:
            with contextlib.suppress(RuntimeError):  # the server's loop has closed
                self.loop.call_soon_threadsafe(self._set, params)

    def _set(self, params: VideoParams) -> None:
        if not self.found.done():
            self.found.set_result(params)


async def _first_params(hub: LiveHub) -> VideoParams | None:
    """The stream's parameters, from its next keyframe (within FIRST_FRAME_S)."""
    probe = _Probe(asyncio.get_running_loop())
    hub.relays.append(probe)
    try:
        return await asyncio.wait_for(probe.found, FIRST_FRAME_S)
    except TimeoutError:
        return None
    finally:
        hub.relays.remove(probe)
