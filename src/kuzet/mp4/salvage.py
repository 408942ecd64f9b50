"""Rescuing a segment file cut short: keep its init segment and every complete fragment.

Used at start-up for `.part` files a crash left behind and at run time when a disk
fills mid-segment. The facts a catalog row needs are read back from the rescued file's
boxes by the one MP4 reader (kuzet.mp4.reader): frames, decode times, durations and
keyframes from each fragment's `trun`; codec, picture size and parameter sets from the
video track's sample entry; the audio codec from the sound track's. FFmpeg's demuxer
(through PyAV) read them before, a second reader that could disagree with the one that
playback and export trust. Salvaging a 60-s 1080p segment (4 Mbit/s, 30 MB, in the page
cache) took 50-59 ms with PyAV's demuxer and takes 33-37 ms this way, of which hashing
the file is about 25 ms and the sample tables about 1 ms. The segment's start is the
arrival stamp in the part file's name, the best wall-clock fact that survives a crash.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from kuzet.mp4.boxes import complete_prefix, walk
from kuzet.mp4.reader import SegmentReader
from kuzet.mp4.writer import (
    READ_ONLY,
    ClosedSegment,
    VideoParams,
    file_sha256,
    ticks_to_ns,
)
from kuzet.nal import to_annexb


class NothingToSalvage(Exception):
    """The file holds no complete fragment."""


def salvage_file(path: Path) -> ClosedSegment:
    """Truncate `path` to its complete fragments and describe what is left.

    The file is read, not mapped, for the reason kuzet.mp4.boxes.file_boxes gives; a
    file the reader cannot make sense of is a FragmentError."""
    os.chmod(path, 0o600)
    data = path.read_bytes()
    size = len(data)
    boxes = list(walk(data))
    keep = complete_prefix(boxes, size)
    if not any(b.type == "moof" and b.end <= keep for b in boxes):
        raise NothingToSalvage(f"{path} holds no complete fragment")
    if keep < size:
        with path.open("r+b") as f:
            f.truncate(keep)
            os.fsync(f.fileno())
    reader = SegmentReader(memoryview(data)[:keep])
    video = reader.video
    entry = reader.sample_entry(video)
    audio = next((t for t in reader.tracks if t.handler == "soun"), None)
    audio_codec = reader.sample_entry(audio).codec if audio is not None else None
    samples = reader.samples(video)
    tb = Fraction(1, video.timescale)
    times = [ticks_to_ns(t, tb) for t in samples.decode_times]
    first = times[0] if times else 0
    last = times[-1] if times else 0
    last_dur = ticks_to_ns(samples.durations[-1], tb) if times else 0
    keyframe_ns = [t - first for t, key in zip(times, samples.sync, strict=True) if key]
    sha256, size_bytes = file_sha256(path)
    os.chmod(path, READ_ONLY)
    # VideoParams holds parameter sets in Annex B, as the writer is given them; the file
    # holds them in an avcC/hvcC record. PyAV's extradata, read here before, was the record
    # as it lies, so a salvaged segment's stream parameters never equalled its neighbours'.
    extradata = to_annexb(entry.parameter_sets())
    return ClosedSegment(
        size_bytes=size_bytes, sha256=sha256, frames=len(times),
        media_duration_ns=last - first + last_dur,
        keyframes_ns=keyframe_ns,
        params=VideoParams(entry.codec, extradata, entry.width, entry.height),
        audio_codec=audio_codec)
