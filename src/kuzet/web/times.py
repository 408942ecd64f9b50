"""Instants in the API: ISO 8601 in, UTC ISO 8601 plus integer nanoseconds out."""

from __future__ import annotations

from kuzet.errors import Invalid
from kuzet.timefmt import TimeFormatError, format_instant, parse_instant

MAX_NS = 2**63 - 1


def instant(text: str, what: str) -> int:
    try:
        ns = parse_instant(text)
    except TimeFormatError as exc:
        raise Invalid(f"{what}: {exc}") from exc
    if not 0 <= ns <= MAX_NS:
        raise Invalid(f"{what}: outside 1970-01-01 … 2262-04-11")
    return ns


def window(start: str, end: str) -> tuple[int, int]:
    a, b = instant(start, "start"), instant(end, "end")
    if b <= a:
        raise Invalid("the end comes after the start")
    return a, b


def out(ns: int | None) -> str | None:
    return None if ns is None else format_instant(ns)
