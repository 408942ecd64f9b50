"""Clause 3.5.1: recordings are not rewritten or edited. Only retention, shedding and hold
expiry delete them, and all three live in kuzet.storage.sweeper: the statements that
mark and delete segment rows are the catalog's (kuzet.catalog.segments), and the sweeper
is the only code that calls them.

These tests enumerate every CLI command and scan the source for anything that could
delete or alter a segment row or file, so that a new path cannot appear unnoticed. (The
HTTP API joins this enumeration when it exists.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import typer.main
from typer.core import TyperGroup

from kuzet.cli.main import app

SRC = Path(__file__).resolve().parents[1] / "src" / "kuzet"

# Every command, and what it may do to recordings. A new command fails this test until it
# is added here, by someone who has read the clause.
COMMANDS = {
    "init": "creates the catalog and the first volume",
    "serve": "records; its sweeper deletes by retention, disk pressure and hold expiry",
    "demo": "records simulated cameras",
    "sim": "serves simulated cameras",
    "verify": "reads",
    "alarms": "reads",
    "camera add": "adds a camera", "camera list": "reads",
    "camera remove": "stops recording; recordings are kept",
    "camera retention": "sets retention, at most 30 days",
    "camera zone": "sets a camera's installation zone",
    "camera audio": "shows a camera's sound setting, or stops keeping sound from then on",
    "camera certificate": "shows or sets an rtsps:// camera's certificate pin",
    "camera onvif": "shows or sets where a camera's clock is read over ONVIF",
    "edition list": "reads",
    "place list": "reads", "place coverage": "reads",
    "edition approve": "refused: the rector decides editions in the console (audited)",
    "centre list": "reads",
    "centre disable": "stops live video to a centre (no recording touched)",
    "centre approve": "refused: the rector decides centre requests in the console (audited)",
    "centre reject": "refused: the rector decides centre requests in the console (audited)",
    "edition reject": "refused: the rector decides editions in the console (audited)",
    "recordings list": "reads", "recordings gaps": "reads",
    "hold request": "protects footage (the rector decides holds in the console, not here)",
    "hold list": "reads",
    "hold approve": "refused: the rector decides holds in the console (the attempt audited)",
    "hold reject": "refused: the rector decides holds in the console (the attempt audited)",
    "hold release": "refused: the rector decides holds in the console (the attempt audited)",
    "volume add": "adds a disk", "volume drain": "stops writing to a disk",
    "volume enable": "writes to a disk again",
    "volume remove": "forgets an empty, drained disk (refused while it holds a segment)",
    "volume list": "reads",
    "node list": "reads",
    "node drain": "hands a node's cameras to the others, each segment committed first",
    "node undrain": "lets a node take cameras again",
    "node forget": "takes a down node off the list (its footage's rows stay)",
    "camera move": "pins a camera to a node (no recording touched)",
    "cluster init": "makes the cluster's certificate authority",
    "audit list": "reads", "audit verify": "reads", "audit export": "reads",
    "audit checkpoint": "signs the audit log's head into a file beside the catalog",
    "user add": "creates an account", "user role": "gives or requests a role",
    "user revoke": "ends a role assignment", "user reset-password": "sets a one-time password",
    "user list": "reads",
    "user totp-reset": "asks that a lost second factor be removed (a second person confirms)",
    "export verify": "reads a package",
    "detect": "reads an image",
    "equipment list": "reads", "equipment show": "reads", "equipment due": "reads",
    "equipment add": "enters an item in the equipment register",
    "equipment set": "changes an item's passport (a camera's place too)",
    "equipment log": "writes a check, fault or repair in an item's log",
    "equipment import": "adds or changes items; may add cameras for recording",
    "equipment export": "reads", "equipment passport": "reads",
    "equipment onvif": "reads a camera over ONVIF; --add adds it for recording, its passport",
    "equipment discover": "reads (WS-Discovery on the LAN)",
}


def commands(group: typer.Typer, prefix: str = "") -> set[str]:
    names: set[str] = set()
    click_group = typer.main.get_command(group)
    assert isinstance(click_group, TyperGroup)
    for name, cmd in click_group.commands.items():
        if hasattr(cmd, "commands"):
            names |= {f"{prefix}{name} {sub}" for sub in cmd.commands}
        else:
            names.add(f"{prefix}{name}")
    return names


def test_every_command_is_accounted_for() -> None:
    assert commands(app) == set(COMMANDS)


DELETERS = [
    re.compile(r"delete\(\s*Segment\b"),  # SQLAlchemy delete of segment rows
    re.compile(r"DELETE\s+FROM\s+segments", re.I),
    re.compile(r"update\(\s*Segment\b"),  # any change to a segment row
    re.compile(r"UPDATE\s+segments", re.I),
    re.compile(r"\bunlink\b|\bos\.remove\b|\brmtree\b"),
]
# Where each of those may appear, and why.
ALLOWED = {
    "catalog/segments.py": "the statements that mark and delete segment rows (the sweeper's)",
    "storage/sweeper.py": "the one place recordings are deleted (retention, pressure, holds)",
    "storage/commit.py": "unlinks an empty .part that salvage found nothing in",
    "mp4/writer.py": "removes a .part it failed to start writing",
    "recorder/supervisor.py": "removes a .part with no frames",
    "recorder/service.py": "removes its own lock file",
    "recorder/waiting.py": "removes its own journals under <home>/run/waiting (the facts of "
                           "rows waiting for the catalog, not footage)",
    "export/package.py": "removes an export package it failed to finish (a copy, not footage)",
    "export/execute.py": "removes a package whose execution was not recorded (a copy)",
    "equipment/throughput.py": "removes its own write probe (.kuzet-write-probe), at a "
                               "volume's top, never in a camera's folder",
}


def test_only_the_sweeper_deletes_recordings() -> None:
    found: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = str(path.relative_to(SRC))
        text = path.read_text()
        hits = [p.pattern for p in DELETERS if p.search(text)]
        if hits:
            found[rel] = hits
    unexpected = {k: v for k, v in found.items() if k not in ALLOWED}
    assert unexpected == {}, f"new code that deletes or edits recordings: {unexpected}"
    for rel in ALLOWED:  # the others only touch .part and lock files, never segment rows
        if rel not in ("catalog/segments.py", "storage/sweeper.py"):
            assert not any("Segment" in h or "segments" in h for h in found.get(rel, [])), rel
    # In the catalog, two functions hold those statements, and only the sweeper calls them
    # and the one that records a deletion run (which lets verify accept the hole it left).
    text = (SRC / "catalog" / "segments.py").read_text()
    row_statements = DELETERS[:4]
    holders = {f.name for f in ast.parse(text).body if isinstance(f, ast.FunctionDef)
               and any(p.search(ast.get_source_segment(text, f) or "") for p in row_statements)}
    assert holders == {"mark_deleting", "delete_rows"}
    callers = {rel for path in SRC.rglob("*.py")
               if (rel := str(path.relative_to(SRC))) != "catalog/segments.py"
               and re.search(r"\b(mark_deleting|delete_rows|record_deletion)\(",
                             path.read_text())}
    assert callers == {"storage/sweeper.py"}


def test_footage_leaves_only_as_a_transfer_package() -> None:
    """Clause 3.5.1: no copying out but a transfer (3.5.6). The one route that answers with
    a file of footage is the executed transfer's package; the console's only download is
    the stamped, audited snapshot; nothing anywhere answers with a video type."""
    web = SRC / "web"
    files_served: dict[str, set[str]] = {}
    for path in web.rglob("*.py"):
        text = path.read_text()
        rel = str(path.relative_to(web))
        assert not re.search(r"video/|octet-stream", text), rel
        for kind in re.findall(r'media_type="([^"]+)"', text):
            files_served.setdefault(kind.split(";")[0], set()).add(rel)
        if "FileResponse(" in text or "StreamingResponse(" in text:  # a file from disk
            files_served.setdefault("a file", set()).add(rel)
    assert files_served["application/zip"] == {"routes/transfers.py"}
    assert files_served["a file"] == {"routes/transfers.py"}
    # Stills only besides: stamped snapshots (PNG) and an event's picture (JPEG), both
    # audited; documents (PDF) and registers (CSV); the archive timeline's JSON, sent
    # with its ETag (when footage exists, not footage); and the console's own icon (SVG).
    assert set(files_served) == {"application/zip", "a file", "application/pdf",
                                 "text/csv", "image/png", "image/jpeg", "application/json",
                                 "image/svg+xml"}
    assert files_served["image/svg+xml"] == {"routes/console.py"}
    assert files_served["application/json"] == {"routes/cameras.py"}
    assert files_served["image/jpeg"] == {"routes/detection.py"}
    downloads = [(p.name, line.strip()) for p in (web / "static").glob("*.js")
                 for line in p.read_text().splitlines() if re.search(r"\.download\b|download=",
                                                                     line)]
    assert [name for name, _ in downloads] == ["api.js"]  # saveSnapshot, of live and archive
    assert ".png" in downloads[0][1]  # the snapshot
