"""One fragmented-MP4 segment file: stream copy of a video (and audio) stream, one fragment per GOP.

The muxer writes through a sink that hashes the bytes and finds the fragment boundaries
as they pass, so closing a segment needs no second read of the file. The file is
written unbuffered under a `.part` name: after `kill -9` every fragment the muxer has
flushed is on disk, and only the fragment in flight is lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av

from kuzet.media.boxes import BoxScanner

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
READ_ONLY = 0o444


@dataclass(frozen=True)
class VideoParams:
    """What the init segment needs: codec, parameter sets (Annex B) and picture size."""

    codec: str
    extradata: bytes
    width: int
    height: int

    def to_json(self) -> str:
        return json.dumps({"codec": self.codec, "extradata": self.extradata.hex(),
                           "width": self.width, "height": self.height}, sort_keys=True)


@dataclass
class ClosedSegment:
    path: Path
    size_bytes: int
    sha256: str
    frames: int
    media_duration_ns: int
    keyframes: list[tuple[int, int]]  # (ns from segment start, byte offset of the fragment)
    params: VideoParams
    audio_codec: str | None


class _HashingSink:
    """Write-only file object handed to the muxer."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.sha = hashlib.sha256()
        self.scanner = BoxScanner()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.f.write(data)
        self.sha.update(data)
        self.scanner.feed(bytes(data))
        self.size += len(data)
        return len(data)


def ns_to_ticks(ns: int, time_base: Fraction) -> int:
    return ns * time_base.denominator // (time_base.numerator * 1_000_000_000)


def ticks_to_ns(ticks: int, time_base: Fraction) -> int:
    return ticks * time_base.numerator * 1_000_000_000 // time_base.denominator


@dataclass
class SegmentFile:
    """An open segment. Feed it packets whose timestamps are in their stream's time base."""

    part_path: Path
    video_in: Any
    audio_in: Any | None
    params: VideoParams
    _sink: _HashingSink = field(init=False)
    _out: Any = field(init=False)
    _v: Any = field(init=False)
    _a: Any = field(init=False, default=None)
    _base_ns: int | None = field(init=False, default=None)
    _first_dts_ns: int = field(init=False, default=0)
    _last_dts_ns: int = field(init=False, default=0)
    _last_duration_ns: int = field(init=False, default=0)
    _keyframe_ns: list[int] = field(init=False, default_factory=list)
    frames: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.part_path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.part_path, "xb", buffering=0)  # noqa: SIM115 - closed in close()/abort()
        self._sink = _HashingSink(f)
        try:
            self._out = av.open(self._sink, "w", format="mp4", options={"movflags": MOVFLAGS})
            self._v = self._out.add_stream_from_template(self.video_in)
            self._v.codec_context.extradata = self.params.extradata or None
            self._v.codec_context.width = self.params.width
            self._v.codec_context.height = self.params.height
            if self.audio_in is not None:
                self._a = self._out.add_stream_from_template(self.audio_in)
        except Exception:
            f.close()
            self.part_path.unlink(missing_ok=True)
            raise

    @property
    def media_duration_ns(self) -> int:
        return self._last_dts_ns - self._first_dts_ns + self._last_duration_ns

    def add_video(self, packet: Any, dts_ns: int, duration_ns: int) -> None:
        tb = packet.time_base
        if self._base_ns is None:
            self._base_ns = dts_ns
            self._first_dts_ns = dts_ns
        base = ns_to_ticks(self._base_ns, tb)
        pts = packet.pts if packet.pts is not None else packet.dts
        packet.dts -= base
        packet.pts = pts - base
        if not packet.duration:
            packet.duration = ns_to_ticks(duration_ns, tb)
        if packet.is_keyframe:
            self._keyframe_ns.append(dts_ns - self._first_dts_ns)
        packet.stream = self._v
        self._out.mux(packet)
        self._last_dts_ns = dts_ns
        self._last_duration_ns = duration_ns
        self.frames += 1

    def add_audio(self, packet: Any) -> None:
        if self._a is None or self._base_ns is None or packet.dts is None:
            return
        tb = packet.time_base
        base = ns_to_ticks(self._base_ns, tb)
        if packet.dts < base:
            return  # audio from before the segment's first keyframe
        pts = packet.pts if packet.pts is not None else packet.dts
        packet.dts -= base
        packet.pts = pts - base
        packet.stream = self._a
        self._out.mux(packet)

    def close(self, final_path: Path) -> ClosedSegment:
        """Finish the file, make it read-only and give it its final name."""
        self._out.close()
        self._sink.f.flush()
        os.fsync(self._sink.f.fileno())
        self._sink.f.close()
        moofs = [b.offset for b in self._sink.scanner.boxes if b.type == "moof"]
        keyframes = list(zip(self._keyframe_ns, moofs, strict=False))
        os.chmod(self.part_path, READ_ONLY)
        final_path.parent.mkdir(parents=True, exist_ok=True)
        return ClosedSegment(
            path=final_path,
            size_bytes=self._sink.size,
            sha256=self._sink.sha.hexdigest(),
            frames=self.frames,
            media_duration_ns=self.media_duration_ns,
            keyframes=keyframes,
            params=self.params,
            audio_codec=self.audio_in.codec_context.name if self.audio_in is not None else None,
        )

    def abort(self) -> None:
        """Give up on the file (the disk is full, say); its whole fragments stay for salvage."""
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            self._out.close()
        with contextlib.suppress(OSError):
            self._sink.f.close()


def probe_dimensions(codec: str, extradata: bytes, keyframe: bytes) -> tuple[int, int]:
    """Decode one keyframe to learn the picture size its parameter sets describe."""
    ctx: Any = av.CodecContext.create(codec, "r")
    if extradata:
        ctx.extradata = extradata
    frames = list(ctx.decode(av.Packet(keyframe)))
    frames += list(ctx.decode(None))
    if not frames:
        raise ValueError("keyframe did not decode")
    return frames[0].width, frames[0].height
