"""What the restream tests share: a camera's frames fed into a real fan-out hub at 25 fps,
as the recorder hands them over, and a bare RTSP client with digest authentication for
the requests FFmpeg and GStreamer never send (a past instant, a socket that stops
reading)."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import threading
import time
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av

from kuzet.mp4.writer import VideoParams
from kuzet.nal import parameter_sets, to_annexb
from kuzet.recorder.fanout import LiveHub
from kuzet.rtsp import digest
from kuzet.rtsp.clip import ClipSpec, load_access_units

FRAME_S = 0.04
SPEC = ClipSpec(640, 360, 1_000_000)  # the simulator's small main stream (conftest)


class Feeder(threading.Thread):
    """A camera's frames into `hub` at 25 fps, stamped as a camera's RTP clock (90 kHz):
    the simulator's H.264 clip, or with `hevc` an H.265 stream as x265 codes it."""

    def __init__(self, hub: LiveHub, cache: Path, hevc: Path | None = None) -> None:
        super().__init__(name="feeder", daemon=True)
        self.hub = hub
        if hevc is None:
            units, clip = load_access_units(SPEC, cache)
            self.units = units
            self.params = VideoParams("h264", to_annexb((clip.sps, clip.pps)), SPEC.width,
                                      SPEC.height)
        else:
            self.units, self.params = _hevc(hevc)
        self.template = SimpleNamespace(time_base=Fraction(1, 90_000))
        self.stop = threading.Event()
        self.fed = 0

    def run(self) -> None:
        start = time.monotonic()
        while not self.stop.is_set():
            key, data = self.units[self.fed % len(self.units)]
            pts = self.fed * 3600
            if self.hub.active:
                self.hub.frame(self.params, self.template, data, pts, pts, 3600, key,
                               time.time_ns())
            self.fed += 1
            self.stop.wait(max(0.0, start + self.fed * FRAME_S - time.monotonic()))


def _hevc(path: Path) -> tuple[list[tuple[bool, bytes]], VideoParams]:
    """Two seconds of x265's H.265 (a keyframe a second) as Annex B access units."""
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=320x240:rate=25", "-t", "2", "-c:v", "libx265",
                    "-x265-params", "keyint=25:bframes=0:log-level=error", "-f", "hevc", "-y",
                    str(path)], check=True, timeout=60)
    with av.open(str(path)) as container:
        units = [(p.is_keyframe, bytes(p)) for p in container.demux(container.streams.video[0])
                 if p.size]
    sets = parameter_sets("hevc", units[0][1])
    return units, VideoParams("hevc", to_annexb(sets), 320, 240)


class Rtsp:
    """One RTSP connection, requests answered in order; digest as RFC 2617 asks."""

    def __init__(self, port: int, user: str, password: str, host: str = "127.0.0.1",
                 rcvbuf: int | None = None, tls: ssl.SSLContext | None = None) -> None:
        plain = socket.socket()
        if rcvbuf is not None:
            plain.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        plain.settimeout(10)
        plain.connect((host, port))
        self.sock = tls.wrap_socket(plain) if tls is not None else plain
        self.user, self.password = user, password
        self.cseq = 0
        self.challenge: tuple[str, str] | None = None
        self.buf = b""

    def request(self, method: str, url: str, headers: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], bytes]:
        for _ in range(2):
            self.cseq += 1
            lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}"]
            if self.challenge is not None:
                realm, nonce = self.challenge
                response = digest.digest_response(self.user, realm, self.password, method,
                                                  url, nonce)
                lines.append(f'Authorization: Digest username="{self.user}", realm="{realm}",'
                             f' nonce="{nonce}", uri="{url}", response="{response}"')
            lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
            self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            status, head, body = self.response()
            if status == 401 and self.challenge is None:
                m = re.search(r'realm="([^"]*)", nonce="([^"]*)"',
                              head.get("www-authenticate", ""))
                assert m, head
                self.challenge = (m.group(1), m.group(2))
                continue
            return status, head, body
        return status, head, body

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while True:
            while self.buf.startswith(b"$"):  # interleaved media before the answer
                if len(self.buf) < 4:
                    self._more()
                    continue
                size = int.from_bytes(self.buf[2:4], "big")
                while len(self.buf) < 4 + size:
                    self._more()
                self.buf = self.buf[4 + size:]
            if b"\r\n\r\n" in self.buf and not self.buf.startswith(b"$"):
                break
            self._more()
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in lines[1:])}
        size = int(headers.get("content-length", "0"))
        while len(rest) < size:
            self.buf = head + b"\r\n\r\n" + rest
            self._more()
            head, _, rest = self.buf.partition(b"\r\n\r\n")
        self.buf = rest[size:]
        return int(lines[0].split()[1]), headers, rest[:size]

    def media(self, seconds: float) -> list[bytes]:
        """The interleaved RTP packets (channel 0) that arrive within `seconds`."""
        packets = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if len(self.buf) >= 4 and self.buf.startswith(b"$"):
                size = int.from_bytes(self.buf[2:4], "big")
                if len(self.buf) >= 4 + size:
                    if self.buf[1] == 0:
                        packets.append(self.buf[4:4 + size])
                    self.buf = self.buf[4 + size:]
                    continue
            self._more()
        return packets

    def first_media(self, timeout: float) -> list[bytes]:
        """The packets in hand once the first has come, waited for up to `timeout`: a
        session starts at the stream's next keyframe, a GOP away or more on a busy
        machine (a fixed second here was a flaky test)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if packets := self.media(0.2):
                return packets
        return []

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buf += data

    def play(self, url: str) -> str:
        """DESCRIBE, SETUP over TCP, PLAY; the session's id."""
        status, _, _ = self.request("DESCRIBE", url, {"Accept": "application/sdp"})
        assert status == 200, status
        status, head, _ = self.request("SETUP", f"{url}/trackID=0", {
            "Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        assert status == 200, status
        session = head["session"].split(";")[0]
        status, _, _ = self.request("PLAY", url, {"Session": session, "Range": "npt=0.000-"})
        assert status == 200, status
        return session

    def close(self) -> None:
        self.sock.close()
