"""The audit log's hash chain: each entry's hash covers its content and the hash before it.

Deleting, editing or reordering an entry breaks every hash after it, so `kuzet audit
verify` finds the first entry that is not what was written, unless whoever changed it
also recomputed every hash after it: anyone who can write the database can. Signed
checkpoints (`checkpoint`) are what catch that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass(frozen=True)
class EntryFacts:
    seq: int
    at_ns: int
    actor: str
    action: str
    subject: str
    detail: str  # canonical JSON


def canonical_detail(detail: dict[str, object]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, e: EntryFacts) -> str:
    doc = [prev_hash, e.seq, e.at_ns, e.actor, e.action, e.subject, e.detail]
    return hashlib.sha256(json.dumps(doc, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class StoredEntry:
    """An entry as the catalog holds it: its facts and the two hashes that link it."""

    facts: EntryFacts
    prev_hash: str
    hash: str


class ChainWalk:
    """Follows the chain one entry at a time, from the first, so that a log of any length
    is checked in constant memory.

    `first_bad` is the sequence number of the first entry whose number, link or hash does
    not follow from the entries before it; `last_hash` is where the chain has reached.
    """

    def __init__(self) -> None:
        self.count = 0
        self.first_bad: int | None = None
        self.last_hash = GENESIS

    def step(self, e: StoredEntry) -> None:
        self.count += 1
        if self.first_bad is None and (e.facts.seq != self.count
                                       or e.prev_hash != self.last_hash
                                       or entry_hash(self.last_hash, e.facts) != e.hash):
            self.first_bad = e.facts.seq
        self.last_hash = e.hash
