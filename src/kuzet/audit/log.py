"""The audit log: append-only, hash-chained, written in the caller's transaction.

Writing an entry in the same transaction as the change it records means that a crash
can lose both or neither: a sweep that deleted footage always has its entry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.chain import EntryFacts, canonical_detail, entry_hash, first_break
from kuzet.catalog.models import AuditEntry, AuditHead

SYSTEM = "system"


def append(s: Session, actor: str, action: str, subject: str, detail: dict[str, Any],
           at_ns: int | None = None) -> AuditEntry:
    # Taking the head row's write lock first serialises writers on SQLite and PostgreSQL.
    s.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    seq, prev = s.execute(select(AuditHead.seq, AuditHead.last_hash)
                          .where(AuditHead.id == 1)).one()
    facts = EntryFacts(seq=seq, at_ns=at_ns if at_ns is not None else time.time_ns(),
                       actor=actor, action=action, subject=subject,
                       detail=canonical_detail(detail))
    digest = entry_hash(prev, facts)
    entry = AuditEntry(seq=seq, at_ns=facts.at_ns, actor=actor, action=action, subject=subject,
                       detail=facts.detail, prev_hash=prev, hash=digest)
    s.add(entry)
    s.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=digest))
    return entry


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_bad_seq: int | None


class AuditLog:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    def record(self, actor: str, action: str, subject: str, detail: dict[str, Any],
               at_ns: int | None = None) -> AuditEntry:
        with self.session.begin() as s:
            return append(s, actor, action, subject, detail, at_ns)

    def act(self, actor: Actor, action: str, subject: str, **kwargs: Any) -> AuditEntry:
        """`append_act` in a transaction of its own, for acts that change nothing else."""
        with self.session.begin() as s:
            return append_act(s, actor, action, subject, **kwargs)

    def entries(self, *, action: str | None = None, since_ns: int | None = None,
                until_ns: int | None = None, limit: int | None = None) -> list[AuditEntry]:
        with self.session() as s:
            q = select(AuditEntry).order_by(AuditEntry.seq)
            if action is not None:
                q = q.where(AuditEntry.action == action)
            if since_ns is not None:
                q = q.where(AuditEntry.at_ns >= since_ns)
            if until_ns is not None:
                q = q.where(AuditEntry.at_ns < until_ns)
            if limit is not None:
                q = q.order_by(None).order_by(AuditEntry.seq.desc()).limit(limit)
                return sorted(s.scalars(q), key=lambda e: e.seq)
            return list(s.scalars(q))

    def entry(self, seq: int) -> AuditEntry | None:
        with self.session() as s:
            return s.scalar(select(AuditEntry).where(AuditEntry.seq == seq))

    def hash_of(self, seq: int | None) -> str | None:
        """The chain hash of entry `seq`: what a printed document cites to be traced."""
        entry = self.entry(seq) if seq is not None else None
        return entry.hash if entry is not None else None

    def last(self, action: str) -> AuditEntry | None:
        with self.session() as s:
            return s.scalar(select(AuditEntry).where(AuditEntry.action == action)
                            .order_by(AuditEntry.seq.desc()).limit(1))

    def verify(self) -> ChainCheck:
        rows = self.entries()
        facts = [(EntryFacts(e.seq, e.at_ns, e.actor, e.action, e.subject, e.detail),
                  e.prev_hash, e.hash) for e in rows]
        bad = first_break(facts)
        with self.session() as s:
            head_seq, head_hash = s.execute(select(AuditHead.seq, AuditHead.last_hash)).one()
        if bad is not None:
            return ChainCheck(len(rows), rows[bad].seq)
        if head_seq != len(rows) or (rows and rows[-1].hash != head_hash):
            return ChainCheck(len(rows), len(rows) + 1)  # entries cut off the end
        return ChainCheck(len(rows), None)


@dataclass(frozen=True)
class Actor:
    """Who acts, in what capacity and from where: the first columns of every access entry."""

    name: str
    roles: tuple[str, ...] = ()
    source: str = "local"  # a client address, or "local" for the server's own command line


def append_act(s: Session, actor: Actor, action: str, subject: str, *,
               outcome: str = "allowed", reason: str | None = None,
               purpose: str | None = None, **detail: Any) -> AuditEntry:
    """An access entry (clause 4.2): actor, role, source, action, object, purpose, outcome."""
    doc: dict[str, Any] = {"roles": list(actor.roles), "source": actor.source,
                           "outcome": outcome, **detail}
    if reason is not None:
        doc["reason"] = reason
    if purpose is not None:
        doc["purpose"] = purpose
    return append(s, actor.name, action, subject, doc)
