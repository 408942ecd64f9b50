"""Uninterruptible power supplies through Network UPS Tools (UE-10-22 3.3.4; issue 22).

Kuzet reads each UPS from `upsd` with NUT's network protocol (`LIST VAR <ups>` over TCP,
port 3493 by default; the text protocol needs no library), names it by the register item
it is (setting `ups`: item name -> `upsname@host[:port]`), and keeps four alarms per UPS,
each raised while its condition lasts and cleared when it ends:

- `ups_on_battery` (warning): the mains are gone (`OB`), with charge and runtime left;
- `ups_low_battery` (critical): `LB`, the UPS will cut the power soon. On the UPS that
  powers this server (setting `server_ups`) the recorder closes every segment and opens a
  `power` gap for each camera before the power goes, and records again once the UPS is
  back on line without `LB`;
- `ups_replace_battery` (warning): `RB`, the battery failed its self-test;
- `ups_unreachable` (warning): upsd does not answer, does not know the UPS, or its data is
  stale (the driver lost the UPS): nothing else is known about it then.

`decide` is pure; `read_ups` is the only I/O.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kuzet.access.destinations import OutsideLan
from kuzet.catalog.alarms import Severity
from kuzet.endpoints import UpsAddress

TIMEOUT_S = 3.0
ON_BATTERY, LOW_BATTERY, REPLACE_BATTERY, UNREACHABLE = (
    "ups_on_battery", "ups_low_battery", "ups_replace_battery", "ups_unreachable")
SEVERITY = {ON_BATTERY: Severity.WARNING, LOW_BATTERY: Severity.CRITICAL,
            REPLACE_BATTERY: Severity.WARNING, UNREACHABLE: Severity.WARNING}
KINDS = tuple(SEVERITY)


class UpsError(Exception):
    """upsd refused or could not be reached; the message says which."""


@dataclass(frozen=True)
class Reading:
    status: frozenset[str]  # ups.status flags: OL, OB, LB, RB, CHRG, ...
    charge: float | None  # battery.charge, %
    runtime_s: float | None  # battery.runtime

    @classmethod
    def of(cls, variables: Mapping[str, str]) -> Reading:
        def number(key: str) -> float | None:
            try:
                return float(variables[key])
            except (KeyError, ValueError):
                return None

        return cls(frozenset(variables.get("ups.status", "").split()), number("battery.charge"),
                   number("battery.runtime"))


def parse_list_var(ups: str, text: str) -> dict[str, str]:
    """The answer to `LIST VAR <ups>`: `VAR <ups> <name> "<value>"` lines between BEGIN and
    END, or `ERR <reason>` (UNKNOWN-UPS, DATA-STALE, DRIVER-NOT-CONNECTED, ...)."""
    out: dict[str, str] = {}
    if not text.startswith("ERR ") and f"END LIST VAR {ups}" not in text:
        raise UpsError("upsd's answer was cut short")
    for line in text.splitlines():
        if line.startswith("ERR "):
            raise UpsError(f"upsd: {line[4:].strip()}")
        if not line.startswith(f"VAR {ups} "):
            continue
        name, _, value = line[len(f"VAR {ups} "):].partition(" ")
        value = value.strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[name] = value
    if "ups.status" not in out:  # nothing says whether the power is there
        raise UpsError("upsd gave no ups.status")
    return out


Connect = Callable[[float], socket.socket]  # a connection to upsd, within a timeout


def read_ups(address: UpsAddress, timeout_s: float = TIMEOUT_S,
             connect: Connect | None = None) -> Reading:
    """One `LIST VAR` from upsd; UpsError when it cannot be had. `connect`: the connection
    `kuzet serve` opens (to an address on the LAN only, `access.destinations`)."""
    opened = connect or (lambda t: socket.create_connection((address.host, address.port), t))
    try:
        with opened(timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(f"LIST VAR {address.ups}\n".encode())
            buf = b""
            while b"END LIST VAR" not in buf and not buf.startswith(b"ERR "):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
                if len(buf) > 1 << 20:
                    raise UpsError("upsd's answer is over 1 MiB")
            with _quiet():
                sock.sendall(b"LOGOUT\n")
    except OutsideLan as exc:
        raise UpsError(str(exc)) from None
    except OSError as exc:
        raise UpsError(f"upsd at {address.host}:{address.port}: {exc.strerror or exc}") from None
    return Reading.of(parse_list_var(address.ups, buf.decode("utf-8", "replace")))


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return isinstance(exc[1], OSError)


@dataclass(frozen=True)
class Condition:
    kind: str
    message: str


def decide(name: str, reading: Reading | UpsError) -> list[Condition]:
    """The alarms UPS `name` should have now (any other of `KINDS` is cleared)."""
    if isinstance(reading, UpsError):
        return [Condition(UNREACHABLE, f"UPS {name}: {reading}")]
    out = []
    left = _left(reading)
    if "OB" in reading.status:
        out.append(Condition(ON_BATTERY, f"UPS {name}: on battery{left}"))
    if "LB" in reading.status:
        out.append(Condition(LOW_BATTERY, f"UPS {name}: low battery{left}; the power will "
                                          "be cut"))
    if "RB" in reading.status:
        out.append(Condition(REPLACE_BATTERY, f"UPS {name}: the battery needs replacing"))
    return out


def _left(r: Reading) -> str:
    parts = []
    if r.charge is not None:
        parts.append(f"{r.charge:.0f} % charge")
    if r.runtime_s is not None:
        parts.append(f"{r.runtime_s / 60:.0f} min left")
    return f" ({', '.join(parts)})" if parts else ""


def power_failing(reading: Reading | UpsError) -> bool:
    """Whether the UPS says the power is about to go (low battery, or a forced shutdown)."""
    return not isinstance(reading, UpsError) and bool({"LB", "FSD"} & reading.status)
