"""Alarms: conditions that need a person (a disk under its floor, a missing volume, a file
that no longer matches its hash). One open alarm per kind and subject; it is updated
while the condition lasts and cleared when it ends, so the history shows both instants.
"""

from __future__ import annotations

import time
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.catalog.models import Alarm


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


class Alarms:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    def raise_(self, kind: str, subject: str, severity: Severity, message: str, *,
               value: float | None = None, now_ns: int | None = None) -> bool:
        """Raise or update an alarm; True when it is new (or worse than before)."""
        now = now_ns if now_ns is not None else time.time_ns()
        with self.session.begin() as s:
            current = s.scalar(select(Alarm).where(Alarm.kind == kind, Alarm.subject == subject,
                                                   Alarm.cleared_ns.is_(None)))
            if current is None:
                s.add(Alarm(kind=kind, severity=severity.value, subject=subject, message=message,
                            raised_ns=now, updated_ns=now, value=value))
                return True
            worse = current.severity != severity.value and severity is Severity.CRITICAL
            current.severity = severity.value
            current.message = message
            current.updated_ns = now
            current.value = value
            return worse

    def clear(self, kind: str, subject: str, *, now_ns: int | None = None) -> bool:
        now = now_ns if now_ns is not None else time.time_ns()
        with self.session.begin() as s:
            cleared = False
            for a in s.scalars(select(Alarm).where(Alarm.kind == kind, Alarm.subject == subject,
                                                   Alarm.cleared_ns.is_(None))):
                a.cleared_ns = now
                cleared = True
            return cleared

    def list(self, *, active_only: bool = True) -> list[Alarm]:
        with self.session() as s:
            q = select(Alarm).order_by(Alarm.raised_ns)
            if active_only:
                q = q.where(Alarm.cleared_ns.is_(None))
            return list(s.scalars(q))
