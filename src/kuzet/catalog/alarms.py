"""Alarms: conditions that need a person (a disk under its floor, a missing volume, a file
that no longer matches its hash). One open alarm per kind and subject; it is updated
while the condition lasts and cleared when it ends, so the history shows both instants.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.catalog.models import Alarm

log = logging.getLogger(__name__)


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Change:
    """An alarm raised (new, or worse than it was) or cleared, told to the listeners once
    written: the notifiers (MQTT, webhooks) and the equipment register's faults."""

    id: int
    kind: str
    subject: str  # a register item's name where the alarm is about one
    severity: str
    message: str
    raised: bool  # False: cleared
    at_ns: int


Listener = Callable[[Change], None]


class Alarms:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session
        self.listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """`listener` hears each change after it is written; it must not block."""
        self.listeners.append(listener)

    def _tell(self, change: Change) -> None:
        for listener in self.listeners:
            try:
                listener(change)
            except Exception:  # a listener's fault must not undo nor stop the alarm
                log.exception("alarm listener failed on %s %s", change.kind, change.subject)

    def raise_(self, kind: str, subject: str, severity: Severity, message: str, *,
               value: float | None = None, now_ns: int | None = None) -> bool:
        """Raise or update an alarm; True when it is new (or worse than before)."""
        now = now_ns if now_ns is not None else time.time_ns()
        with self.session.begin() as s:
            current = s.scalar(select(Alarm).where(Alarm.kind == kind, Alarm.subject == subject,
                                                   Alarm.cleared_ns.is_(None)))
            if current is None:
                current = Alarm(kind=kind, severity=severity.value, subject=subject,
                                message=message, raised_ns=now, updated_ns=now, value=value)
                s.add(current)
                news = True
            else:
                news = current.severity != severity.value and severity is Severity.CRITICAL
                current.severity = severity.value
                current.message = message
                current.updated_ns = now
                current.value = value
            s.flush()
            change = Change(current.id, kind, subject, severity.value, message, True, now)
        if news:
            self._tell(change)
        return news

    def clear(self, kind: str, subject: str, *, now_ns: int | None = None) -> bool:
        now = now_ns if now_ns is not None else time.time_ns()
        changes = []
        with self.session.begin() as s:
            for a in s.scalars(select(Alarm).where(Alarm.kind == kind, Alarm.subject == subject,
                                                   Alarm.cleared_ns.is_(None))):
                a.cleared_ns = now
                changes.append(Change(a.id, kind, subject, a.severity, a.message, False, now))
        for change in changes:
            self._tell(change)
        return bool(changes)

    def list(self, *, active_only: bool = True) -> list[Alarm]:
        with self.session() as s:
            q = select(Alarm).order_by(Alarm.raised_ns)
            if active_only:
                q = q.where(Alarm.cleared_ns.is_(None))
            return list(s.scalars(q))
