"""Real footage in a catalog without a camera: the simulator's clip written by the
recorder's own segment writer (kuzet.mp4.writer) and cataloged the way the recorder
commits a segment. Tests check exports and their frame counts against these files, and
bench/export.py measures an hour of them, without waiting an hour for a camera. Test and
bench support, not part of Kuzet: benches put tests/ on their path to import it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from kuzet.catalog.models import Segment
from kuzet.catalog.paths import part_path
from kuzet.catalog.store import Catalog
from kuzet.errors import NotFound
from kuzet.ingest.source import Track
from kuzet.mp4.writer import SegmentFile, VideoParams
from kuzet.nal import to_annexb
from kuzet.rtsp.clip import FPS, ClipSpec, load_access_units
from kuzet.storage.commit import commit_segment

NS = 1_000_000_000


def access_units(spec: ClipSpec, clip_dir: Path) -> tuple[list[tuple[bool, bytes]], bytes]:
    """The simulator clip's access units and its parameter sets (Annex B extradata)."""
    units, clip = load_access_units(spec, clip_dir)
    return units, to_annexb((clip.sps, clip.pps))


def _template(clip_dir: Path, spec: ClipSpec) -> tuple[Any, list[tuple[bool, bytes]], bytes]:
    """An input stream to copy the stream parameters from, and the clip's access units."""
    units, extradata = access_units(spec, clip_dir)
    raw = clip_dir / f"clip-{spec.key}.h264"
    if not raw.exists():
        raw.write_bytes(b"".join(u for _, u in units))
    return av.open(str(raw), format="h264"), units, extradata


def record(catalog: Catalog, clip_dir: Path, spec: ClipSpec, camera: str, start_ns: int,
           count: int, seg_s: int = 4) -> list[Segment]:
    """`count` segments of `seg_s` seconds from `start_ns` on, one after another."""
    try:
        cam = catalog.camera(camera)
    except NotFound:
        cam = catalog.add_camera(camera, "rtsp://10.0.0.9/s", zone="corridor")
    volume_id = catalog.volumes()[0].id
    volume = catalog.volume_path(volume_id)
    container, units, extradata = _template(clip_dir, spec)
    video = container.streams.video[0]
    tb = Fraction(1, 90_000)
    video.time_base = tb
    tick = 90_000 // FPS
    params = VideoParams("h264", extradata, spec.width, spec.height)
    track = Track(0, "h264", tb, video, extradata, spec.width, spec.height, FPS)
    rows = []
    frame = 0
    try:
        for i in range(count):
            start = start_ns + i * seg_s * NS
            seg = SegmentFile(part_path(volume, camera, start), track, None, params)
            for _ in range(seg_s * FPS):
                key, data = units[frame % len(units)]
                packet = av.Packet(data)
                packet.is_keyframe = key
                packet.time_base = tb
                packet.pts = frame * tick
                seg.add_video(packet, frame * tick, tick)
                frame += 1
            rows.append(commit_segment(catalog, volume_id, cam.id, camera, seg.part_path,
                                       seg.close(), start))
    finally:
        container.close()
    return rows
