"""RTP packetization of H.264 access units (RFC 6184, packetization-mode 1).

Payloads are cut once, when a clip is loaded, so that serving many cameras only costs a
12-byte header per packet: the simulator must stay cheap enough to feed 64 cameras to
the recorder on the same two cores that measure it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kuzet.nal import split_annexb

RTP_VERSION_BYTE = 0x80
FU_A = 28
DEFAULT_MTU_PAYLOAD = 1400


@dataclass(frozen=True, slots=True)
class FramePayloads:
    """One access unit cut into RTP payloads; the marker bit goes on the last one.
    `shown`: its presentation index within its GOP, which is its position there unless
    the clip has B-frames."""

    payloads: tuple[bytes, ...]
    is_keyframe: bool
    shown: int = 0


def packetize_h264(access_unit: bytes, max_payload: int = DEFAULT_MTU_PAYLOAD) -> tuple[bytes, ...]:
    """Cut an Annex B access unit into single-NAL and FU-A payloads."""
    out: list[bytes] = []
    for unit in split_annexb(access_unit):
        if len(unit) <= max_payload:
            out.append(unit)
            continue
        header = unit[0]
        indicator = (header & 0xE0) | FU_A
        kind = header & 0x1F
        body = unit[1:]
        step = max_payload - 2
        for offset in range(0, len(body), step):
            start = 0x80 if offset == 0 else 0
            end = 0x40 if offset + step >= len(body) else 0
            out.append(bytes((indicator, start | end | kind)) + body[offset : offset + step])
    return tuple(out)


HEVC_FU = 49


def packetize_h265(access_unit: bytes, max_payload: int = DEFAULT_MTU_PAYLOAD) -> tuple[bytes, ...]:
    """Cut an Annex B H.265 access unit into single-NAL and fragmentation-unit payloads
    (RFC 7798 4.4.3): a two-byte payload header of type 49 with the unit's layer and
    temporal ids, a FU header with its type, and the unit's body after its own header."""
    out: list[bytes] = []
    for unit in split_annexb(access_unit):
        if len(unit) <= max_payload:
            out.append(unit)
            continue
        indicator = bytes(((unit[0] & 0x81) | (HEVC_FU << 1), unit[1]))
        kind = (unit[0] >> 1) & 0x3F
        body = unit[2:]
        step = max_payload - 3
        for offset in range(0, len(body), step):
            start = 0x80 if offset == 0 else 0
            end = 0x40 if offset + step >= len(body) else 0
            out.append(indicator + bytes((start | end | kind,)) + body[offset : offset + step])
    return tuple(out)


def aac_hbr_payload(access_unit: bytes) -> bytes:
    """One AAC access unit as an RFC 3640 AAC-hbr payload: the AU-headers-length (16 bits)
    and one AU header, a 13-bit size and a 3-bit index of 0."""
    return struct.pack("!HH", 16, len(access_unit) << 3) + access_unit


def interleaved(channel: int, packets: list[bytes]) -> bytes:
    """RTP or RTCP packets framed for an RTSP connection (RFC 2326 10.12): `$`, the
    channel, the length, the packet, each."""
    return b"".join(b"$" + bytes((channel,)) + len(p).to_bytes(2, "big") + p for p in packets)


def rtp_header(payload_type: int, marker: bool, seq: int, timestamp: int, ssrc: int) -> bytes:
    return struct.pack(
        "!BBHII",
        RTP_VERSION_BYTE,
        (0x80 if marker else 0) | payload_type,
        seq & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc,
    )


def rtcp_sender_report(ssrc: int, ntp_ns: int, rtp_ts: int, packets: int, octets: int) -> bytes:
    """An RTCP SR, so that peers can map RTP time to wall time (RFC 3550 6.4.1)."""
    ntp_s = ntp_ns // 1_000_000_000 + 2_208_988_800
    ntp_frac = ((ntp_ns % 1_000_000_000) << 32) // 1_000_000_000
    return struct.pack(
        "!BBHIIIIII",
        0x80,
        200,
        6,
        ssrc,
        ntp_s & 0xFFFFFFFF,
        ntp_frac & 0xFFFFFFFF,
        rtp_ts & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    )
