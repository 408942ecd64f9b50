"""Several volumes: the emptiest enabled one takes new segments, draining and removal, and a
volume that disappears is reported while its catalog rows are kept."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import Kuzet, Storage, mount_tmpfs, unmount
from kuzet.errors import Conflict
from kuzet.storage.retention import DAY_NS
from kuzet.storage.volumes import VolumeState

MiB = 1024 * 1024
NOW = 1_800_000_000 * 10**9


def test_new_segments_go_to_the_emptiest_enabled_volume(storage: Storage, tmp_path: Path) -> None:
    """UE-10-22 3.3.5: the recorder's volumes: the emptiest enabled one takes new segments."""
    big = mount_tmpfs(tmp_path / "big", "32m")
    little = mount_tmpfs(tmp_path / "little", "16m")
    try:
        storage.volumes.set_state("default", VolumeState.DRAINING)
        b = storage.volumes.add("big", big)
        lt = storage.volumes.add("little", little)
        assert storage.volumes.choose()[0] == b.id
        (big / "filler").write_bytes(b"\0" * (24 * MiB))
        assert storage.volumes.choose()[0] == lt.id
        storage.volumes.set_state("little", VolumeState.DRAINING)
        assert storage.volumes.choose()[0] == b.id
        with pytest.raises(Conflict, match="overlaps"):
            storage.volumes.add("inner", big / "sub")
        with pytest.raises(Conflict, match="drained before"):
            storage.volumes.set_state("big", VolumeState.REMOVED)
        storage.seed("gate", NOW - 40 * DAY_NS, 2, volume_id=lt.id)
        with pytest.raises(Conflict, match="still holds 2 segments"):
            storage.volumes.set_state("little", VolumeState.REMOVED)
        storage.sweeper.sweep(NOW)  # retention empties the drained volume...
        storage.volumes.set_state("little", VolumeState.REMOVED)  # ...which may then go
        assert [v.name for v in storage.catalog.volumes()] == ["default", "big"]
    finally:
        unmount(big)
        unmount(little)


def test_a_missing_volume_is_reported_and_its_rows_kept(kuzet: Kuzet, tmp_path: Path) -> None:
    """UE-10-22 3.3.7: a storage disk gone is reported, its rows kept until it returns."""
    if __import__("os").geteuid() != 0:
        pytest.skip("bind mounts need root (CI runs as root)")
    disk, mnt = tmp_path / "disk", tmp_path / "mnt"
    disk.mkdir()
    mnt.mkdir()
    subprocess.run(["mount", "--bind", str(disk), str(mnt)], check=True)
    try:
        kuzet.run("volume", "add", "archive", str(mnt))
        from conftest import Storage as _S  # in-process services over the same catalog

        st = _S(f"sqlite:///{kuzet.home / 'catalog.db'}", kuzet.home)
        vol = next(v for v in st.catalog.volumes() if v.name == "archive")
        rows = st.seed("gate", NOW - 40 * DAY_NS, 3, volume_id=vol.id)
        unmount(mnt)  # the disk goes away
        st.sweeper.sweep(NOW)  # everything is past retention, but the disk is not there
        assert len(st.catalog.segments(rows[0].camera_id)) == 3
        listed = kuzet.json("recordings", "list", "gate")
        assert [r["available"] for r in listed] == [False, False, False]
        (alarm,) = kuzet.json("alarms")
        assert alarm["kind"] == "volume_missing"
        assert "archive" in alarm["message"]
        volumes = {v["name"]: v for v in kuzet.json("volume", "list")}
        assert volumes["archive"]["present"] is False
        verify = kuzet.run("verify", "gate", check=False)
        assert verify.returncode == 1
        assert "volume is missing" in verify.stdout
        subprocess.run(["mount", "--bind", str(disk), str(mnt)], check=True)  # it returns
        st.sweeper.sweep(NOW + 1)
        assert st.catalog.segments(rows[0].camera_id) == []
        assert kuzet.json("alarms") == []
        # For a person, nothing is said in words (issue 21), not by an empty screen.
        assert kuzet.run("alarms").stdout == "no active alarms (--all lists cleared ones)\n"
        assert not list(disk.rglob("*.mp4"))
        st.close()
    finally:
        unmount(mnt)


def test_recovery_and_the_orphan_walk(storage: Storage) -> None:
    """Start-up reads only recent folders; the walk that follows finds every stranger."""
    from kuzet.storage.recovery import quarantine_orphans, recover

    rows = storage.seed("gate", NOW - 20 * DAY_NS, 3)
    root = storage.catalog.volume_path(storage.default_volume_id)
    (root / "lost+found").mkdir()  # a file system's own folder is not ours to move
    ghost = root / "ghost" / "2026" / "01" / "01" / "a.mp4"  # a camera this catalog lacks
    ghost.parent.mkdir(parents=True)
    ghost.write_bytes(b"x")
    stray = storage.catalog.path_of(rows[1]).with_name("20270101T000000.000000000Z.mp4")
    stray.write_bytes(b"y")
    report = recover(storage.catalog, storage.default_volume_id, now_ns=NOW)
    assert report.quarantined == ["ghost"]
    assert (root / "lost+found").is_dir()
    assert stray.exists()  # twenty days old: not a folder a crash can have left a file in
    report = quarantine_orphans(storage.catalog, storage.default_volume_id)
    assert report.quarantined == [str(stray.relative_to(root))]
    assert (root / ".quarantine" / stray.relative_to(root)).exists()
    assert storage.rows() == storage.files()
