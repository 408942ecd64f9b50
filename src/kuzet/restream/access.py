"""Who may receive which camera live, decided purely (UE-10-22 3.2.11).

The restream server asks `admit` at each step of a centre's RTSP session (its first
request, DESCRIBE, SETUP, PLAY) and `still_allowed` every time the register changes, so
that a camera taken out of a centre's set, a centre disabled or past its validity ends its
sessions at once. Each refusal carries the RTSP status the client gets and the clause, to
be said to the client, written in the audit log and raised as an alarm.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
STREAMS = ("main", "sub")
CLAUSE = "UE-10-22 3.2.11"


class Refusal(StrEnum):
    """Why a request is refused, as the audit log and the alarm name it."""

    ADDRESS = "address"  # from an address that is no registered centre's
    CREDENTIALS = "credentials"  # wrong user name or digest
    INACTIVE = "inactive"  # the centre is disabled, not yet approved, or outside its days
    CAMERA = "camera"  # a camera (or stream) not in the centre's approved set
    STREAMS = "streams"  # the centre's maximum of simultaneous streams reached
    BITRATE = "bitrate"  # the centre's maximum bitrate reached
    PAST = "past"  # a past instant asked for: live only (3.5.3, 3.5.6)
    FLOOD = "flood"  # too many connections from one address


# The RTSP status of each refusal (RFC 2326 7.1.1).
STATUS = {Refusal.ADDRESS: 403, Refusal.CREDENTIALS: 401, Refusal.INACTIVE: 403,
          Refusal.CAMERA: 404, Refusal.STREAMS: 453, Refusal.BITRATE: 453,
          Refusal.PAST: 457, Refusal.FLOOD: 503}
WHY = {Refusal.ADDRESS: "the address is not a registered centre's",
       Refusal.CREDENTIALS: "wrong credentials",
       Refusal.INACTIVE: "the centre is disabled, not approved or outside its validity",
       Refusal.CAMERA: "the camera is not in the centre's approved set",
       Refusal.STREAMS: "the centre's maximum of simultaneous streams is reached",
       Refusal.BITRATE: "the centre's maximum bitrate is reached",
       Refusal.PAST: "live only: stored footage is never restreamed",
       Refusal.FLOOD: "too many connections from this address"}


@dataclass(frozen=True)
class CentreAccess:
    """What the server knows of one centre: its credentials, addresses, approved set."""

    id: int
    name: str
    username: str
    ha1: str  # RFC 2617's HA1 for the server's realm
    networks: tuple[Network, ...]
    cameras: dict[str, str]  # camera -> "main" or "sub", the approved set in force
    max_streams: int
    max_kbps: int
    active: bool  # approved, not disabled, today within its validity
    client_sha256: str | None = None  # the client certificate it must present, if any
    client_cert: str | None = None  # that certificate (PEM), for the server to trust

    def admits(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in n for n in self.networks)


@dataclass(frozen=True)
class Table:
    """The register as the server reads it: every centre with an approved registration."""

    centres: tuple[CentreAccess, ...] = ()

    def from_address(self, address: str) -> bool:
        """Does any centre connect from `address` (active or not: a disabled centre's
        address is told `inactive` once it has proved who it is)?"""
        return any(c.admits(address) for c in self.centres)

    def by_user(self, username: str) -> CentreAccess | None:
        return next((c for c in self.centres if c.username == username), None)


def admit(centre: CentreAccess, address: str, camera: str | None, stream: str | None,
          streams_now: int, kbps_now: float) -> Refusal | None:
    """None when `centre` (authenticated already) may start `camera`'s `stream` from
    `address` with `streams_now` sessions and `kbps_now` of its own running; else why not.
    `camera` None: only the centre itself is checked (OPTIONS)."""
    if not centre.admits(address):
        return Refusal.ADDRESS
    if not centre.active:
        return Refusal.INACTIVE
    if camera is None:
        return None
    if centre.cameras.get(camera) != stream:
        return Refusal.CAMERA
    if streams_now >= centre.max_streams:
        return Refusal.STREAMS
    if kbps_now >= centre.max_kbps:
        return Refusal.BITRATE
    return None


def still_allowed(table: Table, centre_id: int, address: str, camera: str,
                  stream: str, peer_sha256: str | None) -> Refusal | None:
    """Whether a running session may go on under the register as it is now (a client
    certificate registered since it began included)."""
    centre = next((c for c in table.centres if c.id == centre_id), None)
    if centre is None or not centre.active:
        return Refusal.INACTIVE
    if not centre.admits(address):
        return Refusal.ADDRESS
    if centre.client_sha256 is not None and centre.client_sha256 != peer_sha256:
        return Refusal.CREDENTIALS
    if centre.cameras.get(camera) != stream:
        return Refusal.CAMERA
    return None


def live_only(uri_query: str, range_header: str | None) -> bool:
    """True unless the request asks for a past instant: a `Range` that starts anywhere
    but now (`npt=now-`, or `npt=0-` which FFmpeg and GStreamer send for "from the
    start of this live session"), or a query naming a time as vendors' playback URLs do
    (`starttime=`, `start=`, `time=`)."""
    query = uri_query.lower()
    if any(word in query for word in ("start", "time", "playback", "end")):
        return False
    if not range_header:
        return True
    value = range_header.strip().lower().replace(" ", "")
    if not value.startswith("npt="):
        return False  # clock= and smpte= name instants of the camera's time
    start = value[4:].partition("-")[0]
    if start in ("", "now"):
        return True
    try:
        return float(start) == 0.0
    except ValueError:
        return False
