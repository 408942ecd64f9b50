"""`kuzet serve`'s watch of its own clock (UE-10-22 3.4.1): asks the time servers, keeps
the last reading for the status bar and the health page, raises and clears the time
alarms (`kuzet.equipment.timesync`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from kuzet.catalog.alarms import Alarms
from kuzet.equipment.timesync import (
    KINDS,
    SEVERITY,
    UNREACHABLE,
    Reading,
    TimeError,
    best,
    decide,
    query,
)

log = logging.getLogger(__name__)


class ClockWatch:
    """`poll` is the check `kuzet serve` runs every `time_poll_s` (`periodic.Periodic`)."""

    def __init__(self, name: str, servers: Sequence[str], limit_ms: int, alarms: Alarms,
                 ask: Callable[[str], Reading] = query) -> None:
        """`ask`: one exchange with a server (`kuzet serve` gives `query` held to the LAN)."""
        self.name = name
        self.servers = tuple(servers)
        self.limit_ms = limit_ms
        self.alarms = alarms
        self.ask = ask
        self.last: Reading | None = None
        self.kept = alarms.kept(SEVERITY)

    def poll(self) -> None:
        readings, errors = [], []
        for server in self.servers:
            try:
                readings.append(self.ask(server))
            except TimeError as exc:
                errors.append(str(exc))
        self.last = best(readings)
        wanted = {c.kind: c.message for c in decide(self.name, self.last, errors,
                                                    self.limit_ms)}
        # unreachable, the clock is not known to be off nor on time: those stay
        self.kept.settle(self.name, wanted, KINDS if self.last is not None else (UNREACHABLE,))

    def status(self) -> dict[str, Any] | None:
        """The last reading, for `run/status.json` ("time"): what the status bar shows."""
        r = self.last
        if r is None:
            return None
        return {"server": r.server, "offset_ms": round(r.offset_ns / 1e6, 1),
                "delay_ms": round(r.delay_ns / 1e6, 1), "stratum": r.stratum,
                "limit_ms": self.limit_ms}
