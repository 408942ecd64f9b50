"""Writing the LAN gate's refusals down without making the gate wait (clause 3.5.3).

The gate runs on the API's event loop, where a database write per refused request let a
flood from outside stretch every signed-in user's answers (issue 16: 400 refused requests
took one user's p95 from 13 ms to 234 ms). Here the gate only counts, under a lock held
for a few dictionary operations (`kuzet.access.refusals` decides what is written and
when); a thread of its own writes the audit entries and alarms. The thread runs while
there is a minute open or something to write, waking when the minute closes, and ends
by itself when all is written; a flood therefore costs at most about two entries a minute
per address, for at most `max_sources` addresses and one entry for the rest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from kuzet.access.lan import ClientAddress
from kuzet.access.refusals import OTHERS, Record, RefusalTally
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, AuditLog
from kuzet.catalog.alarms import Alarms, Severity
from kuzet.timefmt import format_instant

log = logging.getLogger(__name__)
REASON = "clause 3.5.3: source outside the local network"
FLUSH_WAIT_S = 10.0


class RefusalLog:
    def __init__(self, audit: AuditLog, alarms: Alarms, clock: Callable[[], int],
                 max_sources: int = 256) -> None:
        self.audit = audit
        self.alarms = alarms
        self.clock = clock
        self._tally = RefusalTally(max_sources, max_pending=4 * max_sources)
        self._cond = threading.Condition()
        self._writer: threading.Thread | None = None

    def note(self, client: ClientAddress, scope: Mapping[str, Any]) -> None:
        """The gate's `on_refusal`: count it, on the event loop, touching no disk."""
        path = str(scope.get("path", ""))[:200]
        with self._cond:
            if self._tally.refused(client.text, path, str(scope["type"]), self.clock()):
                self._cond.notify()
            self._ensure_writer()

    def flush(self, timeout_s: float = FLUSH_WAIT_S) -> bool:
        """Close the open minute and wait until everything is written (shutdown, tests);
        True when it all was within `timeout_s`."""
        with self._cond:
            self._tally.close()
            self._ensure_writer()
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._writer is None, timeout_s)

    def _ensure_writer(self) -> None:
        if self._writer is None and (self._tally.pending or self._tally.minute_ns is not None):
            self._writer = threading.Thread(target=self._run, name="refusal-log", daemon=True)
            self._writer.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._tally.close(self.clock())
                records = self._tally.take()
                if not records:
                    closes = self._tally.closes_at_ns
                    if closes is None:
                        self._writer = None
                        self._cond.notify_all()
                        return
                    # Until the minute closes or a first refusal comes; at least a
                    # second, so a clock that does not move (tests) cannot make it spin.
                    self._cond.wait(max(1.0, (closes - self.clock()) / 1e9))
                    continue
            for record in records:
                self._write(record)

    def _write(self, r: Record) -> None:
        minute = format_instant(r.minute_ns)
        try:
            self.audit.act(Actor("anonymous", (), r.source), AuditAction.ACCESS_REFUSED, r.path,
                           outcome="refused", reason=REASON, kind=r.kind, count=r.count,
                           minute=minute, first=r.first)
            if r.first:
                log.warning("refused a request from %s outside the local network", r.source)
                whom = ("more addresses than are told apart in a minute" if r.source == OTHERS
                        else r.source)
                self.alarms.raise_("non_lan_access", r.source, Severity.CRITICAL,
                                   f"a {r.kind} request to {r.path} came from {whom}, outside "
                                   "the local network (clause 3.5.3); refused")
            else:
                log.warning("refused %d more requests from %s outside the local network in "
                            "the minute from %s", r.count, r.source, minute)
        except Exception:  # the refusals stand even if they could not be written down
            log.exception("could not record refused requests from %s", r.source)
