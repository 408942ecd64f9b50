"""Where a package comes from (clauses 3.5.6 and 3.5.1): a package that agrees with itself
is not yet one this installation made. Each attack of the security review (issue 16,
items 3 and 4) is carried out on a real package of a real executed transfer and checked
through the real verifiers: `kuzet export verify` as a process against the catalog, and
the verify.py inside the package as a process outside Kuzet."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api_world import CAM, World
from footage import record
from kuzet.export.origin import Claim, origin_problems
from kuzet.governance.models import Transfer
from kuzet.signing import KEY_FILE, KNOWN_FILE, fingerprint, grouped, public_pem
from test_transfers import NOW, PDF, SPEC, T0, _approve, _execute, _package, _register, _upload

CLI = [sys.executable, "-m", "kuzet", "export", "verify"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the packages' origin (keys, signatures, the offline checker) is above
    the catalog, whose PostgreSQL path is tested where it matters."""
    return f"sqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture
def world(storage: Any, clip_cache: Path) -> World:
    w = World(storage, NOW, upload_max_bytes=4096)
    w.user("head", "head_of_security")
    w.user("rector", "rector")
    record(storage.catalog, clip_cache / "sim", SPEC, CAM, T0, 2)
    return w


def _executed(world: World, head: Any, rector: Any, tmp: Path) -> tuple[Path, dict[str, Any]]:
    """One transfer registered, approved and executed: (its .zip, the register's view)."""
    tid = _register(head, [CAM], 0, 8)["id"]
    assert _upload(head, tid, PDF, "application/pdf").status_code == 200
    assert _approve(rector, tid).status_code == 200
    r = _execute(head, tid)
    assert r.status_code == 200, r.text
    return _package(world, head, tid, tmp), dict(r.json())


def _entries(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as zf:
        return {i.filename.split("/", 1)[1]: zf.read(i) for i in zf.infolist()}


def _forge(package: Path, key: Ed25519PrivateKey, folder: str, **package_facts: Any) -> Path:
    """The attack: one byte of video flipped and its hash put in the manifest, the manifest
    re-signed with `key` and that key shipped, all under a new folder and file name."""
    entries = _entries(package)
    video = next(n for n in entries if n.endswith(".mp4"))
    data = bytearray(entries[video])
    data[len(data) // 2] ^= 0x01
    entries[video] = bytes(data)
    manifest = json.loads(entries["manifest.json"])
    manifest["files"][video] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest["package"].update(folder=folder, **package_facts)
    manifest["signature"]["fingerprint"] = fingerprint(key)
    body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    entries.update({"manifest.json": body, "manifest.sig": key.sign(body),
                    "public_key.pem": public_pem(key)})
    out = package.with_name(f"{folder}.zip")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, content in entries.items():
            zf.writestr(f"{folder}/{name}", content)
    return out


def _kuzet_verify(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    """`kuzet export verify` on this world's server: its data home and its catalog."""
    env = {**os.environ, "KUZET_HOME": str(world.settings.home),
           "KUZET_DATABASE_URL": str(world.settings.database_url)}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120)


def _verify_py(package: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The verify.py a genuine package carries, run as its recipient runs it: plain Python,
    no Kuzet installed, nothing from this test's environment on its path."""
    inner = package.parent / "verify.py"
    inner.write_bytes(_entries(package)["verify.py"])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-I", str(inner), str(package), *args],
                          capture_output=True, text=True, env=env, cwd=package.parent,
                          timeout=120)


def test_a_package_re_signed_with_a_fresh_key_is_not_ours(world: World, tmp_path: Path) -> None:
    path, done = _executed(world, world.login("head"), world.login("rector"), tmp_path)
    number = done["number"]
    # The attack: a byte of video changed, re-hashed, re-signed with a fresh key, renamed.
    forged = _forge(path, Ed25519PrivateKey.generate(), "kuzet-transfer-forged")
    run = _kuzet_verify(world, str(forged))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "not ours" in run.stdout
    assert "3.5.6" in run.stdout
    assert "3.5.1" in run.stdout
    assert "not the package that was handed over" in run.stdout
    assert "intact" not in run.stdout
    ok = _kuzet_verify(world, str(path))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact" in ok.stdout
    assert number in ok.stdout
    # The names are not what ties a package to the register: renamed, it is still ours.
    renamed = path.rename(tmp_path / "evidence.zip")
    ok = _kuzet_verify(world, str(renamed))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert number in ok.stdout, ok.stdout + ok.stderr
    with zipfile.ZipFile(renamed) as zf:
        zf.extractall(tmp_path / "unpacked")
    [inner] = (tmp_path / "unpacked").iterdir()
    folder = inner.rename(tmp_path / "unpacked" / "copy for the court")
    ok = _kuzet_verify(world, str(folder))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "manifest's SHA-256" in ok.stdout, ok.stdout + ok.stderr


def test_verify_py_without_the_act_says_origin_unproven(world: World, tmp_path: Path) -> None:
    path, done = _executed(world, world.login("head"), world.login("rector"), tmp_path)
    act_fp, act_sha = done["package"]["fingerprint"], done["package"]["sha256"]
    # The attack: the forgery carries its own key, and without the act that is all there is.
    forged = _forge(path, Ed25519PrivateKey.generate(), "kuzet-transfer-forged")
    run = _verify_py(forged)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "CONSISTENT, ORIGIN UNPROVEN" in run.stdout
    assert "БҮТІН" not in run.stdout
    assert "paper hand-over act" in run.stdout
    run = _verify_py(forged, "--fingerprint", grouped(act_fp))
    assert run.returncode == 1, run.stdout
    assert "NOT INTACT" in run.stdout, run.stdout
    assert "not by the key the hand-over act names" in run.stdout
    # The genuine package: unproven alone, intact with the act's fingerprint or hash.
    genuine = _verify_py(path)
    assert genuine.returncode == 3, genuine.stdout + genuine.stderr
    assert "ORIGIN UNPROVEN" in genuine.stdout
    assert "БҮТІН" not in genuine.stdout
    assert grouped(act_fp) in genuine.stdout  # printed as the act prints it
    for proof in (["--fingerprint", grouped(act_fp)], ["--sha256", act_sha]):
        run = _verify_py(path, *proof)
        assert run.returncode == 0, run.stdout
        assert "БҮТІН / ЦЕЛОСТЕН / INTACT" in run.stdout, run.stdout
    # The README walks the recipient to the act, in all three languages.
    readme = _entries(path)["README.txt"].decode()
    assert act_fp not in readme  # no self-proof inside
    assert grouped(act_fp) not in readme
    for line in ("Қолтаңба кілтінің саусақ ізі (Ed25519)", "Отпечаток ключа подписи (Ed25519)",
                 "Signing key fingerprint (Ed25519)"):  # as the hand-over act labels it
        assert line in readme
    assert readme.count("--fingerprint") == 3
    assert readme.count("ORIGIN UNPROVEN") == 3


def test_a_package_signed_with_our_key_but_not_registered_is_refused(
        world: World, tmp_path: Path) -> None:
    """What an insider with the key could make: footage changed and signed with the
    installation's own key, but never executed as a transfer, so not in the register."""
    path, done = _executed(world, world.login("head"), world.login("rector"), tmp_path)
    number = done["number"]
    ours = serialization.load_pem_private_key(
        (world.settings.home / "keys" / KEY_FILE).read_bytes(), password=None)
    assert isinstance(ours, Ed25519PrivateKey)
    forged = _forge(path, ours, "kuzet-transfer-copy")
    run = _kuzet_verify(world, str(forged))
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"differs from the one the register recorded for {number}" in run.stdout
    assert "not ours" not in run.stdout
    assert "intact" not in run.stdout
    unknown = number.rsplit("/", 1)[0] + "/9999"
    elsewhere = _forge(path, ours, "kuzet-transfer-other", number=unknown)
    run = _kuzet_verify(world, str(elsewhere))
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"names transfer {unknown}, which is not in this installation's register" in run.stdout
    assert "is not in the register either" in run.stdout
    # The genuine package with one byte added after it: not the file handed over.
    grown = tmp_path / "grown.zip"
    grown.write_bytes(path.read_bytes() + b"\0")
    run = _kuzet_verify(world, str(grown))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "SHA-256 differs" in run.stdout, run.stdout + run.stderr


def test_packages_signed_before_a_key_is_replaced_still_verify(
        world: World, tmp_path: Path) -> None:
    head, rector = world.login("head"), world.login("rector")
    first, done = _executed(world, head, rector, tmp_path)
    keys = world.settings.home / "keys"
    shutil.move(keys / KEY_FILE, tmp_path / "retired.pem")  # the key replaced by hand
    second, again = _executed(world, head, rector, tmp_path)
    assert again["package"]["fingerprint"] != done["package"]["fingerprint"]
    for package, facts in ((first, done), (second, again)):
        run = _kuzet_verify(world, str(package))
        assert run.returncode == 0, run.stdout + run.stderr
        assert facts["number"] in run.stdout, run.stdout + run.stderr
    # Struck from the record (a leaked key), a key's packages are no longer ours.
    record_file = keys / KNOWN_FILE
    text = record_file.read_text()
    start = text.index(f"fingerprint {grouped(done['package']['fingerprint'])}")
    end = text.index("-----END PUBLIC KEY-----", start) + len("-----END PUBLIC KEY-----\n")
    record_file.write_text(text[:start] + text[end:])
    run = _kuzet_verify(world, str(first))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "not ours" in run.stdout, run.stdout + run.stderr
    assert _kuzet_verify(world, str(second)).returncode == 0


def _transfer(tid: int, number: str, sha: str | None, fp: str) -> Transfer:
    return Transfer(id=tid, number=number, state="executed" if sha else "approved",
                    package_sha256=sha, manifest_sha256=sha and "m" + sha, key_fingerprint=fp)


def test_the_number_and_the_hash_must_name_the_same_transfer() -> None:
    key = Ed25519PrivateKey.generate()
    fp, body = fingerprint(key), b'{"format": "kuzet-export/1"}'
    claim = Claim("T/0001", 1, fp, body, key.sign(body), "aa")
    keys = {fp: key.public_key()}
    one, two = _transfer(1, "T/0001", "aa", fp), _transfer(2, "T/0002", "bb", fp)
    assert origin_problems(claim, keys, one, one) == []
    [swapped] = origin_problems(claim, keys, two, one)
    assert "names transfer T/0002, but the register recorded this package's" in swapped
    [pending] = origin_problems(claim, keys, _transfer(1, "T/0001", None, fp), None)
    assert "has no package in the register (it is approved)" in pending
    [bad_sig] = origin_problems(Claim("T/0001", 1, fp, body + b" ", key.sign(body), "aa"),
                                keys, one, one)
    assert "does not verify under this installation's key" in bad_sig
    [renumbered] = origin_problems(Claim("T/0001", 7, fp, body, key.sign(body), "aa"),
                                   keys, one, one)
    assert "transfer id 7" in renumbered
