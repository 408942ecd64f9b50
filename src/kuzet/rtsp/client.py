"""An RTSP client session for recording (RFC 2326): DESCRIBE, SETUP over TCP-interleaved,
PLAY, keep-alive and TEARDOWN, with basic or digest credentials from the URL.

Only the session's control exchange lives here; reading the interleaved RTP is the
caller's loop (kuzet.ingest.rtsp_source), which reads the socket in large chunks. A
failure is an `RtspError` saying what failed (the caller names the gap it makes).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from kuzet.credentials import SecretUrl
from kuzet.rtsp.digest import parse_auth_params
from kuzet.rtsp.protocol import decimal

log = logging.getLogger(__name__)

MAX_REPLY_BYTES = 64 * 1024
DEFAULT_SESSION_TIMEOUT_S = 60
USER_AGENT = "kuzet"


class RtspError(Exception):
    """The session could not be set up or went on no longer: the camera did not answer,
    refused the connection, sent what is not RTSP, or answered with an error status."""


class RequestRefused(RtspError):
    """The camera answered a request with an error status (other than for credentials)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


# 4xx answers to a SETUP that say nothing about the track's URL: another URL will not help.
NOT_THE_URL = {401, 403, 454, 455, 459, 461}


class CredentialsRefused(RtspError):
    """The camera refused the credentials (401) or forbade access (403)."""


class ConnectionLost(RtspError):
    """A request could not be sent: the camera closed the connection."""


@dataclass
class Reply:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


class RtspClient:
    def __init__(self, url: SecretUrl, *, timeout_s: float) -> None:
        parts = urlsplit(url.reveal())
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        host = parts.hostname or ""
        self.host = host
        self.port = parts.port or 554
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        self.url = parts._replace(netloc=netloc).geturl()  # no credentials on the wire
        self.timeout_s = timeout_s
        self.sock: socket.socket | None = None
        self.session: str | None = None
        self._announced_timeout_s: int | None = None  # the shortest any reply announced
        self.leftover = b""  # bytes after the last reply: the stream has begun
        self._cseq = 0
        self._auth: tuple[str, dict[str, str]] | None = None
        self._nc = 0
        self._keepalive_method = "OPTIONS"

    # -- connection -------------------------------------------------------------------
    def connect(self) -> None:
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except TimeoutError as exc:
            raise RtspError(f"the camera did not answer within {self.timeout_s:g} s") from exc
        except ConnectionRefusedError as exc:
            raise RtspError("connection refused") from exc
        except socket.gaierror as exc:
            raise RtspError("host name not found") from exc
        except OSError as exc:
            raise RtspError(exc.strerror or type(exc).__name__) from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.sock is None:
            return
        if self.session is not None:
            with contextlib.suppress(OSError):
                self.sock.settimeout(0.5)
                self.sock.sendall(self._format("TEARDOWN", self.url, {}))
        with contextlib.suppress(OSError):
            self.sock.close()
        self.sock = None

    # -- requests ---------------------------------------------------------------------
    def request(self, method: str, uri: str, headers: dict[str, str] | None = None) -> Reply:
        """Send a request and wait for its reply; a 401 is answered once with credentials."""
        extra = dict(headers or {})
        for attempt in range(2):
            self._send(self._format(method, uri, extra))
            reply = self._read_reply()
            if reply.status == 401 and attempt == 0 and self.user and self._challenge(reply):
                continue
            break
        if reply.status in (401, 403):
            word = "refused the credentials" if reply.status == 401 else "forbade access"
            raise CredentialsRefused(f"the camera {word} ({reply.status})")
        if reply.status == 404:
            raise RequestRefused("the camera has no stream at that path (404)", 404)
        if reply.status != 200:
            raise RequestRefused(
                f"the camera answered {method} with {reply.status} {reply.reason}", reply.status)
        session = reply.header("session")
        if session:
            sid, _, params = session.partition(";")
            self.session = sid.strip()
            for param in params.split(";"):
                key, _, value = param.strip().partition("=")
                value = value.strip()
                if key.strip().lower() == "timeout" and decimal(value) and int(value) > 0:
                    shortest = self._announced_timeout_s
                    self._announced_timeout_s = (int(value) if shortest is None
                                                 else min(shortest, int(value)))
        if method == "OPTIONS" and "GET_PARAMETER" in reply.header("public").upper():
            self._keepalive_method = "GET_PARAMETER"
        return reply

    @property
    def session_timeout_s(self) -> int:
        """The session's time-out, half of it between keep-alives: the shortest any reply
        announced (a camera saying 60 at SETUP and 120 at PLAY means 60)."""
        return self._announced_timeout_s or DEFAULT_SESSION_TIMEOUT_S

    def setup(self, urls: tuple[str, ...], transport: str) -> Reply:
        """SETUP a track at the first of its control URLs (kuzet.rtsp.sdp.Medium.urls)
        the camera takes: a 4xx that is not about credentials, session or transport
        moves on to the next, once each. Which form the camera took is logged when it
        was not the first."""
        for i, uri in enumerate(urls):
            try:
                reply = self.request("SETUP", uri, {"Transport": transport})
            except RequestRefused as exc:
                if (i + 1 < len(urls) and 400 <= exc.status < 500
                        and exc.status not in NOT_THE_URL):
                    log.info("the camera at %s:%s refused track URL %s (%d); trying %s",
                             self.host, self.port, uri, exc.status, urls[i + 1])
                    continue
                raise
            if i:
                log.info("the camera at %s:%s took track URL %s, not %s", self.host,
                         self.port, uri, urls[0])
            return reply
        raise AssertionError("no URL to SET UP")  # urls is never empty

    def keepalive(self) -> None:
        """Tell the camera we are still here; the reply is skipped by the stream reader."""
        self._send(self._format(self._keepalive_method, self.url, {}))

    def _send(self, data: bytes) -> None:
        assert self.sock is not None
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise ConnectionLost(
                f"the camera closed the connection ({exc.strerror or exc})") from exc

    def _format(self, method: str, uri: str, headers: dict[str, str]) -> bytes:
        self._cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self._cseq}", f"User-Agent: {USER_AGENT}"]
        if self.session is not None:
            lines.append(f"Session: {self.session}")
        auth = self._authorization(method, uri)
        if auth:
            lines.append(f"Authorization: {auth}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _read_reply(self) -> Reply:
        assert self.sock is not None
        data = bytearray(self.leftover)
        deadline = time.monotonic() + self.timeout_s
        while True:
            # RTP that arrives before a reply (a keep-alive's, after PLAY) is not ours here.
            while data[:1] == b"$" and len(data) >= 4:
                size = 4 + ((data[2] << 8) | data[3])
                if len(data) < size:
                    break
                del data[:size]
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0 and not data.startswith(b"$"):
                reply = _parse_head(bytes(data[:head_end]))
                length = int(reply.header("content-length", "0") or 0)
                stop = head_end + 4 + length
                if len(data) >= stop:
                    reply.body = bytes(data[head_end + 4:stop])
                    self.leftover = bytes(data[stop:])
                    return reply
            if len(data) > MAX_REPLY_BYTES:
                raise RtspError("the camera's reply is too long")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RtspError(f"the camera did not answer within {self.timeout_s:g} s")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(16384)
            except TimeoutError as exc:
                raise RtspError(f"the camera did not answer within {self.timeout_s:g} s") from exc
            except OSError as exc:
                raise RtspError(exc.strerror or str(exc)) from exc
            if not chunk:
                raise RtspError("the camera closed the connection")
            data += chunk

    # -- authentication ---------------------------------------------------------------
    def _challenge(self, reply: Reply) -> bool:
        """Remember how the camera wants credentials; False when it offers nothing we speak."""
        offers = [v.strip() for v in reply.headers.get("www-authenticate", "").split("\n")]
        for scheme in ("digest", "basic"):
            for offer in offers:
                kind, _, rest = offer.partition(" ")
                if kind.lower() == scheme:
                    self._auth = (scheme, parse_auth_params(rest))
                    return True
        return False

    def _authorization(self, method: str, uri: str) -> str | None:
        if self._auth is None:
            return None
        scheme, params = self._auth
        if scheme == "basic":
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            return f"Basic {token}"
        realm, nonce = params.get("realm", ""), params.get("nonce", "")
        ha1 = _md5(f"{self.user}:{realm}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        fields = {"username": self.user, "realm": realm, "nonce": nonce, "uri": uri}
        if "opaque" in params:
            fields["opaque"] = params["opaque"]
        if "auth" in [q.strip() for q in params.get("qop", "").split(",")]:
            self._nc += 1
            nc, cnonce = f"{self._nc:08x}", os.urandom(8).hex()
            fields["response"] = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            text = ", ".join(f'{k}="{v}"' for k, v in fields.items())
            return f"Digest {text}, qop=auth, nc={nc}, cnonce=\"{cnonce}\""
        fields["response"] = _md5(f"{ha1}:{nonce}:{ha2}")
        return "Digest " + ", ".join(f'{k}="{v}"' for k, v in fields.items())


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _parse_head(head: bytes) -> Reply:
    lines = head.decode("utf-8", "replace").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("RTSP/") or not decimal(parts[1]):
        raise RtspError(f"the peer does not speak RTSP: {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            # Several WWW-Authenticate offers are kept, one per line.
            headers[key] = f"{headers[key]}\n{value.strip()}" if key in headers else value.strip()
    return Reply(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, b"")
