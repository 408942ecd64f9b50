"""One camera's range into the package: its segment files joined by stream copy.

Each source file is read once: its SHA-256 is checked against the catalog (on another
core) while its fragments are copied, so a file changed on disk stops the export instead
of being signed. Fragments are joined into one fragmented MP4 per continuous stretch;
a recording gap or a change of codec parameters (a different init segment) starts the
next file. Decode times are moved onto one timeline whose zero is the first source
segment's start, so media time t in a file is UTC `media_origin + t`; the pictures'
bytes are copied untouched (kuzet.mp4.reader).
"""

from __future__ import annotations

import hashlib
import json
import mmap
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kuzet.catalog.models import Segment
from kuzet.catalog.segments import deleted_spans
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.console.plan_rows import on_disk
from kuzet.console.playback_plan import plan
from kuzet.export.hashing import BackgroundHash
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
from kuzet.mp4.reader import DeclaredTrack, FragmentFacts, SegmentReader, moved
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
    fragments: list[FragmentFacts]


def _parse(data: mmap.mmap, what: str) -> _Source:
    try:
        reader = SegmentReader(data)
        return _Source(reader.init, reader.tracks, reader.video, reader.facts())
    except FragmentError as exc:
        raise ExportError(f"{what} is not a segment file Kuzet can read: {exc}") from exc


class _PartWriter:
    def __init__(self, zf: zipfile.ZipFile, part: Part, init: bytes, created_ns: int) -> None:
        stamp = datetime.fromtimestamp(created_ns / NS, UTC).timetuple()[:6]
        info = zipfile.ZipInfo(part.file, date_time=stamp)
        self.member = zf.open(info, "w", force_zip64=True)
        self.hash = BackgroundHash()
        self.part = part
        self.init = init
        self.sequence = 0
        self._write(init)

    def _write(self, data: bytes | memoryview) -> None:
        self.member.write(data)
        self.hash.update(data)

    def add(self, data: memoryview, frag: FragmentFacts, shift: dict[int, int]) -> None:
        self.sequence += 1
        self._write(moved(data[frag.offset:frag.offset + frag.moof_size], self.sequence, shift))
        self._write(data[frag.offset + frag.moof_size:frag.end])

    def close(self) -> Part:
        self.member.close()
        self.part.size = self.hash.size
        self.part.sha256 = self.hash.hexdigest()
        return self.part


def _deleted(catalog: Catalog, camera_id: int, a: int, b: int) -> list[Span]:
    with catalog.session() as s:
        return [Span(x, y) for x, y in deleted_spans(s, camera_id, Stream.MAIN, a, b)]


def _read(catalog: Catalog, camera: str, seg: Segment) -> mmap.mmap:
    """The file mapped, not read: hashing and copying take the page cache's bytes with no
    copy in between. Mapped in one go (MAP_POPULATE): faulting its pages in one by one
    while copying cost more than reading the file."""
    where = f"{camera}: the file of the segment starting {format_instant(seg.start_ns)}"
    try:
        with catalog.path_of(seg).open("rb") as f:
            data = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ,
                             flags=mmap.MAP_SHARED | mmap.MAP_POPULATE)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ExportError(f"{where} cannot be read ({reason}); nothing was exported") from exc
    if len(data) != seg.size_bytes:
        raise ExportError(f"{where} has {len(data)} bytes, the catalog {seg.size_bytes}: it "
                          "was changed on disk; nothing was exported")
    return data


def _settle(camera: str, seg: Segment, checked: Future[bytes]) -> None:
    if checked.result() != seg.sha256:
        raise ExportError(
            f"{camera}: the segment starting {format_instant(seg.start_ns)} no longer "
            "matches its SHA-256 in the catalog (modified on disk); nothing was exported")


def export_camera(catalog: Catalog, zf: zipfile.ZipFile, folder: str, camera: str, a: int,
                  b: int, created_ns: int, package_hash: BackgroundHash) -> CameraExport:
    """Write `camera`'s footage in [a, b) into `zf` under `folder/camera/`.

    A source file's digests are awaited only after the next file is copied, so hashing
    one overlaps copying the other; `package_hash` is the ZIP's own, awaited likewise."""
    cam = catalog.camera(camera)
    refuse_deleted(camera, a, b, _deleted(catalog, cam.id, a, b))
    segments = sources(camera, plan(on_disk(catalog, catalog.segments(cam.id, a, b)), a, b,
                                    [(a, b)]))
    parts: list[Part] = []
    writer: _PartWriter | None = None
    last_end = 0
    checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="source-sha256")
    behind: list[Any] = []  # the previous file: its segment, check and hash marks
    try:
        for seg in segments:
            data = _read(catalog, camera, seg)
            checked = checker.submit(lambda d: hashlib.sha256(d).digest(), data)
            src = _parse(data, f"{camera}: the segment starting {format_instant(seg.start_ns)}")
            ts = src.video.timescale
            starts = [seg.start_ns + f.decode_times[src.video.track_id] * NS // ts
                      for f in src.fragments]
            keep = keep_fragments(starts, seg.end_ns, a, b)
            if keep:
                first = starts[keep[0]]
                if writer is None or writer.init != src.init or not joins(last_end, first):
                    if writer is not None:
                        parts.append(writer.close())
                    part = Part(f"{folder}/{camera}/{camera}_{file_stamp(first)}.mp4",
                                seg.start_ns, first,
                                params=json.loads(catalog.params_json(seg.params_id)))
                    part.params.pop("extradata", None)
                    writer = _PartWriter(zf, part, src.init, created_ns)
                origin = writer.part.media_origin_ns
                shift = {t.track_id: (seg.start_ns - origin) * t.timescale // NS
                         for t in src.tracks}
                view = memoryview(data)
                frames = 0
                for k in keep:
                    writer.add(view, src.fragments[k], shift)
                    frames += src.fragments[k].samples.get(src.video.track_id, 0)
                last_end = starts[keep[-1] + 1] if keep[-1] + 1 < len(starts) else seg.end_ns
                writer.part.end_ns = last_end
                writer.part.frames += frames
                writer.part.sources.append(SourceUse(
                    seg.start_ns, seg.end_ns, seg.frames, frames, seg.sha256.hex(),
                    seg.prev_link.hex() if seg.prev_link is not None else None,
                    catalog.link(seg).hex()))
            if behind:
                _settle(camera, behind[0], behind[1])
                for h, mark in behind[2]:
                    h.wait(mark)
            behind = [seg, checked, [(package_hash, package_hash.mark)] + (
                [(writer.hash, writer.hash.mark)] if writer is not None else [])]
        if behind:
            _settle(camera, behind[0], behind[1])
        if writer is not None:
            parts.append(writer.close())
            writer = None
    finally:
        checker.shutdown()
        if writer is not None:  # refused midway: end the member so the ZIP can be dropped
            writer.close()
    if not parts:
        raise ExportError(f"{camera}: nothing recorded from {format_instant(a)} to "
                          f"{format_instant(b)} (no whole GOP inside the range)")
    gaps = catalog.gaps(cam.id, a, b)
    holes = uncovered(a, b, [Span(p.start_ns, p.end_ns) for p in parts],
                      [Span(g.start_ns, g.end_ns or b) for g in gaps], [g.cause for g in gaps])
    return CameraExport(camera, a, b, parts, holes)
