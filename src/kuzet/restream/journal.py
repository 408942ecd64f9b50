"""The register of restream sessions and the audit of every one (UE-10-22 3.2.11, 4.2).

Each centre's session is a row (centre, camera, stream, source address, transport, start,
end, bytes, frames, frames a slow reader lost, why it ended) and two audit entries, its
start and its end; a refusal is an audit entry and a `restream_refused` alarm. The server
runs on an event loop that sends video, so everything here is written by one thread of
its own, in order (a session's end after its start). A flood is written in aggregate: the
first refusal of an address for one reason in a minute at once, the rest as one count
when the minute closes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import append
from kuzet.catalog.alarms import Alarms, Severity
from kuzet.restream.access import WHY, Refusal
from kuzet.restream.models import Centre, RestreamSession

if TYPE_CHECKING:
    from kuzet.restream.server import LiveSession

ALARM = "restream_refused"
MINUTE_NS = 60_000_000_000
MAX_TALLIES = 256  # addresses counted in one minute; more are counted as one


@dataclass(frozen=True)
class SessionRow:
    id: int
    centre: str
    camera: str
    stream: str
    source: str
    transport: str
    start_ns: int
    end_ns: int | None
    bytes: int
    frames: int
    dropped: int
    ended: str | None


def actor_of(centre: str | None) -> str:
    return f"centre:{centre}" if centre else "restream"


class Journal:
    def __init__(self, session: sessionmaker[Session], alarms: Alarms,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.session = session
        self.alarms = alarms
        self.clock = clock
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="restream-journal")
        self._lock = threading.Lock()
        self._minute = 0
        self._tallies: dict[tuple[str, Refusal, str | None], int] = {}

    # -- the server's calls, on its loop: each only queues the write -------------------
    def started(self, session: LiveSession) -> Future[None]:
        """The session's row and `restream.start` entry, written on the journal's thread;
        the server plays the session once they are (every session is audited)."""
        return self._writer.submit(self._start, session)

    def ended(self, session: LiveSession) -> None:
        self._writer.submit(self._end, session, time.time_ns())

    def refused(self, address: str, why: Refusal, centre: str | None, detail: str) -> None:
        now = self.clock()
        with self._lock:
            closed = self._roll(now)
            key = (address, why, centre)
            first = key not in self._tallies
            if first and len(self._tallies) >= MAX_TALLIES:  # a flood of addresses: counted
                first, key = False, ("*", why, None)
            self._tallies[key] = self._tallies.get(key, 0) + (0 if first else 1)
        if closed:
            self._writer.submit(self._counts, closed)
        if first:
            self._writer.submit(self._refusal, address, why, centre, detail, now)

    def tick(self) -> None:
        """Close a minute that has passed (the server's periodic check)."""
        with self._lock:
            closed = self._roll(self.clock())
        if closed:
            self._writer.submit(self._counts, closed)

    def flush(self) -> None:
        """Write what is counted and wait for every write (the server's stop, tests)."""
        with self._lock:
            closed, self._tallies = self._tallies, {}
        self._writer.submit(self._counts, closed).result()

    def close(self) -> None:
        self.flush()
        self._writer.shutdown(wait=True)

    def _roll(self, now: int) -> dict[tuple[str, Refusal, str | None], int]:
        minute = now // MINUTE_NS
        if minute == self._minute:
            return {}
        self._minute, closed, self._tallies = minute, self._tallies, {}
        return closed

    # -- the writer thread -------------------------------------------------------------
    def _start(self, ls: LiveSession) -> None:
        with self.session.begin() as s:
            row = RestreamSession(centre_id=ls.centre.id, camera=ls.camera, stream=ls.stream,
                                  source=ls.address, transport=ls.transport,
                                  start_ns=ls.start_ns, bytes=0, frames=0, dropped=0)
            s.add(row)
            s.flush()
            ls.row = row.id
            append(s, actor_of(ls.centre.name), AuditAction.RESTREAM_START,
                   f"camera/{ls.camera}", {"centre": ls.centre.name, "stream": ls.stream,
                                           "source": ls.address, "transport": ls.transport,
                                           "session": row.id, "outcome": "allowed"},
                   ls.start_ns)

    def _end(self, ls: LiveSession, now: int) -> None:
        if ls.row is None:
            return
        with self.session.begin() as s:
            row = s.get(RestreamSession, ls.row)
            if row is None:
                return
            row.end_ns, row.bytes, row.frames = now, ls.octets, ls.frames
            row.dropped, row.ended = ls.dropped + ls.overflowed, (ls.ended or "")[:200]
            append(s, actor_of(ls.centre.name), AuditAction.RESTREAM_END,
                   f"camera/{ls.camera}", {
                       "centre": ls.centre.name, "stream": ls.stream, "source": ls.address,
                       "session": row.id, "seconds": round((now - ls.start_ns) / 1e9, 1),
                       "bytes": ls.octets, "frames": ls.frames,
                       "dropped": ls.dropped + ls.overflowed,
                       "ended": row.ended}, now)

    def _refusal(self, address: str, why: Refusal, centre: str | None, detail: str,
                 at: int) -> None:
        reason = f"UE-10-22 3.2.11: {WHY[why]}"
        with self.session.begin() as s:
            append(s, actor_of(centre), AuditAction.RESTREAM_REFUSED, address, {
                "source": address, "outcome": "refused", "refusal": why.value,
                "reason": reason, "request": detail, "count": 1}, at)
        if why not in (Refusal.STREAMS, Refusal.BITRATE):  # limits are not an attack
            self.alarms.raise_(ALARM, address, Severity.WARNING,
                               f"restream refused from {address}"
                               + (f" (centre {centre})" if centre else "") + f": {WHY[why]}")

    def _counts(self, tallies: dict[tuple[str, Refusal, str | None], int]) -> None:
        more = {k: n for k, n in tallies.items() if n}
        if not more:
            return
        with self.session.begin() as s:
            for (address, why, centre), n in more.items():
                append(s, actor_of(centre), AuditAction.RESTREAM_REFUSED, address, {
                    "source": address, "outcome": "refused", "refusal": why.value,
                    "reason": f"UE-10-22 3.2.11: {WHY[why]}", "count": n,
                    "aggregate": "more in the same minute"})

    # -- reading -----------------------------------------------------------------------
    def listing(self, centre: int | None = None, camera: str | None = None,
                since_ns: int | None = None, until_ns: int | None = None,
                limit: int = 1000) -> list[SessionRow]:
        q = (select(RestreamSession, Centre.name).join(Centre)
             .order_by(RestreamSession.start_ns.desc()).limit(limit))
        if centre is not None:
            q = q.where(RestreamSession.centre_id == centre)
        if camera is not None:
            q = q.where(RestreamSession.camera == camera)
        if since_ns is not None:
            q = q.where((RestreamSession.end_ns.is_(None))
                        | (RestreamSession.end_ns >= since_ns))
        if until_ns is not None:
            q = q.where(RestreamSession.start_ns < until_ns)
        with self.session() as s:
            return [SessionRow(r.id, name, r.camera, r.stream, r.source, r.transport,
                               r.start_ns, r.end_ns, r.bytes, r.frames, r.dropped, r.ended)
                    for r, name in s.execute(q)]

