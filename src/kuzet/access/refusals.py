"""Which refusals of the LAN gate are written down, and when (clauses 3.5.3 and 4.2).

Every request from outside the local network is refused, but writing each one down would
let anyone on the outside fill the audit log and keep the server busy doing so. So
refusals are tallied per source address and clock minute (UTC, from the minute's first
nanosecond): the first from an address in a minute is handed out at once (it becomes an
audit entry and a `non_lan_access` alarm); later ones from that address in that minute are
only counted and handed out as one record with the count when the minute closes. A
minute closes when the caller says the clock has passed it (a later refusal, the writer's
own timer) or when it is closed outright (shutdown).

Memory stays bounded under a flood from many addresses: at most `max_sources` addresses
are tracked per minute, and refusals from any further address are tallied together under
`OTHERS`, which is written like an address (a first record at once, then one count).
Records not yet taken are capped at `max_pending`; beyond that they are folded into one
`OTHERS` record that carries their counts, so a writer that falls behind loses detail,
never the number.

Pure: the caller passes the time and writes what `take` hands back.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE_NS = 60 * 10**9
OTHERS = "other addresses"


@dataclass(frozen=True)
class Record:
    """One audit entry to write: `count` refusals from `source` in the minute starting at
    `minute_ns`; `first` is the minute's first from that source (it also raises the alarm).
    `path` and `kind` are those of the latest refusal it counts."""

    source: str
    path: str
    kind: str
    minute_ns: int
    count: int
    first: bool


@dataclass
class _Later:
    path: str
    kind: str
    count: int = 0


class RefusalTally:
    def __init__(self, max_sources: int = 256, max_pending: int = 1024) -> None:
        self.max_sources = max_sources
        self.max_pending = max_pending
        self.minute_ns: int | None = None  # the open minute, if any
        self._seen: dict[str, _Later] = {}  # source -> refusals after its first this minute
        self._pending: list[Record] = []
        self._folded: Record | None = None

    def refused(self, source: str, path: str, kind: str, now_ns: int) -> bool:
        """Count one refusal; True when it left a record to write now."""
        minute = now_ns - now_ns % MINUTE_NS
        if self.minute_ns is not None and minute > self.minute_ns:
            self.close()
        if self.minute_ns is None or minute > self.minute_ns:
            self.minute_ns = minute
        if source not in self._seen and len(self._seen) >= self.max_sources:
            source = OTHERS
        later = self._seen.get(source)
        if later is not None:
            later.path, later.kind, later.count = path, kind, later.count + 1
            return False
        self._seen[source] = _Later(path, kind)
        self._hand_out(Record(source, path, kind, self.minute_ns, 1, first=True))
        return True

    def close(self, now_ns: int | None = None) -> bool:
        """Close the open minute if `now_ns` is past it (or outright when None), turning
        its counts into records; True when that left records to write."""
        if self.minute_ns is None:
            return False
        if now_ns is not None and now_ns < self.minute_ns + MINUTE_NS:
            return False
        before = self.pending
        for source, later in self._seen.items():
            if later.count:
                self._hand_out(Record(source, later.path, later.kind, self.minute_ns,
                                      later.count, first=False))
        self._seen.clear()
        self.minute_ns = None
        return self.pending > before

    def take(self) -> list[Record]:
        """The records to write, oldest first; the tally forgets them."""
        out = self._pending
        if self._folded is not None:
            out.append(self._folded)
        self._pending, self._folded = [], None
        return out

    @property
    def pending(self) -> int:
        return len(self._pending) + (self._folded is not None)

    @property
    def closes_at_ns(self) -> int | None:
        """When the open minute ends, if one is open."""
        return None if self.minute_ns is None else self.minute_ns + MINUTE_NS

    def _hand_out(self, record: Record) -> None:
        if len(self._pending) < self.max_pending:
            self._pending.append(record)
            return
        folded = self._folded
        count = record.count + (folded.count if folded is not None else 0)
        minute = folded.minute_ns if folded is not None else record.minute_ns
        self._folded = Record(OTHERS, record.path, record.kind, minute, count, first=False)
