"""The UPS watch of `kuzet serve` (UE-10-22 3.3.4; issue 22): reads every UPS of the
setting `ups` every `ups_poll_s` from upsd, raises and clears its alarms
(`kuzet.equipment.ups`), and tells the recorder when the UPS powering this server
(`server_ups`) says the power is about to go, and when it no longer does.

One UPS that fails to answer is its own `ups_unreachable` alarm (the others it may have
stay as they were: nothing is known of them then); the others are read all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kuzet.catalog.alarms import Alarms
from kuzet.endpoints import UpsAddress
from kuzet.equipment.ups import (
    KINDS,
    LOW_BATTERY,
    SEVERITY,
    UNREACHABLE,
    Reading,
    UpsError,
    decide,
    power_failing,
    read_ups,
)

# what the recorder is told: why the power is about to go, or None once it is not
PowerSignal = Callable[[str | None], None]


class UpsWatch:
    """`poll` is the check `kuzet serve` runs every `ups_poll_s` (`periodic.Periodic`)."""

    def __init__(self, upses: Mapping[str, UpsAddress], alarms: Alarms, server_ups: str | None,
                 power: PowerSignal, read: Callable[[UpsAddress], Reading] = read_ups) -> None:
        self.upses = dict(upses)
        self.alarms = alarms
        self.server_ups = server_ups
        self.power = power
        self.read = read
        self.kept = alarms.kept(SEVERITY)
        self.last: dict[str, Reading | UpsError] = {}
        self.failing: str | None = None  # what the recorder was last told

    def poll(self) -> None:
        for name, address in self.upses.items():
            reading: Reading | UpsError
            try:
                reading = self.read(address)
            except UpsError as exc:
                reading = exc
            self.last = {**self.last, name: reading}  # a new dict: status() reads the old
            wanted = {c.kind: c.message for c in decide(name, reading)}
            unknown = isinstance(reading, UpsError)
            # unreachable, nothing is known of the rest: they stay as they were
            self.kept.settle(name, wanted, (UNREACHABLE,) if unknown else KINDS)
            if name == self.server_ups and not unknown:
                # Unreachable says nothing of the power: on low battery NUT's master shuts
                # its own host down, upsd first, and the recorder must not take that for
                # the power back and open segments seconds before it goes.
                self.failing = wanted.get(LOW_BATTERY) or (
                    f"UPS {name}: forced shutdown" if power_failing(reading) else None)
            if name == self.server_ups:
                self.power(self.failing)

    def status(self) -> dict[str, dict[str, Any]]:
        """Each UPS's last reading, for `run/status.json` ("ups") and the metrics."""
        out: dict[str, dict[str, Any]] = {}
        for name, r in self.last.items():
            if isinstance(r, UpsError):
                out[name] = {"reachable": False, "error": str(r)}
            else:
                out[name] = {"reachable": True, "status": sorted(r.status),
                             "charge_percent": r.charge, "runtime_s": r.runtime_s}
        return out
