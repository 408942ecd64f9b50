"""Live fMP4 for browsers: one fragment per frame, in memory, for Media Source Extensions.

The recording files have a fragment per GOP (a second or more); a browser fed those would
lag a GOP behind. For viewers, the same packets (copies: the segment writer rebases its
own) go through a second, in-memory MP4 muxer with a fragment per frame. It runs only
while someone watches.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import av

from kuzet.mp4.boxes import walk
from kuzet.mp4.reader import mime_codec
from kuzet.mp4.writer import VideoParams

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
        done = 0
        for box in walk(self._buf):
            if box.end > len(self._buf):
                break  # the rest of it is still to come
            out.append((box.type, bytes(self._buf[box.offset:box.end])))
            done = box.end
        del self._buf[:done]
        return out


@dataclass(frozen=True)
class LiveFragment:
    """One frame's fragment of the live stream."""

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
            keyframe: bool) -> list[LiveFragment]:
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

    def _collect(self) -> list[LiveFragment]:
        out: list[LiveFragment] = []
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
                out.append(LiveFragment(moof + box, key))
                moof = None
        return out

    def close(self) -> None:
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            self._out.close()
