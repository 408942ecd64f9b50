"""The audit log as CSV, with each entry's hashes so the chain recomputes outside Kuzet.

Text cells pass through `kuzet.csvcells` like every CSV Kuzet writes; whoever recomputes
the hashes first strips one leading `'` from each cell that begins with one
(`csvcells.unescape`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from kuzet import csvcells
from kuzet.catalog.models import AuditEntry
from kuzet.timefmt import format_instant

HEADER = ["seq", "at_utc", "at_ns", "actor", "action", "subject", "detail", "prev_hash", "hash"]


def write_csv(entries: Iterable[AuditEntry], f: TextIO) -> int:
    w = csv.writer(f)
    w.writerow(HEADER)
    n = 0
    for e in entries:
        w.writerow(csvcells.row([e.seq, format_instant(e.at_ns), e.at_ns, e.actor, e.action,
                                 e.subject, e.detail, e.prev_hash, e.hash]))
        n += 1
    return n
