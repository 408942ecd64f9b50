"""The archive's bar and calendar, as pure functions of catalog rows.

A day of one camera is 1 440 one-minute segments; drawn one by one they cost the browser
and the wire for nothing, so touching segments become one span (the bar draws the
playback plan's items, kuzet.console.playback_plan, joined). The calendar's days are
days of the display time zone (a night shift's footage belongs to the Almaty date a
guard remembers, not to the UTC one).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kuzet.console.playback_plan import Gap, Item, Missing, windows
from kuzet.timefmt import NS

Span = tuple[int, int]
# Two segments closer than this are one span: a cut at a keyframe leaves no hole, but the
# next segment's first timestamp may sit a frame or so after the last one's end.
JOIN_NS = NS // 2


def merge(spans: Iterable[Span], join_ns: int = JOIN_NS) -> list[Span]:
    """Sorted, overlapping or nearly touching spans as one."""
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] <= join_ns:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def clip(spans: Iterable[Span], allowed: Iterable[Span]) -> list[Span]:
    """The parts of `spans` inside any of the `allowed` windows."""
    windows = list(allowed)
    result = []
    for a, b in spans:
        for lo, hi in windows:
            s, e = max(a, lo), min(b, hi)
            if s < e:
                result.append((s, e))
    return result


def drawn(items: Sequence[Item[Any]], allowed: Iterable[Span]) -> tuple[list[Span], list[Span]]:
    """What the bar draws of a playback plan: the recorded spans (a file on disk or not)
    and the missing files, each with nearly touching ones joined, but never across the
    edge of an allowed window (joining two windows would draw what lies between them)."""
    recorded = merge((i.start_ns, i.end_ns) for i in items if not isinstance(i, Gap))
    missing = merge((i.start_ns, i.end_ns) for i in items if isinstance(i, Missing))
    shown = windows(allowed)
    return clip(recorded, shown), clip(missing, shown)


def month_days(year: int, month: int, zone: str) -> list[tuple[date, int, int]]:
    """Each day of a month as (date, start_ns, end_ns) in the time zone, DST-safe."""
    tz = ZoneInfo(zone)
    days = []
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        d = date(year, month, day)
        start = datetime.combine(d, time(), tz)
        end = datetime.combine(d + timedelta(days=1), time(), tz)
        days.append((d, int(start.timestamp()) * NS, int(end.timestamp()) * NS))
    return days
