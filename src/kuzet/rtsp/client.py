"""An RTSP client session for recording (RFC 2326): DESCRIBE, SETUP, PLAY, keep-alive and
TEARDOWN, with basic or digest credentials from the URL; `rtsps://` (default port 322) is
the same session over TLS.

Only the session's control exchange lives here; reading RTP (interleaved on this
connection, or UDP) is the caller's loop (kuzet.ingest.rtsp_source), in large batches,
through `read_into`. A failure is an `RtspError` saying what failed (the caller names the
gap it makes).

TLS runs in memory (`ssl.MemoryBIO`), not in an `ssl.SSLSocket`: the raw socket is read
as before, one `recv_into` a batch held back by its receive low-water mark, and every
whole record that batch brought is decrypted before the thread sleeps again. An
SSLSocket reads one record a call, header and body apart, and gst-rtsp-server (GnuTLS)
sends a record a write: measured, some 260 records a second for its 140 kbit/s camera,
which would be 520 `recv` calls a second where the raw socket is read 4 times.
Cameras' certificates are self-signed, so, like FFmpeg's client by default, the chain is
not verified; the certificate's SHA-256 is kept (`peer_certificate_sha256`) and, when
one is pinned, must match it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import socket
import ssl
import time
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote, urlsplit

from kuzet.credentials import SecretUrl
from kuzet.rtsp.digest import parse_auth_params
from kuzet.rtsp.protocol import decimal

log = logging.getLogger(__name__)

MAX_REPLY_BYTES = 64 * 1024
RTSPS_PORT = 322  # RFC 7826's default for rtsps://, as FFmpeg's and Axis's
TLS_READ_BYTES = 256 * 1024  # raw bytes taken from the socket at once: a batch and more
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


class CertificateRefused(RtspError):
    """The camera's TLS certificate is not the one pinned for it."""


def fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as `peer_certificate_sha256` writes it (64 lower-case hex
    digits) from how people copy one: OpenSSL's `AB:CD:…`, spaces, either case."""
    return "".join(c for c in text.lower() if c in "0123456789abcdef")


class TlsChannel:
    """TLS over a connected socket, in memory: `read_into` and `sendall` as a socket's,
    the socket's own time-out, blocking mode and low-water mark deciding every wait."""

    def __init__(self, sock: socket.socket, server_hostname: str | None) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = False  # self-signed, for an address: see the module
        context.verify_mode = ssl.CERT_NONE
        self.sock = sock
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_hostname=server_hostname)
        self._raw = bytearray(TLS_READ_BYTES)
        self.first = b""  # the camera's first bytes: "RTSP/" is a plain RTSP port
        self.closed = False  # the camera ended TLS (close_notify) or the connection

    def handshake(self) -> bytes:
        """Agree on keys; the camera's certificate, DER."""
        while True:
            try:
                self._tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    raise ssl.SSLEOFError("the camera closed the connection") from None
        self._flush()
        cert = self._tls.getpeercert(binary_form=True)
        if not cert:
            raise ssl.SSLError("the camera sent no certificate")
        return cert

    def read_into(self, view: memoryview) -> int:
        """Decrypted bytes into `view`, as `socket.recv_into`: what whole records are
        already in hand first (never a sleep with data decrypted or decryptable), else
        one read of the socket; 0 at the end of the stream; TimeoutError or
        BlockingIOError from the socket when nothing came."""
        got = self._decrypt(view)
        timeout = self.sock.gettimeout()
        deadline = time.monotonic() + (timeout or 0)
        try:
            while not got and not self.closed:
                if not self._fill():
                    self.closed = True
                    break
                got = self._decrypt(view)
                if not got and timeout:  # part of a record: the rest within the time-out
                    self.sock.settimeout(_left(deadline))
        finally:
            if self.sock.gettimeout() != timeout:
                self.sock.settimeout(timeout)
        return got

    def sendall(self, data: bytes) -> None:
        self._tls.write(data)
        self._flush()

    def _decrypt(self, view: memoryview) -> int:
        got = 0
        while got < len(view):
            try:
                # a count when given a buffer (typeshed says bytes, as without one)
                size = cast(int, self._tls.read(len(view) - got, view[got:]))
            except ssl.SSLWantReadError:
                break
            if not size:  # the camera's close_notify
                self.closed = True
                break
            got += size
        self._flush()  # a TLS 1.3 key update answered, say
        return got

    def _fill(self) -> bool:
        """One read of the socket into the TLS engine; False at its end."""
        got = self.sock.recv_into(self._raw)
        self.first = self.first or bytes(self._raw[:min(got, 5)])
        self._in.write(memoryview(self._raw)[:got])
        return got > 0

    def _flush(self) -> None:
        if self._out.pending:
            self.sock.sendall(self._out.read())


@dataclass
class Reply:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


class RtspClient:
    def __init__(self, url: SecretUrl, *, timeout_s: float,
                 tls_fingerprint: str | None = None) -> None:
        """`tls_fingerprint`: the SHA-256 the camera's certificate must have (rtsps://);
        None takes any, as FFmpeg's client does."""
        parts = urlsplit(url.reveal())
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        host = parts.hostname or ""
        self.host = host
        self.secure = parts.scheme.lower() == "rtsps"
        self.port = parts.port or (RTSPS_PORT if self.secure else 554)
        self.pinned = fingerprint(tls_fingerprint) if tls_fingerprint else None
        self.tls: TlsChannel | None = None
        self.peer_certificate_sha256: str | None = None
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
        if self.secure:
            self._start_tls(self.sock)

    def _start_tls(self, sock: socket.socket) -> None:
        """The TLS handshake, within the time-out; the certificate's fingerprint kept and
        held against the pinned one."""
        # SNI for a name; an address is not sent (RFC 6066 3)
        name = None if _is_address(self.host) else self.host
        self.tls = TlsChannel(sock, name)
        try:
            cert = self.tls.handshake()
        except TimeoutError as exc:
            raise RtspError(f"no TLS handshake from the camera within {self.timeout_s:g} s "
                            "(is the port an rtsps:// one?)") from exc
        except ssl.SSLError as exc:
            if self.tls.first == b"RTSP/":  # gst-rtsp-server's 400 to a ClientHello
                raise RtspError("the camera answered in plain RTSP, not TLS: the port is "
                                "an rtsp:// one") from exc
            raise RtspError(f"the TLS handshake failed ({exc.reason or exc}): is the port "
                            "an rtsps:// one?") from exc
        except OSError as exc:
            raise RtspError(f"the TLS handshake failed ({exc.strerror or exc})") from exc
        self.peer_certificate_sha256 = hashlib.sha256(cert).hexdigest()
        if self.pinned is not None and self.pinned != self.peer_certificate_sha256:
            raise CertificateRefused("the camera's TLS certificate is not the one pinned "
                                     f"(sha256 {self.peer_certificate_sha256})")

    def read_into(self, view: memoryview) -> int:
        """The stream's next bytes into `view`, decrypted over TLS: `socket.recv_into`'s
        contract (the socket's time-out or blocking mode, 0 at its end)."""
        assert self.sock is not None
        if self.tls is not None:
            return self.tls.read_into(view)
        return self.sock.recv_into(view)

    def close(self) -> None:
        if self.sock is None:
            return
        if self.session is not None:
            with contextlib.suppress(OSError):
                self.sock.settimeout(0.5)
                self._sendall(self._format("TEARDOWN", self.url, {}))
        with contextlib.suppress(OSError):
            self.sock.close()
        self.sock = None
        self.tls = None

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
        """Tell the camera we are still here; the reader hands the reply's status to
        `keepalive_answered`."""
        self._send(self._format(self._keepalive_method, self.url, {}))

    def keepalive_answered(self, status: int) -> None:
        """A camera that lists GET_PARAMETER may still refuse it (501, 405) and then end
        the session at its time-out: keep alive with OPTIONS from now on, at once."""
        if status != 200 and self._keepalive_method == "GET_PARAMETER":
            log.info("%s: GET_PARAMETER answered %d; keeping the session alive with OPTIONS",
                     self.url, status)
            self._keepalive_method = "OPTIONS"
            self.keepalive()

    def send(self, data: bytes) -> None:
        """Bytes on the RTSP connection as they are: an interleaved RTCP packet."""
        self._send(data)

    def _send(self, data: bytes) -> None:
        assert self.sock is not None
        reading = self.sock.gettimeout()  # the reader's: as short as 1 ms, or none
        try:
            self.sock.settimeout(self.timeout_s)
            self._sendall(data)
        except OSError as exc:
            raise ConnectionLost(
                f"the camera closed the connection ({exc.strerror or exc})") from exc
        finally:
            self.sock.settimeout(reading)

    def _sendall(self, data: bytes) -> None:
        assert self.sock is not None
        if self.tls is not None:
            self.tls.sendall(data)
        else:
            self.sock.sendall(data)

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
            chunk = memoryview(bytearray(16384))
            try:
                got = self.read_into(chunk)
            except TimeoutError as exc:
                raise RtspError(f"the camera did not answer within {self.timeout_s:g} s") from exc
            except OSError as exc:
                raise RtspError(exc.strerror or str(exc)) from exc
            if not got:
                raise RtspError("the camera closed the connection")
            data += chunk[:got]

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


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


def _is_address(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


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
