"""Which checks are due (3.4.3: the IT office keeps the complex in working order). Pure.

Each kind has its interval (setting `check_interval_days`; cameras monthly: picture, angle,
cleanliness, the sign; UPSes quarterly: the battery test). An item is due its interval
after its last check, or after its installation (or entry in the register) when never
checked; overdue once that day has passed. Decommissioned items are never due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from kuzet.equipment.fields import State
from kuzet.equipment.register import ItemView

# Days between checks by kind, when the settings say nothing else.
DEFAULT_INTERVALS = {"camera": 30, "monitor": 180, "ups": 90, "server": 90, "switch": 180,
                     "storage": 90, "software": 180}
WHAT = {"camera": "picture, angle, cleanliness, the sign beside it",
        "ups": "battery test, runtime on battery",
        "server": "fans, temperatures, the recorder's lag, updates",
        "storage": "SMART health, array state, free space",
        "switch": "ports, link errors, power", "monitor": "picture, the post's view",
        "software": "version, updates, licences"}


@dataclass(frozen=True)
class Due:
    name: str
    kind: str
    due: dt.date
    overdue: bool
    last_check: dt.date | None
    what: str


def due_checks(items: Iterable[ItemView], last_checks: Mapping[str, int],
               intervals: Mapping[str, int], today: dt.date, zone: str,
               within_days: int = 7) -> list[Due]:
    """Checks due by `today + within_days` (the campus's day in `zone`), most overdue
    first."""
    tz = ZoneInfo(zone)
    out = []
    for it in items:
        if it.state == State.DECOMMISSIONED:
            continue
        days = intervals.get(it.kind, DEFAULT_INTERVALS[it.kind])
        last_ns = last_checks.get(it.name)
        last = None if last_ns is None else _day(last_ns, tz)
        since = last or _since(it, tz)
        if since is None:
            continue  # a camera never written and no date: due once it has a passport
        due = since + dt.timedelta(days=days)
        if due <= today + dt.timedelta(days=within_days):
            out.append(Due(it.name, it.kind, due, due < today, last, WHAT[it.kind]))
    return sorted(out, key=lambda d: (d.due, d.name))


def _day(ns: int, tz: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(ns / 1e9, tz).date()


def _since(it: ItemView, tz: ZoneInfo) -> dt.date | None:
    installed = it.values.get("installed")
    if installed:
        return dt.date.fromisoformat(installed)
    return None if it.created_ns is None else _day(it.created_ns, tz)
