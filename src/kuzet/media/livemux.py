"""Live fMP4 for browsers: one fragment per frame, in memory, for Media Source Extensions.

The recording files have a fragment per GOP (a second or more); a browser fed those would
lag a GOP behind. For viewers, the same packets (copies: the segment writer rebases its
own) go through a second, in-memory MP4 muxer with a fragment per frame. It runs only
while someone watches.
"""

from __future__ import annotations

import contextlib
import struct
from dataclasses import dataclass
from typing import Any

import av

from kuzet.media.fmp4 import VideoParams

MOVFLAGS = "frag_every_frame+empty_moov+default_base_moof"


class _Sink:
    """A write-only file for the muxer that hands back complete top-level boxes."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        return len(data)

    def boxes(self) -> list[tuple[str, bytes]]:
        out = []
        while len(self._buf) >= 8:
            size, kind = struct.unpack_from(">I4s", self._buf)
            if size < 8 or len(self._buf) < size:
                break
            out.append((kind.decode("latin-1"), bytes(self._buf[:size])))
            del self._buf[:size]
        return out


def mime_codec(init: bytes) -> str:
    """The MSE type of an init segment, from its decoder configuration: H.264's profile
    and level from `avcC`, H.265's profile, tier, level and constraints from `hvcC` (the
    codecs string of ISO/IEC 14496-15 annex E), so `MediaSource.isTypeSupported` answers
    for this very stream."""
    i = init.find(b"avcC")
    if i >= 0 and len(init) >= i + 8:
        profile, compat, level = init[i + 5], init[i + 6], init[i + 7]
        return f'video/mp4; codecs="avc1.{profile:02x}{compat:02x}{level:02x}"'
    i = init.find(b"hvcC")
    if i >= 0 and len(init) >= i + 17:
        return f'video/mp4; codecs="{hevc_codec(init, i + 4)}"'
    return 'video/mp4; codecs="avc1.640028"'


def hevc_codec(init: bytes, at: int) -> str:
    """`hvc1.1.6.L93.B0` from the hvcC record starting at `at`."""
    sample = "hev1" if b"hev1" in init[:at] else "hvc1"
    first = init[at + 1]
    space = ("", "A", "B", "C")[first >> 6]
    tier = "H" if first & 0x20 else "L"
    profile = first & 0x1F
    compat = int.from_bytes(init[at + 2:at + 6], "big")
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    constraints = list(init[at + 6:at + 12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    level = init[at + 12]
    tail = "".join(f".{b:X}" for b in constraints)
    return f"{sample}.{space}{profile}.{reversed_compat:X}.{tier}{level}{tail}"


@dataclass(frozen=True)
class Fragment:
    data: bytes  # moof + mdat
    keyframe: bool


class LiveMuxer:
    """Packets in, an init segment and per-frame fragments out. Starts at a keyframe."""

    def __init__(self, params: VideoParams, template: Any) -> None:
        self.params = params
        self._sink = _Sink()
        self._out: Any = av.open(self._sink, "w", format="mp4",
                                 options={"movflags": MOVFLAGS, "flush_packets": "1"})
        self._v = self._out.add_stream_from_template(template)
        self._v.codec_context.extradata = params.extradata or None
        self._v.codec_context.width = params.width
        self._v.codec_context.height = params.height
        self._base: int | None = None
        self._last_dts = -1
        self._pending_key: list[bool] = []
        self.init: bytes | None = None
        self.mime = ""

    def add(self, data: bytes, dts: int, pts: int | None, duration: int,
            keyframe: bool) -> list[Fragment]:
        """Mux one frame; returns the fragments completed so far (usually the previous
        frame's: the muxer closes a fragment when the next frame arrives)."""
        if self._base is None:
            if not keyframe:
                return []
            self._base = dts
        rel = dts - self._base
        if rel <= self._last_dts:
            rel = self._last_dts + 1
        packet = av.Packet(data)
        packet.dts = rel
        packet.pts = rel + max(0, (pts if pts is not None else dts) - dts)
        packet.duration = duration
        packet.is_keyframe = keyframe
        packet.stream = self._v
        self._out.mux(packet)
        self._last_dts = rel
        self._pending_key.append(keyframe)
        return self._collect()

    def _collect(self) -> list[Fragment]:
        out: list[Fragment] = []
        moof: bytes | None = None
        for kind, box in self._sink.boxes():
            if kind in ("ftyp", "moov"):
                self.init = (self.init or b"") + box
                if kind == "moov":
                    self.mime = mime_codec(self.init)
            elif kind == "moof":
                moof = box
            elif kind == "mdat" and moof is not None:
                key = self._pending_key.pop(0) if self._pending_key else False
                out.append(Fragment(moof + box, key))
                moof = None
        return out

    def close(self) -> None:
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            self._out.close()
