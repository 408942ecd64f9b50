"""The catalog on SQLite and on PostgreSQL: schema, cameras, the hash chain, gaps, and its
place at the bottom of the layers."""

from __future__ import annotations

import ast
import hashlib
import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, select, text, update
from sqlalchemy.orm import Session

import kuzet.catalog
from conftest import Storage, ffprobe
from kuzet.access.models import Role
from kuzet.access.permissions import DEFAULT_ROLES
from kuzet.catalog import keyindex, segments
from kuzet.catalog.alarms import Alarms
from kuzet.catalog.db import make_engine, migrate
from kuzet.catalog.models import Base, Camera, Segment
from kuzet.catalog.paths import segment_relpath
from kuzet.catalog.store import Catalog, CutGap, NewSegment
from kuzet.catalog.streams import Stream
from kuzet.config import Settings
from kuzet.errors import Conflict, Invalid, NotFound, Unavailable
from kuzet.mp4.salvage import NothingToSalvage, salvage_file
from kuzet.storage.verify import verify_camera
from kuzet.storage.volumes import Volumes


@pytest.fixture
def catalog(database_url: str) -> Iterator[Catalog]:
    engine = make_engine(database_url)
    migrate(engine)
    yield Catalog(engine)
    engine.dispose()


def test_migrations_equal_the_models(catalog: Catalog) -> None:
    migrate(catalog.engine)  # idempotent
    with catalog.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_a_new_catalog_starts_with_the_default_roles(catalog: Catalog) -> None:
    """Revision 0003's frozen copy of the roles, with what later revisions add to them, is
    today's default table."""
    with catalog.session() as s:
        got = {r.name: (sorted(json.loads(r.perms)), r.clause, json.loads(r.titles))
               for r in s.scalars(select(Role))}
    assert got == {r.name: (sorted(r.perms), r.clause, r.title) for r in DEFAULT_ROLES.values()}


CATALOG = Path(kuzet.catalog.__file__).parent
# What the bottom layer may build on besides itself: `regulation` too (pure, on `errors`
# and `timefmt` alone), whose closed list of installation zones no camera row may leave.
BENEATH_THE_CATALOG = {"kuzet.errors", "kuzet.timefmt", "kuzet.regulation"}


def kuzet_imports(path: Path) -> set[str]:
    """The kuzet modules a file imports, anywhere in it (inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= ({f"kuzet.{a.name}" for a in node.names} if node.module == "kuzet"
                      else {node.module})
    return {n for n in names if n == "kuzet" or n.startswith("kuzet.")}


def test_the_catalog_is_the_bottom_layer() -> None:
    """Every package builds on the catalog and the catalog on none of them: it owns its
    streams, paths, keyframe coding and queries. (The migration environment, which gathers
    every package's tables for Alembic, is not part of it; its revisions are checked below.)"""
    modules = [p for p in CATALOG.rglob("*.py") if "migrations" not in p.relative_to(CATALOG).parts]
    assert len(modules) > 8
    above = {str(p.relative_to(CATALOG)): sorted(n for n in kuzet_imports(p)
                                                 if not n.startswith("kuzet.catalog")
                                                 and n not in BENEATH_THE_CATALOG)
             for p in modules}
    assert {k: v for k, v in above.items() if v} == {}


def test_migrations_are_frozen_snapshots() -> None:
    """A revision imports nothing from kuzet, so that changing today's code never changes
    what an old upgrade does: whatever it needs is copied into it as it was."""
    revisions = sorted((CATALOG / "migrations" / "versions").glob("*.py"))
    assert len(revisions) >= 8
    assert {p.name: sorted(kuzet_imports(p)) for p in revisions if kuzet_imports(p)} == {}


def test_stream_labels() -> None:
    assert [(s.label, int(s)) for s in Stream] == [("main", 0), ("sub", 1)]
    assert Stream.parse("sub") is Stream.SUB
    with pytest.raises(Invalid, match="unknown stream 'SUB'"):
        Stream.parse("SUB")


def test_cameras(catalog: Catalog) -> None:
    catalog.add_camera("gate", "rtsp://10.0.0.2/s", zone="entrance")
    with pytest.raises(Conflict, match="already exists"):
        catalog.add_camera("gate", "rtsp://10.0.0.3/s", zone="corridor")
    catalog.remove_camera("gate")
    assert catalog.cameras() == []
    assert [c.name for c in catalog.cameras(include_removed=True)] == ["gate"]
    with pytest.raises(Conflict, match="removed camera"):
        catalog.add_camera("gate", "rtsp://10.0.0.3/s", zone="corridor")
    with pytest.raises(NotFound, match="no camera"):
        catalog.remove_camera("gate")


def test_a_camera_change_rolls_back_with_what_its_transaction_writes(catalog: Catalog) -> None:
    """The callback a caller passes (its audit entry) runs in the change's transaction: if
    it fails, the change is not made."""
    def unwritable(s: Session, cam: Camera) -> None:
        raise RuntimeError("the audit log cannot be written")

    with pytest.raises(RuntimeError):
        catalog.add_camera("gate", "rtsp://10.0.0.2/s", zone="corridor", audit=unwritable)
    assert catalog.cameras(include_removed=True) == []
    catalog.add_camera("gate", "rtsp://10.0.0.2/s", zone="corridor")
    with pytest.raises(RuntimeError):
        catalog.set_retention("gate", 7, audit=unwritable)
    with pytest.raises(RuntimeError):
        catalog.remove_camera("gate", audit=unwritable)
    (cam,) = catalog.cameras()
    assert cam.retention_days is None
    assert cam.removed_ns is None


def test_the_next_footage_skips_rows_being_deleted(storage: Storage) -> None:
    """Playback jumps a gap to where the next footage starts; a row a deletion has marked
    (cut short by a crash, its volume since gone) is not footage, or a reader would be
    sent back to the same instant for ever."""
    rows = storage.seed("hall", 1000 * 10**9, 3)
    cat, cam_id = storage.catalog, rows[0].camera_id
    with cat.session.begin() as s:
        segments.mark_deleting(s, cam_id, Stream.MAIN, [rows[1].start_ns])
    assert cat.next_start(cam_id, rows[0].end_ns) == rows[2].start_ns
    assert cat.segments(cam_id, rows[1].start_ns, rows[1].end_ns) == []


def test_segments_chain_and_ranges(storage: Storage) -> None:
    rows = storage.seed("hall", 1000 * 10**9, 3)
    cat = storage.catalog
    cam_id = rows[0].camera_id
    got = cat.segments(cam_id)
    assert [r.prev_link for r in got] == [None, cat.link(got[0]), cat.link(got[1])]
    hit = cat.segments(cam_id, 1070 * 10**9, 1080 * 10**9)
    assert [r.start_ns for r in hit] == [got[1].start_ns]
    assert cat.segments(cam_id, 2000 * 10**9) == []
    last = cat.last_segment(cam_id)
    assert last is not None
    assert last.start_ns == got[2].start_ns
    at = cat.segment_at(cam_id, 1061 * 10**9)
    assert at is not None
    assert at.start_ns == got[1].start_ns
    assert cat.segment_at(cam_id, 999 * 10**9) is None
    assert cat.segment_at(cam_id, 1180 * 10**9) is None  # the end is exclusive
    assert keyindex.decode(got[0].keyframes) == [k * 10**9 for k in range(60)]
    assert len(got[0].keyframes) < 10  # regular GOPs code into a few bytes
    assert cat.path_of(got[0]).read_bytes()  # the path follows from the row


def test_the_lookup_behind_playback_gives_the_rows_facts(storage: Storage) -> None:
    """The segment at an instant carries what the listing says of that row, as plain
    values (no session behind them), and its file lies where the listing's does; from
    the instant a deletion marks the row, the lookup no longer finds it."""
    rows = storage.seed("hall", 1000 * 10**9, 3)
    cat, cam_id = storage.catalog, rows[0].camera_id
    listed = cat.segments(cam_id)
    facts = ("camera_id", "stream", "volume_id", "start_ns", "end_ns", "frames", "size_bytes",
             "params_id", "keyframes", "sha256", "salvaged")
    at = cat.segment_at(cam_id, listed[1].start_ns)  # a segment holds its first instant
    assert at is not None
    assert [getattr(at, f) for f in facts] == [getattr(listed[1], f) for f in facts]
    assert cat.path_of(at) == cat.path_of(listed[1])
    assert cat.path_of(at).read_bytes()
    with cat.session.begin() as s:
        segments.mark_deleting(s, cam_id, Stream.MAIN, [listed[1].start_ns])
    assert cat.segment_at(cam_id, listed[1].start_ns) is None
    later = cat.segment_at(cam_id, listed[2].start_ns)
    assert later is not None
    assert later.start_ns == listed[2].start_ns


def _segment(camera_id: int, volume_id: int, start_ns: int, end_ns: int) -> NewSegment:
    return NewSegment(camera_id=camera_id, stream=Stream.MAIN, volume_id=volume_id,
                      start_ns=start_ns,
                      end_ns=end_ns, frames=1, size_bytes=1, codec="h264", width=2, height=2,
                      audio_codec=None, params_json="{}", keyframes_ns=[start_ns],
                      sha256=bytes(32))


def test_gaps_open_once_and_close_with_the_next_segment(storage: Storage) -> None:
    catalog, vol = storage.catalog, storage.default_volume_id
    cam = catalog.add_camera("yard", "rtsp://10.0.0.2/s", zone="corridor")
    assert catalog.open_gap(cam.id, 100, "connect_failed", "refused")
    assert not catalog.open_gap(cam.id, 200, "auth_failed", "401")  # first cause stands
    assert [(g.cause, g.end_ns) for g in catalog.gaps(cam.id)] == [("connect_failed", None)]
    assert len(catalog.gaps(cam.id, start_ns=10**12)) == 1  # an open gap reaches to now
    # The segment that ends the outage closes its gap in the row's own transaction.
    catalog.add_segment(_segment(cam.id, vol, 500, 900), closes_gap=True)
    assert [(g.start_ns, g.end_ns) for g in catalog.gaps(cam.id)] == [(100, 500)]
    assert catalog.gaps(cam.id, start_ns=600) == []
    assert catalog.gaps(cam.id)[0].stream is Stream.MAIN
    with catalog.engine.connect() as conn:  # stored as its label, as migration 0001 made it
        assert conn.execute(text("SELECT stream FROM gaps")).scalar_one() == "main"
    # A cut (timestamps jumped) records its hole with the segment after it.
    cut = CutGap(900, "timestamp_jump", "timestamps jumped; new segment started")
    catalog.add_segment(_segment(cam.id, vol, 1200, 1500), closes_gap=True, cut=cut)
    assert [(g.start_ns, g.end_ns, g.cause) for g in catalog.gaps(cam.id)] == [
        (100, 500, "connect_failed"), (900, 1200, "timestamp_jump")]
    # A segment added without closing (a test's or bench's seed) leaves gaps alone.
    assert catalog.open_gap(cam.id, 1500, "connect_failed", "refused")
    catalog.add_segment(_segment(cam.id, vol, 1600, 1700))
    assert catalog.gaps(cam.id)[-1].end_ns is None


def _problems(st: Storage, camera: str) -> list[tuple[str, str]]:
    return [(p.path, p.reason) for p in verify_camera(st.catalog, st.volumes, camera)]


def test_verify_names_the_first_bad_segment(storage: Storage) -> None:
    """A modified file, a missing file and an edited catalog row are each found."""
    rows = storage.seed("lab", 10**18, 5)
    assert _problems(storage, "lab") == []
    path = storage.catalog.path_of(rows[3])
    path.chmod(0o644)
    data = path.read_bytes()
    # same size, other bytes: the first one flipped (the seed's bytes are random, and a
    # first byte that was "x" already left the file as it was, once in 256 runs: seen in CI)
    path.write_bytes(bytes((data[0] ^ 0xFF,)) + data[1:])
    assert _problems(storage, "lab") == [(storage.catalog.relpath(rows[3]), "SHA-256 differs "
                                          "from the catalog (the file was modified)")]
    storage.catalog.path_of(rows[4]).unlink()
    assert _problems(storage, "lab")[1] == (storage.catalog.relpath(rows[4]), "file missing")
    with storage.catalog.session.begin() as s:  # someone shortens a segment in the database
        s.execute(update(Segment).where(Segment.start_ns == rows[1].start_ns)
                  .values(end_ns=rows[1].end_ns - 10**9))
    first = _problems(storage, "lab")[0]
    assert first[0] == storage.catalog.relpath(rows[1])
    assert "catalog row edited" in first[1]


def test_migration_carries_0001_segments(tmp_path: Path) -> None:
    """A catalog written by the recording core keeps its segments, chained, after 0002."""
    from alembic import command

    from kuzet.catalog.db import alembic_config

    media = tmp_path / "media"
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    command.upgrade(alembic_config(engine), "0001")
    files = []
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO cameras (id, name, main_url, created_ns) "
                          "VALUES (1, 'gate', 'rtsp://h/s', 0)"))
        prev = None
        for i in range(3):
            start = (1_800_000_000 + 60 * i) * 10**9
            rel = segment_relpath("gate", start)
            data = f"segment {i}".encode()
            (media / rel).parent.mkdir(parents=True, exist_ok=True)
            (media / rel).write_bytes(data)
            sha = hashlib.sha256(data).hexdigest()
            conn.execute(text(
                "INSERT INTO segments (camera_id, stream, volume, path, start_ns, end_ns, "
                "frames, bytes, codec, width, height, audio_codec, codec_params, keyframes, "
                "sha256, prev_sha256, salvaged) VALUES (1, 'main', :v, :p, :s, :e, 1500, :b, "
                "'h264', 1920, 1080, NULL, :cp, :k, :h, :prev, 0)"),
                {"v": str(media), "p": rel, "s": start, "e": start + 60 * 10**9,
                 "b": len(data), "cp": '{"codec": "h264", "extradata": "", "height": 1080, '
                 '"width": 1920}', "k": "[[0, 40], [1000000000, 900]]", "h": sha,
                 "prev": prev})
            prev = sha
            files.append(rel)
    migrate(engine)
    cat = Catalog(engine)
    (vol,) = cat.volumes()
    assert (vol.name, vol.path) == ("default", str(media))
    rows = cat.segments(1)
    assert [cat.relpath(r) for r in rows] == files
    assert keyindex.decode(rows[0].keyframes) == [0, 10**9]
    assert rows[1].prev_link == cat.link(rows[0])
    st = Settings(home=tmp_path)
    problems = list(verify_camera(cat, Volumes(cat, st, Alarms(cat.session)), "gate"))
    assert problems == []
    engine.dispose()


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
    assert facts.keyframes_ns == [0, 10**9, 2 * 10**9]
    info = ffprobe(cut)
    assert int(info["streams"][0]["nb_read_frames"]) == 75
    header_only = tmp_path / "h.mp4.part"
    header_only.write_bytes(data[:900])
    with pytest.raises(NothingToSalvage):
        salvage_file(header_only)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _an_installation_in_use(conn: Connection, now_ns: int) -> None:
    """What an installation holds at head: a camera in a camera group, roles assigned (the
    bootstrap installer, a rector, a guard on the group, a Board member), a transfer whose
    registration asked for a hold of the camera's footage, a protocol the Board member
    acknowledged. Plain SQL: the rows must fit every revision the test passes through."""
    user = ("INSERT INTO users (id, name, display_name, password_hash, must_change_password, "
            "totp_confirmed, disabled, created_ns, created_by) "
            "VALUES (:id, :name, :name, 'x', :f, :f, :f, :now, 'test')")
    for uid, name in enumerate(("admin", "rec", "gd", "board"), start=1):
        conn.execute(text(user), {"id": uid, "name": name, "f": False, "now": now_ns})
    conn.execute(text("INSERT INTO camera_groups (id, name) VALUES (1, 'north')"))
    conn.execute(text("INSERT INTO cameras (id, name, main_url, zone, created_ns) "
                      "VALUES (1, 'gate', 'rtsp://h/s', 'sports_leisure', :now)"),
                 {"now": now_ns})
    conn.execute(text("INSERT INTO camera_group_members (group_id, camera_id) VALUES (1, 1)"))
    assign = ("INSERT INTO role_assignments (user_id, role, group_id, state, requested_by, "
              "requested_ns) VALUES (:uid, :role, :gid, 'active', 'test', :now)")
    for uid, role, gid in ((1, "installer", None), (2, "rector", None), (3, "guard", 1),
                           (4, "board_member", None)):
        conn.execute(text(assign), {"uid": uid, "role": role, "gid": gid, "now": now_ns})
    year = datetime.fromtimestamp(now_ns / 10**9, UTC).year
    number = f"T-{year}-0001"
    conn.execute(text("INSERT INTO holds (id, reason, incident, requested_by, requested_ns) "
                      "VALUES (1, :reason, :number, 'rec', :now)"),
                 {"reason": f"footage asked for by transfer request {number}", "number": number,
                  "now": now_ns})
    conn.execute(text("INSERT INTO hold_ranges (hold_id, camera_id, start_ns, end_ns) "
                      "VALUES (1, 1, :s, :now)"), {"s": now_ns - 3600 * 10**9, "now": now_ns})
    conn.execute(text(
        "INSERT INTO transfers (number, year, seq, state, requester_type, requester, "
        "requester_details, basis_number, basis_date, reason, cameras, start_ns, end_ns, "
        "registered_by, registered_ns, registered_entry, hold_id) VALUES (:number, :year, 1, "
        "'pending', 'court', 'A court', '{}', '12', '2000-01-01', 'a case', '[\"gate\"]', :s, "
        ":now, 'rec', :now, 1, 1)"),
        {"number": number, "year": year, "s": now_ns - 3600 * 10**9, "now": now_ns})
    conn.execute(text(
        "INSERT INTO protocols (id, number, year, seq, state, camera_id, at_ns, location, "
        "circumstances, measures, author, created_ns) VALUES (1, :number, :year, 1, "
        "'registered', 1, :now, 'gate', 'a fight', 'called the police', 'gd', :now)"),
        {"number": f"P-{year}-0001", "year": year, "now": now_ns})
    conn.execute(text("INSERT INTO protocol_acknowledgements (protocol_id, member, at_ns, entry) "
                      "VALUES (1, 'board', :now, 1)"), {"now": now_ns})


def _kept(engine: Engine) -> dict[str, object]:
    """What a downgrade below 0009 and the upgrade back must keep, read as a person would."""
    with engine.connect() as conn:
        def rows(sql: str) -> list[tuple[object, ...]]:
            return sorted(tuple(r) for r in conn.execute(text(sql)))

        return {
            "cameras": rows("SELECT c.name, c.zone, g.name FROM cameras c "
                            "JOIN camera_group_members m ON m.camera_id = c.id "
                            "JOIN camera_groups g ON g.id = m.group_id"),
            "assignments": rows("SELECT u.name, a.role, a.group_id, a.state "
                                "FROM role_assignments a JOIN users u ON u.id = a.user_id "
                                "WHERE a.role NOT IN ('installer', 'board_member')"),
            "holds": rows("SELECT h.id, h.incident, r.camera_id FROM holds h "
                          "JOIN hold_ranges r ON r.hold_id = h.id"),
            "transfers": rows("SELECT number, state FROM transfers"),
            "protocols": rows("SELECT p.number, p.state, c.name FROM protocols p "
                              "JOIN cameras c ON c.id = p.camera_id"),
        }


def test_migrations_go_down_to_0008_and_back_with_the_rows(catalog: Catalog) -> None:
    """An installation in use downgrades one revision at a time to 0008 and upgrades back to
    head with its cameras, groups, role assignments, holds, transfers and protocols. On
    SQLite batch mode rebuilds `roles` and `cameras`, which other rows refer to: dropping
    the old table failed while foreign keys were enforced. What only the later revisions
    know (the installer's and Board member's assignments, acknowledgements) goes with them."""
    from alembic import command

    from kuzet.catalog.db import alembic_config

    engine = catalog.engine
    with engine.begin() as conn:
        _an_installation_in_use(conn, time.time_ns())
        roles = sorted(tuple(r) for r in conn.execute(text("SELECT * FROM roles")))
    kept = _kept(engine)
    assert kept["assignments"] == [("gd", "guard", 1, "active"), ("rec", "rector", None,
                                                                 "active")]
    cfg = alembic_config(engine)
    while _revision(engine) != "0008":
        command.downgrade(cfg, "-1")
    assert _kept(engine) == {**kept, "cameras": [("gate", "sports", "north")]}
    migrate(engine)
    assert _kept(engine) == kept
    with engine.connect() as conn:
        assert sorted(tuple(r) for r in conn.execute(text("SELECT * FROM roles"))) == roles
        assert conn.execute(text("SELECT hold_id FROM transfers")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM protocol_acknowledgements")).scalar() == 0
        if engine.dialect.name == "sqlite":  # the pool's connection enforces them again
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_migration_that_leaves_a_dangling_reference_changes_nothing(tmp_path: Path) -> None:
    """SQLite migrates with foreign keys off, so it checks them before committing: a row
    referring to nothing stops the upgrade, whose every revision (DDL included) rolls back."""
    from alembic import command

    from kuzet.catalog.db import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    command.upgrade(alembic_config(engine), "0008")
    with closing(sqlite3.connect(tmp_path / "c.db")) as raw, raw:  # foreign keys off
        raw.execute("INSERT INTO camera_group_members (group_id, camera_id) VALUES (7, 9)")
    with pytest.raises(Unavailable, match="camera_group_members → camera"):
        migrate(engine)
    assert _revision(engine) == "0008"
    with engine.connect() as conn:
        assert "order_no" not in {c["name"] for c in inspect(conn).get_columns("roles")}
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
