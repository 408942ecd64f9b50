"""A bare RTSP/RTP reader for the tests: SETUP and PLAY on a plain socket and every
interleaved packet with the time its read returned, nothing of Kuzet's parsing between,
so that what a server sends (the simulator's pacing, its B-frames, its sound) is seen as
any receiver would see it."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Received:
    at: float  # time.monotonic() when the read returning it came back
    channel: int
    data: bytes

    @property
    def seq(self) -> int:
        return int.from_bytes(self.data[2:4], "big")

    @property
    def ts(self) -> int:
        return int.from_bytes(self.data[4:8], "big")


def _reply(s: socket.socket, buf: bytes) -> tuple[bytes, bytes]:
    """The next RTSP reply's head (no interleaved data precedes it before PLAY)."""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"RTSP/1.0 200"), head
    return head, rest


def _header(head: bytes, name: bytes) -> str:
    return next(line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                if line.lower().startswith(name + b":"))


VIDEO = 6  # the interleaved channel `play` asks the first track on


def play(port: int, tracks: int, done: Callable[[list[Received]], bool],
         timeout: float = 10) -> tuple[str, list[Received]]:
    """SETUP `tracks` tracks of cam01/main over TCP in one session, on channels 6-7 and
    10-11 (not 0-3), PLAY, and read until `done(packets)`; the PLAY reply's RTP-Info and
    every interleaved packet."""
    url = f"rtsp://127.0.0.1:{port}/cam01/main"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        session = ""
        buf = b""
        for track, channel in zip(range(tracks), (VIDEO, 10), strict=False):
            joined = f"Session: {session}\r\n" if session else ""
            s.sendall(f"SETUP {url}/trackID={track} RTSP/1.0\r\nCSeq: {track + 1}\r\n{joined}"
                      f"Transport: RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}"
                      "\r\n\r\n".encode())
            head, buf = _reply(s, buf)
            session = _header(head, b"session").split(";")[0]
        s.sendall(f"PLAY {url} RTSP/1.0\r\nCSeq: 9\r\nSession: {session}\r\n\r\n".encode())
        head, buf = _reply(s, buf)
        rtp_info = _header(head, b"rtp-info")
        packets: list[Received] = []
        arrived = time.monotonic()
        deadline = arrived + timeout
        while not done(packets):
            pos = 0
            while len(buf) - pos >= 4:
                assert buf[pos:pos + 1] == b"$", buf[pos:pos + 16]
                size = int.from_bytes(buf[pos + 2:pos + 4], "big")
                if len(buf) - pos - 4 < size:
                    break
                packets.append(Received(arrived, buf[pos + 1], buf[pos + 4:pos + 4 + size]))
                pos += 4 + size
            buf = buf[pos:]
            assert time.monotonic() < deadline, "timed out reading the stream"
            data = s.recv(65536)
            assert data, "the simulator closed the stream"
            arrived = time.monotonic()
            buf += data
    return rtp_info, packets
