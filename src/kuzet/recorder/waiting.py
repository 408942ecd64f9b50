"""Segments recorded while the catalog cannot be reached (a PostgreSQL restart, a
failover to its replica, issue 25), waiting for their rows, in order.

Their files are durable `.part` files; what their rows need (start, facts, the gap a cut
left) is kept here, the first `held` of a camera in memory and the rest appended to a
journal file of the camera's (JSON lines, `<home>/run/waiting/`), read back in order as
the first go, so that an outage of any length costs the recorder a bounded memory.
The journal is no more durable than memory: after a crash the `.part` files are
salvaged at start (`storage.recovery`), as they always were, and what a journal a
process left is removed by the next (`clear_journals`). So too when the journal fails
(the home's disk full, a line that does not read back): what it held is left to that
salvage, and the camera records on.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kuzet.catalog.store import CutGap
from kuzet.mp4.writer import ClosedSegment, VideoParams

log = logging.getLogger(__name__)
JOURNALS = Path("run") / "waiting"  # under the data home
# a journal line that does not read back: the file gone, a torn or foreign line
UNREADABLE = (OSError, ValueError, KeyError, TypeError)


@dataclass
class Waiting:
    """A closed, durable segment file waiting for its row: what the row needs, and no
    more (not the writer's state)."""

    volume_id: int
    part_path: Path
    closed: ClosedSegment
    start_ns: int
    cut: CutGap | None

    def to_line(self) -> str:
        c, p = self.closed, self.closed.params
        return json.dumps({
            "volume_id": self.volume_id, "part": str(self.part_path), "start_ns": self.start_ns,
            "cut": [self.cut.start_ns, self.cut.cause, self.cut.detail] if self.cut else None,
            "size_bytes": c.size_bytes, "sha256": c.sha256.hex(), "frames": c.frames,
            "media_duration_ns": c.media_duration_ns, "keyframes_ns": c.keyframes_ns,
            "codec": p.codec, "extradata": p.extradata.hex(), "width": p.width,
            "height": p.height, "audio_codec": c.audio_codec}) + "\n"

    @staticmethod
    def from_line(line: str) -> Waiting:
        d: dict[str, Any] = json.loads(line)
        params = VideoParams(d["codec"], bytes.fromhex(d["extradata"]), d["width"],
                             d["height"])
        closed = ClosedSegment(d["size_bytes"], bytes.fromhex(d["sha256"]), d["frames"],
                               d["media_duration_ns"], d["keyframes_ns"], params,
                               d["audio_codec"])
        cut = CutGap(*d["cut"]) if d["cut"] is not None else None
        return Waiting(d["volume_id"], Path(d["part"]), closed, d["start_ns"], cut)


class WaitingRows:
    """A camera's waiting segments, oldest first: `first`, `pop`, `append`, `drop`."""

    def __init__(self, home: Path, camera: str, held: int) -> None:
        self.held = held
        self._memory: deque[Waiting] = deque()
        self._journal = home / JOURNALS / f"{camera}-{uuid.uuid4().hex[:8]}.jsonl"
        self._written = 0  # lines in the journal
        self._read = 0  # of them, taken back into memory (`_read_at`: where they end)
        self._read_at = 0

    def __len__(self) -> int:
        return len(self._memory) + self._written - self._read

    def __iter__(self) -> Iterator[Waiting]:
        """Every one waiting, oldest first, the journal's read a line at a time; one that
        does not read back forgets the journal's rest as `_refill` does."""
        yield from list(self._memory)
        if not self.spilled:
            return
        try:
            with self._journal.open("rb") as f:
                f.seek(self._read_at)
                for _ in range(self.spilled):
                    yield Waiting.from_line(f.readline().decode())
        except UNREADABLE as exc:
            self._lost(exc)

    @property
    def spilled(self) -> int:
        """How many wait in the journal now."""
        return self._written - self._read

    def append(self, w: Waiting) -> None:
        """Queue `w` last; OSError when the journal cannot take it (nothing written)."""
        if len(self._memory) < self.held and not self.spilled:
            self._memory.append(w)
            return
        if not self._written:
            self._journal.parent.mkdir(parents=True, exist_ok=True)
        line = w.to_line().encode()
        fd = os.open(self._journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            end = os.fstat(fd).st_size
            try:
                if os.write(fd, line) != len(line):
                    raise OSError("the journal took part of a line")
            except OSError:
                os.ftruncate(fd, end)  # no torn line for the next to be glued to
                raise
        finally:
            os.close(fd)
        self._written += 1

    def first(self) -> Waiting | None:
        """The oldest waiting; None when none is (a journal that failed: forgotten)."""
        if not self._memory and self.spilled:
            self._refill()
        return self._memory[0] if self._memory else None

    def pop(self) -> Waiting:
        w = self.first()
        if w is None:
            raise IndexError("no segment is waiting")
        self._memory.popleft()
        return w

    def drop(self, count: int) -> list[Waiting]:
        """The first `count`, taken out."""
        out: list[Waiting] = []
        while len(out) < count and self.first() is not None:
            out.append(self.pop())
        return out

    def clear(self) -> None:
        self._memory.clear()
        self._forget()

    def _refill(self) -> None:
        """Up to `held` of the journal's lines back into memory; the journal removed once
        every line is back, or once one does not read back (logged: those files are left
        to the salvage at the next start)."""
        try:
            with self._journal.open("rb") as f:
                f.seek(self._read_at)
                while len(self._memory) < self.held and self._read < self._written:
                    self._memory.append(Waiting.from_line(f.readline().decode()))
                    self._read += 1
                    self._read_at = f.tell()
        except UNREADABLE as exc:
            self._lost(exc)
            return
        if self._read == self._written:
            self._forget()

    def _lost(self, exc: Exception) -> None:
        log.error("%s: %d waiting segments could not be read back (%s); their .part files "
                  "are catalogued at the next start", self._journal, self.spilled, exc)
        self._forget()

    def _forget(self) -> None:
        self._journal.unlink(missing_ok=True)
        self._written = self._read = self._read_at = 0


def clear_journals(home: Path) -> None:
    """Remove the journals a process before this one left (its segments are salvaged from
    their `.part` files at start)."""
    folder = home / JOURNALS
    if folder.is_dir():
        for path in folder.glob("*.jsonl"):
            path.unlink(missing_ok=True)
