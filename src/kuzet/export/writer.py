"""One camera's range into the package: its segment files joined by stream copy.

Each source file is read once, front to back, a cache-sized piece at a time: each piece
goes into the file's SHA-256 (checked against the catalog, so a file changed on disk
stops the export instead of being signed) and, where the package takes it, straight on
into the package file, its digest, the ZIP's CRC and the package's digest, before the
next piece is fetched (kuzet.export.hashing). Fragments are joined into one fragmented
MP4 per continuous stretch; a recording gap or a change of codec parameters (a different
init segment) starts the next file. Decode times are moved onto one timeline whose zero
is the first source segment's start, so media time t in a file is UTC
`media_origin + t`; the pictures' bytes are copied untouched (kuzet.mp4.reader). A file
that starts at an H.265 CRA keyframe inside a segment leaves out the leading pictures no
decoder shows from there (kuzet.mp4.leading).
"""

from __future__ import annotations

import hashlib
import json
import mmap
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kuzet.catalog.models import Segment
from kuzet.catalog.segments import deleted_spans
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.console.plan_rows import on_disk
from kuzet.console.playback_plan import plan
from kuzet.export.plan import (
    ExportError,
    Span,
    Uncovered,
    joins,
    keep_fragments,
    refuse_deleted,
    sources,
    uncovered,
)
from kuzet.mp4.boxes import FragmentError
from kuzet.mp4.leading import without_leading
from kuzet.mp4.reader import DeclaredTrack, FragmentFacts, SampleEntry, SegmentReader, moved
from kuzet.storage.footage import Footage
from kuzet.timefmt import NS, file_stamp, format_instant


@dataclass
class SourceUse:
    """A source segment and what the package took from it."""

    start_ns: int
    end_ns: int
    frames: int
    frames_exported: int
    sha256: str
    prev_link: str | None
    link: str


@dataclass
class Part:
    file: str
    media_origin_ns: int
    start_ns: int
    end_ns: int = 0
    frames: int = 0
    size: int = 0
    sha256: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    sources: list[SourceUse] = field(default_factory=list)


@dataclass
class CameraExport:
    camera: str
    start_ns: int
    end_ns: int
    parts: list[Part]
    uncovered: list[Uncovered]


@dataclass
class _Source:
    init: bytes
    tracks: list[DeclaredTrack]
    video: DeclaredTrack
    entry: SampleEntry
    fragments: list[FragmentFacts]


def _parse(data: mmap.mmap | bytes, what: str) -> _Source:
    try:
        reader = SegmentReader(data)
        return _Source(reader.init, reader.tracks, reader.video,
                       reader.sample_entry(reader.video), reader.facts())
    except FragmentError as exc:
        raise ExportError("{what} is not a segment file Kuzet can read: {exc}",
                          what=what, exc=exc) from exc


# A piece stays in the core's cache (1 MiB of L2 on the bench machine) through the four
# passes over it (SHA-256 of the source, CRC-32, SHA-256 of the file and of the package)
# and the write. Measured on one core, 10 minutes at 4 Mbit/s (mdats of ~500 KB):
# 64 KiB pieces 0.80 s CPU, 256 KiB to 1 MiB 0.72-0.77 s, whole mdats 0.70-0.74 s; so
# pieces only split a large GOP, as a high-bitrate camera's, that would not stay there.
PIECE = 512 * 1024


class _PartWriter:
    def __init__(self, zf: zipfile.ZipFile, part: Part, init: bytes, created_ns: int) -> None:
        stamp = datetime.fromtimestamp(created_ns / NS, UTC).timetuple()[:6]
        info = zipfile.ZipInfo(part.file, date_time=stamp)
        self.member = zf.open(info, "w", force_zip64=True)
        self.sha = hashlib.sha256()
        self.part = part
        self.init = init
        self.sequence = 0
        self.write(init)

    def write(self, data: bytes | memoryview) -> None:
        self.member.write(data)
        self.sha.update(data)
        self.part.size += len(data)

    def close(self) -> Part:
        self.member.close()
        self.part.sha256 = self.sha.hexdigest()
        return self.part


Lead = Callable[[bytes], tuple[bytes, int]]  # a fragment -> it rewritten, pictures gone


def _copy(view: memoryview, fragments: list[FragmentFacts], keep: list[int],
          writer: _PartWriter, shift: dict[int, int], lead: Lead | None) -> tuple[bytes, int]:
    """Copy the `keep` fragments of the source file `view` into `writer`, the first through
    `lead` where a file starts with it; the SHA-256 of the whole file, taken on the same
    pass (the bytes the package leaves out included), and how many pictures `lead` took."""
    source = hashlib.sha256()
    at = 0
    dropped = 0
    for k in keep:
        frag = fragments[k]
        mdat = frag.offset + frag.moof_size
        source.update(view[at:mdat])  # what lies before, and the moof itself
        writer.sequence += 1
        at = frag.end
        if lead is not None:
            short, dropped = lead(bytes(view[frag.offset:frag.end]))
            lead = None
            if dropped:
                source.update(view[mdat:frag.end])
                moof_size = struct.unpack_from(">I", short)[0]
                writer.write(moved(short[:moof_size], writer.sequence, shift))
                writer.write(short[moof_size:])
                continue
        writer.write(moved(view[frag.offset:mdat], writer.sequence, shift))
        for a in range(mdat, frag.end, PIECE):
            piece = view[a:min(a + PIECE, frag.end)]
            source.update(piece)
            writer.write(piece)
    source.update(view[at:])
    return source.digest(), dropped


def _leading(src: _Source) -> Lead:
    """What a file's first fragment goes through: its keyframe's leading pictures out."""
    tracks = {t.track_id: t for t in src.tracks}
    return lambda data: without_leading(data, tracks, src.video, src.entry)


def _deleted(catalog: Catalog, camera_id: int, a: int, b: int) -> list[Span]:
    with catalog.session() as s:
        return [Span(x, y) for x, y in deleted_spans(s, camera_id, Stream.MAIN, a, b)]


def _read(catalog: Catalog, camera: str, seg: Segment,
          footage: Footage | None) -> mmap.mmap | bytes:
    """The file mapped, not read: hashing and copying take the page cache's bytes with no
    copy in between. Mapped in one go (MAP_POPULATE): faulting its pages in one by one
    while copying cost more than reading the file. One on another recording node's disk
    (issue 25) comes from that node, whole."""
    where = f"{camera}: the file of the segment starting {format_instant(seg.start_ns)}"
    try:
        if footage is not None and catalog.elsewhere(seg.volume_id) is not None:
            data: mmap.mmap | bytes = footage.read(seg)
            if len(data) != seg.size_bytes:
                raise ValueError(f"{len(data)} bytes came")
            return data
        with catalog.path_of(seg).open("rb") as f:
            data = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ,
                             flags=mmap.MAP_SHARED | mmap.MAP_POPULATE)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ExportError("{where} cannot be read ({reason}); nothing was exported",
                          where=where, reason=reason) from exc
    if len(data) != seg.size_bytes:
        raise ExportError("{where} has {size} bytes, the catalog {size_bytes}: it was changed on "
                          "disk; nothing was exported",
                          where=where, size=len(data), size_bytes=seg.size_bytes)
    return data


def _check(camera: str, seg: Segment, digest: bytes) -> None:
    if digest != seg.sha256:
        raise ExportError(
            "{camera}: the segment starting {start} no longer matches its SHA-256 in the "
            "catalog (modified on disk); nothing was exported",
            camera=camera, start=format_instant(seg.start_ns))


def export_camera(catalog: Catalog, zf: zipfile.ZipFile, folder: str, camera: str, a: int,
                  b: int, created_ns: int, footage: Footage | None = None) -> CameraExport:
    """Write `camera`'s footage in [a, b) into `zf` under `folder/camera/`. Each source
    file is checked against the catalog as soon as it has been copied; a mismatch stops
    the export, and the caller drops the package."""
    cam = catalog.camera(camera)
    refuse_deleted(camera, a, b, _deleted(catalog, cam.id, a, b))
    segments = sources(camera, plan(on_disk(catalog, catalog.segments(cam.id, a, b), footage), a, b,
                                    [(a, b)]))
    parts: list[Part] = []
    writer: _PartWriter | None = None
    last_end = 0
    try:
        for seg in segments:
            # Unmapped once nothing refers to it (the next file's turn, or the return), not
            # by a `with`: closing a map that a slice in a traceback still holds raises a
            # BufferError over the error that stopped the copy (a full disk, say).
            data = _read(catalog, camera, seg, footage)
            view = memoryview(data)
            src = _parse(data, f"{camera}: the segment starting "
                               f"{format_instant(seg.start_ns)}")
            ts = src.video.timescale
            starts = [seg.start_ns + f.decode_times[src.video.track_id] * NS // ts
                      for f in src.fragments]
            keep = keep_fragments(starts, seg.end_ns, a, b)
            if not keep:  # none of it goes in; it is checked all the same
                _check(camera, seg, hashlib.sha256(view).digest())
                continue
            first = starts[keep[0]]
            lead: Lead | None = None
            if writer is None or writer.init != src.init or not joins(last_end, first):
                if writer is not None:
                    parts.append(writer.close())
                part = Part(f"{folder}/{camera}/{camera}_{file_stamp(first)}.mp4",
                            seg.start_ns, first,
                            params=json.loads(catalog.params_json(seg.params_id)))
                part.params.pop("extradata", None)
                writer = _PartWriter(zf, part, src.init, created_ns)
                lead = _leading(src)
            origin = writer.part.media_origin_ns
            shift = {t.track_id: (seg.start_ns - origin) * t.timescale // NS
                     for t in src.tracks}
            digest, dropped = _copy(view, src.fragments, keep, writer, shift, lead)
            _check(camera, seg, digest)
            frames = sum(src.fragments[k].samples.get(src.video.track_id, 0)
                         for k in keep) - dropped
            last_end = starts[keep[-1] + 1] if keep[-1] + 1 < len(starts) else seg.end_ns
            writer.part.end_ns = last_end
            writer.part.frames += frames
            writer.part.sources.append(SourceUse(
                seg.start_ns, seg.end_ns, seg.frames, frames, seg.sha256.hex(),
                seg.prev_link.hex() if seg.prev_link is not None else None,
                catalog.link(seg).hex()))
        if writer is not None:
            parts.append(writer.close())
            writer = None
    finally:
        if writer is not None:  # refused midway: end the member so the ZIP can be dropped
            writer.close()
    if not parts:
        raise ExportError("{camera}: nothing recorded from {a} to {b} (no whole GOP inside the "
                          "range)", camera=camera, a=format_instant(a), b=format_instant(b))
    gaps = catalog.gaps(cam.id, a, b)
    holes = uncovered(a, b, [Span(p.start_ns, p.end_ns) for p in parts],
                      [Span(g.start_ns, g.end_ns or b) for g in gaps], [g.cause for g in gaps])
    return CameraExport(camera, a, b, parts, holes)
