"""Finding the ONVIF cameras on the LAN: WS-Discovery (2005/04, as ONVIF Core §7 uses it).

A Probe for `dn:NetworkVideoTransmitter` goes as one UDP datagram to the multicast group
239.255.255.250:3702 (hop limit 1: the camera's own network) or, for a camera on another
network, to its own address; each camera answers with a ProbeMatches naming its endpoint
(`urn:uuid:…`), its device service URLs (XAddrs) and its scopes (`onvif://www.onvif.org/
name/…`, `/hardware/…`, `/location/…`). The messages are small SOAP envelopes, parsed here
with defusedxml (no DTD, no entity: a datagram from anyone on the LAN is untrusted), not
with the SOAP client; an answer that is not to this probe, or not XML, is passed over.

`probe` and `matches` are pure; `discover` is the only I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from dataclasses import dataclass
from urllib.parse import unquote

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from kuzet.errors import Unavailable

MULTICAST = ("239.255.255.250", 3702)
PORT = 3702
SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
DN = "http://www.onvif.org/ver10/network/wsdl"
PROBE_ACTION = f"{WSD}/Probe"
MATCHES_ACTION = f"{WSD}/ProbeMatches"
CANNOT_SEND = "WS-Discovery: cannot send the probe to {to} ({reason})"


@dataclass(frozen=True)
class Found:
    """One camera's answer."""

    address: str  # its endpoint reference, urn:uuid:…
    xaddrs: tuple[str, ...]  # its device service URLs
    scopes: tuple[str, ...]

    def scope(self, kind: str) -> str | None:
        """The first `onvif://www.onvif.org/<kind>/<value>` scope's value, decoded."""
        prefix = f"onvif://www.onvif.org/{kind}/"
        for s in self.scopes:
            if s.startswith(prefix):
                return unquote(s[len(prefix):])
        return None


def probe(message_id: str) -> bytes:
    """A Probe for ONVIF video transmitters, `message_id` a `urn:uuid:…`."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP}" xmlns:a="{WSA}" xmlns:d="{WSD}" xmlns:dn="{DN}">'
        f'<s:Header><a:Action s:mustUnderstand="1">{PROBE_ACTION}</a:Action>'
        f"<a:MessageID>{message_id}</a:MessageID>"
        f"<a:ReplyTo><a:Address>{WSA}/role/anonymous</a:Address></a:ReplyTo>"
        f'<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
        f"</s:Header><s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types>"
        f"</d:Probe></s:Body></s:Envelope>").encode()


def matches(datagram: bytes, message_id: str) -> list[Found]:
    """The cameras a ProbeMatches to `message_id` names; [] for anything else."""
    try:
        root = fromstring(datagram, forbid_dtd=True)
    except (SyntaxError, DefusedXmlException, ValueError):  # ParseError is a SyntaxError
        return []
    if root.tag != f"{{{SOAP}}}Envelope" \
            or root.findtext(f"{{{SOAP}}}Header/{{{WSA}}}RelatesTo", "").strip() != message_id \
            or root.findtext(f"{{{SOAP}}}Header/{{{WSA}}}Action", "").strip() != MATCHES_ACTION:
        return []
    found = []
    for m in root.iterfind(f"{{{SOAP}}}Body/{{{WSD}}}ProbeMatches/{{{WSD}}}ProbeMatch"):
        address = m.findtext(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address", "").strip()
        xaddrs = tuple(m.findtext(f"{{{WSD}}}XAddrs", "").split())
        if address and xaddrs:
            found.append(Found(address, xaddrs, tuple(m.findtext(f"{{{WSD}}}Scopes", "")
                                                      .split())))
    return found


class _Collect(asyncio.DatagramProtocol):
    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.found: dict[str, Found] = {}
        self.errors: list[Exception] = []
        self.answered = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        for f in matches(data, self.message_id):
            self.found.setdefault(f.address, f)  # a camera answering twice is one camera
            self.answered.set()

    def error_received(self, exc: Exception) -> None:
        """A send refused here (no route to the group, say): told once nothing answers."""
        self.errors.append(exc)


async def discover_async(timeout_s: float = 2.0, to: tuple[str, int] | None = None
                         ) -> list[Found]:
    """The cameras that answer within `timeout_s`, by endpoint address. The probe goes
    twice (SOAP-over-UDP's one repeat: a datagram may be lost) to the multicast group, or
    to `to` (host, port) where given: then the first camera to answer ends the wait, as
    one address is one camera. Unavailable when the probe cannot be sent at all."""
    target = to or MULTICAST
    family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
    message_id = f"urn:uuid:{uuid.uuid4()}"
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    if to is None:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: _Collect(message_id),
                                                              sock=sock)
    try:
        deadline = time.monotonic() + timeout_s
        for _ in range(2):
            transport.sendto(probe(message_id), target)  # the first send binds a port
            await asyncio.sleep(min(0.1, timeout_s / 4))
            if to is not None and protocol.answered.is_set():
                break
        if to is None:
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(protocol.answered.wait(),
                                       max(0.0, deadline - time.monotonic()))
    finally:
        transport.close()
    if protocol.errors and not protocol.found:
        exc = protocol.errors[0]
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise Unavailable(CANNOT_SEND, to=f"{target[0]}:{target[1]}", reason=reason)
    return sorted(protocol.found.values(), key=lambda f: (f.xaddrs, f.address))


def discover(timeout_s: float = 2.0, to: tuple[str, int] | None = None) -> list[Found]:
    """`discover_async` for the command line."""
    return asyncio.run(discover_async(timeout_s, to))
