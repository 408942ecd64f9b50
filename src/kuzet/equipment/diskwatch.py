"""The storage watch of `kuzet serve` (UE-10-22 3.3.7; issue 22): every `disk_poll_s`
reads each disk of the setting `disks` through smartctl (`kuzet.equipment.smart`) and
the md arrays from /proc/mdstat (`kuzet.equipment.raid`), raises and clears their
alarms, and keeps the last readings for the status file ("disks").

A disk that cannot be read is its own `disk_unreadable` alarm (the others it may have stay
as they were: nothing is known of them then); the other disks are read all the same. No
/proc/mdstat (a kernel without the md driver) is nothing to check, unless the settings
name an array, which is then not running.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kuzet.catalog.alarms import Alarms
from kuzet.equipment import raid, smart

log = logging.getLogger(__name__)


class DiskWatch:
    """`poll` is the check `kuzet serve` runs every `disk_poll_s` (`periodic.Periodic`)."""

    def __init__(self, disks: Mapping[str, str], arrays: Mapping[str, str], alarms: Alarms,
                 hot_c: int = smart.HOT_C, run: smart.Runner = smart.run_smartctl,
                 mdstat: Path = Path(raid.MDSTAT)) -> None:
        self.disks = dict(disks)  # item -> device
        self.items = {md: item for item, md in arrays.items()}  # md0 -> item
        self.alarms = alarms
        self.hot_c = hot_c
        self.run = run
        self.mdstat = mdstat
        self.health: dict[str, smart.Health | smart.SmartError] = {}  # the last answer
        self.read_last: dict[str, smart.Health] = {}  # the last one read, for growth
        self.arrays: list[raid.Array] = []
        self.kept = alarms.kept({**smart.SEVERITY, **raid.SEVERITY})

    def poll(self) -> None:
        for name, device in self.disks.items():
            health = smart.read(device, self.run)
            wanted = smart.decide(name, device, health, self.read_last.get(name), self.hot_c)
            self.health = {**self.health, name: health}  # status() may read the old
            if isinstance(health, smart.Health):
                self.read_last[name] = health
            # unreadable, nothing is known of the rest: they stay as they were
            kinds = (smart.UNREADABLE,) if isinstance(health, smart.SmartError) else smart.KINDS
            self.kept.settle(name, {c.kind: c.message for c in wanted}, kinds)
        self._poll_arrays()

    def _poll_arrays(self) -> None:
        try:
            text = self.mdstat.read_text()
            self.arrays = raid.parse(text)
            why = "not in /proc/mdstat"
        except FileNotFoundError:
            self.arrays = []
            why = "no /proc/mdstat: the md driver is not loaded"
        wanted: dict[str, dict[str, str]] = {}
        for array in self.arrays:
            subject = self.items.get(array.name, array.name)
            wanted[subject] = {c.kind: c.message for c in raid.decide(subject, array)}
        listed = {a.name for a in self.arrays}
        for md, item in self.items.items():
            if md not in listed:
                c = raid.missing(item, md, why)
                wanted[item] = {c.kind: c.message}
        for subject in sorted(set(wanted) | self.kept.subjects(raid.KINDS)):
            self.kept.settle(subject, wanted.get(subject, {}), raid.KINDS)

    def status(self) -> dict[str, Any]:
        """The last readings, for `run/status.json` ("disks"): the health page's."""
        return {"disks": {name: {"device": self.disks[name], **smart.status(h)}
                          for name, h in self.health.items()},
                "arrays": {self.items.get(a.name, a.name): raid.status(a)
                           for a in self.arrays if not a.container}}
