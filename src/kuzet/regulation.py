"""UE-10-22's numbers in one place: how long footage may be kept (clause 3.3), and the
checks every writer of a retention or a hold runs (the settings, the command line, the
API, the holds themselves, the sweeper's guard).

Ordinary footage lives at most 30 days; footage under a hold lives until the hold ends,
and a hold lives at most three years from the rector's approval. Pure: no database, disk
or clock, and nothing of Kuzet's beneath it but `errors` and `timefmt`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kuzet.errors import Invalid
from kuzet.timefmt import NS

MAX_RETENTION_DAYS = 30
MAX_HOLD_YEARS = 3


class PolicyError(Invalid):
    """A retention or hold setting the regulation does not allow."""


def check_retention_days(days: int) -> int:
    if days < 1:
        raise PolicyError(f"retention of {days} days: at least 1 day is needed")
    if days > MAX_RETENTION_DAYS:
        raise PolicyError(f"retention of {days} days refused: clause 3.3 of UE-10-22 keeps "
                          f"recordings no more than {MAX_RETENTION_DAYS} days; footage needed "
                          "longer must be put under a hold approved by the rector")
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
        raise PolicyError(f"hold expiry refused: clause 3.3 of UE-10-22 allows special "
                          f"retention of up to {MAX_HOLD_YEARS} years after the rector's "
                          "approval")
    return expires_ns
