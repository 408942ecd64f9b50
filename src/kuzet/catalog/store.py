"""Catalog reads and writes: cameras, segments (with their hash chain) and gaps."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from kuzet.catalog.models import Camera, Gap, Segment
from kuzet.media.ingest import check_url
from kuzet.storage.layout import check_camera_name


class CatalogError(ValueError):
    """A request the catalog refuses, with a message fit for the person who made it."""


@dataclass(frozen=True)
class NewSegment:
    camera_id: int
    stream: str
    volume: str
    path: str
    start_ns: int
    end_ns: int
    frames: int
    size_bytes: int
    codec: str
    width: int
    height: int
    audio_codec: str | None
    codec_params: str
    keyframes: list[tuple[int, int]]
    sha256: str
    salvaged: bool = False


class Catalog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session = sessionmaker(engine, expire_on_commit=False)

    # -- cameras ------------------------------------------------------------------
    def add_camera(self, name: str, main_url: str, *, sub_url: str | None = None,
                   zone: str | None = None, location: str | None = None,
                   transport: str | None = None) -> Camera:
        check_camera_name(name)
        check_url(main_url)
        if sub_url:
            check_url(sub_url)
        with self.session.begin() as s:
            existing = s.scalar(select(Camera).where(Camera.name == name))
            if existing is not None:
                if existing.removed_ns is None:
                    raise CatalogError(f"a camera named {name!r} already exists")
                raise CatalogError(f"{name!r} names a removed camera whose recordings are still "
                                   "kept; choose another name")
            cam = Camera(name=name, main_url=main_url, sub_url=sub_url, zone=zone,
                         location=location, transport=transport, created_ns=time.time_ns())
            s.add(cam)
        return cam

    def remove_camera(self, name: str) -> None:
        """Stop recording a camera. Its recordings stay until retention removes them."""
        with self.session.begin() as s:
            cam = s.scalar(select(Camera).where(Camera.name == name,
                                                Camera.removed_ns.is_(None)))
            if cam is None:
                raise CatalogError(f"no camera named {name!r}")
            cam.removed_ns = time.time_ns()

    def cameras(self, *, include_removed: bool = False) -> list[Camera]:
        with self.session() as s:
            q = select(Camera).order_by(Camera.name)
            if not include_removed:
                q = q.where(Camera.removed_ns.is_(None))
            return list(s.scalars(q))

    def camera(self, name: str) -> Camera:
        with self.session() as s:
            cam = s.scalar(select(Camera).where(Camera.name == name))
            if cam is None:
                raise CatalogError(f"no camera named {name!r}")
            return cam

    # -- segments -----------------------------------------------------------------
    def add_segment(self, seg: NewSegment) -> Segment:
        """Insert a segment, chaining it to the camera's previous segment by hash."""
        with self.session.begin() as s:
            prev = s.scalar(select(Segment.sha256).where(
                Segment.camera_id == seg.camera_id, Segment.stream == seg.stream,
                Segment.start_ns < seg.start_ns).order_by(Segment.start_ns.desc()).limit(1))
            row = Segment(
                camera_id=seg.camera_id, stream=seg.stream, volume=seg.volume, path=seg.path,
                start_ns=seg.start_ns, end_ns=seg.end_ns, frames=seg.frames,
                bytes=seg.size_bytes, codec=seg.codec, width=seg.width, height=seg.height,
                audio_codec=seg.audio_codec, codec_params=seg.codec_params,
                keyframes=json.dumps(seg.keyframes), sha256=seg.sha256, prev_sha256=prev,
                salvaged=seg.salvaged)
            s.add(row)
        return row

    def segments(self, camera_id: int, start_ns: int | None = None, end_ns: int | None = None,
                 stream: str = "main") -> list[Segment]:
        with self.session() as s:
            q = select(Segment).where(Segment.camera_id == camera_id, Segment.stream == stream)
            if start_ns is not None:
                q = q.where(Segment.end_ns > start_ns)
            if end_ns is not None:
                q = q.where(Segment.start_ns < end_ns)
            return list(s.scalars(q.order_by(Segment.start_ns)))

    def last_segment(self, camera_id: int, stream: str = "main") -> Segment | None:
        with self.session() as s:
            return s.scalar(select(Segment).where(
                Segment.camera_id == camera_id, Segment.stream == stream,
            ).order_by(Segment.start_ns.desc()).limit(1))

    def known_paths(self, volume: str) -> set[str]:
        with self.session() as s:
            return set(s.scalars(select(Segment.path).where(Segment.volume == volume)))

    # -- gaps ---------------------------------------------------------------------
    def open_gap(self, camera_id: int, start_ns: int, cause: str, detail: str | None,
                 stream: str = "main") -> bool:
        """Open a gap unless one is open already (the first cause of an outage stands)."""
        with self.session.begin() as s:
            current = s.scalar(select(Gap).where(Gap.camera_id == camera_id,
                                                 Gap.stream == stream, Gap.end_ns.is_(None)))
            if current is not None:
                return False
            s.add(Gap(camera_id=camera_id, stream=stream, start_ns=start_ns, end_ns=None,
                      cause=cause, detail=detail))
            return True

    def close_gap(self, camera_id: int, end_ns: int, stream: str = "main") -> None:
        with self.session.begin() as s:
            for gap in s.scalars(select(Gap).where(Gap.camera_id == camera_id,
                                                   Gap.stream == stream, Gap.end_ns.is_(None))):
                gap.end_ns = max(end_ns, gap.start_ns)

    def gaps(self, camera_id: int, start_ns: int | None = None, end_ns: int | None = None,
             stream: str = "main") -> list[Gap]:
        with self.session() as s:
            q = select(Gap).where(Gap.camera_id == camera_id, Gap.stream == stream)
            if start_ns is not None:
                q = q.where((Gap.end_ns.is_(None)) | (Gap.end_ns > start_ns))
            if end_ns is not None:
                q = q.where(Gap.start_ns < end_ns)
            return list(s.scalars(q.order_by(Gap.start_ns)))
