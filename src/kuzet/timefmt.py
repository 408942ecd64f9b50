"""UTC nanosecond instants: parsing what users type and naming what we store.

Every stored instant is an int of nanoseconds since the Unix epoch, UTC. Users type ISO
8601 with an offset; JSON output uses UTC ISO 8601 with nanoseconds; people see the
display zone, Asia/Almaty by default (the console's own formatting; `display_instant` for
the command line's lines).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from kuzet.errors import Phrase

NS = 1_000_000_000


class TimeFormatError(ValueError):
    """A time typed wrongly; its message is a Phrase, so the API says it in the caller's
    language (kuzet.web.times)."""

    def __init__(self, phrase: Phrase) -> None:
        super().__init__(phrase)
        self.phrase = phrase


def parse_instant(text: str) -> int:
    """ISO 8601 with an explicit offset (or Z) → ns since epoch. Naive times are refused."""
    raw = text.strip()
    frac_ns = 0
    # datetime keeps microseconds only; carry extra digits of the fraction ourselves.
    head, dot, tail = raw.partition(".")
    if dot:
        digits = ""
        for ch in tail:
            if ch.isdigit():
                digits += ch
            else:
                break
        rest = tail[len(digits):]
        if not digits:
            raise TimeFormatError(Phrase("bad time {text!r}: empty fraction", text=text))
        frac_ns = int(digits[:9].ljust(9, "0"))
        raw = head + rest
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise TimeFormatError(Phrase("bad time {text!r}: expected ISO 8601 such as "
                                     "2026-11-27T08:30:00+05:00", text=text)) from exc
    if dt.tzinfo is None:
        raise TimeFormatError(Phrase("time {text!r} has no UTC offset; add Z or +05:00",
                                     text=text))
    return int(dt.timestamp()) * NS + frac_ns


def format_instant(ns: int) -> str:
    """ns since epoch → '2026-11-27T02:22:52.123456789Z'."""
    seconds, frac = divmod(ns, NS)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def display_instant(ns: int, zone: str, *, fraction: bool = False) -> str:
    """ns since epoch → the display zone's wall time with its offset,
    '2026-11-27T07:22:52+05:00' (`fraction`: with the nanoseconds). What the command line
    prints for people, so that it says the time the console shows (issue 21) and names the
    zone by its offset; `--from`/`--to` read it back as it is."""
    seconds, frac = divmod(ns, NS)
    text = datetime.fromtimestamp(seconds, UTC).astimezone(ZoneInfo(zone)).isoformat()
    return f"{text[:19]}.{frac:09d}{text[19:]}" if fraction else text


def file_stamp(ns: int) -> str:
    """A file-name-safe, sortable UTC stamp: '20261127T022252.123456789Z'."""
    seconds, frac = divmod(ns, NS)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%dT%H%M%S") + f".{frac:09d}Z"


def parse_file_stamp(stamp: str) -> int:
    base, _, frac = stamp.rstrip("Z").partition(".")
    dt = datetime.strptime(base, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return int(dt.timestamp()) * NS + int(frac.ljust(9, "0")[:9] or 0)


def campus_day(ns: int, zone: str) -> date:
    """The campus's calendar day at instant `ns`: the display zone's, where checks fall
    due and the regulation's editions take effect."""
    return datetime.fromtimestamp(ns / 1e9, ZoneInfo(zone)).date()
