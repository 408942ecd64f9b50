"""An export package stays on the server only until it is handed over, and at the latest
until its transfer's approval expires (UE-10-22 3.3, 3.5.1, 3.5.6): its first complete
download hands it over and deletes the server's copy; the storage sweeper deletes one
never downloaded when the approval expires; either way, audited as the system, the
register keeps its hashes and `kuzet export verify` still ties the copy handed over to it.
Through the API over real recorded footage, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api_world import CAM, World
from footage import record
from kuzet.export.execute import package_folder
from kuzet.storage.retention import DAY_NS
from kuzet.web.routes.transfers import _handing_over
from test_transfers import NOW, PDF, SPEC, T0, _approve, _execute, _package, _register, _upload


@pytest.fixture
def world(storage: Any, clip_cache: Path) -> World:
    w = World(storage, NOW, upload_max_bytes=4096)
    w.user("head", "head_of_security")
    w.user("rector", "rector")
    record(storage.catalog, clip_cache / "sim", SPEC, CAM, T0, 2)
    return w


def _approved(head: Any, rector: Any) -> int:
    """A transfer registered and approved (for 7 days): its id."""
    tid = int(_register(head, [CAM], 0, 8)["id"])
    assert _upload(head, tid, PDF, "application/pdf").status_code == 200
    assert _approve(rector, tid).status_code == 200
    return tid


def _executed(head: Any, rector: Any) -> dict[str, Any]:
    tid = _approved(head, rector)
    r = _execute(head, tid)
    assert r.status_code == 200, r.text
    assert r.json()["package"]["on_server"] is True
    return dict(r.json())


def _discards(world: World, tid: int) -> list[tuple[str, dict[str, Any]]]:
    return [(e.actor, json.loads(e.detail)) for e in world.svc.audit.entries(
        action="transfer.package_discard") if e.subject == f"transfer/{tid}"]


def test_a_package_leaves_the_server_once_downloaded(world: World, tmp_path: Path) -> None:
    """UE-10-22 3.3, 3.5.6: the download hands the package over; the server's copy goes
    at once (before: it stayed until someone discarded it by hand)."""
    head, rector = world.login("head"), world.login("rector")
    done = _executed(head, rector)
    tid = done["id"]
    on_disk = world.svc.exports.path_of(world.svc.transfers.get(tid))
    assert on_disk.is_file()
    copy = _package(world, head, tid, tmp_path)
    assert not on_disk.exists()
    r = head.get(f"/api/transfers/{tid}")
    assert r.json()["package"]["on_server"] is False
    assert r.json()["package"]["sha256"] == done["package"]["sha256"]
    again = head.get(f"/api/transfers/{tid}/package")
    assert again.status_code == 404
    assert again.json()["detail"].startswith("refused: ")
    assert "handed over" in again.json()["detail"]
    assert "UE-10-22 3.3" in again.json()["detail"]
    assert _discards(world, tid) == [("system", {
        "number": done["number"], "sha256": done["package"]["sha256"],
        "reason": "handed over", "downloaded_by": "head"})]
    # The copy handed over is still this installation's, by the register's hashes.
    env = {**os.environ, "KUZET_HOME": str(world.settings.home),
           "KUZET_DATABASE_URL": str(world.settings.database_url)}
    run = subprocess.run([sys.executable, "-m", "kuzet", "export", "verify", str(copy)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert done["number"] in run.stdout
    # A package not to be handed over is discarded by hand, by whoever may execute.
    other = _executed(head, rector)
    r = head.delete(f"/api/transfers/{other['id']}/package")
    assert r.status_code == 200
    assert r.json()["package"]["on_server"] is False
    [(actor, detail)] = _discards(world, other["id"])
    assert (actor, detail["reason"]) == ("head", "discarded")


def test_a_download_cut_short_deletes_nothing(tmp_path: Path) -> None:
    """The hand-over runs only after the last byte: a reader that stops early (a closed
    connection) leaves the package where it is."""
    package = tmp_path / "package.zip"
    package.write_bytes(os.urandom(3 << 20))  # three chunks
    handed: list[bool] = []
    cut = _handing_over(package.open("rb"), lambda: handed.append(True))
    next(cut)
    cut.close()
    assert handed == []
    whole = b"".join(_handing_over(package.open("rb"), lambda: handed.append(True)))
    assert (whole == package.read_bytes(), handed) == (True, [True])


def test_a_package_never_handed_over_goes_when_its_approval_expires(world: World) -> None:
    """UE-10-22 3.3, 3.5.6: the approval (7 days here) is the rector's instruction to keep
    the copy; past it the sweeper deletes the package, and an unfinished one a crash left
    (before: both stayed on the server for good)."""
    head, rector = world.login("head"), world.login("rector")
    done = _executed(head, rector)
    tid = done["id"]
    on_disk = world.svc.exports.path_of(world.svc.transfers.get(tid))
    unfinished_id = _approved(head, rector)
    unfinished = world.svc.exports.folder / \
        f"{package_folder(world.svc.transfers.get(unfinished_id))}.zip.part"
    unfinished.write_bytes(b"PK\3\4 cut short by a crash")
    sweeper = world.storage.sweeper
    assert sweeper.sweep(NOW + 7 * DAY_NS - 1).packages == 0  # the approval still runs
    assert on_disk.is_file()
    assert unfinished.is_file()
    assert sweeper.sweep(NOW + 7 * DAY_NS).packages == 2
    assert not on_disk.exists()
    assert not unfinished.exists()
    r = head.get(f"/api/transfers/{tid}").json()
    assert (r["package"]["on_server"], r["package"]["sha256"]) == (False,
                                                                   done["package"]["sha256"])
    assert _discards(world, tid) == [("system", {
        "number": done["number"], "sha256": done["package"]["sha256"],
        "reason": "approval expired", "file": on_disk.name})]
    [(actor, detail)] = _discards(world, unfinished_id)
    assert (actor, detail["reason"], detail["sha256"]) == ("system", "approval expired", None)
    assert sweeper.sweep(NOW + 8 * DAY_NS).packages == 0
    assert world.svc.audit.verify().first_bad_seq is None

