"""One fragmented-MP4 segment file: stream copy of a video (and audio) stream, one fragment per GOP.

FFmpeg writes the file itself, under a `.part` name, and flushes each fragment as it is
finished: after `kill -9` every finished fragment is on disk and only the fragment in
flight is lost. At close the file is read back once (from the page cache) to hash it.
Hashing as the bytes passed through a Python file object was tried and measured: the
muxer then takes the GIL for every write, which cost more CPU than reading the closed
file back. Fragment byte offsets are not collected: the file's `moof` chain gives them
to whoever needs them (kuzet.mp4.reader).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from kuzet.ingest.source import Track

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
AAC_FRAME_SAMPLES = 1024
READ_ONLY = 0o400  # the service user alone (docs/design/access.md)


@dataclass(frozen=True)
class VideoParams:
    """What the init segment needs: codec, parameter sets (Annex B) and picture size."""

    codec: str
    extradata: bytes
    width: int
    height: int

    def to_json(self, audio_codec: str | None) -> str:
        """Canonical JSON: the catalog shares one row among segments with equal parameters."""
        return json.dumps({"codec": self.codec, "extradata": self.extradata.hex(),
                           "width": self.width, "height": self.height,
                           "audio_codec": audio_codec}, sort_keys=True)


@dataclass
class ClosedSegment:
    size_bytes: int
    sha256: bytes
    frames: int
    media_duration_ns: int
    keyframes_ns: list[int]  # from the segment start; keyframe k starts fragment k
    params: VideoParams
    audio_codec: str | None


def file_sha256(path: Path) -> tuple[bytes, int]:
    """SHA-256 and size of a file.

    The file is mapped rather than read, so hashing a just-closed segment costs no copy
    out of the page cache.
    """
    sha = hashlib.sha256()
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                sha.update(mapped)
    return sha.digest(), size


def ns_to_ticks(ns: int, time_base: Fraction) -> int:
    return ns * time_base.denominator // (time_base.numerator * 1_000_000_000)


def ticks_to_ns(ticks: int, time_base: Fraction) -> int:
    return ticks * time_base.numerator * 1_000_000_000 // time_base.denominator


@dataclass
class SegmentFile:
    """An open segment. Packets come with timestamps in ticks of their stream's time base.

    The per-packet path is kept to integer arithmetic: it runs 25 times a second for
    every camera.
    """

    part_path: Path
    video_in: Track
    audio_in: Track | None
    params: VideoParams
    _out: Any = field(init=False)
    _v: Any = field(init=False)
    _a: Any = field(init=False, default=None)
    _tb: Fraction = field(init=False)
    _base_ticks: int | None = field(init=False, default=None)
    _audio_base_ticks: int = field(init=False, default=0)
    _last_ticks: int = field(init=False, default=0)
    _last_duration_ticks: int = field(init=False, default=0)
    _keyframe_ticks: list[int] = field(init=False, default_factory=list)
    frames: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.part_path.parent.mkdir(parents=True, exist_ok=True)
        self._tb = self.video_in.time_base
        if self.part_path.exists():
            raise FileExistsError(f"{self.part_path} exists")
        self._out = av.open(str(self.part_path), "w", format="mp4",
                            options={"movflags": MOVFLAGS, "flush_packets": "1"})
        try:
            self._v = self._out.add_stream_from_template(self.video_in.template)
            self._v.codec_context.extradata = self.params.extradata or None
            self._v.codec_context.width = self.params.width
            self._v.codec_context.height = self.params.height
            if self.audio_in is not None:
                self._a = self._out.add_stream_from_template(self.audio_in.template)
                if self.audio_in.extradata:
                    self._a.codec_context.extradata = self.audio_in.extradata
                if self.audio_in.sample_rate:
                    self._a.codec_context.sample_rate = self.audio_in.sample_rate
        except Exception:
            self._out.close()
            self.part_path.unlink(missing_ok=True)
            raise

    @property
    def media_duration_ns(self) -> int:
        if self._base_ticks is None:
            return 0
        ticks = self._last_ticks - self._base_ticks + self._last_duration_ticks
        return ticks_to_ns(ticks, self._tb)

    def add_video(self, packet: Any, dts: int, duration: int) -> None:
        base = self._base_ticks
        if base is None:
            base = self._base_ticks = dts
            if self.audio_in is not None:
                base_ns = ticks_to_ns(dts, self._tb)
                self._audio_base_ticks = ns_to_ticks(base_ns, self.audio_in.time_base)
        pts = packet.pts
        packet.dts = dts - base
        packet.pts = (dts if pts is None else pts) - base
        if not packet.duration:
            packet.duration = duration
        if packet.is_keyframe:
            self._keyframe_ticks.append(dts - base)
        packet.stream = self._v
        self._out.mux(packet)
        self._last_ticks = dts
        self._last_duration_ticks = duration
        self.frames += 1

    def add_audio(self, packet: Any) -> None:
        if self._a is None or self._base_ticks is None:
            return
        base = self._audio_base_ticks
        dts = packet.dts
        if dts < base:
            return  # audio from before the segment's first keyframe
        pts = packet.pts
        packet.dts = dts - base
        packet.pts = (dts if pts is None else pts) - base
        if not packet.duration and self.audio_in is not None and self.audio_in.codec == "aac":
            # An AAC-LC frame is 1024 samples. Unsaid, the muxer takes a sample's length
            # from the next one's time, and the last's from the one before: after a hole
            # in the sound (a jump, a loss) the track ran on past the picture.
            packet.duration = AAC_FRAME_SAMPLES
        packet.stream = self._a
        self._out.mux(packet)

    def close(self) -> ClosedSegment:
        """Finish the file, make it durable and read-only, and describe it."""
        self._out.close()
        fd = os.open(self.part_path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        sha256, size = file_sha256(self.part_path)
        os.chmod(self.part_path, READ_ONLY)
        return ClosedSegment(
            size_bytes=size,
            sha256=sha256,
            frames=self.frames,
            media_duration_ns=self.media_duration_ns,
            keyframes_ns=[ticks_to_ns(t, self._tb) for t in self._keyframe_ticks],
            params=self.params,
            audio_codec=self.audio_in.codec if self.audio_in is not None else None,
        )

    def abort(self) -> None:
        """Give up on the file (the disk is full, say); its whole fragments stay for salvage."""
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            self._out.close()


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
