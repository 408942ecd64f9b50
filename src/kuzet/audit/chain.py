"""The audit log's hash chain: each entry's hash covers its content and the hash before it.

Deleting, editing or reordering an entry breaks every hash after it, so `kuzet audit
verify` finds the first entry that is not what was written.
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


def first_break(entries: list[tuple[EntryFacts, str, str]]) -> int | None:
    """Index of the first entry whose (prev_hash, hash) does not follow, or None.

    `entries` are (facts, prev_hash, hash) in sequence order, from the first entry.
    """
    prev = GENESIS
    expected_seq = 1
    for i, (facts, prev_hash, digest) in enumerate(entries):
        if facts.seq != expected_seq or prev_hash != prev or entry_hash(prev, facts) != digest:
            return i
        prev = digest
        expected_seq += 1
    return None
