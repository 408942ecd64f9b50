"""Checking the audit log against its hash chain and its signed checkpoints, one entry at
a time.

Pure: it is handed the entries in sequence order (any iterable; the catalog streams them
a page at a time), the head row and the checkpoints read from the file, and says what
does not match and where. Memory grows with the checkpoints (one an hour), never with
the entries.

A checkpoint that no longer matches bounds the change: the entry it signed differs, and
the newest checkpoint before it still matches, so something between the two was
removed, inserted or rewritten. Closer than that the hashes cannot tell, because a
consistent rewrite recomputes every one of them after the first change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from kuzet.audit.actions import AuditAction
from kuzet.audit.chain import GENESIS, ChainWalk, StoredEntry
from kuzet.audit.checkpoint import Anchors, BadCheckpoint, Checkpoint, unverified
from kuzet.timefmt import format_instant


@dataclass(frozen=True)
class Verdict:
    entries: int
    first_bad_seq: int | None  # the first entry that breaks the chain itself
    checkpoints: int  # valid checkpoints checked
    anchor: Checkpoint | None  # the newest checkpoint that matches, if all before it do
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def recorded(action: str, detail: str) -> Checkpoint | None:
    """The checkpoint an `audit.checkpoint` entry records, or None for any other entry."""
    if action != AuditAction.AUDIT_CHECKPOINT:
        return None
    try:
        return unverified(json.loads(detail).get("checkpoint")).checkpoint
    except (BadCheckpoint, ValueError, AttributeError):
        return None


def check(entries: Iterable[StoredEntry], head: tuple[int, str],
          anchors: Anchors | None = None) -> Verdict:
    """The chain, and with `anchors` (the checkpoint file as read) every checkpoint in it
    and every one the log records; without, the chain alone."""
    walk = ChainWalk()
    pending = sorted(anchors.valid, key=lambda c: (c.seq, c.at_ns)) if anchors else []
    held = set(pending)
    matched: Checkpoint | None = None
    failed: list[tuple[Checkpoint, str | None]] = []  # with the hash found at its entry
    unheld: list[tuple[int, Checkpoint]] = []  # (entry, the checkpoint it records)
    i = 0

    def settle(c: Checkpoint, found: str | None) -> None:
        nonlocal matched
        if found != c.head:
            failed.append((c, found))
        elif not failed:
            matched = c

    for e in entries:
        walk.step(e)
        seq = e.facts.seq
        while i < len(pending) and pending[i].seq <= seq:
            c = pending[i]
            settle(c, e.hash if c.seq == seq else GENESIS if c.seq == 0 else None)
            i += 1
        rec = recorded(e.facts.action, e.facts.detail) if anchors else None
        if rec is not None and rec not in held:
            unheld.append((seq, rec))
    for c in pending[i:]:
        settle(c, GENESIS if c.seq == 0 else None)

    problems = list(anchors.problems) if anchors else []
    first_bad = walk.first_bad
    if first_bad is not None:
        problems.append(f"entry {first_bad} breaks the hash chain: it was edited, inserted "
                        "or reordered, or entries before it were removed")
    elif head != (walk.count, walk.last_hash):
        first_bad = walk.count + 1
        problems.append(f"the head names entry {head[0]} with hash {head[1][:16]}…, but the "
                        f"log ends at entry {walk.count}: entries were cut off the end")
    if failed:
        problems.append(_span(failed, matched, walk.count))
    if unheld and anchors:
        seq, c = unheld[0]
        more = f" (and {len(unheld) - 1} more like it)" if len(unheld) > 1 else ""
        problems.append(f"entry {seq} records the checkpoint of {format_instant(c.at_ns)} at "
                        f"entry {c.seq}, which {anchors.where} does not hold intact: lines "
                        f"were removed from it or altered{more}")
    return Verdict(walk.count, first_bad, len(pending), matched, tuple(problems))


def _span(failed: list[tuple[Checkpoint, str | None]], matched: Checkpoint | None,
          count: int) -> str:
    """The first checkpoint that no longer matches, and the span it puts the change in."""
    c, found = failed[0]
    start = min(matched.seq + 1 if matched is not None else 1, c.seq)
    now = (f"the log now holds {found[:16]}…" if found is not None else
           f"the log has no entry {c.seq} (it ends at entry {count})")
    span = f"entry {c.seq} was" if start == c.seq else f"entries {start}-{c.seq} were"
    text = (f"{span} removed or rewritten after the checkpoint of "
            f"{format_instant(c.at_ns)}: it signed entry {c.seq} with hash {c.head[:16]}…, "
            f"{now}")
    if matched is not None:
        text += (f"; the checkpoint of {format_instant(matched.at_ns)} at entry "
                 f"{matched.seq} still matches")
    if len(failed) > 1:
        text += f"; {len(failed) - 1} later checkpoints do not match either"
    return text
