"""Linux software RAID (md) from /proc/mdstat (UE-10-22 3.3.7; issue 22).

An array that lost a member still serves every read and write, so nothing in the
recorder notices; one more failure and the archive is gone. The kernel's /proc/mdstat
says it all in a few lines per array (`md0 : active raid1 sdb1[1] sda1[0](F)`, then
`... [2/1] [U_]`, then a `recovery = 8.5% (...) finish=74.2min speed=200620K/sec` line
while a member is rebuilt), readable by anyone, so no mdadm and no root. Alarms per
array, subject its register item (setting `arrays`: item -> md device) or its md name:

- `raid_degraded` (critical): a member failed (`(F)`) or is missing (`[2/1] [U_]`), or an
  array the settings name is not running: redundancy is gone;
- `raid_rebuilding` (warning): a recovery, resync or reshape under way (with how far it
  is and when it should finish) or waiting to start: redundancy is not back yet, and
  the disks are slower for the recorder meanwhile. A `check` or `repair` (the monthly
  scrub) is neither.

An IMSM/DDF container (`inactive`, `super external:...`) is firmware RAID's bookkeeping,
not an array: its member arrays are listed on their own.

`parse` and `decide` are pure; reading the file is the watch's (`diskwatch`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kuzet.catalog.alarms import Severity

MDSTAT = "/proc/mdstat"
DEGRADED, REBUILDING = "raid_degraded", "raid_rebuilding"
SEVERITY = {DEGRADED: Severity.CRITICAL, REBUILDING: Severity.WARNING}
KINDS = tuple(SEVERITY)
# what takes redundancy away until it ends; `check` and `repair` only read and compare
REBUILDS = ("recovery", "resync", "reshape")

_HEAD = re.compile(r"^(md\w*) : (active|inactive)((?: \([\w-]+\))*)(.*)$")
_MEMBER = re.compile(r"^(\S+?)\[(\d+)\]((?:\([A-Z]\))*)$")
_COUNT = re.compile(r"\[(\d+)/(\d+)\] \[([U_]+)\]")
_PROGRESS = re.compile(
    r"(recovery|resync|reshape|check|repair)\s*=\s*([\d.]+)%\s*\((\d+)/(\d+)\)"
    r"(?:\s*finish=([\d.]+)min)?(?:\s*speed=(\d+)K/sec)?")
_WAITING = re.compile(r"\b(recovery|resync|reshape)\s*=\s*(DELAYED|PENDING|REMOTE)")


@dataclass(frozen=True)
class Member:
    device: str  # sdb1
    slot: int  # the [n] after it: its role number
    flags: str  # F faulty, S spare, W write-mostly, R replacement, J journal


@dataclass(frozen=True)
class Progress:
    action: str  # recovery, resync, reshape, check, repair
    percent: float
    finish_s: float | None  # the kernel's estimate
    speed_kib_s: int | None


@dataclass(frozen=True)
class Array:
    name: str  # md0
    active: bool
    level: str | None  # raid1, raid5, ...; None for an inactive array
    members: tuple[Member, ...]
    wanted: int | None  # [2/1]: members the array has room for...
    up: int | None  # ...and those working
    slots: str | None  # [U_]
    progress: Progress | None
    waiting: str | None  # "resync" when one is DELAYED or PENDING
    container: bool  # an IMSM/DDF container, not an array

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(m.device for m in self.members if "F" in m.flags)


def parse(text: str) -> list[Array]:
    """Every array /proc/mdstat lists, in its order."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if _HEAD.match(line):
            blocks.append([line])
        elif blocks and line.startswith((" ", "\t")):
            blocks[-1].append(line.strip())
        elif not line.strip() and blocks:
            blocks.append([])  # a blank line ends the array
    return [_array(b) for b in blocks if b]


def _array(lines: list[str]) -> Array:
    head = _HEAD.match(lines[0])
    assert head is not None  # only head lines start a block
    name, state, _, rest = head.groups()
    words = rest.split()
    level = words[0] if words and "[" not in words[0] else None
    members = tuple(Member(m[1], int(m[2]), m[3].replace("(", "").replace(")", ""))
                    for w in words if (m := _MEMBER.match(w)))
    body = " ".join(lines[1:])
    count = _COUNT.search(body)
    found = _PROGRESS.search(body)
    progress = None if found is None else Progress(
        found[1], float(found[2]), float(found[5]) * 60 if found[5] else None,
        int(found[6]) if found[6] else None)
    waiting = _WAITING.search(body)
    return Array(name, state == "active", level, members,
                 int(count[1]) if count else None, int(count[2]) if count else None,
                 count[3] if count else None, progress, waiting[1] if waiting else None,
                 "super external:" in body and count is None)


@dataclass(frozen=True)
class Condition:
    kind: str
    message: str


def decide(subject: str, array: Array) -> list[Condition]:
    """The alarms `array` (called `subject`) should have now."""
    who = f"array {subject}" + (f" ({array.name})" if subject != array.name else "")
    if array.container:
        return []
    out = []
    lost = []
    if not array.active:
        lost.append("inactive: not running")
    if array.failed:
        lost.append(f"failed: {', '.join(array.failed)}")
    if array.wanted is not None and array.up is not None and array.up < array.wanted:
        lost.append(f"{array.up} of {array.wanted} members working [{array.slots}]")
    if lost:
        out.append(Condition(DEGRADED, f"{who} ({array.level or 'md'}) is degraded: "
                                       f"{'; '.join(lost)}"))
    p = array.progress
    if p is not None and p.action in REBUILDS:
        said = f"{who}: {p.action} {p.percent:.1f} % done"
        if p.finish_s is not None:
            said += f", about {_duration(p.finish_s)} left"
        if p.speed_kib_s is not None:
            said += f" at {p.speed_kib_s / 1024:.0f} MiB/s"
        out.append(Condition(REBUILDING, said))
    elif array.waiting is not None:
        out.append(Condition(REBUILDING, f"{who}: a {array.waiting} is waiting to start"))
    return out


def missing(subject: str, md: str, why: str) -> Condition:
    """An array the settings name that is not running at all."""
    return Condition(DEGRADED, f"array {subject} ({md}) is not running: {why}")


def status(array: Array) -> dict[str, Any]:
    """One array's state, for `run/status.json` ("disks")."""
    p = array.progress
    return {"md": array.name, "level": array.level, "active": array.active,
            "members": [m.device + (f"({m.flags})" if m.flags else "") for m in array.members],
            "slots": array.slots, "failed": list(array.failed),
            "progress": None if p is None else {
                "action": p.action, "percent": p.percent, "finish_s": p.finish_s,
                "speed_kib_s": p.speed_kib_s}}


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes / 60:.1f} h"
