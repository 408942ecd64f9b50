"""An export package stays on the server only until it is handed over, and at the latest
until its transfer's approval expires (UE-10-22 3.3, 3.5.1, 3.5.6). Handed over means
received: the executor confirms receipt by the SHA-256 of the copy they hold, which
deletes the server's copy; a download, whole or cut short, by whoever may execute,
deletes nothing; a confirmation from another account or with a wrong hash is refused
and changes nothing; the storage sweeper deletes one never confirmed when the approval
expires. The register keeps its hashes and `kuzet export verify` still ties the copy
handed over to it. Through the API over real recorded footage, on SQLite and PostgreSQL,
and once through a real HTTPS server whose download is cut short."""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_world import CAM, PASSWORD, World
from conftest import SQLITE_ONLY
from footage import record
from kuzet.export.execute import package_folder
from kuzet.storage.retention import DAY_NS
from test_transfers import NOW, PDF, SPEC, T0, _approve, _execute, _package, _register, _upload


@pytest.fixture
def world(storage: Any, clip_cache: Path) -> World:
    w = World(storage, NOW, upload_max_bytes=4096, https_port=0, http_redirect_port=None)
    w.user("head", "head_of_security")
    w.user("admin", "administrator")
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


def _on_server(c: Any, tid: int) -> bool:
    return bool(c.get(f"/api/transfers/{tid}").json()["package"]["on_server"])


def test_a_package_leaves_the_server_once_its_executor_confirms_receipt(
        world: World, tmp_path: Path) -> None:
    """UE-10-22 3.3, 3.5.6: downloads, whole, by the executor or another account that may
    execute, delete nothing; another account's confirmation is refused (3.5.6), a wrong
    hash too, each changing nothing; the executor's confirmation with the package's hash
    deletes the server's copy, audited with the hash and who confirmed. Before: the first
    complete download, anyone's, deleted it as its last byte was queued."""
    head, admin, rector = world.login("head"), world.login("admin"), world.login("rector")
    done = _executed(head, rector)
    tid, sha = done["id"], done["package"]["sha256"]
    on_disk = world.svc.exports.path_of(world.svc.transfers.get(tid))
    copy = _package(world, head, tid, tmp_path)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == sha
    assert _package(world, admin, tid, tmp_path).read_bytes() == copy.read_bytes()
    assert on_disk.is_file()
    assert _on_server(head, tid)
    assert _discards(world, tid) == []
    # Another account than the executor's, even holding export.execute: refused, audited.
    r = admin.post(f"/api/transfers/{tid}/received", json={"sha256": sha})
    assert r.status_code == 403
    assert r.json()["detail"] == (
        f"refused: receipt of the package of {done['number']} confirmed by admin; only head, "
        "who executed the transfer and hands the package to its recipient, confirms it "
        "(UE-10-22 3.5.6)")
    assert _discards(world, tid) == [("admin", {
        "roles": ["administrator"], "source": "127.0.0.1", "outcome": "refused",
        "number": done["number"], "reason": r.json()["detail"]})]
    # A hash not the package's: refused, naming the clause.
    wrong = hashlib.sha256(copy.read_bytes()[:-1]).hexdigest()
    r = head.post(f"/api/transfers/{tid}/received", json={"sha256": wrong})
    assert r.status_code == 409
    assert r.json()["detail"].startswith(f"refused: SHA-256 {wrong} is not that of the "
                                         f"package of {done['number']}")
    assert r.json()["detail"].endswith("(UE-10-22 3.5.6)")
    assert head.post(f"/api/transfers/{tid}/received",
                     json={"sha256": "not a hash"}).status_code == 422
    # Nothing changed by any refusal.
    assert on_disk.is_file()
    assert _on_server(head, tid)
    assert len(_discards(world, tid)) == 1
    # The executor's confirmation with the package's hash (as sha256sum prints it, in any
    # case) is the hand-over: the server's copy goes, its hashes stay in the register.
    r = head.post(f"/api/transfers/{tid}/received", json={"sha256": sha.upper()})
    assert r.status_code == 200, r.text
    assert (r.json()["package"]["on_server"], r.json()["package"]["sha256"]) == (False, sha)
    assert not on_disk.exists()
    assert _discards(world, tid)[1] == ("head", {
        "roles": ["head_of_security"], "source": "127.0.0.1", "outcome": "allowed",
        "number": done["number"], "reason": "handed over", "sha256": sha})
    again = head.get(f"/api/transfers/{tid}/package")
    assert again.status_code == 404
    assert again.json()["detail"].startswith("refused: ")
    assert "its receipt was confirmed" in again.json()["detail"]
    assert again.json()["detail"].endswith("(UE-10-22 3.3)")
    r = head.post(f"/api/transfers/{tid}/received", json={"sha256": sha})
    assert r.status_code == 409
    assert r.json()["detail"].endswith("(UE-10-22 3.3)")
    assert len(_discards(world, tid)) == 2
    # The copy handed over is still this installation's, by the register's hashes.
    env = {**os.environ, "KUZET_HOME": str(world.settings.home),
           "KUZET_DATABASE_URL": str(world.settings.database_url)}
    run = subprocess.run([sys.executable, "-m", "kuzet", "export", "verify", str(copy)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert done["number"] in run.stdout
    # A package not to be handed over is discarded by hand, by whoever may execute.
    other = _executed(head, rector)
    r = admin.delete(f"/api/transfers/{other['id']}/package")
    assert r.status_code == 200
    assert r.json()["package"]["on_server"] is False
    [(actor, detail)] = _discards(world, other["id"])
    assert (actor, detail["reason"]) == ("admin", "discarded")
    assert world.svc.audit.verify().first_bad_seq is None


@SQLITE_ONLY
def test_a_download_cut_short_deletes_nothing(world: World) -> None:
    """UE-10-22 3.3: over a real HTTPS server, a download whose reader reads a little and
    hangs up leaves the package on the server, downloadable again whole (before: the
    server deleted it once its last byte was queued, whether or not it arrived)."""
    head, rector = world.login("head"), world.login("rector")
    done = _executed(head, rector)
    tid, size = done["id"], done["package"]["bytes"]
    with world.served() as base, httpx.Client(
            base_url=base, timeout=60,
            verify=ssl.create_default_context(cafile=world.settings.cert_path)) as c:
        r = c.post("/api/auth/login", json={"username": "head", "password": PASSWORD,
                                            "totp": world.code("head")})
        assert r.status_code == 200, r.text
        with c.stream("GET", f"/api/transfers/{tid}/package") as cut:
            assert cut.status_code == 200
            assert int(cut.headers["content-length"]) == size
            first = next(cut.iter_raw(4096))
            assert 0 < len(first) < size
        assert world.svc.exports.path_of(world.svc.transfers.get(tid)).is_file()
        assert c.get(f"/api/transfers/{tid}").json()["package"]["on_server"] is True
        whole = c.get(f"/api/transfers/{tid}/package")
        assert hashlib.sha256(whole.content).hexdigest() == done["package"]["sha256"]
    assert _discards(world, tid) == []
    assert len([e for e in world.audit("transfer.package_download")
                if e.subject == f"transfer/{tid}"]) == 2


def test_a_package_never_handed_over_goes_when_its_approval_expires(
        world: World, tmp_path: Path) -> None:
    """UE-10-22 3.3, 3.5.6: the approval (7 days here) is the rector's instruction to keep
    the copy; past it the sweeper deletes a package downloaded whole but never confirmed
    received, and an unfinished one a crash left (before: both stayed on the server for
    good)."""
    head, rector = world.login("head"), world.login("rector")
    done = _executed(head, rector)
    tid = done["id"]
    on_disk = world.svc.exports.path_of(world.svc.transfers.get(tid))
    _package(world, head, tid, tmp_path)  # downloaded whole, never confirmed
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
