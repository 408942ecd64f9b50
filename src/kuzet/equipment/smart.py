"""Disks' SMART health through smartctl (UE-10-22 3.3.7: the storage means are kept in
order; issue 22).

Footage lives on disks that wear out; a disk that starts to reallocate sectors or fails a
self-test gives weeks of notice, and a RAID member that dies unnoticed leaves an array
one failure from losing the archive. Kuzet asks smartmontools' `smartctl --json=c -a`
(7.x's JSON, the same for ATA, SCSI and NVMe) about each disk of the setting `disks`
(register item name -> device) and keeps four alarms per disk, subject its item:

- `disk_failing` (critical): SMART's overall assessment failed, a pre-failure attribute is
  at or below its threshold now, NVMe's critical warning (other than temperature), or the
  last self-test failed: copy the footage off and replace the disk;
- `disk_sectors` (warning): the medium wears: reallocated, pending or offline-uncorrectable
  sectors (NVMe: media errors, or its rated endurance used up), with their growth since
  the last check;
- `disk_hot` (warning): above `disk_hot_alarm_c` (55 °C by default: most drives are rated
  to 60 °C, and their failure rate climbs past 50 °C);
- `disk_unreadable` (warning): smartctl is missing, could not open the device, or said
  nothing usable; the others then stay as they were, since nothing is known.

smartctl's exit status is a bit mask (smartctl(8), EXIT STATUS): bit 0 the command line
did not parse or smartctl failed inside, bit 1 the device could not be opened or did not
identify itself: then nothing was read. Bit 2 a SMART command failed (what was read is
still given), bit 3 SMART says the disk is failing, bit 4 a pre-failure attribute is at or
below its threshold, bit 5 one was in the past, bits 6 and 7 the error and self-test logs
hold errors: those come with the JSON, which is read all the same.

`parse` and `decide` are pure; `run_smartctl` is the only I/O.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kuzet.catalog.alarms import Severity

# `smartctl -a` takes 0.1-2 s on a SATA disk (longer on one that must spin up, or retries
# a bad sector); past half a minute the disk is not answering, which is an answer too.
TIMEOUT_S = 30.0
HOT_C = 55
FAILING, SECTORS, HOT, UNREADABLE = "disk_failing", "disk_sectors", "disk_hot", "disk_unreadable"
SEVERITY = {FAILING: Severity.CRITICAL, SECTORS: Severity.WARNING, HOT: Severity.WARNING,
            UNREADABLE: Severity.WARNING}
KINDS = tuple(SEVERITY)
# exit status bits (smartctl(8))
NOT_RUN, NOT_OPENED, COMMAND_FAILED, STATUS_FAILING = 0x01, 0x02, 0x04, 0x08
# ATA attribute ids
REALLOCATED, PENDING, UNCORRECTABLE = 5, 197, 198
# NVMe critical warning bit 1: a temperature past its threshold (disk_hot says that)
NVME_TEMPERATURE = 0x02
# ATA self-test status, upper nibble: 3 fatal error, 4-8 completed with a failure
ATA_TEST_FAILED = range(3, 9)
# NVMe self-test result: 5 fatal error, 6 an unknown segment failed, 7 segments failed
NVME_TEST_FAILED = (5, 6, 7)

# what reads a disk: device -> (smartctl's exit status, its standard output)
Runner = Callable[[str], tuple[int, str]]


class SmartError(Exception):
    """Nothing usable was read from the disk; the message says why, for a person."""


@dataclass(frozen=True)
class Health:
    device: str
    model: str | None
    passed: bool | None  # SMART's overall assessment; None where not said
    failing_attributes: tuple[str, ...]  # pre-failure attributes at or below threshold now
    reallocated: int | None  # sectors (SCSI: the grown defect list)
    pending: int | None
    uncorrectable: int | None
    media_errors: int | None  # NVMe
    critical_warning: int | None  # NVMe, a bit mask
    percentage_used: int | None  # NVMe, of its rated endurance
    temperature_c: int | None
    self_test: str | None  # the last self-test's result, as smartctl says it
    self_test_failed: bool

    @property
    def worn_sectors(self) -> int:
        """Sectors the medium has lost or may lose, for `disk_sectors` and its growth."""
        return sum(n or 0 for n in (self.reallocated, self.pending, self.uncorrectable,
                                    self.media_errors))


def _dict(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _said(doc: Mapping[str, Any]) -> str:
    """smartctl's own error messages, joined."""
    messages = _dict(doc, "smartctl").get("messages")
    if not isinstance(messages, list):
        return ""
    return "; ".join(str(m.get("string", "")).strip() for m in messages
                     if isinstance(m, dict) and m.get("severity") == "error")


def parse(device: str, exit_status: int, text: str) -> Health:
    """smartctl's answer about `device`; SmartError when it read nothing usable."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise SmartError(f"smartctl gave no JSON (exit status {exit_status}); is it 7.0 or "
                         "newer?") from None
    if not isinstance(doc, dict):
        raise SmartError("smartctl's JSON is not an object")
    status = _int(_dict(doc, "smartctl").get("exit_status"))
    status = exit_status if status is None else status
    said = _said(doc)
    if status & (NOT_RUN | NOT_OPENED):
        why = said or ("the device could not be opened or did not identify itself"
                       if status & NOT_OPENED else f"exit status {status}")
        if "Permission denied" in why:
            why += " (reading a disk's SMART data needs root, or CAP_SYS_RAWIO)"
        raise SmartError(f"smartctl could not read {device}: {why}")
    overall = _dict(doc, "smart_status").get("passed")
    passed = overall if isinstance(overall, bool) else None
    if status & STATUS_FAILING:
        passed = False
    attributes = {_int(a.get("id")): a for a in _dict(doc, "ata_smart_attributes").get(
        "table", []) if isinstance(a, dict)}
    nvme = _dict(doc, "nvme_smart_health_information_log")
    temperature = _int(_dict(doc, "temperature").get("current"))
    if passed is None and not attributes and not nvme and temperature is None:
        raise SmartError(f"smartctl read no SMART data from {device}"
                         f"{': ' + said if said else ''} (exit status {status})")

    def raw(attribute_id: int) -> int | None:
        a = attributes.get(attribute_id)
        return None if a is None else _int(_dict(a, "raw").get("value"))

    failing = tuple(str(a.get("name", a.get("id"))) for a in attributes.values()
                    if a.get("when_failed") == "now" and _dict(a, "flags").get("prefailure"))
    test, failed = _last_self_test(doc)
    reallocated = raw(REALLOCATED)
    if reallocated is None:
        reallocated = _int(doc.get("scsi_grown_defect_list"))
    model = doc.get("model_name", doc.get("scsi_model_name"))
    return Health(device, model if isinstance(model, str) else None, passed, failing,
                  reallocated, raw(PENDING), raw(UNCORRECTABLE),
                  _int(nvme.get("media_errors")), _int(nvme.get("critical_warning")),
                  _int(nvme.get("percentage_used")),
                  temperature if temperature is not None else _int(nvme.get("temperature")),
                  test, failed)


def _last_self_test(doc: Mapping[str, Any]) -> tuple[str | None, bool]:
    """The newest self-test's result (smartctl lists the newest first), and whether it
    failed; a test in progress or aborted by the host is no failure."""
    ata = _dict(_dict(doc, "ata_smart_self_test_log"), "standard").get("table")
    if isinstance(ata, list) and ata and isinstance(ata[0], dict):
        status = _dict(ata[0], "status")
        said = str(status.get("string", "")) or None
        passed = status.get("passed")
        value = _int(status.get("value"))
        failed = passed is False if isinstance(passed, bool) else (
            value is not None and value >> 4 in ATA_TEST_FAILED)
        return said, failed
    nvme = _dict(doc, "nvme_self_test_log").get("table")
    if isinstance(nvme, list) and nvme and isinstance(nvme[0], dict):
        result = _dict(nvme[0], "self_test_result")
        return (str(result.get("string", "")) or None,
                _int(result.get("value")) in NVME_TEST_FAILED)
    return None, False


def smartctl_program() -> str:
    """smartctl on PATH, else where Debian puts it: /usr/sbin is not on a service user's
    PATH, and a smartctl installed there is still smartctl."""
    return shutil.which("smartctl") or "/usr/sbin/smartctl"


def run_smartctl(device: str, program: str | None = None,
                 timeout_s: float = TIMEOUT_S) -> tuple[int, str]:
    """`smartctl --json=c -a device`: its exit status and output; SmartError when it could
    not be run at all."""
    program = program or smartctl_program()
    try:
        # a fixed argument list, no shell; the device comes from the checked settings
        done = subprocess.run([program, "--json=c", "-a", device],  # noqa: S603
                              capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError:
        raise SmartError(f"smartctl is not installed ({program} not found; Debian: "
                         "smartmontools)") from None
    except PermissionError:
        raise SmartError(f"{program} may not be run by this user") from None
    except subprocess.TimeoutExpired:
        raise SmartError(f"smartctl did not answer about {device} within "
                         f"{timeout_s:.0f} s") from None
    except OSError as exc:
        raise SmartError(f"smartctl could not be run: {exc.strerror or exc}") from None
    return done.returncode, done.stdout.decode("utf-8", "replace")


def read(device: str, run: Runner = run_smartctl) -> Health | SmartError:
    """The disk's health, or why it could not be read."""
    try:
        code, text = run(device)
        return parse(device, code, text)
    except SmartError as exc:
        return exc


@dataclass(frozen=True)
class Condition:
    kind: str
    message: str


def decide(name: str, device: str, health: Health | SmartError, before: Health | None,
           hot_c: int) -> list[Condition]:
    """The alarms disk `name` should have now; `before` is its last reading, for growth."""
    who = f"disk {name} ({device})"
    if isinstance(health, SmartError):
        return [Condition(UNREADABLE, f"{who}: {health}")]
    out = []
    failing = []
    if health.passed is False:
        failing.append("SMART's overall assessment failed")
    if health.failing_attributes:
        failing.append(f"{', '.join(health.failing_attributes)} at or below threshold")
    if health.critical_warning and health.critical_warning & ~NVME_TEMPERATURE:
        failing.append(f"NVMe critical warning 0x{health.critical_warning:02x}")
    if health.self_test_failed:
        failing.append(f"the last self-test failed ({health.self_test})")
    if failing:
        out.append(Condition(FAILING, f"{who}: {'; '.join(failing)}: copy its footage off "
                                      "and replace it"))
    worn = _worn(health, before)
    if worn:
        out.append(Condition(SECTORS, f"{who}: {worn}"))
    if health.temperature_c is not None and health.temperature_c > hot_c:
        out.append(Condition(HOT, f"{who}: {health.temperature_c} °C (more than {hot_c} °C)"))
    return out


def _worn(h: Health, before: Health | None) -> str:
    parts = [f"{n} {what}" for n, what in ((h.reallocated, "reallocated"),
                                           (h.pending, "pending"),
                                           (h.uncorrectable, "offline-uncorrectable"))
             if n]
    said = f"{', '.join(parts)} sectors" if parts else ""
    if h.media_errors:
        said = ", ".join(filter(None, [said, f"{h.media_errors} media errors"]))
    if said and before is not None and h.worn_sectors > before.worn_sectors:
        said += f" ({h.worn_sectors - before.worn_sectors} more since the last check)"
    if h.percentage_used is not None and h.percentage_used >= 100:
        said = "; ".join(filter(None, [said, f"{h.percentage_used} % of its rated "
                                             "endurance used"]))
    return said


def status(health: Health | SmartError) -> dict[str, Any]:
    """One disk's last reading, for `run/status.json` ("disks")."""
    if isinstance(health, SmartError):
        return {"error": str(health)}
    return {"model": health.model, "passed": health.passed,
            "temperature_c": health.temperature_c, "reallocated": health.reallocated,
            "pending": health.pending, "uncorrectable": health.uncorrectable,
            "media_errors": health.media_errors, "percentage_used": health.percentage_used,
            "self_test": health.self_test}
