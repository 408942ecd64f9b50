"""Document numbers: a letter, the year of the display time zone, a sequence per year
(`П-2026/0017`), as the university's registry writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PREFIXES = {"protocol": "П", "act": "А", "viewing": "В", "transfer": "Т"}


def year_of(instant_ns: int, zone: str) -> int:
    return datetime.fromtimestamp(instant_ns / 1e9, UTC).astimezone(ZoneInfo(zone)).year


def document_number(kind: str, year: int, seq: int) -> str:
    return f"{PREFIXES[kind]}-{year}/{seq:04d}"
