"""Disk pressure: the oldest unheld footage is shed, held footage never is, and a volume
full of held footage pauses recording (`storage full`) until space returns."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Kuzet, Storage, mount_tmpfs, unmount, wait_for
from kuzet.audit.log import Actor
from kuzet.governance.holds import Holds
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.storage.retention import DAY_NS
from kuzet.storage.volumes import VolumeState

MiB = 1024 * 1024
NOW = 1_800_000_000 * 10**9
RECTOR = Actor("rector", ("rector",), "127.0.0.1")  # the rector, as the API passes them on


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Path]:
    yield mount_tmpfs(tmp_path / "small", "16m")
    unmount(tmp_path / "small")


def test_shedding_takes_the_oldest_unheld_footage_across_cameras(storage: Storage,
                                                                  small: Path) -> None:
    """UE-10-22 3.3.7: a full disk sheds the oldest unheld footage, whichever camera it is."""
    vol = storage.volumes.add("small", small, floor=8 * MiB)
    storage.volumes.set_state("default", VolumeState.DRAINING)
    t0 = NOW - DAY_NS
    rows = []
    for i in range(6):  # gate and yard interleaved in time, 1 MiB each
        rows += storage.seed("gate", t0 + 2 * i * 60 * 10**9, 1, size=MiB, volume_id=vol.id)
        rows += storage.seed("yard", t0 + (2 * i + 1) * 60 * 10**9, 1, size=MiB,
                             volume_id=vol.id)
    assert storage.volumes.usage(vol).below_floor
    report = storage.sweeper.sweep(NOW)
    usage = storage.volumes.usage(vol)
    assert not usage.below_floor
    shed = report.deleted("disk pressure")
    assert 3 <= shed <= 6
    left = {r.start_ns for cam in ("gate", "yard")
            for r in storage.catalog.segments(storage.catalog.camera(cam).id)}
    assert left == {r.start_ns for r in rows[shed:]}  # exactly the oldest, across both cameras
    assert storage.rows(vol.id) == storage.files(vol.id)
    (alarm,) = [a for a in storage.alarms.list() if a.kind == "disk_pressure"]
    assert alarm.subject == "small"
    assert "days short" in alarm.message
    assert alarm.value is not None  # ~1 day kept of a 30-day policy
    assert 28 < alarm.value < 30

    # Everything now held: below the floor again, nothing is deleted, the volume is full.
    hold = storage.holds.request(["gate", "yard"], t0, NOW + DAY_NS, reason="incident",
                                 incident="П-2027/0009", by="head", now_ns=NOW)
    storage.holds.approve(hold.id, RECTOR, expires_ns=NOW + 30 * DAY_NS, now_ns=NOW)
    more = storage.seed("gate", NOW - 60 * 10**9, 4, size=MiB, volume_id=vol.id)
    assert storage.volumes.usage(vol).below_floor
    before = storage.rows(vol.id)
    report = storage.sweeper.sweep(NOW + 1)
    assert report.deleted() == 0
    assert storage.rows(vol.id) == before
    assert report.full_volumes == ["small"]
    full = [a for a in storage.alarms.list() if a.kind == "storage_full"]
    assert [(a.subject, a.severity) for a in full] == [("small", "critical")]
    with pytest.raises(SourceError) as err:
        storage.volumes.choose()
    assert err.value.cause is GapCause.STORAGE_FULL
    # The rector releases the hold: the next sweep sheds and recording may resume.
    storage.holds.release(hold.id, RECTOR, now_ns=NOW + 2)
    storage.sweeper.sweep(NOW + 3)
    assert not storage.volumes.usage(vol).below_floor
    assert storage.volumes.choose()[0] == vol.id
    assert not [a for a in storage.alarms.list() if a.kind == "storage_full"]
    assert more[-1].start_ns in {r.start_ns for r in storage.catalog.segments(more[0].camera_id)}


def test_recorder_pauses_on_a_volume_full_of_held_footage(kuzet: Kuzet, tmp_path: Path) -> None:
    vol = mount_tmpfs(tmp_path / "vol", "24m")
    try:
        kuzet.env.update(KUZET_SWEEP_INTERVAL_S="0.5", KUZET_SEGMENT_S="2")
        kuzet.run("volume", "add", "vol", str(vol), "--floor", "12M")
        kuzet.run("volume", "drain", "default")
        (vol / "filler.bin").write_bytes(b"\0" * (11 * MiB))  # ~1 MiB above the floor
        _, port = kuzet.sim()
        kuzet.run("camera", "add", "store", f"rtsp://127.0.0.1:{port}/cam01/main",
                  "--zone", "valuables")
        kuzet.run("hold", "request", "--camera", "store", "--from", "2026-01-01T00:00:00Z",
                  "--to", "2030-01-01T00:00:00Z", "--reason", "theft from the store",
                  "--incident", "П-2026/0017")
        # The rector decides in the console (no command does): the service the API calls.
        holds = Holds(kuzet.catalog(), 7)
        holds.approve(1, RECTOR, expires_ns=time.time_ns() + 365 * DAY_NS)
        serve = kuzet.serve()
        wait_for(lambda: kuzet.status().get("store", {}).get("state") == "storage_full", 60,
                 what="storage_full status")
        assert serve.poll() is None
        alarms = kuzet.json("alarms")
        assert [(a["kind"], a["severity"]) for a in alarms] == [("storage_full", "critical")]
        held = kuzet.json("recordings", "list", "store")
        assert held, "footage recorded before the volume filled is kept"
        assert kuzet.json("recordings", "gaps", "store")[-1]["cause"] == "storage_full"
        holds.release(1, RECTOR)
        released = time.time_ns()
        wait_for(lambda: any(r["start_ns"] > released for r in
                             kuzet.json("recordings", "list", "store")), 40,
                 what="recording after the hold was released")
        wait_for(lambda: not [a for a in kuzet.json("alarms") if a["kind"] == "storage_full"],
                 10, what="storage_full cleared")
        kinds = {a["kind"] for a in kuzet.json("alarms", "--all")}
        assert {"storage_full", "disk_pressure"} <= kinds
        deletions = kuzet.json("audit", "list", "--action", "recordings.delete")
        assert deletions
        assert all(d["detail"]["reason"] == "disk pressure" for d in deletions)
    finally:
        kuzet.close()
        unmount(vol)
