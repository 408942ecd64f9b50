"""Past days of recording in a benchmark's catalog, as a camera with one-minute segments
leaves them: 1,440 rows a camera-day, written straight into a prepared home's SQLite
catalog (`home.prepare`), and files on disk for the days a bench asks. Shared by
`timeline.py` and `api.py`.
"""

from __future__ import annotations

import hashlib
import sqlite3
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kuzet.catalog import keyindex
from kuzet.catalog.paths import segment_relpath
from kuzet.catalog.streams import Stream

NS = 10**9
SEG_NS = 60 * NS
DAY_NS = 86_400 * NS
ALMATY = timezone(timedelta(hours=5))
COLUMNS = ("camera_id", "stream", "volume_id", "start_ns", "end_ns", "frames", "size_bytes",
           "params_id", "keyframes", "sha256", "prev_link", "salvaged", "deleting")


def almaty_days(days: int) -> list[int]:
    """Midnights (Almaty, as UTC ns) of the last `days` whole days before today."""
    today = datetime.now(ALMATY).replace(hour=0, minute=0, second=0, microsecond=0)
    return [int((today - timedelta(days=d)).timestamp()) * NS for d in range(days, 0, -1)]


def iso(ns: int) -> str:
    """An instant as the console writes it in a query: ISO 8601 in Almaty, URL-quoted."""
    return urllib.parse.quote(datetime.fromtimestamp(ns / NS, ALMATY).isoformat())


def fill(home: Path, cameras: int, days: int, files: int) -> list[tuple[str, int]]:
    """Rows of `days` past days for every camera, and files for the last two days of the
    first `files` cameras, one of them lost; returns the (camera, day) pairs with files."""
    db = sqlite3.connect(home / "catalog.db")
    (volume_id, root), = db.execute("SELECT id, path FROM volumes").fetchall()
    ids = dict(db.execute("SELECT name, id FROM cameras").fetchall())
    pjson = '{"codec":"h264","width":1920,"height":1080}'
    digest = hashlib.sha256(pjson.encode()).hexdigest()
    db.execute("INSERT INTO stream_params (digest, codec, width, height, audio_codec, "
               "params_json) VALUES (?, 'h264', 1920, 1080, NULL, ?)", (digest, pjson))
    params_id = db.execute("SELECT id FROM stream_params WHERE digest = ?",
                           (digest,)).fetchone()[0]
    keys = keyindex.encode([k * NS for k in range(0, 60, 2)])
    first = almaty_days(days)[0]
    sql = (f"INSERT INTO segments ({', '.join(COLUMNS)}) VALUES "  # noqa: S608
           f"({', '.join('?' * len(COLUMNS))})")
    for i in range(cameras):
        cam = ids[f"cam{i + 1:02d}"]
        db.executemany(sql, ((cam, int(Stream.MAIN), volume_id, first + m * SEG_NS,
                              first + (m + 1) * SEG_NS, 1500, 4_000_000, params_id, keys,
                              hashlib.sha256(f"{cam}/{m}".encode()).digest(), None, False,
                              False) for m in range(days * 1440)))
    db.commit()
    db.close()
    asked, made = [], set()
    for i in range(files):
        name = f"cam{i + 1:02d}"
        for day in almaty_days(2):
            asked.append((name, day))
            for m in range(1440):
                path = Path(root) / segment_relpath(name, day + m * SEG_NS)
                if path.parent not in made:  # an Almaty day spans two UTC folders
                    path.parent.mkdir(parents=True, exist_ok=True)
                    made.add(path.parent)
                if (i, m) != (0, 700):  # one file lost on disk
                    path.touch()
    return asked


