"""Alarms: conditions that need a person (a disk under its floor, a missing volume, a file
that no longer matches its hash). One open alarm per kind and subject; it is updated
while the condition lasts and cleared when it ends, so the history shows both instants.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
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

    def kept(self, severity: Mapping[str, Severity]) -> Kept:
        """The alarms of `severity`'s kinds that one watch raises and clears."""
        return Kept(self, severity)

    def list(self, *, active_only: bool = True) -> list[Alarm]:
        with self.session() as s:
            q = select(Alarm).order_by(Alarm.raised_ns)
            if active_only:
                q = q.where(Alarm.cleared_ns.is_(None))
            return list(s.scalars(q))


class Kept:
    """The alarms one watch keeps (a UPS's, the server's clock, disks, the network): each
    raised while its condition lasts and cleared when it ends. Only a change touches the
    catalog: a new alarm, a new message (a UPS's charge falling), a clearing; a watch that
    polls every 2 s does not rewrite its rows every 2 s. A write that fails (the catalog
    busy) is tried again at the next settle. The open alarms a previous run left are
    taken over, so the watch clears them."""

    def __init__(self, alarms: Alarms, severity: Mapping[str, Severity]) -> None:
        self.alarms = alarms
        self.severity = dict(severity)
        self.said: dict[tuple[str, str], str] = {
            (a.kind, a.subject): a.message for a in alarms.list() if a.kind in severity}

    def subjects(self, kinds: Iterable[str]) -> set[str]:
        return {subject for kind, subject in self.said if kind in kinds}

    def settle(self, subject: str, wanted: Mapping[str, str],
               kinds: Iterable[str] | None = None) -> None:
        """Raise each of `wanted` (kind -> message) on `subject`, clear the others of
        `kinds` (all of this watch's by default: a watch that learnt nothing of some
        passes only the kinds it knows about)."""
        for kind in self.severity if kinds is None else kinds:
            key = (kind, subject)
            if kind in wanted:
                if self.said.get(key) == wanted[kind]:
                    continue
                if key not in self.said:
                    log.warning("%s", wanted[kind])
                self.alarms.raise_(kind, subject, self.severity[kind], wanted[kind])
                self.said[key] = wanted[kind]
            elif key in self.said:
                self.alarms.clear(kind, subject)
                del self.said[key]
