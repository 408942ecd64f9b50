"""This server's clock against the campus's time servers (UE-10-22 3.4.1: the complex is
synchronised with one real-time system; issue 22).

Every footage instant, audit entry and document time is this server's clock, so Kuzet
asks the configured NTP servers (setting `ntp_servers`) every `time_poll_s` what time it
is, with NTP's own client exchange (RFC 5905 §8: offset = ((t2 - t1) + (t3 - t4)) / 2,
the round trip's share taken out), whatever disciplines the clock (chrony, ntpd,
systemd-timesyncd): what matters is where the clock is, not who says it is synchronised.
Of the servers that answer, the one with the shortest round trip is believed (its
offset's error is at most half its delay). Alarms, subject this server's name (its item
in the register, setting `server_name`):

- `time_offset` (warning): more than `time_alarm_ms` (default 100) off; cleared within;
- `time_unsynchronised` (warning): the time server itself says it is not synchronised
  (leap indicator 3, or stratum 0 or 16): its time is nobody's reference;
- `time_unreachable` (warning): no configured server answers.

`offset_of` and `decide` are pure; `query` is the only I/O.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass

from kuzet.access.lan import Network, outside, parse_address
from kuzet.catalog.alarms import Severity
from kuzet.endpoints import host_port

NTP_PORT = 123
TIMEOUT_S = 2.0
NTP_EPOCH_S = 2_208_988_800  # 1900-01-01 to 1970-01-01
OFFSET, UNSYNCHRONISED, UNREACHABLE = "time_offset", "time_unsynchronised", "time_unreachable"
KINDS = (OFFSET, UNSYNCHRONISED, UNREACHABLE)
SEVERITY = {k: Severity.WARNING for k in KINDS}


class TimeError(Exception):
    """A time server did not answer, or answered nonsense."""


@dataclass(frozen=True)
class Reading:
    server: str
    offset_ns: int  # + : the time server is ahead of this server's clock
    delay_ns: int  # the round trip, less the server's own time
    stratum: int
    leap: int  # 3: the server's clock is not synchronised


def _stamp(ns: int) -> bytes:
    seconds, rest = divmod(ns, 1_000_000_000)
    return struct.pack("!II", (seconds + NTP_EPOCH_S) & 0xFFFFFFFF, (rest << 32) // 10**9)


def _ns(raw: bytes) -> int:
    seconds, fraction = struct.unpack("!II", raw)
    seconds, fraction = int(seconds), int(fraction)
    return (seconds - NTP_EPOCH_S) * 1_000_000_000 + (fraction * 10**9 >> 32)


def request(t1_ns: int) -> bytes:
    """A client's packet (version 4, mode 3) carrying its send time as transmit stamp."""
    return bytes([0x23]) + bytes(39) + _stamp(t1_ns)


def offset_of(server: str, answer: bytes, t1_ns: int, t4_ns: int) -> Reading:
    """The server's answer to `request(t1_ns)`, received at `t4_ns`."""
    if len(answer) < 48:
        raise TimeError(f"{server}: an answer of {len(answer)} bytes, not an NTP packet")
    mode = answer[0] & 0x7
    if mode != 4:
        raise TimeError(f"{server}: mode {mode}, not a server's answer")
    if answer[24:32] != _stamp(t1_ns):
        raise TimeError(f"{server}: the answer is not to this request")
    t2, t3 = _ns(answer[32:40]), _ns(answer[40:48])
    offset = ((t2 - t1_ns) + (t3 - t4_ns)) // 2
    delay = (t4_ns - t1_ns) - (t3 - t2)
    return Reading(server, offset, max(delay, 0), answer[1], answer[0] >> 6)


def query(server: str, timeout_s: float = TIMEOUT_S, lan: list[Network] | None = None
          ) -> Reading:
    """One exchange with `server` (host or host:port; [v6]:port); with `lan`, only to an
    address on it (UE-10-22 3.5.3), checked as resolved just now."""
    host, port = host_port(server, NTP_PORT)
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        if lan is not None:
            found = parse_address(str(family[4][0]))
            if found is None or outside([found], lan):
                raise TimeError(f"refused: {server} is outside the LAN (allowed_networks) "
                                "(UE-10-22 3.5.3)")
        with socket.socket(family[0], socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(family[4])  # a datagram from anyone else is not the answer
            t1 = time.time_ns()
            sock.send(request(t1))
            answer = sock.recv(1024)
            t4 = time.time_ns()
    except OSError as exc:
        raise TimeError(f"{server}: {exc.strerror or exc}") from None
    return offset_of(server, answer, t1, t4)


@dataclass(frozen=True)
class Condition:
    kind: str
    message: str


def synchronised(r: Reading) -> bool:
    return r.leap != 3 and r.stratum not in (0, 16)


def best(readings: Sequence[Reading]) -> Reading | None:
    """The answer with the shortest round trip (the least error) among the servers that
    are synchronised themselves; only when none is, the nearest of the others (whose
    alarm says so)."""
    good = [r for r in readings if synchronised(r)]
    return min(good or readings, key=lambda r: r.delay_ns, default=None)


def decide(name: str, reading: Reading | None, errors: Sequence[str],
           limit_ms: int) -> list[Condition]:
    """The time alarms server `name` should have now."""
    if reading is None:
        return [Condition(UNREACHABLE, f"server {name}: no time server answers "
                                       f"({'; '.join(errors)})")]
    out = []
    if not synchronised(reading):
        out.append(Condition(UNSYNCHRONISED, f"server {name}: time server {reading.server} "
                                             "is not synchronised itself"))
    off_ms = reading.offset_ns / 1e6
    if abs(off_ms) > limit_ms:
        side = "behind" if off_ms > 0 else "ahead of"
        out.append(Condition(OFFSET, f"server {name}: its clock is {abs(off_ms):.0f} ms {side} "
                                     f"{reading.server} (more than {limit_ms} ms)"))
    return out
