"""RTSP/1.0 message parsing and formatting (RFC 2326), free of sockets."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_HEADER_BYTES = 16 * 1024


def decimal(text: str) -> bool:
    """Whether a number a peer sent is one `int()` takes: ASCII digits only (a camera's
    "²" passes `str.isdigit` and then fails `int`)."""
    return text.isascii() and text.isdigit()

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    453: "Not Enough Bandwidth",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    457: "Invalid Range",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}


class RtspProtocolError(ValueError):
    """A request that cannot be parsed; answered with 400 and the connection closed."""


@dataclass
class Request:
    method: str
    uri: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @property
    def cseq(self) -> str:
        return self.headers.get("cseq", "0")


def parse_request_head(head: bytes) -> Request:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RtspProtocolError("request head is not UTF-8") from exc
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise RtspProtocolError(f"malformed request line: {lines[0][:80]!r}")
    method, uri, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise RtspProtocolError(f"malformed header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return Request(method=method.upper(), uri=uri, version=version, headers=headers)


def format_response(status: int, cseq: str, headers: dict[str, str] | None = None,
                    body: bytes = b"", server: str = "kuzet-sim") -> bytes:
    lines = [f"RTSP/1.0 {status} {REASONS.get(status, 'Error')}", f"CSeq: {cseq}",
             f"Server: {server}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Transport:
    """What a client asked for in SETUP's Transport header."""

    tcp: bool
    interleaved: tuple[int, int] | None
    client_ports: tuple[int, int] | None


def parse_transport(value: str) -> Transport:
    """Pick the first transport spec we can serve: RTP over TCP-interleaved or UDP unicast."""
    for spec in value.split(","):
        fields = [f.strip() for f in spec.split(";")]
        proto = fields[0].upper()
        params = dict(f.partition("=")[::2] for f in fields[1:])
        if proto == "RTP/AVP/TCP":
            channels = _pair(params.get("interleaved", "0-1"), 0, 255)
            return Transport(tcp=True, interleaved=channels, client_ports=None)
        if proto in ("RTP/AVP", "RTP/AVP/UDP") and "multicast" not in params:
            if "client_port" not in params:
                continue
            return Transport(tcp=False, interleaved=None,
                             client_ports=_pair(params["client_port"], 1, 65535))
    raise RtspProtocolError(f"no supported transport in {value[:120]!r}")


def _pair(text: str, low: int, high: int) -> tuple[int, int]:
    """A channel (0-255) or port (1-65535) pair; one alone is followed by the next."""
    a, _, b = text.partition("-")
    try:
        first = int(a)
        second = int(b) if b else first + 1
    except ValueError as exc:
        raise RtspProtocolError(f"bad port or channel pair {text!r}") from exc
    if not (low <= first <= high and low <= second <= high):
        raise RtspProtocolError(f"port or channel pair {text!r} out of {low}-{high}")
    return first, second
