"""Catalog at campus scale: 200 cameras × 30 days of 60-s segments, SQLite and PostgreSQL.

Run by hand (not in CI):  .venv/bin/python bench/catalog.py [--cameras 200 --days 30]

It writes one extra day of segments (the day that has just expired) with empty files on
disk, then measures, per database: a one-camera-one-day timeline query (p50, p99), the
segment lookup at an instant (p50, p99), the retention sweep that deletes that expired day
end to end (rows, files, chain bridges and audit entries), the cost of evaluating 100 holds
inside it, and the catalog's size on disk once the sweep has left the 30 days. Each
figure is printed beside its target and beside a baseline measured in the same run: the
time to read the same rows with a bare SELECT on the same connection (no ORM, no filters);
the lookup also beside the ORM query it was until issue 19.
Figures go to bench/results/catalog.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import Storage
from figures import Run
from kuzet.audit.log import Actor
from kuzet.catalog import keyindex
from kuzet.catalog.models import Segment
from kuzet.catalog.paths import segment_relpath
from kuzet.catalog.rowhash import RowFacts, row_link
from kuzet.catalog.segments import MAX_SEGMENT_NS
from kuzet.catalog.store import NewSegment
from kuzet.catalog.streams import Stream
from kuzet.console.timeline_read import read_window
from kuzet.storage.retention import DAY_NS, protections

SEG_NS = 60 * 10**9
MAIN = int(Stream.MAIN)  # the number a raw row stores
NOW = 1_800_000_000 * 10**9 // DAY_NS * DAY_NS  # midnight UTC, 2027-01-15
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
COLUMNS = ("camera_id", "stream", "volume_id", "start_ns", "end_ns", "frames", "size_bytes",
           "params_id", "keyframes", "sha256", "prev_link", "salvaged", "deleting")
# The lookup's baseline: the row holding an instant, by the same index range, bare.
LOOKUP = text(f"SELECT {', '.join(COLUMNS)} FROM segments WHERE camera_id = :c "  # noqa: S608
              "AND stream = :s AND start_ns <= :t AND start_ns > :lo "
              "ORDER BY start_ns DESC LIMIT 1")


def rows(st: Storage, cameras: int, days: int, volume_id: int,
         params: dict[int, tuple[int, str]], keys: bytes | None = None
         ) -> Iterator[tuple[object, ...]]:
    """Segment rows in arrival order (minute by minute, every camera), chained per camera;
    `keys`: the keyframe index every row carries (default: one keyframe a second)."""
    keys = keys or keyindex.encode([k * 10**9 for k in range(60)])
    prev: dict[int, bytes | None] = {}
    first = NOW - (days + 1) * DAY_NS
    rng = random.Random(1)
    for minute in range((days + 1) * 1440):
        start = first + minute * SEG_NS
        for cam in range(1, cameras + 1):
            params_id, params_json = params[cam]
            size = 30_000_000 + rng.randrange(-2_000_000, 2_000_000)
            sha = hashlib.sha256(f"{cam}/{minute}".encode()).digest()
            link = prev.get(cam)
            prev[cam] = row_link(RowFacts(cam, Stream.MAIN, start, start + SEG_NS, 1500, size,
                                            params_json, keys, sha, link, False))
            yield (cam, MAIN, volume_id, start, start + SEG_NS, 1500, size, params_id, keys,
                   sha, link, False, False)


def load_rows(st: Storage, cameras: int, days: int, keys: bytes | None = None) -> None:
    """`cameras` cameras with `days` + 1 days of rows each, bulk-loaded and checkpointed."""
    for cam in range(1, cameras + 1):
        st.catalog.add_camera(f"cam{cam:03d}", f"rtsp://10.1.{cam // 250}.{cam % 250}/s",
                              zone="corridor")
    vol = st.default_volume_id
    params: dict[int, tuple[int, str]] = {}
    for cam in range(1, cameras + 1):  # four camera models on campus
        pjson = f'{{"codec":"h264","model":{cam % 4},"width":1920,"height":1080}}'
        st.catalog._params_id(NewSegment(cam, Stream.MAIN, vol, 0, 1, 1, 1, "h264", 1920, 1080,
                                         None, pjson, [0], b"\0" * 32))
        params[cam] = (st.catalog._params_ids[hashlib.sha256(pjson.encode()).hexdigest()],
                       pjson)
    raw = st.catalog.engine.raw_connection()
    try:
        cur = raw.cursor()
        if st.catalog.engine.dialect.name == "sqlite":
            # Only the module's own column names go into the text; the rows are bound.
            sql = (f"INSERT INTO segments ({', '.join(COLUMNS)}) VALUES "  # noqa: S608
                   f"({', '.join('?' * len(COLUMNS))})")
            batch: list[tuple[object, ...]] = []
            for row in rows(st, cameras, days, vol, params, keys):
                batch.append(row)
                if len(batch) == 100_000:
                    cur.executemany(sql, batch)
                    batch.clear()
            cur.executemany(sql, batch)
        else:
            pg = raw.driver_connection
            assert isinstance(pg, psycopg.Connection)
            with pg.cursor().copy(f"COPY segments ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows(st, cameras, days, vol, params, keys):
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    if st.catalog.engine.dialect.name == "postgresql":  # what autovacuum does after a load
        with st.catalog.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE segments"))
    # Measure the steady state, not the tail of the bulk load: write back what it dirtied.
    with st.catalog.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if st.catalog.engine.dialect.name == "sqlite":
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        else:
            conn.execute(text("CHECKPOINT"))
    os.sync()


def fill(st: Storage, args: argparse.Namespace) -> float:
    started = time.perf_counter()
    load_rows(st, args.cameras, args.days)
    # Empty files for the expired day, so that the sweep unlinks real files.
    root = st.catalog.volume_path(st.default_volume_id)
    for minute in range(1440):
        start = NOW - (args.days + 1) * DAY_NS + minute * SEG_NS
        for cam in range(1, args.cameras + 1):
            path = root / segment_relpath(f"cam{cam:03d}", start)
            if minute == 0:
                path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    return time.perf_counter() - started


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def measure(st: Storage, args: argparse.Namespace, name: str) -> dict[str, float]:
    out: dict[str, float] = {"fill_s": fill(st, args)}
    rng = random.Random(2)
    cat = st.catalog
    timeline, bare, lookup, bare_lookup, orm_lookup = [], [], [], [], []

    # The lookup's baselines draw from their own generator: the holds below stay the same.
    base_rng = random.Random(3)

    def sample(r: random.Random = rng) -> tuple[int, int]:
        return r.randint(1, args.cameras), NOW - r.randint(1, args.days) * DAY_NS

    with cat.engine.connect() as conn:
        for _ in range(args.queries):  # each kind on its own random camera-days
            cam, day = sample()
            t = time.perf_counter()
            with cat.one_statement() as one:
                got = read_window(one, cam, Stream.MAIN, day, day + DAY_NS).files()
            timeline.append(time.perf_counter() - t)
            assert len(got) == 1440, len(got)
            cam, day = sample()
            t = time.perf_counter()
            conn.execute(text("SELECT start_ns, end_ns FROM segments WHERE camera_id = :c "
                              "AND stream = :s AND start_ns >= :a AND start_ns < :b"),
                         {"c": cam, "s": MAIN, "a": day, "b": day + DAY_NS}).all()
            bare.append(time.perf_counter() - t)
            cam, day = sample()
            instant = day + rng.randrange(DAY_NS)
            t = time.perf_counter()
            seg = cat.segment_at(cam, instant)
            lookup.append(time.perf_counter() - t)
            assert seg is not None
            assert seg.start_ns <= instant < seg.end_ns
            cam, day = sample(base_rng)
            instant = day + base_rng.randrange(DAY_NS)
            t = time.perf_counter()
            conn.execute(LOOKUP, {"c": cam, "s": MAIN, "t": instant,
                                  "lo": instant - MAX_SEGMENT_NS}).first()
            bare_lookup.append(time.perf_counter() - t)
            cam, day = sample(base_rng)
            instant = day + base_rng.randrange(DAY_NS)
            t = time.perf_counter()
            with cat.session() as s:  # the lookup as it was before issue 19: an ORM query
                s.scalar(select(Segment).where(
                    Segment.camera_id == cam, Segment.stream == Stream.MAIN,
                    Segment.start_ns <= instant, Segment.start_ns > instant - MAX_SEGMENT_NS)
                    .order_by(Segment.start_ns.desc()).limit(1))
            orm_lookup.append(time.perf_counter() - t)
    out |= {"timeline_p50_ms": 1e3 * pct(timeline, 50), "timeline_p99_ms": 1e3 * pct(timeline, 99),
            "bare_p50_ms": 1e3 * pct(bare, 50), "lookup_p50_ms": 1e3 * pct(lookup, 50),
            "lookup_p99_ms": 1e3 * pct(lookup, 99),
            "lookup_bare_p50_ms": 1e3 * pct(bare_lookup, 50),
            "lookup_bare_p99_ms": 1e3 * pct(bare_lookup, 99),
            "lookup_orm_p50_ms": 1e3 * pct(orm_lookup, 50),
            "lookup_orm_p99_ms": 1e3 * pct(orm_lookup, 99)}
    # 100 approved holds spread over cameras and days, a fifth of them on the expiring day.
    for i in range(100):
        day = args.days + 1 if i % 5 == 0 else rng.randint(1, args.days)
        start = NOW - day * DAY_NS + rng.randrange(DAY_NS - 3600 * 10**9)
        h = st.holds.request([f"cam{rng.randint(1, args.cameras):03d}"], start,
                             start + 1800 * 10**9, reason="bench", incident=f"B-{i}",
                             by="head", now_ns=NOW - DAY_NS)
        st.holds.approve(h.id, Actor("rector", ("rector",), "127.0.0.1"), expires_ns=NOW + DAY_NS,
                         now_ns=NOW - DAY_NS)
    t = time.perf_counter()
    prot = protections(st.holds.facts(), NOW, st.holds.window_ns)
    cutoff = NOW - args.days * DAY_NS
    for cam in range(1, args.cameras + 1):
        st.sweeper._candidates(cam, Stream.MAIN, [st.default_volume_id], prot.get(cam),
                               start_before=cutoff)
    with_holds = time.perf_counter() - t
    t = time.perf_counter()
    for cam in range(1, args.cameras + 1):
        st.sweeper._candidates(cam, Stream.MAIN, [st.default_volume_id], None, start_before=cutoff)
    without = time.perf_counter() - t
    out["hold_eval_s"] = with_holds - without
    t = time.perf_counter()
    report = st.sweeper.sweep(NOW)
    out["sweep_s"] = time.perf_counter() - t
    out["swept"] = report.deleted()
    if cat.engine.dialect.name == "sqlite":
        with cat.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db = Path(st.settings.catalog_url.removeprefix("sqlite:///"))
        out["size_gb"] = sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e9
    else:
        with cat.engine.connect() as conn:
            out["size_gb"] = conn.execute(text(
                "SELECT pg_database_size(current_database())")).scalar_one() / 1e9
            out["heap_gb"], out["index_gb"] = (x / 1e9 for x in conn.execute(text(
                "SELECT pg_relation_size('segments'), pg_indexes_size('segments')")).one())
    with cat.engine.connect() as conn:
        out["rows"] = conn.execute(text("SELECT count(*) FROM segments")).scalar_one()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cameras", type=int, default=200)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    args = ap.parse_args()
    bench = Run.start("catalog", args)
    results = {}
    with tempfile.TemporaryDirectory(prefix="kuzet-bench-catalog-", dir=args.__dict__.get(
            "tmp")) as tmp:
        for name in ("sqlite", "postgresql"):
            if args.only and args.only != name:
                continue
            home = Path(tmp) / name
            if name == "sqlite":
                url = f"sqlite:///{home / 'catalog.db'}"
                home.mkdir()
            else:
                db = "kuzet_bench_catalog"
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                    conn.execute(f'CREATE DATABASE "{db}"')
                url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
            st = Storage(url, home, retention_days=args.days)
            try:
                results[name] = r = measure(st, args, name)
            finally:
                st.close()
            print(f"{name}: {r['rows']:.0f} segment rows left after sweeping "
                  f"{r['swept']:.0f}; filled in {r['fill_s']:.0f} s", flush=True)
            print(f"  timeline, one camera one day: p50 {r['timeline_p50_ms']:.2f} ms, "
                  f"p99 {r['timeline_p99_ms']:.2f} ms (target p99 <= 20); bare SELECT of the "
                  f"same rows p50 {r['bare_p50_ms']:.2f} ms, ratio "
                  f"{r['timeline_p50_ms'] / r['bare_p50_ms']:.2f}")
            print(f"  segment at an instant: p50 {r['lookup_p50_ms']:.2f} ms, p99 "
                  f"{r['lookup_p99_ms']:.2f} ms (target p99 <= 5); bare SELECT of the same row "
                  f"p50 {r['lookup_bare_p50_ms']:.2f} ms, p99 {r['lookup_bare_p99_ms']:.2f} ms; "
                  f"as an ORM query p50 {r['lookup_orm_p50_ms']:.2f} ms, p99 "
                  f"{r['lookup_orm_p99_ms']:.2f} ms")
            print(f"  sweep of one expired day ({r['swept']:.0f} segments, files included): "
                  f"{r['sweep_s']:.1f} s (target <= 60); 100 holds cost "
                  f"{r['hold_eval_s'] * 1e3:.0f} ms of it")
            parts = f" (segments: heap {r['heap_gb']:.2f} GB, indexes {r['index_gb']:.2f} GB)" \
                if "heap_gb" in r else ""
            print(f"  catalog on disk: {r['size_gb']:.2f} GB (target <= 2){parts}", flush=True)
    os.sync()
    bench.write({"cameras": args.cameras, "days": args.days, "queries": args.queries,
               **{name: {**r, "timeline_p50_ratio_to_bare": r["timeline_p50_ms"]
                         / r["bare_p50_ms"]} for name, r in results.items()}})


if __name__ == "__main__":
    main()
