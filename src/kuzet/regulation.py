"""UE-10-22's numbers in one place: how long footage may be kept (clause 3.3), and the
checks every writer of a retention or a hold runs (the settings, the command line, the
API, the holds themselves, the sweeper's guard); the closed list of installation zones
(3.3.9-3.3.17) and the order a camera's sound is kept on (3.1.2).

Ordinary footage lives at most 30 days; footage under a hold lives until the hold ends,
and a hold lives at most three years from the rector's approval. A hold not yet decided
keeps its footage only for a short decision window, never past 30 days of age plus that
window: nothing outlives 30 days without the rector's instruction. Pure: no database, disk
or clock, and nothing of Kuzet's beneath it but `errors` and `timefmt`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from kuzet.errors import Invalid
from kuzet.timefmt import NS

MAX_RETENTION_DAYS = 30
MAX_HOLD_YEARS = 3
# The longest a requested hold may wait for the rector while it keeps footage past the
# 30 days: long enough for a week's absence, short enough that the exception stays one.
MAX_DECISION_WINDOW_DAYS = 7
MIN_DECISION_WINDOW_DAYS = 1  # the rector's reminder comes once a day


class PolicyError(Invalid):
    """A retention or hold setting the regulation does not allow."""


def check_retention_days(days: int) -> int:
    if days < 1:
        raise PolicyError("retention of {days} days: at least 1 day is needed", days=days)
    if days > MAX_RETENTION_DAYS:
        raise PolicyError("retention of {days} days refused: clause 3.3 of UE-10-22 keeps "
                          "recordings no more than {most} days; footage needed longer must "
                          "be put under a hold approved by the rector",
                          days=days, most=MAX_RETENTION_DAYS)
    return days


def check_decision_window_days(days: float) -> float:
    """The decision window of requested holds: at least a day, since the rector's reminder
    comes once a day and a shorter window could lapse before it (not `>=`: NaN is no
    window), and at most `MAX_DECISION_WINDOW_DAYS`."""
    if not days >= MIN_DECISION_WINDOW_DAYS:
        raise PolicyError("refused: a decision window of {days} days for requested holds "
                          "(UE-10-22 3.3): the rector is reminded of them once a day, so "
                          "the window is at least {least} day, or a request could lapse "
                          "before the rector hears of it",
                          days=days, least=MIN_DECISION_WINDOW_DAYS)
    if days > MAX_DECISION_WINDOW_DAYS:
        raise PolicyError("refused: a decision window of {days} days for requested holds "
                          "(UE-10-22 3.3): footage is kept no more than {kept} days without "
                          "the rector's instruction, so a request keeps it at most {most} "
                          "days longer while the rector decides",
                          days=days, kept=MAX_RETENTION_DAYS, most=MAX_DECISION_WINDOW_DAYS)
    return days


def add_years(instant_ns: int, years: int) -> int:
    """The same calendar instant `years` later (29 February becomes 28 February)."""
    t = datetime.fromtimestamp(instant_ns // NS, UTC)
    try:
        later = t.replace(year=t.year + years)
    except ValueError:
        later = t.replace(year=t.year + years, day=28)
    return int(later.timestamp()) * NS + instant_ns % NS


def hold_ceiling_ns(approved_ns: int) -> int:
    return add_years(approved_ns, MAX_HOLD_YEARS)


def check_hold_expiry(approved_ns: int, expires_ns: int) -> int:
    if expires_ns <= approved_ns:
        raise PolicyError("a hold must expire after it is approved")
    if expires_ns > hold_ceiling_ns(approved_ns):
        raise PolicyError("hold expiry refused: clause 3.3 of UE-10-22 allows special "
                          "retention of up to {years} years after the rector's approval",
                          years=MAX_HOLD_YEARS)
    return expires_ns


# -- installation zones (3.3.9-3.3.17) and sound (3.1.2, 3.3.1) --------------------------
# Item 6 of issue 18. The regulation lists where cameras are installed; a camera's zone is
# one of these and nothing else ("other" and free text have no clause behind them). Where
# one clause names two places, each is a zone of its own: 3.3.10 names main entrances,
# emergency exits and the buildings' perimeter, 3.3.13 a dormitory's entrance groups and
# its floors, 3.3.16 classrooms and computer classes. 3.3.14 names one kind of premises
# ("sports and leisure premises"), so it stays one zone.


class Zone(StrEnum):
    ENTRANCE = "entrance"
    EMERGENCY_EXIT = "emergency_exit"
    PERIMETER = "perimeter"
    CORRIDOR = "corridor"
    STAIRCASE = "staircase"
    DORMITORY_ENTRANCE = "dormitory_entrance"
    DORMITORY_FLOOR = "dormitory_floor"
    SPORTS_LEISURE = "sports_leisure"
    LOBBY = "lobby"
    CLASSROOM = "classroom"
    COMPUTER_CLASS = "computer_class"
    VALUABLES = "valuables"


ZONE_CLAUSES: dict[str, str] = {  # keyed by Zone, read with any stored word
    Zone.ENTRANCE: "3.3.10",  # main entrances
    Zone.EMERGENCY_EXIT: "3.3.10",
    Zone.PERIMETER: "3.3.10",  # along the perimeter of the university's buildings
    Zone.CORRIDOR: "3.3.11",
    Zone.STAIRCASE: "3.3.12",  # staircase flights
    Zone.DORMITORY_ENTRANCE: "3.3.13",  # a dormitory's entrance groups
    Zone.DORMITORY_FLOOR: "3.3.13",
    Zone.SPORTS_LEISURE: "3.3.14",
    Zone.LOBBY: "3.3.15",  # lobby (vestibule)
    Zone.CLASSROOM: "3.3.16",
    Zone.COMPUTER_CLASS: "3.3.16",
    Zone.VALUABLES: "3.3.17",  # premises for permanent storage of material valuables
}
ZONE_LIST = ", ".join(Zone)


def listed_zone(word: str | None) -> Zone | None:
    """The zone a stored word names; None for a row from before the list was closed."""
    return Zone(word) if word is not None and word in ZONE_CLAUSES else None


def check_zone(zone: str | None) -> Zone:
    """A camera's installation zone, from the regulation's list only."""
    if zone is None or zone not in ZONE_CLAUSES:
        if zone is None:
            raise PolicyError("refused: no installation zone (UE-10-22 3.3.9-3.3.17); a "
                              "camera is installed in one of: {zones}", zones=ZONE_LIST)
        raise PolicyError("refused: installation zone {zone} (UE-10-22 3.3.9-3.3.17); a "
                          "camera is installed in one of: {zones}",
                          zone=repr(zone), zones=ZONE_LIST)
    return Zone(zone)


def check_audio_order(order_no: str, order_date: str, now_ns: int) -> tuple[str, str]:
    """The basis for keeping a camera's sound: the rector's order, by number and a date no
    later than today (UTC). The regulation describes a system for obtaining images (3.1.2)
    and no covert gathering of information (3.3.1): sound is recorded only where an order
    says so, and the order is what the register shows."""
    number = order_no.strip()
    if not number:
        raise PolicyError("refused: keeping sound without the rector's order (UE-10-22 3.1.2): "
                          "give the order's number")
    try:
        day = date.fromisoformat(order_date)
    except ValueError as exc:
        raise PolicyError("refused: order date {date} (UE-10-22 3.1.2): the date is "
                          "YYYY-MM-DD", date=repr(order_date)) from exc
    if day > datetime.fromtimestamp(now_ns // NS, UTC).date():
        raise PolicyError("refused: an order dated {date}, after today (UE-10-22 3.1.2): "
                          "sound is kept on an order already given", date=day.isoformat())
    return number, day.isoformat()
