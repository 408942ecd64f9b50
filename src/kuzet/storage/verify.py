"""`kuzet verify`: rehash every segment file and check each camera's hash chain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kuzet.catalog.store import Catalog
from kuzet.media.fmp4 import hash_and_scan


@dataclass(frozen=True)
class Problem:
    camera: str
    segment_id: int
    path: str
    reason: str


def verify_camera(catalog: Catalog, camera: str) -> Iterator[Problem]:
    """Every problem of one camera's segments, oldest first."""
    cam = catalog.camera(camera)
    prev: str | None = None
    for seg in catalog.segments(cam.id):
        path = Path(seg.volume) / seg.path
        if seg.prev_sha256 != prev and prev is not None:
            yield Problem(camera, seg.id, seg.path,
                          "hash chain broken: prev_sha256 does not match the previous segment")
        prev = seg.sha256
        if not path.exists():
            yield Problem(camera, seg.id, seg.path, "file missing")
            continue
        if path.stat().st_size != seg.bytes:
            yield Problem(camera, seg.id, seg.path,
                          f"size {path.stat().st_size} differs from cataloged {seg.bytes}")
            continue
        if hash_and_scan(path)[0] != seg.sha256:
            yield Problem(camera, seg.id, seg.path, "SHA-256 differs from the catalog")
