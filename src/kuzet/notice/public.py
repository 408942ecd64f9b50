"""What the public notice page says (UE-10-22 3.2.1: surveillance is overt; 3.4.4: people
who may enter the cameras' view are told): where cameras are, by building and
installation zone, never a picture nor a camera's name; how long footage is kept; who
may see it. Pure: the caller hands over the register's cameras and the settings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from kuzet.catalog.models import Camera
from kuzet.regulation import MAX_RETENTION_DAYS, ZONE_CLAUSES

# How the page names each installation zone (English catalog keys, as the console's).
ZONE_WORDS = {
    "entrance": "Entrance", "emergency_exit": "Emergency exit", "perimeter": "Perimeter",
    "corridor": "Corridor", "staircase": "Staircase",
    "dormitory_entrance": "Dormitory entrance", "dormitory_floor": "Dormitory floor",
    "sports_leisure": "Sports and leisure premises", "lobby": "Lobby",
    "classroom": "Classroom", "computer_class": "Computer class", "valuables": "Valuables",
}

# How pages name each kind of place (notice.places.KINDS): the rooms 3.4.5 names, and others.
PLACE_KINDS = {"classroom": "Classroom", "computer_class": "Computer class",
               "sports_hall": "Sports hall", "assembly_hall": "Assembly hall",
               "other": "Other area"}


@dataclass(frozen=True)
class Covered:
    building: str  # "" where the register names none
    zone: str
    clause: str
    cameras: int


@dataclass(frozen=True)
class Notice:
    covered: list[Covered]  # by building, then zone
    cameras: int
    retention_days: int  # the longest any camera keeps footage
    sound: list[Covered]  # where cameras keep their sound by the rector's order (3.1.2)


def notice(cameras: Iterable[Camera], retention_days: int) -> Notice:
    """The notice for the cameras recorded now (removed ones left out): `retention_days`
    is the installation's default, a camera's own (shorter or not) counted as it is."""
    live = [c for c in cameras if c.removed_ns is None]
    counts = Counter((c.building or "", c.zone or "") for c in live)
    covered = [Covered(b, z, ZONE_CLAUSES.get(z, ""), n)
               for (b, z), n in sorted(counts.items())]
    longest = max([c.retention_days or retention_days for c in live] + [retention_days])
    heard = Counter((c.building or "", c.zone or "") for c in live if c.audio_order_no)
    sound = [Covered(b, z, ZONE_CLAUSES.get(z, ""), n) for (b, z), n in sorted(heard.items())]
    return Notice(covered, len(live), min(longest, MAX_RETENTION_DAYS), sound)
