"""The audit log: append-only, hash-chained, written in the caller's transaction.

Writing an entry in the same transaction as the change it records means that a crash
can lose both or neither: a sweep that deleted footage always has its entry. A writer
that changes rows passes its session to `append` or `append_act`; the catalog's camera
changes and the volumes' take the entry as a callback run in their transaction. `AuditLog`'s
`act` and `record` open a transaction of their own, for acts that change no row themselves
(reading, viewing, refusing). What an entry records is an `AuditAction`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.chain import EntryFacts, StoredEntry, canonical_detail, entry_hash
from kuzet.audit.verify import Verdict, check
from kuzet.catalog.models import AuditEntry, AuditHead

SYSTEM = "system"
PAGE = 1000  # entries per read when the whole log is walked


def append(s: Session, actor: str, action: AuditAction, subject: str, detail: dict[str, Any],
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


class AuditLog:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    def record(self, actor: str, action: AuditAction, subject: str, detail: dict[str, Any],
               at_ns: int | None = None) -> AuditEntry:
        with self.session.begin() as s:
            return append(s, actor, action, subject, detail, at_ns)

    def act(self, actor: Actor, action: AuditAction, subject: str, **kwargs: Any) -> AuditEntry:
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

    def last(self, action: AuditAction) -> AuditEntry | None:
        with self.session() as s:
            return s.scalar(select(AuditEntry).where(AuditEntry.action == action)
                            .order_by(AuditEntry.seq.desc()).limit(1))

    def head(self) -> tuple[int, str]:
        """The head row: the last entry's sequence number and hash, as writers left them."""
        with self.session() as s:
            seq, digest = s.execute(select(AuditHead.seq, AuditHead.last_hash)
                                    .where(AuditHead.id == 1)).one()
        return int(seq), str(digest)

    def stream(self, until_seq: int, page: int = PAGE) -> Iterator[StoredEntry]:
        """Entries up to `until_seq` in sequence order, `page` at a time.

        Keyset pagination on `seq` keeps memory flat however long the log grows, and each
        page is a short read of its own, so a walk over millions of entries never holds a
        transaction (or, on SQLite, a read lock) open for its whole length.
        """
        cols = (AuditEntry.seq, AuditEntry.at_ns, AuditEntry.actor, AuditEntry.action,
                AuditEntry.subject, AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash)
        after: int | None = None
        while True:
            q = select(*cols).where(AuditEntry.seq <= until_seq).order_by(AuditEntry.seq)
            if after is not None:
                q = q.where(AuditEntry.seq > after)
            with self.session() as s:
                rows = s.execute(q.limit(page)).all()
            for r in rows:
                yield StoredEntry(EntryFacts(r.seq, r.at_ns, r.actor, r.action, r.subject,
                                             r.detail), r.prev_hash, r.hash)
            if len(rows) < page:
                return
            after = rows[-1].seq

    def verify(self, page: int = PAGE) -> Verdict:
        """The chain alone, from the first entry to the head (`anchor.Anchor.verify` adds
        the checkpoints).

        The head is read first and the walk stops there, so entries appended while it runs
        are neither counted nor mistaken for a tampered end.
        """
        head = self.head()
        return check(self.stream(head[0], page), head)


@dataclass(frozen=True)
class Actor:
    """Who acts, in what capacity and from where: the first columns of every access entry."""

    name: str
    roles: tuple[str, ...]
    source: str  # a client address, or "local" for the server's own command line (or itself)
    # What the source adds about who acts, into each access entry's detail (the command
    # line: the account `sudo` was run from).
    context: tuple[tuple[str, str], ...] = ()


def access_detail(actor: Actor, *, outcome: str = "allowed", reason: str | None = None,
                  purpose: str | None = None, **detail: Any) -> dict[str, Any]:
    """What an access entry (clause 4.2) records besides its actor, action and object: role,
    source, purpose, outcome (and the reason of a refusal)."""
    doc: dict[str, Any] = {"roles": list(actor.roles), "source": actor.source,
                           **dict(actor.context), "outcome": outcome, **detail}
    if reason is not None:
        doc["reason"] = reason
    if purpose is not None:
        doc["purpose"] = purpose
    return doc


def append_act(s: Session, actor: Actor, action: AuditAction, subject: str, *,
               outcome: str = "allowed", reason: str | None = None,
               purpose: str | None = None, **detail: Any) -> AuditEntry:
    """An access entry (clause 4.2): actor, role, source, action, object, purpose, outcome."""
    return append(s, actor.name, action, subject, access_detail(
        actor, outcome=outcome, reason=reason, purpose=purpose, **detail))
