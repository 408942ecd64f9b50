"""The catalog on SQLite and on PostgreSQL: schema, cameras, the hash chain, gaps."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import update

from conftest import ffprobe
from kuzet.catalog.db import make_engine, migrate
from kuzet.catalog.models import Base, Segment
from kuzet.catalog.store import Catalog, CatalogError, NewSegment
from kuzet.media.salvage import NothingToSalvage, salvage_file
from kuzet.storage.verify import verify_camera


@pytest.fixture
def catalog(database_url: str) -> Catalog:
    engine = make_engine(database_url)
    migrate(engine)
    yield Catalog(engine)
    engine.dispose()


def test_migrations_equal_the_models(catalog: Catalog) -> None:
    migrate(catalog.engine)  # idempotent
    with catalog.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def seg(camera_id: int, start_s: int, sha: str, path: str | None = None) -> NewSegment:
    return NewSegment(camera_id=camera_id, stream="main", volume="/v",
                      path=path or f"c/{start_s}.mp4", start_ns=start_s * 10**9,
                      end_ns=(start_s + 60) * 10**9, frames=1500, size_bytes=1,
                      codec="h264", width=1920, height=1080, audio_codec=None,
                      codec_params="{}", keyframes=[(0, 800)], sha256=sha)


def test_cameras(catalog: Catalog) -> None:
    catalog.add_camera("gate", "rtsp://10.0.0.2/s", zone="entrance")
    with pytest.raises(CatalogError, match="already exists"):
        catalog.add_camera("gate", "rtsp://10.0.0.3/s")
    catalog.remove_camera("gate")
    assert catalog.cameras() == []
    assert [c.name for c in catalog.cameras(include_removed=True)] == ["gate"]
    with pytest.raises(CatalogError, match="removed camera"):
        catalog.add_camera("gate", "rtsp://10.0.0.3/s")
    with pytest.raises(CatalogError, match="no camera"):
        catalog.remove_camera("gate")


def test_segments_chain_and_ranges(catalog: Catalog) -> None:
    cam = catalog.add_camera("hall", "rtsp://10.0.0.2/s")
    for i, sha in enumerate("abc"):
        catalog.add_segment(seg(cam.id, 1000 + 60 * i, sha * 64))
    rows = catalog.segments(cam.id)
    assert [r.prev_sha256 for r in rows] == [None, "a" * 64, "b" * 64]
    assert [r.id for r in catalog.segments(cam.id, 1070 * 10**9, 1080 * 10**9)] == [rows[1].id]
    assert catalog.segments(cam.id, 2000 * 10**9) == []
    assert catalog.last_segment(cam.id).sha256 == "c" * 64


def test_gaps_open_once_and_close(catalog: Catalog) -> None:
    cam = catalog.add_camera("yard", "rtsp://10.0.0.2/s")
    assert catalog.open_gap(cam.id, 100, "connect_failed", "refused")
    assert not catalog.open_gap(cam.id, 200, "auth_failed", "401")  # first cause stands
    assert [(g.cause, g.end_ns) for g in catalog.gaps(cam.id)] == [("connect_failed", None)]
    assert len(catalog.gaps(cam.id, start_ns=10**12)) == 1  # an open gap reaches to now
    catalog.close_gap(cam.id, 500)
    assert [(g.start_ns, g.end_ns) for g in catalog.gaps(cam.id)] == [(100, 500)]
    assert catalog.gaps(cam.id, start_ns=600) == []


def test_verify_finds_an_edited_chain(catalog: Catalog, tmp_path: Path) -> None:
    cam = catalog.add_camera("lab", "rtsp://10.0.0.2/s")
    for i, sha in enumerate("de"):
        catalog.add_segment(seg(cam.id, 60 * i, sha * 64))
    with catalog.session.begin() as s:
        s.execute(update(Segment).where(Segment.sha256 == "e" * 64)
                  .values(prev_sha256="f" * 64))
    problems = list(verify_camera(catalog, "lab"))
    assert "hash chain broken" in problems[1].reason
    assert problems[0].reason == "file missing"


def test_salvage_keeps_complete_fragments(tmp_path: Path) -> None:
    """A fragmented MP4 made by ffmpeg, cut mid-fragment, keeps every whole fragment."""
    src = tmp_path / "src.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=320x240:rate=25", "-t", "4", "-c:v", "libx264", "-g", "25",
                    "-bf", "0", "-movflags", "frag_keyframe+empty_moov+default_base_moof",
                    str(src)], check=True)
    data = src.read_bytes()
    cut = tmp_path / "20261127T000000.000000000Z.mp4.part"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    facts = salvage_file(cut)
    assert facts.frames == 75  # three of four one-second fragments
    assert facts.media_duration_ns == 3 * 10**9
    assert [k[0] for k in facts.keyframes] == [0, 10**9, 2 * 10**9]
    info = ffprobe(cut)
    assert int(info["streams"][0]["nb_read_frames"]) == 75
    header_only = tmp_path / "h.mp4.part"
    header_only.write_bytes(data[:900])
    with pytest.raises(NothingToSalvage):
        salvage_file(header_only)
