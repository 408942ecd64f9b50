"""This server's own health (UE-10-22 3.3.5: the recorders and servers are kept in order;
issue 22): its load, memory and temperature.

A recorder that runs out of CPU drops packets before anything else complains (a
camera's segments then come late and short), one out of memory is killed by the kernel,
and one that overheats throttles its clock and does both. Alarms, subject this server's
name (its item in the register, setting `server_name`):

- `server_load` (warning): the 1-minute load average per core above
  `server_load_alarm` (2.0) for `SUSTAIN_POLLS` polls in a row: a burst (an export, the
  nightly sweep) is no alarm, a recorder that cannot keep up is;
- `server_memory` (warning): less than `server_memory_alarm_percent` (5 %) of memory
  available (the kernel's MemAvailable: what can be had without swapping);
- `server_hot` (warning): the hottest sensor above `server_hot_alarm_c` (85 °C: most
  server CPUs throttle near 90-100 °C).

A machine without sensors (a virtual machine, this test machine) has no temperature, and
no `server_hot`. `decide` and the parsers are pure; `sample` is the only I/O.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kuzet.catalog.alarms import Severity

LOAD, MEMORY, HOT = "server_load", "server_memory", "server_hot"
SEVERITY = {k: Severity.WARNING for k in (LOAD, MEMORY, HOT)}
KINDS = tuple(SEVERITY)
# At the default 10-s poll, 30 s over the limit: the 1-minute average itself lags, so a
# few seconds' burst stays under, and a minute's shows in three polls.
SUSTAIN_POLLS = 3
# A sensor outside this range is a driver's placeholder (0, -273, 255), not a reading.
PLAUSIBLE_C = (-40.0, 150.0)


@dataclass(frozen=True)
class Limits:
    load_per_core: float = 2.0
    memory_percent: float = 5.0
    hot_c: float = 85.0


@dataclass(frozen=True)
class Reading:
    load_1m: float
    cores: int
    memory_total_bytes: int | None
    memory_available_bytes: int | None
    temperature_c: float | None  # the hottest sensor
    sensor: str | None  # which one

    @property
    def load_per_core(self) -> float:
        return self.load_1m / max(self.cores, 1)

    @property
    def memory_available_percent(self) -> float | None:
        if not self.memory_total_bytes or self.memory_available_bytes is None:
            return None
        return 100 * self.memory_available_bytes / self.memory_total_bytes


def parse_meminfo(text: str) -> tuple[int | None, int | None]:
    """MemTotal and MemAvailable of /proc/meminfo (`MemTotal:  32768000 kB`), in bytes."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        words = rest.split()
        if key in ("MemTotal", "MemAvailable") and words and words[0].isdigit():
            unit = 1024 if words[1:] == ["kB"] else 1
            values[key] = int(words[0]) * unit
    return values.get("MemTotal"), values.get("MemAvailable")


def temperatures(sys_root: Path) -> dict[str, float]:
    """Every temperature sensor the kernel shows, in °C by name: thermal zones
    (`class/thermal/thermal_zone*/temp`) and hwmon chips (`class/hwmon/hwmon*/temp*_input`),
    each in millidegrees. A sensor that cannot be read now (some answer EINVAL while
    their device sleeps) or reads a placeholder is left out."""
    found: dict[str, float] = {}
    for path in sorted(sys_root.glob("class/thermal/thermal_zone*/temp")):
        _add(found, f"{path.parent.name} {_first_line(path.parent / 'type')}".strip(), path)
    for path in sorted(sys_root.glob("class/hwmon/hwmon*/temp*_input")):
        chip = _first_line(path.parent / "name") or path.parent.name
        label = _first_line(path.with_name(path.name.replace("_input", "_label")))
        _add(found, f"{chip} {label or path.name.removesuffix('_input')}", path)
    return found


def _first_line(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _add(found: dict[str, float], name: str, path: Path) -> None:
    try:
        celsius = int(path.read_text().strip()) / 1000
    except (OSError, ValueError):
        return
    if PLAUSIBLE_C[0] < celsius < PLAUSIBLE_C[1]:
        found[name] = celsius


def sample(proc_root: Path = Path("/proc"), sys_root: Path = Path("/sys")) -> Reading:
    """This machine now: load, memory, the hottest sensor."""
    try:
        total, available = parse_meminfo((proc_root / "meminfo").read_text())
    except OSError:
        total = available = None
    temps = temperatures(sys_root)
    hottest = max(temps, key=lambda k: temps[k], default=None)
    return Reading(os.getloadavg()[0], os.cpu_count() or 1, total, available,
                   temps[hottest] if hottest is not None else None, hottest)


def streak(before: int, reading: Reading, limits: Limits) -> int:
    """Polls in a row the load has been over its limit, this one included."""
    return before + 1 if reading.load_per_core > limits.load_per_core else 0


@dataclass(frozen=True)
class Condition:
    kind: str
    message: str


def decide(name: str, reading: Reading, over_polls: int, limits: Limits) -> list[Condition]:
    """The alarms server `name` should have now; `over_polls` from `streak`."""
    out = []
    if over_polls >= SUSTAIN_POLLS:
        out.append(Condition(LOAD, f"server {name}: load {reading.load_1m:.2f} on "
                                   f"{reading.cores} cores ({reading.load_per_core:.2f} per "
                                   f"core, more than {limits.load_per_core:g})"))
    free = reading.memory_available_percent
    if free is not None and free < limits.memory_percent:
        out.append(Condition(MEMORY, f"server {name}: {free:.1f} % of memory available "
                                     f"({(reading.memory_available_bytes or 0) >> 20} MiB, "
                                     f"less than {limits.memory_percent:g} %)"))
    if reading.temperature_c is not None and reading.temperature_c > limits.hot_c:
        out.append(Condition(HOT, f"server {name}: {reading.sensor} at "
                                  f"{reading.temperature_c:.0f} °C (more than "
                                  f"{limits.hot_c:g} °C)"))
    return out
