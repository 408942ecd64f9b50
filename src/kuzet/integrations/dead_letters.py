"""The webhook's dead-letter file: deliveries that never got through, one JSON line each,
kept for someone to look at and replay (`<home>/run/webhook-dead-letters.jsonl`).

A line keeps the event, never its picture (clause 3.5.1: a picture outside the archive
is a copy of footage, and this file is nobody's archive), and lives at most 30 days, the
regulation's ceiling on anything kept of footage without the rector's instruction
(clause 3.3): the storage sweeper drops older lines (`expire`, handed to it through
`storage.derived.Beside`). A line written before this rule keeps its picture only until
the sweeper next rewrites the file, which strips it.

The webhook's thread appends while the sweeper rewrites, in one process (`kuzet serve`):
one lock orders them, and the rewrite goes to a temporary file renamed over the old one,
so that a crash leaves either file whole, never half of one.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kuzet.regulation import MAX_RETENTION_DAYS
from kuzet.timefmt import NS

PICTURE = "snapshot_jpeg_base64"  # the one field of a delivery that carries a picture
MAX_AGE_NS = MAX_RETENTION_DAYS * 86_400 * NS
_lock = threading.Lock()  # appends and rewrites, whichever file


def dead_letters_file(home: Path) -> Path:
    return home / "run" / "webhook-dead-letters.jsonl"


def without_picture(body: Any) -> Any:
    """A delivery's body as a dead letter keeps it: the event, less its picture."""
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != PICTURE}
    return body


def kept(lines: Iterable[str], now_ns: int) -> tuple[list[str], int]:
    """The lines to keep at `now_ns` (failed less than `MAX_AGE_NS` ago, each without a
    picture) and how many go: older ones, and any that cannot be read (a line a crash cut
    short names no instant to keep it by)."""
    keep: list[str] = []
    dropped = 0
    for line in lines:
        try:
            letter = json.loads(line)
            failed_ns = int(letter["failed_ns"])
        except (ValueError, TypeError, KeyError):
            dropped += 1
            continue
        if now_ns - failed_ns >= MAX_AGE_NS:
            dropped += 1
            continue
        if isinstance(letter.get("body"), dict) and PICTURE in letter["body"]:
            letter["body"] = without_picture(letter["body"])
            line = json.dumps(letter, ensure_ascii=False)
        keep.append(line)
    return keep, dropped


def append(path: Path, letter: dict[str, Any]) -> None:
    """Add one dead letter (its body stripped of any picture)."""
    line = json.dumps({**letter, "body": without_picture(letter.get("body"))},
                      ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def expire(path: Path, now_ns: int) -> int:
    """Drop the lines too old to keep at `now_ns` (and strip any picture left from an
    older version), rewriting the file atomically; how many lines went."""
    with _lock:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return 0
        lines = text.splitlines()
        keep, dropped = kept(lines, now_ns)
        if keep == lines:
            return 0
        part = path.with_name(path.name + ".part")
        with part.open("w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in keep)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, path)
    return dropped
