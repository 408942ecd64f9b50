"""What the archive's bar draws of one camera's window, read in one statement, and the
answers already built for windows unchanged since (issue 19).

The route used to read the segments, the holds and the bookmarks in three round trips,
each a connection taken from the pool and, on SQLite, the interpreter's lock let go and
waited for again while the recorder's threads held it (50 clients on 16 recording cameras,
`bench/api.py`: the holds' and bookmarks' reads and the switch to autocommit were 1,268 of
the server's 5,227 samples). One statement now brings all three back as text: the
segments as one string of integers, the holds and bookmarks as JSON arrays.

An answer depends on that text, on the caller's footage windows, on which held ranges are
protected at this instant, and on which files lie in the window's folders: `Answers`
keeps the last body of each window with a digest of all of those, so a day asked again
unchanged is answered without parsing 1,440 segments or building the reply again. A
folder changed in the last seconds has no settled listing (`console.folders`); its
window is built every time.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection

from kuzet.catalog.segments import MAX_SEGMENT_NS
from kuzet.catalog.streams import Stream

KEEP = 512  # windows remembered: a body of a few kilobytes each (a day is a handful of runs)

# Rows the sweeper has marked are leaving (their files may be gone already): not drawn,
# as they leave every other listing, rather than drawn as files lost on disk.
_FILES = ("FROM segments WHERE camera_id = {c} AND stream = {s} AND start_ns < {b} "
          "AND start_ns >= {lo} AND end_ns > {a} AND NOT deleting")
_HOLDS = ("FROM holds h JOIN hold_ranges r ON r.hold_id = h.id WHERE r.camera_id = {c} "
          "AND h.released_ns IS NULL AND h.rejected_ns IS NULL AND r.start_ns < {b} "
          "AND r.end_ns > {a}")
_MARKS_WHERE = "FROM bookmarks WHERE camera_id = {c} AND at_ns >= {a} AND at_ns < {b}"
_HOLD_COLUMNS = ("h.id, h.requested_ns, h.approved_ns, h.expires_ns, h.rejected_ns, "
                 "h.released_ns, r.start_ns, r.end_ns")
_MARK_COLUMNS = "id, at_ns, kind, note, created_by"
# Straight through the driver: 1,440 rows of three integers took 2.2 ms through
# SQLAlchemy's result objects and 0.64 ms from the cursor (SQLite, here).
# On SQLite the segments come as one text: the sqlite3 module lets go of the interpreter's
# lock at every row it steps, and with the recorder's threads busy each step waited for it
# again (1,440 rows took 93 ms, one row of text 9.7 ms; 1.1 and 1.3 ms alone).
_SQLITE = (f"SELECT (SELECT group_concat(start_ns || ' ' || end_ns || ' ' || volume_id, ' ') "
           f"{_FILES}), (SELECT group_concat(DISTINCT volume_id) {_FILES}), "
           f"(SELECT json_group_array(json_array({_HOLD_COLUMNS})) {_HOLDS}), "
           f"(SELECT json_group_array(json_array({_MARK_COLUMNS})) {_MARKS_WHERE})")
# PostgreSQL reads the segments from the key's index alone (it carries the end and the
# volume, migration 0014).
_POSTGRES = (f"SELECT (SELECT string_agg(start_ns || ' ' || end_ns || ' ' || volume_id, ' ' "
             f"ORDER BY start_ns) {_FILES}), "
             f"(SELECT string_agg(DISTINCT volume_id::text, ',') {_FILES}), "
             f"(SELECT json_agg(json_build_array({_HOLD_COLUMNS})) {_HOLDS}), "
             f"(SELECT json_agg(json_build_array({_MARK_COLUMNS})) {_MARKS_WHERE})")
_PLACES = {"qmark": ":{}", "named": ":{}", "pyformat": "%({})s"}

HoldRow = tuple[int, int, int | None, int | None, int | None, int | None, int, int]


@dataclass(frozen=True)
class MarkRow:
    id: int
    at_ns: int
    kind: str
    note: str
    by: str


@dataclass(frozen=True)
class WindowFacts:
    """One camera's window as the database holds it: the segments still as text (parsed
    only when an answer is built), the volumes they lie on, held ranges, bookmarks."""

    files_text: str
    volumes: tuple[int, ...]
    holds: list[HoldRow]  # (hold, requested, approved, expires, rejected, released, s, e)
    marks_text: str
    marks: list[MarkRow]

    def files(self) -> list[tuple[int, int, int]]:
        """(start, end, volume) of each segment, in start order."""
        values = list(map(int, self.files_text.split()))
        # group_concat's order is the scan's (the key's) but not promised before SQLite 3.44
        return sorted(zip(values[0::3], values[1::3], values[2::3], strict=True))


@cache
def _sql(sqlite: bool, paramstyle: str) -> str:
    place = _PLACES[paramstyle]  # sqlite3 takes named marks in either style
    return (_SQLITE if sqlite else _POSTGRES).format(
        **{k: place.format(k) for k in ("c", "s", "b", "lo", "a")})


def _json(value: Any) -> tuple[str, list[Any]]:
    """psycopg gives JSON already parsed; sqlite3 gives its text."""
    if value is None:
        return "[]", []
    if isinstance(value, str):
        return value, json.loads(value)
    return json.dumps(value), value


def read_window(conn: Connection, camera_id: int, stream: Stream, start_ns: int,
                end_ns: int) -> WindowFacts:
    """Segments overlapping [start, end) (none being deleted), the unreleased holds'
    ranges and the bookmarks there: one statement, straight through the driver."""
    sqlite = conn.dialect.name == "sqlite"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_sql(sqlite, conn.dialect.paramstyle),
                       {"c": camera_id, "s": int(stream), "b": end_ns,
                        "lo": start_ns - MAX_SEGMENT_NS, "a": start_ns})
        (files, volumes, holds, marks), = cursor.fetchall()
    finally:
        cursor.close()
    _, hold_rows = _json(holds)
    marks_text, mark_rows = _json(marks)
    return WindowFacts(
        files or "", tuple(int(v) for v in str(volumes).split(",")) if volumes else (),
        sorted((tuple(r) for r in hold_rows), key=lambda r: (r[0], r[6])),
        marks_text, sorted((MarkRow(*r) for r in mark_rows), key=lambda m: (m.at_ns, m.id)))


class Answers:
    """The last answer built for each window asked (camera, stream, window, the caller's
    footage windows), with the digest of what it was built from; one per server, shared
    by the API's threads."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[Any, ...], tuple[bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def digest(facts: WindowFacts, *parts: object) -> bytes:
        """What an answer depends on besides its window: the segments' and bookmarks'
        text, and `parts` (the protected ranges now, the folders' modification times)."""
        h = hashlib.blake2b(facts.files_text.encode(), digest_size=16)
        h.update(b"\0" + facts.marks_text.encode() + b"\0" + repr(parts).encode())
        return h.digest()

    def get(self, window: tuple[Any, ...], digest: bytes) -> bytes | None:
        with self._lock:
            kept = self._kept.get(window)
            if kept is None or kept[0] != digest:
                return None
            self._kept.move_to_end(window)
            return kept[1]

    def keep(self, window: tuple[Any, ...], digest: bytes, body: bytes) -> None:
        with self._lock:
            self._kept[window] = (digest, body)
            self._kept.move_to_end(window)
            while len(self._kept) > KEEP:
                self._kept.popitem(last=False)
