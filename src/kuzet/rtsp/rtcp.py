"""RTCP (RFC 3550 section 6) as pure functions: the sender reports a camera sends, and the
receiver reports Kuzet sends back.

A sender report ties the camera's RTP clock to its wall clock (NTP time): kept per medium
on the source, it is what measuring a camera's clock drift needs. A receiver report tells
the camera what arrived; cameras that follow RFC 3550 (and some that time sessions out
without one) expect it every few seconds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

SR, RR, SDES = 200, 201, 202
NTP_UNIX_OFFSET_S = 2_208_988_800  # 1900-01-01 to 1970-01-01
CNAME = 1


def packets(data: bytes | bytearray) -> Iterator[tuple[int, int, bytes]]:
    """(packet type, report count, body after the 4-byte header) of each packet of a
    compound RTCP packet; stops at the first one that is not RTCP version 2 or overruns."""
    pos = 0
    while pos + 4 <= len(data):
        first = data[pos]
        if first >> 6 != 2:
            return
        size = 4 + 4 * ((data[pos + 2] << 8) | data[pos + 3])
        if pos + size > len(data):
            return
        end = pos + size
        if first & 0x20:  # padding, its length in the last byte
            end -= data[end - 1]
        yield data[pos + 1], first & 0x1F, bytes(data[pos + 4:max(pos + 4, end)])
        pos += size


def ntp_to_unix_ns(seconds: int, fraction: int) -> int:
    """An NTP timestamp (seconds since 1900, 32-bit fraction) as UTC nanoseconds."""
    return (seconds - NTP_UNIX_OFFSET_S) * 1_000_000_000 + (fraction * 1_000_000_000 >> 32)


def sender_reports(data: bytes | bytearray) -> list[tuple[int, int, int]]:
    """Each sender report in a compound packet: (sender's SSRC, its NTP time as UTC ns,
    the RTP timestamp of that same instant)."""
    out = []
    for kind, _, body in packets(data):
        if kind == SR and len(body) >= 20:
            ssrc, seconds, fraction, rtp = struct.unpack_from("!IIII", body)
            out.append((ssrc, ntp_to_unix_ns(seconds, fraction), rtp))
    return out


def middle_ntp(utc_ns: int) -> int:
    """The middle 32 bits of the NTP time of `utc_ns`: how a receiver report names the
    last sender report (LSR)."""
    seconds = utc_ns // 1_000_000_000 + NTP_UNIX_OFFSET_S
    fraction = ((utc_ns % 1_000_000_000) << 32) // 1_000_000_000
    return ((seconds & 0xFFFF) << 16) | (fraction >> 16)


def receiver_report(own_ssrc: int, source_ssrc: int, *, fraction_lost: int,
                    cumulative_lost: int, highest_seq: int, jitter: int = 0,
                    last_sr: int = 0, since_sr_s: float = 0.0, cname: str = "kuzet") -> bytes:
    """A compound RTCP packet: one receiver report block about `source_ssrc` (RFC 3550
    6.4.2; `fraction_lost` in 1/256, `highest_seq` extended to 32 bits, `last_sr` the
    middle NTP bits of the last sender report, none when 0) and the SDES CNAME every
    compound packet must carry (6.5.1)."""
    lost = max(-0x800000, min(0x7FFFFF, cumulative_lost)) & 0xFFFFFF
    delay = int(since_sr_s * 65536) if last_sr else 0
    rr = struct.pack("!BBHII5I", 0x81, RR, 7, own_ssrc, source_ssrc,
                     (min(255, max(0, fraction_lost)) << 24) | lost,
                     highest_seq & 0xFFFFFFFF, jitter & 0xFFFFFFFF, last_sr & 0xFFFFFFFF,
                     delay & 0xFFFFFFFF)
    name = cname.encode()[:255]
    item = bytes((CNAME, len(name))) + name + b"\x00"  # the list's end
    item += b"\x00" * (-len(item) % 4)
    sdes = struct.pack("!BBHI", 0x81, SDES, 1 + len(item) // 4, own_ssrc) + item
    return rr + sdes
