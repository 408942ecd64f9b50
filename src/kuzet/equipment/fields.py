"""What an item of the register may say, checked before anything is written. Pure.

One check serves the API, the command line and each row of a CSV import, so a spreadsheet
row is refused for the same reason, in the same words, as a form.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kuzet.endpoints import ITEM_NAME
from kuzet.errors import Invalid


class Kind(StrEnum):
    """The parts of the complex the regulation names (3.3.2-3.3.8)."""

    CAMERA = "camera"  # 3.3.2: recorded cameras (the catalog's)
    MONITOR = "monitor"  # 3.3.3: monitors and the security post's workstations
    UPS = "ups"  # 3.3.4
    SERVER = "server"  # 3.3.5: recorders and servers
    SWITCH = "switch"  # 3.3.6: switches and links of the cable network
    STORAGE = "storage"  # 3.3.7: disks and arrays
    SOFTWARE = "software"  # 3.3.8: viewing and managing software


class State(StrEnum):
    IN_SERVICE = "in_service"
    FAULTY = "faulty"
    UNDER_REPAIR = "under_repair"
    DECOMMISSIONED = "decommissioned"


class EntryKind(StrEnum):
    CHECK = "check"  # a scheduled check done; outcome ok or fault
    FAULT = "fault"  # opened by hand or from an alarm
    REPAIR = "repair"  # closes a fault
    CHANGE = "change"  # the passport or the state changed (what: before → after)


# Passport fields as the CSV, the API and the command line name them, in the order shown.
TEXT_FIELDS = ("model", "manufacturer", "serial", "inventory_no", "firmware", "mac", "ip",
               "building", "floor", "room", "installed", "responsible", "notes")
LINK_FIELDS = ("uplink", "uplink_port", "power", "part_of")
LIMITS = {"name": 64, "model": 128, "manufacturer": 128, "serial": 64, "inventory_no": 64,
          "firmware": 64, "mac": 17, "ip": 45, "building": 64, "floor": 32, "room": 200,
          "installed": 10, "responsible": 128, "notes": 2000, "uplink": 64,
          "uplink_port": 32, "power": 64, "part_of": 64}
NAME = ITEM_NAME
MAC = re.compile(r"[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}")


@dataclass(frozen=True)
class Passport:
    """An item's fields as checked: None where unsaid (an update leaves it as it was) and
    "" where cleared."""

    values: Mapping[str, str | None]

    def given(self) -> dict[str, str | None]:
        """The fields said, "" made None (cleared)."""
        return {k: (v or None) for k, v in self.values.items() if v is not None}


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise Invalid("an item's name is 1 to 64 letters, digits, '.', '_' or '-', "
                      "beginning with a letter or digit, not {name!r}", name=name[:80])
    return name


def check_kind(kind: str) -> Kind:
    try:
        return Kind(kind.strip().lower())
    except ValueError:
        raise Invalid("unknown kind {kind!r}: one of {kinds}", kind=kind[:40],
                      kinds=", ".join(Kind)) from None


def check_state(state: str) -> State:
    try:
        return State(state.strip().lower())
    except ValueError:
        raise Invalid("unknown state {state!r}: one of {states}", state=state[:40],
                      states=", ".join(State)) from None


def check_passport(raw: Mapping[str, str | None], buildings: Sequence[str],
                   today: dt.date | None = None) -> Passport:
    """Each field said in `raw` (None: not said) trimmed and checked: lengths, a MAC
    (written aa:bb:cc:dd:ee:ff), an IP address, an installation date (YYYY-MM-DD, not after
    `today`, the campus's, where the caller knows it), a building among `buildings` where
    the settings list them."""
    out: dict[str, str | None] = {}
    for key in (*TEXT_FIELDS, *LINK_FIELDS):
        value = raw.get(key)
        if value is None:
            continue
        value = value.strip()
        if len(value) > LIMITS[key]:
            raise Invalid("{field} is at most {n} characters", field=key, n=LIMITS[key])
        if value:
            value = _FORMS.get(key, _same)(value, buildings)
            if key == "installed" and today is not None and value > today.isoformat():
                raise Invalid("installed: {v} is after today", v=value)
        out[key] = value
    unknown = set(raw) - set(out) - {k for k, v in raw.items() if v is None}
    if unknown - {"name", "kind", "state", "camera"}:
        raise Invalid("unknown field(s): {fields}",
                      fields=", ".join(sorted(unknown - {"name", "kind", "state", "camera"})))
    return Passport(out)


def _same(value: str, buildings: Sequence[str]) -> str:
    return value


def _mac(value: str, buildings: Sequence[str]) -> str:
    low = value.lower()
    if not MAC.fullmatch(low):
        raise Invalid("mac: six pairs of hex digits (aa:bb:cc:dd:ee:ff), not {v!r}", v=value)
    hexes = re.sub(r"[:-]", "", low)
    return ":".join(hexes[i:i + 2] for i in range(0, 12, 2))


def _ip(value: str, buildings: Sequence[str]) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise Invalid("ip: an IPv4 or IPv6 address, not {v!r}", v=value) from None


def _date(value: str, buildings: Sequence[str]) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise Invalid("installed: a date YYYY-MM-DD, not {v!r}", v=value) from None


def _building(value: str, buildings: Sequence[str]) -> str:
    if buildings and value not in buildings:
        raise Invalid("unknown building {v!r}: the campus's buildings are {known} "
                      "(setting `buildings`)", v=value, known=", ".join(buildings))
    return value


def _linked(value: str, buildings: Sequence[str]) -> str:
    return check_name(value)


_FORMS = {"mac": _mac, "ip": _ip, "installed": _date, "building": _building,
          "uplink": _linked, "power": _linked, "part_of": _linked}
