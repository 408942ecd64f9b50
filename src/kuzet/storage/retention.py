"""Retention and hold decisions (clause 3.3), kept apart from any database or disk.

Ordinary footage lives at most 30 days. Footage under a hold lives until the hold ends,
and a hold lives at most three years from the rector's approval (the numbers and their
checks are `kuzet.regulation`'s). A hold that has been requested but not yet decided
protects its footage for a short decision window after the request, so that footage does
not expire while the rector decides; and only footage younger than 30 days plus that
window, so that no request keeps anything longer without the rector's instruction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from kuzet.regulation import MAX_RETENTION_DAYS
from kuzet.timefmt import NS

DAY_NS = 86_400 * NS


def retention_days_of(camera_days: int | None, default_days: int) -> int:
    """The days a camera's footage is kept: its own setting or the default, and never
    past clause 3.3's ceiling, whatever a row holds. Every writer checks; this is the
    sweeper's own guard: a stray value above the ceiling is cut to it (nothing kept
    longer), and one below a day (which would put the cut-off in the future and delete
    everything unheld) falls back to the default."""
    days = camera_days if camera_days is not None and camera_days >= 1 else default_days
    return min(days, MAX_RETENTION_DAYS)


class HoldState(StrEnum):
    PENDING = "pending"  # requested, undecided, inside the decision window: protects
    LAPSED = "lapsed"  # requested, undecided, decision window over: does not protect
    ACTIVE = "active"  # approved and not expired or released: protects
    REJECTED = "rejected"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True)
class HoldFacts:
    id: int
    requested_ns: int
    approved_ns: int | None
    expires_ns: int | None
    rejected_ns: int | None
    released_ns: int | None
    ranges: tuple[tuple[int, int, int], ...] = field(default=())  # (camera_id, start, end)


def hold_state(h: HoldFacts, now_ns: int, window_ns: int) -> HoldState:
    if h.released_ns is not None and h.released_ns <= now_ns:
        return HoldState.RELEASED
    if h.rejected_ns is not None:
        return HoldState.REJECTED
    if h.approved_ns is not None:
        assert h.expires_ns is not None
        return HoldState.ACTIVE if now_ns < h.expires_ns else HoldState.EXPIRED
    if now_ns < h.requested_ns + window_ns:
        return HoldState.PENDING
    return HoldState.LAPSED


PROTECTING = {HoldState.PENDING, HoldState.ACTIVE}


def pending_reach_ns(now_ns: int, window_ns: int) -> int:
    """How far back an undecided hold reaches at `now_ns`: footage that ended at or before
    this instant is older than 30 days plus the decision window, and no request keeps it
    (clause 3.3: nothing outlives 30 days without the rector's instruction; the window is
    the time the rector is given to decide). 30 days, not the camera's own retention: a
    camera set to keep less may keep footage asked for up to the regulation's ceiling."""
    return now_ns - MAX_RETENTION_DAYS * DAY_NS - window_ns


def protected_ranges(h: HoldFacts, now_ns: int, window_ns: int
                     ) -> tuple[tuple[int, int, int], ...]:
    """(camera_id, start, end) of what `h` protects at `now_ns`: an approved hold its
    whole ranges, an undecided one within its decision window only their part younger
    than `pending_reach_ns`, any other nothing."""
    state = hold_state(h, now_ns, window_ns)
    if state is HoldState.ACTIVE:
        return h.ranges
    if state is not HoldState.PENDING:
        return ()
    reach = pending_reach_ns(now_ns, window_ns)
    return tuple((camera_id, max(start, reach), end) for camera_id, start, end in h.ranges
                 if end > reach)


def pending_ends_ns(requested_ns: int, last_end_ns: int, window_ns: int) -> int:
    """When an undecided hold, requested at `requested_ns` for footage up to
    `last_end_ns`, stops protecting anything: at the end of its decision window, or sooner
    once all its footage is 30 days plus the window old."""
    return min(requested_ns + window_ns, last_end_ns + MAX_RETENTION_DAYS * DAY_NS + window_ns)


class HoldSource(Protocol):
    """What the sweeper reads of the holds (`governance.holds.Holds`): their facts and
    how long a request may wait. A protocol, so that storage does not reach up into
    governance."""

    window_ns: int

    def facts(self) -> list[HoldFacts]: ...


@dataclass
class Protection:
    """Protected time ranges of one camera, merged and sorted.

    Ranges are half-open like segments: a segment [s, e) is kept whole when s < end and
    e > start for any range, so a hold that ends exactly where a segment starts does not
    keep it (kuzet.storage.sweeper turns this into the query's filter). A segment kept by
    an undecided hold therefore ended after `pending_reach_ns`, as retention measures a
    segment's age by its end.
    """

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)


def protections(holds: list[HoldFacts], now_ns: int,
                window_ns: int) -> dict[int, Protection]:
    ranges: dict[int, list[tuple[int, int]]] = {}
    for h in holds:
        for camera_id, start, end in protected_ranges(h, now_ns, window_ns):
            ranges.setdefault(camera_id, []).append((start, end))
    out: dict[int, Protection] = {}
    for camera_id, rs in ranges.items():
        p = Protection()
        for start, end in sorted(rs):
            if p.ends and start <= p.ends[-1]:
                p.ends[-1] = max(p.ends[-1], end)
            else:
                p.starts.append(start)
                p.ends.append(end)
        out[camera_id] = p
    return out


def retention_cutoff_ns(now_ns: int, days: int) -> int:
    """Segments that ended at or before this instant have outlived their policy."""
    return now_ns - days * DAY_NS


def floor_bytes(total_bytes: int, percent: float, minimum_bytes: int) -> int:
    """The free space a volume keeps: the larger of a share and a size, at most half the disk.

    The cap keeps a small disk (a test volume, a laptop) usable: a 10 GB floor on a 16 GB
    disk would leave nothing to record into.
    """
    return min(max(int(total_bytes * percent / 100), minimum_bytes), total_bytes // 2)


@dataclass(frozen=True)
class DeletedRow:
    row_sha256: bytes
    prev_link: bytes | None
    start_ns: int
    end_ns: int
    size_bytes: int


@dataclass
class DeletionRun:
    """Consecutive segments of one camera's chain deleted together.

    `from_link` is the link of the first deleted row (the digest of the row before it),
    `to_link` the digest of the last deleted row: `kuzet verify` bridges the chain
    across the run with them.
    """

    from_link: bytes | None
    to_link: bytes
    count: int
    size_bytes: int
    start_ns: int
    end_ns: int


def deletion_runs(rows: list[DeletedRow]) -> list[DeletionRun]:
    """Group deleted rows (in chain order) into runs of consecutive chain links."""
    runs: list[DeletionRun] = []
    for r in rows:
        last = runs[-1] if runs else None
        if last is not None and r.prev_link == last.to_link:
            last.to_link = r.row_sha256
            last.count += 1
            last.size_bytes += r.size_bytes
            last.end_ns = r.end_ns
        else:
            runs.append(DeletionRun(r.prev_link, r.row_sha256, 1, r.size_bytes,
                                    r.start_ns, r.end_ns))
    return runs
