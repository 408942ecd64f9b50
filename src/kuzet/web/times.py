"""Instants in the API: ISO 8601 in, UTC ISO 8601 plus integer nanoseconds out."""

from __future__ import annotations

from kuzet.errors import Invalid, Phrase
from kuzet.timefmt import TimeFormatError, format_instant, parse_instant

MAX_NS = 2**63 - 1


def instant(text: str, what: str) -> int:
    """`text` as ns since the epoch; `what` names the field in the refusal (said in the
    caller's language where the catalogs hold it: "start", "end")."""
    try:
        ns = parse_instant(text)
    except TimeFormatError as exc:
        raise Invalid("{what}: {exc}", what=Phrase(what), exc=exc.phrase) from exc
    if not 0 <= ns <= MAX_NS:
        raise Invalid("{what}: outside 1970-01-01 … 2262-04-11", what=Phrase(what))
    return ns


def window(start: str, end: str) -> tuple[int, int]:
    a, b = instant(start, "start"), instant(end, "end")
    if b <= a:
        raise Invalid("the end comes after the start")
    return a, b


def out(ns: int | None) -> str | None:
    return None if ns is None else format_instant(ns)
