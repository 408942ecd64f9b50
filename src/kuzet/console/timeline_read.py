"""What the archive's bar draws of one camera's window, read in one statement, and the
answers already built for windows unchanged since (issue 19).

The route used to read the segments, the holds and the bookmarks in three round trips,
each a connection taken from the pool and, on SQLite, the interpreter's lock let go and
waited for again while the recorder's threads held it (50 clients on 16 recording cameras,
`bench/api.py`: the holds' and bookmarks' reads and the switch to autocommit were 1,268 of
the server's 5,227 samples). One statement now brings all three back as text: the
segments as one string of integers, the holds and bookmarks as JSON arrays.

An answer depends on that text, on the caller's footage windows, on which held ranges are
protected at this instant, and on which files lie in the window's folders: `Timelines`
keeps the last answer of each window with a digest of all of those, so a day asked again
unchanged is answered without parsing 1,440 segments or planning and building it again.
Nothing is kept from a folder changed in the last seconds (its listing is not settled,
`console.folders`) or one that could not be listed, nor for windows over a day and a bit
(their files are not looked up), nor past `KEEP_BYTES` in all.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from sqlalchemy import Connection

from kuzet.catalog.segments import MAX_SEGMENT_NS
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.console.folders import Listings, Stamp
from kuzet.console.plan_rows import listed, window_folders
from kuzet.console.playback_plan import Row, plan
from kuzet.console.timeline import clip, drawn
from kuzet.storage.footage import Footage
from kuzet.storage.retention import HoldFacts, hold_state, protected_ranges

MISSING_WINDOW_NS = 26 * 3600 * 10**9  # a listing per UTC folder: a day is two or three
# Answers kept: a day's is a few hundred bytes to a few kilobytes (a handful of runs, its
# bookmarks); one far larger (hundreds of bookmarks) is not kept.
KEEP_BYTES = 16 * 1024**2
KEEP_ONE_BYTES = 256 * 1024

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


Held = tuple[int, str, int, int]  # (hold, state, start, end)


@dataclass(frozen=True)
class Drawn:
    """What the bar draws of one window, for the API to put in its reply."""

    camera: str
    start_ns: int
    end_ns: int
    spans: list[tuple[int, int]]
    missing: list[tuple[int, int]]
    held: list[Held]
    marks: list[MarkRow]
    # recording nodes down that hold footage of the window: their files are drawn
    # missing, and said unavailable (issue 25)
    unavailable: list[str]


def held_ranges(holds: list[HoldRow], camera_id: int, windows: list[tuple[int, int]],
                now_ns: int, decision_window_ns: int) -> list[Held]:
    """The ranges of holds still protecting footage at `now_ns`, clipped to `windows`."""
    facts: dict[int, HoldFacts] = {}
    for hid, requested, approved, expires, rejected, released, s, e in holds:
        h = facts.get(hid) or HoldFacts(hid, requested, approved, expires, rejected, released)
        facts[hid] = replace(h, ranges=(*h.ranges, (camera_id, s, e)))
    held: list[Held] = []
    if not windows:
        return held
    for h in facts.values():
        state = str(hold_state(h, now_ns, decision_window_ns))
        held += [(h.id, state, s, e)  # the rows are this camera's ranges only
                 for _, s0, e0 in protected_ranges(h, now_ns, decision_window_ns)
                 for s, e in clip([(s0, e0)], windows)]
    return held


def _digest(facts: WindowFacts, held: list[Held], folders: tuple[Stamp | None, ...]) -> bytes:
    """What an answer depends on besides its window: the segments' and bookmarks' text,
    the protected ranges now, the folders as last seen."""
    h = hashlib.blake2b(facts.files_text.encode(), digest_size=16)
    h.update(b"\0" + facts.marks_text.encode() + b"\0" + repr((held, folders)).encode())
    return h.digest()


class Timelines:
    """The archive bar's answers, one per server, shared by the API's threads: each window
    read in one statement, drawn, and kept with the digest of what it was drawn from."""

    def __init__(self, catalog: Catalog, decision_window_ns: int,
                 footage: Footage | None = None, listings: Listings | None = None) -> None:
        self.catalog = catalog
        self.footage = footage  # whether the nodes holding other volumes are up
        self.decision_window_ns = decision_window_ns
        self.listings = listings or Listings()
        self._kept: OrderedDict[tuple[Any, ...], tuple[bytes, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many answers are kept."""
        return len(self._kept)

    def answer(self, camera_id: int, camera: str, start_ns: int, end_ns: int,
               allowed: list[tuple[int, int]], now_ns: int, build: Callable[[Drawn], bytes],
               stream: Stream = Stream.MAIN) -> bytes:
        """The body `build` makes of what the bar draws of [start, end) inside `allowed`
        (the caller's footage windows), or the one it made before from the same facts."""
        with self.catalog.one_statement() as conn:
            facts = read_window(conn, camera_id, stream, start_ns, end_ns)
        held = held_ranges(facts.holds, camera_id, clip([(start_ns, end_ns)], allowed),
                           now_ns, self.decision_window_ns)
        looked = end_ns - start_ns <= MISSING_WINDOW_NS  # the bar and the holes
        # volumes of other recording nodes (issue 25): their files are there while the
        # node is up, unavailable while it is down; not listed here
        elsewhere = (self.footage.elsewhere_up(set(facts.volumes))
                     if self.footage is not None else {})
        here = [v for v in facts.volumes if v not in elsewhere]
        settled = self.listings.settled(window_folders(
            self.catalog, camera, here, start_ns, end_ns, stream)) if looked else None
        key = (camera_id, camera, int(stream), start_ns, end_ns, tuple(allowed),
               tuple(sorted(elsewhere.items())))
        digest = None if settled is None else _digest(facts, held, settled)
        if digest is not None and (body := self._get(key, digest)) is not None:
            return body
        files = facts.files()
        rows: list[Row[None]]
        if looked:
            rows, complete = listed(self.catalog, self.listings, camera, files, stream,
                                    elsewhere)
        else:  # files not looked up over longer windows: drawn as on disk
            rows, complete = [Row(s, e, True, None) for s, e, _ in files], True
        spans, missing = drawn(plan(rows, start_ns, end_ns, allowed), allowed)
        marks = [m for m in facts.marks if any(lo <= m.at_ns < hi for lo, hi in allowed)]
        down = sorted({self.catalog.elsewhere(v) or "" for v, up in elsewhere.items()
                       if not up})
        body = build(Drawn(camera, start_ns, end_ns, spans, missing, held, marks, down))
        if digest is not None and complete and len(body) <= KEEP_ONE_BYTES:
            self._keep(key, digest, body)
        return body

    def _get(self, key: tuple[Any, ...], digest: bytes) -> bytes | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or kept[0] != digest:
                return None
            self._kept.move_to_end(key)
            return kept[1]

    def _keep(self, key: tuple[Any, ...], digest: bytes, body: bytes) -> None:
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._kept[key] = (digest, body)
            self._bytes += len(body)
            while self._bytes > KEEP_BYTES:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._bytes -= len(dropped)
