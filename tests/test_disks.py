"""Storage (UE-10-22 3.3.7) and servers (3.3.5) kept in order (issue 22): disks' SMART
health from smartctl's JSON, software RAID from /proc/mdstat, and this server's load,
memory and temperature, each alarm raised and cleared on a real catalog.

This machine has no SMART disk and its kernel no md driver, so smartctl's and the md
driver's answers are fixtures written to their formats (tests/fixtures/smart, .../mdstat):
the only parse-only tests. The real smartctl (Debian's smartmontools) is run where
installed, against devices it cannot read; the server's health is read from this
machine's /proc; the free-space alarms of a volume filled are tests/test_pressure.py's (a tmpfs)."""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from conftest import Kuzet, Storage, stop, wait_for
from kuzet.catalog.alarms import Alarms
from kuzet.config import Settings
from kuzet.equipment import raid, smart
from kuzet.equipment.diskwatch import DiskWatch
from kuzet.equipment.fields import Kind, Passport
from kuzet.equipment.register import Register
from kuzet.equipment.serverhealth import (
    SUSTAIN_POLLS,
    Limits,
    Reading,
    decide,
    parse_meminfo,
    sample,
    temperatures,
)
from kuzet.equipment.serverwatch import ServerWatch

FIXTURES = Path(__file__).parent / "fixtures"
MiB = 1024 * 1024
NOW = 1_800_000_000 * 10**9


def smartctl_said(name: str) -> tuple[int, str]:
    """A fixture as smartctl would answer it: its exit status and its JSON."""
    text = (FIXTURES / "smart" / f"{name}.json").read_text()
    return int(json.loads(text)["smartctl"]["exit_status"]), text


def health(name: str) -> smart.Health:
    code, text = smartctl_said(name)
    return smart.parse(f"/dev/{name}", code, text)


def arrays_of(name: str) -> str:
    """A fixture's arrays, without its first and last lines (personalities, unused)."""
    return "".join((FIXTURES / "mdstat" / name).read_text().splitlines(keepends=True)[1:-1])


def test_smartctl_json_is_read_and_judged() -> None:
    """3.3.7: each disk smartctl describes, read and judged: healthy SATA and NVMe disks
    raise nothing; sectors, a failed assessment and self-test, heat and wear each theirs."""
    ok = health("sata-healthy")
    assert (ok.passed, ok.reallocated, ok.pending, ok.uncorrectable) == (True, 0, 0, 0)
    assert (ok.temperature_c, ok.model) == (35, "WDC WD40PURZ-85AKKY0")
    assert (ok.self_test, ok.self_test_failed) == ("Completed without error", False)
    assert smart.decide("disk-a", "/dev/sda", ok, None, 55) == []

    worn = health("sata-sectors")
    assert (worn.passed, worn.reallocated, worn.pending, worn.uncorrectable) == (True, 16, 8, 8)
    (c,) = smart.decide("disk-b", "/dev/sdb", worn, None, 55)
    assert c.kind == "disk_sectors"
    assert c.message == ("disk disk-b (/dev/sdb): 16 reallocated, 8 pending, "
                         "8 offline-uncorrectable sectors")
    (c,) = smart.decide("disk-b", "/dev/sdb", worn, ok, 55)
    assert c.message.endswith("(32 more since the last check)")

    failed = health("sata-failed")
    assert failed.passed is False
    assert failed.failing_attributes == ("Reallocated_Sector_Ct",)
    assert (failed.self_test, failed.self_test_failed) == ("Completed: read failure", True)
    said = {c.kind: c.message for c in smart.decide("disk-c", "/dev/sdc", failed, None, 55)}
    assert sorted(said) == ["disk_failing", "disk_sectors"]
    assert said["disk_failing"] == (
        "disk disk-c (/dev/sdc): SMART's overall assessment failed; Reallocated_Sector_Ct at "
        "or below threshold; the last self-test failed (Completed: read failure): copy its "
        "footage off and replace it")
    assert smart.SEVERITY["disk_failing"].value == "critical"

    hot = health("sata-hot")
    assert hot.temperature_c == 61  # not the attribute's packed raw value
    (c,) = smart.decide("disk-d", "/dev/sdd", hot, None, 55)
    assert (c.kind, c.message) == ("disk_hot", "disk disk-d (/dev/sdd): 61 °C (more than 55 °C)")
    assert smart.decide("disk-d", "/dev/sdd", hot, None, 65) == []

    nvme = health("nvme-healthy")
    assert (nvme.passed, nvme.critical_warning, nvme.media_errors, nvme.percentage_used,
            nvme.temperature_c, nvme.reallocated) == (True, 0, 0, 12, 41, None)
    assert smart.decide("ssd-1", "/dev/nvme0", nvme, None, 55) == []
    tired = health("nvme-worn")
    said = {c.kind: c.message for c in smart.decide("ssd-2", "/dev/nvme1", tired, nvme, 55)}
    assert sorted(said) == ["disk_failing", "disk_sectors"]
    assert "NVMe critical warning 0x05" in said["disk_failing"]
    assert said["disk_sectors"] == ("disk ssd-2 (/dev/nvme1): 3 media errors (3 more since "
                                    "the last check); 103 % of its rated endurance used")


def test_smartctl_that_read_nothing_is_said_and_never_a_crash() -> None:
    """3.3.7: an exit status with bit 0 or 1 set (the device not opened), output cut
    short, or JSON without SMART data: a SmartError saying why, and disk_unreadable."""
    code, text = smartctl_said("sata-open-failed")
    with pytest.raises(smart.SmartError) as said:
        smart.parse("/dev/sde", code, text)
    assert str(said.value) == (
        "smartctl could not read /dev/sde: Smartctl open device: /dev/sde failed: Permission "
        "denied (reading a disk's SMART data needs root, or CAP_SYS_RAWIO)")
    (c,) = smart.decide("disk-e", "/dev/sde", said.value, None, 55)
    assert (c.kind, c.message) == ("disk_unreadable", f"disk disk-e (/dev/sde): {said.value}")
    code, text = smartctl_said("sata-healthy")
    with pytest.raises(smart.SmartError, match="gave no JSON"):
        smart.parse("/dev/sda", code, text[:700])  # cut short
    with pytest.raises(smart.SmartError, match="did not identify itself"):
        smart.parse("/dev/sda", 2, '{"smartctl": {"exit_status": 2}}')
    with pytest.raises(smart.SmartError, match="read no SMART data"):
        smart.parse("/dev/sda", 4, '{"smartctl": {"exit_status": 4}, "device": {}}')
    with pytest.raises(smart.SmartError, match="not an object"):
        smart.parse("/dev/sda", 0, "[]")
    # bits above the first two still come with what was read: a failing disk is read whole
    assert health("sata-failed").reallocated == 4090


def test_mdstat_is_read_and_judged() -> None:
    """3.3.7: /proc/mdstat as the md driver writes it: a healthy mirror raises nothing, a
    member gone or failed raid_degraded, a recovery raid_rebuilding with how far and how
    long; the monthly check and a firmware RAID container nothing."""
    def arrays(name: str) -> list[raid.Array]:
        return raid.parse((FIXTURES / "mdstat" / name).read_text())

    (md0,) = arrays("raid1-healthy")
    assert (md0.name, md0.level, md0.active, md0.wanted, md0.up, md0.slots) == (
        "md0", "raid1", True, 2, 2, "UU")
    assert [(m.device, m.slot) for m in md0.members] == [("sdb1", 1), ("sda1", 0)]
    assert raid.decide("array-1", md0) == []

    (md0,) = arrays("raid1-degraded")
    (c,) = raid.decide("array-1", md0)
    assert (c.kind, c.message) == ("raid_degraded", "array array-1 (md0) (raid1) is degraded: "
                                   "1 of 2 members working [U_]")

    (md0,) = arrays("raid1-recovery")
    assert md0.progress == raid.Progress("recovery", 23.4, 249.2 * 60, 200076)
    said = {c.kind: c.message for c in raid.decide("md0", md0)}
    assert sorted(said) == ["raid_degraded", "raid_rebuilding"]
    assert said["raid_rebuilding"] == ("array md0: recovery 23.4 % done, about 4.2 h left at "
                                       "195 MiB/s")

    (md1,) = arrays("raid5-failed")
    assert md1.failed == ("sdf1",)
    (c,) = raid.decide("md1", md1)
    assert c.message == ("array md1 (raid5) is degraded: failed: sdf1; 2 of 3 members "
                         "working [UU_]")
    assert raid.SEVERITY["raid_degraded"].value == "critical"

    found = {a.name: a for a in arrays("scrub-and-delayed")}
    assert list(found) == ["md126", "md127", "md0", "md2"]
    assert found["md127"].container
    assert not found["md127"].active
    assert raid.decide("md127", found["md127"]) == []
    assert raid.decide("md126", found["md126"]) == []
    assert found["md0"].progress is not None
    assert found["md0"].progress.action == "check"
    assert raid.decide("md0", found["md0"]) == []
    (c,) = raid.decide("md2", found["md2"])
    assert (c.kind, c.message) == ("raid_rebuilding", "array md2: a resync is waiting to start")
    assert raid.parse("") == []
    assert raid.parse("Personalities : \nunused devices: <none>\n") == []


def test_disks_and_arrays_raise_and_clear_their_alarms(storage: Storage, tmp_path: Path) -> None:
    """3.3.7: the storage watch on a real catalog: a disk's alarms follow what smartctl
    says, each opening and closing a fault in the disk's register entry; an unreadable
    disk leaves its other alarms as they were; an array degraded, rebuilding and whole."""
    alarms = Alarms(storage.catalog.session)
    register = Register(storage.catalog.session)
    for item in ("disk-a", "disk-b", "array-1"):
        register.add(Kind.STORAGE, item, Passport({}), by="it")
    alarms.listen(register.on_alarm)
    said = {"/dev/sda": "sata-healthy", "/dev/sdb": "nvme-healthy"}
    mdstat = tmp_path / "mdstat"
    shutil.copy(FIXTURES / "mdstat" / "raid1-healthy", mdstat)
    watch = DiskWatch({"disk-a": "/dev/sda", "disk-b": "/dev/sdb"}, {"array-1": "md0"},
                      alarms, run=lambda device: smartctl_said(said[device]), mdstat=mdstat)

    def now(subject: str) -> list[str]:
        return sorted(a.kind for a in alarms.list() if a.subject == subject)

    watch.poll()
    assert alarms.list() == []
    assert watch.status()["disks"]["disk-a"]["temperature_c"] == 35
    assert watch.status()["arrays"]["array-1"]["slots"] == "UU"
    said["/dev/sda"] = "sata-sectors"
    watch.poll()
    assert now("disk-a") == ["disk_sectors"]
    assert register.item("disk-a").state == "faulty"
    said["/dev/sda"] = "sata-failed"
    watch.poll()
    assert now("disk-a") == ["disk_failing", "disk_sectors"]
    (sectors,) = [a for a in alarms.list() if a.kind == "disk_sectors"]
    assert "(4668 more since the last check)" in sectors.message
    said["/dev/sda"] = "sata-open-failed"  # nothing known: the others stay
    watch.poll()
    assert now("disk-a") == ["disk_failing", "disk_sectors", "disk_unreadable"]
    said["/dev/sda"] = "sata-hot"  # the disk replaced, in a warm cabinet
    watch.poll()
    assert now("disk-a") == ["disk_hot"]
    said["/dev/sdb"] = "nvme-worn"
    shutil.copy(FIXTURES / "mdstat" / "raid1-degraded", mdstat)
    watch.poll()
    assert now("disk-b") == ["disk_failing", "disk_sectors"]
    (degraded,) = [a for a in alarms.list() if a.subject == "array-1"]
    assert (degraded.kind, degraded.severity) == ("raid_degraded", "critical")
    shutil.copy(FIXTURES / "mdstat" / "raid1-recovery", mdstat)
    watch.poll()
    assert now("array-1") == ["raid_degraded", "raid_rebuilding"]
    # a second array appears, not in the register: judged under its md name
    mdstat.write_text("Personalities : [raid1] [raid6] [raid5] [raid4]\n"
                      + arrays_of("raid1-recovery") + arrays_of("raid5-failed")
                      + "unused devices: <none>\n")
    watch.poll()
    assert now("md1") == ["raid_degraded"]
    said.update({"/dev/sda": "sata-healthy", "/dev/sdb": "nvme-healthy"})
    shutil.copy(FIXTURES / "mdstat" / "raid1-healthy", mdstat)
    watch.poll()
    assert alarms.list() == []
    assert {(a.kind, a.subject) for a in alarms.list(active_only=False)} == {
        ("disk_sectors", "disk-a"), ("disk_failing", "disk-a"), ("disk_unreadable", "disk-a"),
        ("disk_hot", "disk-a"), ("disk_failing", "disk-b"), ("disk_sectors", "disk-b"),
        ("raid_degraded", "array-1"), ("raid_rebuilding", "array-1"), ("raid_degraded", "md1")}
    faults = [e for e in register.history("disk-a") if e.kind == "fault"]
    assert len(faults) == 4
    assert not any(e.open for e in faults)
    assert register.item("disk-a").state == "in_service"
    # a watch started again finds the alarms it left open, to clear them
    said["/dev/sda"] = "sata-hot"
    watch.poll()
    again = DiskWatch({"disk-a": "/dev/sda"}, {}, alarms,
                      run=lambda device: smartctl_said("sata-healthy"), mdstat=mdstat)
    again.poll()
    assert alarms.list() == []


def test_no_md_driver_is_nothing_to_check_but_a_named_array_is_missed(
        storage: Storage, tmp_path: Path) -> None:
    """3.3.7: without /proc/mdstat (this machine's kernel) nothing is checked and nothing
    raised; an array the settings name is then not running, and said so."""
    alarms = Alarms(storage.catalog.session)
    DiskWatch({}, {}, alarms).poll()  # this machine's own /proc/mdstat
    if not Path(raid.MDSTAT).exists():
        assert alarms.list() == []
    DiskWatch({}, {}, alarms, mdstat=tmp_path / "none").poll()
    assert alarms.list() == []
    watch = DiskWatch({}, {"array-1": "md0"}, alarms, mdstat=tmp_path / "none")
    watch.poll()
    (missing,) = alarms.list()
    assert (missing.kind, missing.subject, missing.message) == (
        "raid_degraded", "array-1",
        "array array-1 (md0) is not running: no /proc/mdstat: the md driver is not loaded")
    shutil.copy(FIXTURES / "mdstat" / "raid1-healthy", tmp_path / "none")
    watch.poll()
    assert alarms.list() == []


def test_a_missing_smartctl_is_a_clear_alarm(storage: Storage, tmp_path: Path) -> None:
    """3.3.7: smartctl not installed is `disk_unreadable` saying so, never a crash."""
    alarms = Alarms(storage.catalog.session)
    absent = tmp_path / "sbin" / "smartctl"
    watch = DiskWatch({"disk-a": "/dev/sda"}, {}, alarms,
                      run=functools.partial(smart.run_smartctl, program=str(absent)),
                      mdstat=tmp_path / "mdstat")
    watch.poll()
    (alarm,) = alarms.list()
    assert (alarm.kind, alarm.subject, alarm.severity) == ("disk_unreadable", "disk-a",
                                                           "warning")
    assert alarm.message == (f"disk disk-a (/dev/sda): smartctl is not installed ({absent} "
                             "not found; Debian: smartmontools)")
    assert watch.status()["disks"]["disk-a"]["error"].startswith("smartctl is not installed")


def test_the_real_smartctl_on_devices_it_cannot_read(storage: Storage, tmp_path: Path) -> None:
    """3.3.7: Debian's smartctl run against devices that have no SMART (the null device, a
    plain file, a missing device): `disk_unreadable` with smartctl's own reason."""
    if not Path(smart.smartctl_program()).exists():
        pytest.skip("smartctl is not installed (scripts/test.sh installs smartmontools)")
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(MiB))
    alarms = Alarms(storage.catalog.session)
    disks = {"null": "/dev/null", "file": str(image), "gone": "/dev/kuzet-no-such-disk"}
    watch = DiskWatch(disks, {}, alarms, mdstat=tmp_path / "mdstat")
    watch.poll()
    said = {a.subject: a.message for a in alarms.list() if a.kind == "disk_unreadable"}
    assert sorted(said) == sorted(disks)
    for name, device in disks.items():
        assert said[name].startswith(f"disk {name} ({device}): smartctl could not read "
                                     f"{device}: "), said[name]
    assert said["null"].endswith("/dev/null: Unable to detect device type")
    code, text = smart.run_smartctl("/dev/null")
    assert code & smart.NOT_RUN  # as smartctl(8) documents: the device type unknown
    assert json.loads(text)["smartctl"]["exit_status"] == code


def test_the_servers_health_is_read_from_this_machine_and_alarms_follow(
        storage: Storage) -> None:
    """3.3.5: this server's load and memory read from the real /proc; server_load raised
    only after SUSTAIN_POLLS polls over its limit and server_memory at once, both cleared
    when the limits allow the same machine."""
    reading = sample()
    total, available = parse_meminfo(Path("/proc/meminfo").read_text())
    assert reading.memory_total_bytes == total
    assert total is not None
    assert available is not None
    assert 0 < available <= total
    assert reading.cores == os.cpu_count()
    assert abs(reading.load_1m - os.getloadavg()[0]) < 1
    alarms = Alarms(storage.catalog.session)
    register = Register(storage.catalog.session)
    register.add(Kind.SERVER, "rec-1", Passport({}), by="it")
    alarms.listen(register.on_alarm)
    watch = ServerWatch("rec-1", Limits(load_per_core=0.0, memory_percent=100.0), alarms)

    def now() -> dict[str, str]:
        watch.poll()
        return {a.kind: a.message for a in alarms.list() if a.subject == "rec-1"}

    assert list(now()) == ["server_memory"]  # below 100 % available: at once
    for _ in range(SUSTAIN_POLLS - 2):
        assert "server_load" not in now()
    said = now()  # the third poll over the limit
    assert sorted(said) == ["server_load", "server_memory"]
    assert said["server_load"].startswith("server rec-1: load ")
    assert f"on {os.cpu_count()} cores" in said["server_load"]
    assert "% of memory available" in said["server_memory"]
    assert register.item("rec-1").state == "faulty"
    status = watch.status()
    assert status is not None
    assert status["cores"] == os.cpu_count()
    assert 0 < status["memory_available_percent"] <= 100
    watch.limits = Limits(load_per_core=1000.0, memory_percent=0.0)
    assert now() == {}
    assert register.item("rec-1").state == "in_service"


def test_kuzet_serve_watches_its_disks_and_itself(kuzet: Kuzet) -> None:
    """3.3.5, 3.3.7: `kuzet serve` runs the storage and server watches: a disk it cannot
    read and its own load past a limit of 0 are alarms about their register items, and
    the status file carries both watches' last readings."""
    kuzet.env.update({"KUZET_SERVER_NAME": "rec-1", "KUZET_SERVER_POLL_S": "1",
                      "KUZET_SERVER_LOAD_ALARM": "0",
                      "KUZET_DISKS": json.dumps({"disk-a": "/dev/kuzet-no-such-disk"})})
    serve = kuzet.serve()

    def alarmed() -> dict[str, str] | None:
        said = {a["kind"]: a["subject"] for a in kuzet.json("alarms")}
        return said if {"server_load", "disk_unreadable"} <= set(said) else None

    said = wait_for(alarmed, 30, 0.5, what="the server's and the disk's alarms")
    assert (said["server_load"], said["disk_unreadable"]) == ("rec-1", "disk-a")

    def status() -> dict[str, Any] | None:  # written every second; the readings once polled
        path = kuzet.home / "run" / "status.json"
        doc: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        return doc if doc.get("server") and doc.get("disks", {}).get("disks") else None

    doc = wait_for(status, 10, 0.5, what="the watches' readings in status.json")
    assert doc["server"]["cores"] == os.cpu_count()
    assert doc["server"]["limits"]["load_per_core"] == 0
    assert "error" in doc["disks"]["disks"]["disk-a"]
    stop(serve)


def test_the_hottest_sensor_is_read_from_sysfs(tmp_path: Path) -> None:
    """3.3.5: temperatures where the kernel shows them (thermal zones, hwmon chips, in
    millidegrees); a sensor that cannot be read or reads a placeholder is left out; the
    hottest above the limit is server_hot. This machine has none: no reading, no alarm."""
    zone = tmp_path / "class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("x86_pkg_temp\n")
    (zone / "temp").write_text("91000\n")
    chip = tmp_path / "class/hwmon/hwmon2"
    chip.mkdir(parents=True)
    (chip / "name").write_text("coretemp\n")
    (chip / "temp1_input").write_text("64500\n")
    (chip / "temp1_label").write_text("Core 0\n")
    (chip / "temp2_input").write_text("-273000\n")  # a placeholder
    (chip / "temp3_input").write_text("")  # EINVAL-like: nothing to read
    found = temperatures(tmp_path)
    assert found == {"thermal_zone0 x86_pkg_temp": 91.0, "coretemp Core 0": 64.5}
    reading = Reading(0.5, 4, 8 << 30, 4 << 30, 91.0, "thermal_zone0 x86_pkg_temp")
    (c,) = decide("rec-1", reading, 0, Limits())
    assert (c.kind, c.message) == ("server_hot", "server rec-1: thermal_zone0 x86_pkg_temp "
                                   "at 91 °C (more than 85 °C)")
    assert decide("rec-1", reading, 0, Limits(hot_c=95)) == []
    hottest = sample(sys_root=tmp_path)
    assert (hottest.temperature_c, hottest.sensor) == (91.0, "thermal_zone0 x86_pkg_temp")
    assert sample(sys_root=tmp_path / "none").temperature_c is None


def test_the_disk_and_server_settings_are_checked() -> None:
    """3.3.5, 3.3.7: disks are devices, arrays md devices (either spelling), each named once."""
    s = Settings(disks={"disk-a": "/dev/disk/by-id/ata-WDC_WD40PURZ"},
                 arrays={"array-1": "/dev/md0", "array-2": "md127"})
    assert s.arrays == {"array-1": "md0", "array-2": "md127"}
    assert (s.disk_poll_s, s.disk_hot_alarm_c, s.server_poll_s, s.server_load_alarm,
            s.server_memory_alarm_percent, s.server_hot_alarm_c) == (300, 55, 10, 2.0, 5.0, 85)
    for bad, why in (({"disks": {"disk-a": "sda"}}, "a device under /dev/"),
                     ({"arrays": {"array-1": "sda1"}}, "an md device"),
                     ({"arrays": {"a": "md0", "b": "/dev/md0"}}, "the same md array"),
                     ({"disk_hot_alarm_c": 5}, "greater than or equal to 20")):
        with pytest.raises(ValidationError, match=why):
            Settings(**bad)


def test_a_volume_writing_slower_than_the_cameras_need_is_warned_of(storage: Any) -> None:
    """3.3.7: each enabled volume written a real probe file (fsync'd), its rate set
    against what the cameras recording send: under the margin a `volume_slow` warning,
    cleared when fast enough again, and when the volume no longer takes segments."""
    from kuzet.equipment.throughput import PROBE, SLOW, WriteWatch, slow
    from kuzet.storage.volumes import VolumeState

    statuses = {"gate": {"state": "recording", "bitrate_bps": 800_000},  # 0.1 MB/s
                "hall": {"state": "reconnecting", "bitrate_bps": 8_000_000}}
    watch = WriteWatch(storage.volumes, lambda: statuses, storage.alarms, 1 << 20, 1e6)

    def warned() -> list[str]:
        watch.poll()
        return [a.message for a in storage.alarms.list() if a.kind == SLOW]

    (said,) = warned()  # no disk writes 10^6 times 0.1 MB/s
    assert said.startswith("volume default: writes ")
    assert said.endswith("MB/s, the cameras send 0.1 MB/s (wanted 1e+06 times that)")
    assert watch.status_part()["default"]["bytes_per_s"] > 100_000
    assert not (Path(storage.catalog.volume_path(storage.default_volume_id)) / PROBE).exists()
    watch.margin = 1.0  # any disk writes 0.1 MB/s
    assert warned() == []
    watch.margin = 1e6
    assert len(warned()) == 1
    storage.volumes.set_state("default", VolumeState.DRAINING)
    assert warned() == []  # it takes no new segments: nothing to keep up with
    assert slow("v", 3e6, 1e6, 3.0) is None
