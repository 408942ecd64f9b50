"""`kuzet serve`'s watch of its own machine (UE-10-22 3.3.5): every `server_poll_s` reads
load, memory and temperature (`kuzet.equipment.serverhealth`), raises and clears the
server's alarms, and keeps the last reading for the status file ("server")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kuzet.catalog.alarms import Alarms
from kuzet.equipment.serverhealth import (
    SEVERITY,
    Limits,
    Reading,
    decide,
    sample,
    streak,
)

log = logging.getLogger(__name__)


class ServerWatch:
    """`poll` is the check `kuzet serve` runs every `server_poll_s` (`periodic.Periodic`)."""

    def __init__(self, name: str, limits: Limits, alarms: Alarms,
                 read: Callable[[], Reading] = sample) -> None:
        self.name = name
        self.limits = limits
        self.alarms = alarms
        self.read = read
        self.last: Reading | None = None
        self.over_polls = 0
        self.kept = alarms.kept(SEVERITY)

    def poll(self) -> None:
        reading = self.read()
        self.last = reading
        self.over_polls = streak(self.over_polls, reading, self.limits)
        wanted = {c.kind: c.message for c in decide(self.name, reading, self.over_polls,
                                                    self.limits)}
        self.kept.settle(self.name, wanted)

    def status(self) -> dict[str, Any] | None:
        """The last reading, for `run/status.json` ("server")."""
        r = self.last
        if r is None:
            return None
        free = r.memory_available_percent
        return {"load_1m": round(r.load_1m, 2), "cores": r.cores,
                "load_per_core": round(r.load_per_core, 2),
                "memory_available_bytes": r.memory_available_bytes,
                "memory_available_percent": None if free is None else round(free, 1),
                "temperature_c": r.temperature_c, "sensor": r.sensor,
                "limits": {"load_per_core": self.limits.load_per_core,
                           "memory_percent": self.limits.memory_percent,
                           "hot_c": self.limits.hot_c}}
