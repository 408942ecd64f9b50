"""Anchoring the audit chain outside the database: signed checkpoints in a file beside it.

`kuzet serve` makes one when an hour has passed since the last (looked at on every
maintenance pass, so at least hourly) and one at every stop; `kuzet audit checkpoint`
makes one by hand. A checkpoint goes, in this order:

1. signed with the installation's Ed25519 key (`signing`, under `<home>/keys/`);
2. appended as one JSON line to `<home>/audit-checkpoints.jsonl` (O_APPEND, mode 0600,
   synced to disk);
3. recorded as an `audit.checkpoint` entry in the log itself, so that `kuzet audit
   verify` notices lines later removed from the file;
4. handed to `kuzet serve`'s notifiers (`kuzet.hooks`); MQTT publishes it, retained, on
   `kuzet/<site>/audit/checkpoint`, so that a copy also lives outside this machine.

A crash between 2 and 3 leaves a line that no entry mentions, which is harmless; the
other order could leave an entry naming a line never written, which would read as
tampering.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kuzet.audit.actions import AuditAction
from kuzet.audit.checkpoint import Anchors, BadCheckpoint, Checkpoint, Signed, sign, verified
from kuzet.audit.log import PAGE, SYSTEM, Actor, AuditLog
from kuzet.audit.verify import Verdict, check, recorded
from kuzet.signing import known_keys, load_or_create
from kuzet.timefmt import NS

FILE_NAME = "audit-checkpoints.jsonl"
INTERVAL_NS = 3600 * NS
SERVER = Actor(SYSTEM, (), "local")

Publish = Callable[[dict[str, Any]], None]


class Anchor:
    def __init__(self, log: AuditLog, home: Path) -> None:
        self.log = log
        self.home = home
        self.path = home / FILE_NAME
        self._lock = threading.Lock()  # the maintenance thread and the stop path
        self._publish: Publish | None = None
        self._last: Signed | None = None

    def checkpoint(self, actor: Actor = SERVER, now_ns: int | None = None) -> Signed:
        """Sign the head as it is now, keep it in the file and the log, and publish it."""
        with self._lock:
            seq, head = self.log.head()
            at = now_ns if now_ns is not None else time.time_ns()
            signed = sign(Checkpoint(seq, head, at), load_or_create(self.home))
            doc = signed.doc()
            _append(self.path, json.dumps(doc, separators=(",", ":")))
            self.log.act(actor, AuditAction.AUDIT_CHECKPOINT, "audit", checkpoint=doc)
            self._last = signed
            if self._publish is not None:
                self._publish(doc)
            return signed

    def run_if_due(self, now_ns: int | None = None) -> Signed | None:
        """A checkpoint when the last one, as the log records it, is an hour old or more.

        Reading the schedule from the log means a restart does not reset it.
        """
        now = now_ns if now_ns is not None else time.time_ns()
        last = self.log.last(AuditAction.AUDIT_CHECKPOINT)
        c = recorded(last.action, last.detail) if last is not None else None
        if c is not None and now - c.at_ns < INTERVAL_NS:
            return None
        return self.checkpoint(now_ns=now)

    def publish_to(self, publish: Publish) -> None:
        """Publish every checkpoint from now on, and at once the one this process made last:
        the first is made at start-up, before the broker is connected."""
        with self._lock:
            self._publish = publish
            if self._last is not None:
                publish(self._last.doc())

    def read(self) -> Anchors:
        """Every checkpoint in the file whose signature verifies with a key this installation
        has signed with; a problem for each line that is not one. Reading never makes a key."""
        where = str(self.path)
        if not self.path.exists():
            return Anchors(where)
        keys = known_keys(self.home)
        valid: list[Checkpoint] = []
        signers: set[str] = set()
        problems: list[str] = []
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    signed = verified(json.loads(line), keys)
                except BadCheckpoint as exc:
                    problems.append(f"line {n} of {where}: {exc}")
                    continue
                except ValueError:
                    problems.append(f"line {n} of {where}: not JSON")
                    continue
                valid.append(signed.checkpoint)
                signers.add(signed.key)
        return Anchors(where, tuple(valid), frozenset(signers), tuple(problems))


    def verify(self, page: int = PAGE) -> tuple[Verdict, Anchors]:
        """The log against its chain and every checkpoint in the file, and the file as read.

        The head is read before the file: every `audit.checkpoint` entry up to that head
        then has its line in the file already (lines are written before their entries), so
        a checkpoint made meanwhile is not mistaken for a removed line.
        """
        head = self.log.head()
        anchors = self.read()
        return check(self.log.stream(head[0], page), head, anchors), anchors


def _append(path: Path, line: str) -> None:
    """One write of a whole line to a file opened for appending only, then fsync: lines from
    two writers (serve and the command line) never interleave, and none is half there."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
