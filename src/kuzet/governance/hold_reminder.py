"""The rector's daily reminder of holds awaiting a decision (clause 3.3).

A requested hold keeps its footage only for the decision window
(`hold_decision_window_days`); then it lapses and the footage goes back to ordinary
retention. So that this happens by the rector's choice and not by oversight, the
recorder's maintenance loop asks here once a pass whether a reminder is due: once a day
(of `display_timezone`) while any hold is pending, it raises the `holds_pending` alarm,
which counts them and gives their ids, and records `hold.remind` in the audit log. The
alarm says nothing of what a hold is for: alarms are shown on the health page to IT
support and the installer, who may not read the holds (`hold.read`); the rector finds
each in the approvals inbox. When the last reminder was is read from that log, so a
restart within the day does not remind again; the alarm is cleared as soon as nothing is
pending.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import SYSTEM, AuditLog
from kuzet.catalog.alarms import Alarms, Severity
from kuzet.governance.holds import Holds, HoldView
from kuzet.storage.retention import HoldState
from kuzet.timefmt import NS

KIND, SUBJECT = "holds_pending", "holds"


def day_of(instant_ns: int, zone: str) -> date:
    return datetime.fromtimestamp(instant_ns / NS, UTC).astimezone(ZoneInfo(zone)).date()


def due(last_ns: int | None, now_ns: int, zone: str) -> bool:
    """A reminder is due unless one was given earlier on the same day of `zone`."""
    return last_ns is None or day_of(last_ns, zone) != day_of(now_ns, zone)


def message(pending: Sequence[HoldView]) -> str:
    """What the alarm says: how many holds wait (how many of them with a transfer request)
    and their ids; never their incident, reason or cameras."""
    ids = ", ".join(str(v.hold.id) for v in pending)
    transfers = sum(1 for v in pending if v.transfer is not None)
    with_transfers = f", {transfers} of them with a transfer request" if transfers else ""
    return (f"{len(pending)} hold request(s) await the rector's decision (UE-10-22 3.3)"
            f"{with_transfers}: hold(s) {ids}; undecided, each keeps its footage only for "
            "the decision window")


class HoldReminder:
    def __init__(self, holds: Holds, alarms: Alarms, audit: AuditLog, zone: str) -> None:
        self.holds = holds
        self.alarms = alarms
        self.audit = audit
        self.zone = zone

    def run_if_due(self, now_ns: int | None = None) -> list[int] | None:
        """Remind if due: the ids of the holds reminded of, else None."""
        now = now_ns if now_ns is not None else time.time_ns()
        pending = [v for v in self.holds.list(now) if v.state is HoldState.PENDING]
        if not pending:
            self.alarms.clear(KIND, SUBJECT, now_ns=now)
            return None
        # read from the log at each pass, not kept: the recording nodes of a cluster
        # (issue 25) each run this, and the first to remind on a day is the day's reminder
        last = self.audit.last(AuditAction.HOLD_REMIND)
        if not due(None if last is None else last.at_ns, now, self.zone):
            return None
        ids = [v.hold.id for v in pending]
        # The alarm first: a crash between the two reminds twice rather than not at all.
        self.alarms.raise_(KIND, SUBJECT, Severity.WARNING,
                           message(pending), value=len(ids), now_ns=now)
        self.audit.record(SYSTEM, AuditAction.HOLD_REMIND, SUBJECT,
                          {"holds": ids, "to": "rector"}, now)
        return ids
