"""Rescuing a segment file cut short: keep its init segment and every complete fragment.

Used at start-up for `.part` files a crash left behind and at run time when a disk
fills mid-segment. The facts a catalog row needs are read back from the rescued file
with PyAV; the segment's start is the arrival stamp in the part file's name, the best
wall-clock fact that survives a crash.
"""

from __future__ import annotations

import os
from pathlib import Path

import av

from kuzet.mp4.boxes import complete_prefix, file_boxes
from kuzet.mp4.writer import (
    READ_ONLY,
    ClosedSegment,
    VideoParams,
    file_sha256,
    ticks_to_ns,
)


class NothingToSalvage(Exception):
    """The file holds no complete fragment."""


def salvage_file(path: Path) -> ClosedSegment:
    """Truncate `path` to its complete fragments and describe what is left."""
    os.chmod(path, 0o600)
    size = path.stat().st_size
    boxes = file_boxes(path)
    keep = complete_prefix(boxes, size)
    if not any(b.type == "moof" and b.end <= keep for b in boxes):
        raise NothingToSalvage(f"{path} holds no complete fragment")
    if keep < size:
        with path.open("r+b") as f:
            f.truncate(keep)
            os.fsync(f.fileno())
    frames = 0
    keyframe_ns: list[int] = []
    first = last = last_dur = 0
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        codec = video.codec_context.name
        width, height = video.codec_context.width, video.codec_context.height
        extradata = bytes(video.codec_context.extradata or b"")
        audio_codec = container.streams.audio[0].codec_context.name \
            if container.streams.audio else None
        tb = video.time_base
        if tb is None:
            raise NothingToSalvage(f"{path} has no video time base")
        for packet in container.demux(video):
            if packet.dts is None:
                continue
            dts_ns = ticks_to_ns(packet.dts, tb)
            if frames == 0:
                first = dts_ns
            if packet.is_keyframe:
                keyframe_ns.append(dts_ns - first)
            last = dts_ns
            last_dur = ticks_to_ns(packet.duration or 0, tb)
            frames += 1
    sha256, size_bytes = file_sha256(path)
    os.chmod(path, READ_ONLY)
    return ClosedSegment(
        size_bytes=size_bytes, sha256=sha256, frames=frames,
        media_duration_ns=last - first + last_dur,
        keyframes_ns=keyframe_ns,
        params=VideoParams(codec, extradata, width, height), audio_codec=audio_codec)
