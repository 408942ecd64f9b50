"""Several recording nodes on one PostgreSQL catalog (issue 25), measured on this machine.

1. The cost of the leases: the same cameras recorded by one `kuzet serve` (no node) and by
   one `kuzet serve --node a`, each on a catalog of its own, side by side over the same
   seconds: CPU-s of the server per camera-hour and the catalog's transactions per second
   (`pg_stat_database`), and their ratios (target ≤ 1.05).
2. Three nodes sharing the cameras (`--cameras` each): their CPU and transactions; one
   node drained, each of its cameras recorded by another node beside it before the
   hand-over: each camera's `node_handover` gap (target: less than a GOP, the
   simulator's 1 s); undrained; then `kill -9` of one node and, for each of its cameras,
   the seconds from the kill to the first segment row another node commits for it
   (target p95 ≤ 30 s).
4. Archive: the first fragment of a segment read on the node that recorded it and
   through another node's internal endpoint (target ≤ 1.5×, and ≤ 300 ms at p95); and as
   the console's player gets it: the archive socket opened (TLS, session, the head of
   security's second factor logged in once) on the recording node's console and on the
   other node's, the clock stopped at the first fragment after the init segment.
3. The catalog's primary killed while a node records, its synchronous replica promoted
   after `--outage` seconds: seconds from the promotion until every camera's waiting
   segments are catalogued (target ≤ 15 s), and files on disk against rows (none lost).

Segments of `--segment-s` seconds (4: a row every 4 s a camera, 12 commits a second for
48 cameras), so that a first row after a failover is not a minute away. Figures go to
bench/results/cluster.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import psutil
import psycopg
import pyotp
import websockets
from sqlalchemy import select

from figures import ROOT, Figure, Run
from home import account, api_address, bench_env, sim_port

sys.path.insert(0, str(ROOT / "tests"))
from kuzet.access.secretbox import key_path
from kuzet.catalog import keyindex
from kuzet.catalog.db import make_engine
from kuzet.catalog.models import Camera, Segment
from kuzet.catalog.store import Catalog
from kuzet.cluster.ca import NodeTls
from kuzet.cluster.remote import Remote
from kuzet.mp4.playback import read_segment
from kuzet.storage.footage import Footage
from pg_pair import PgPair

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "archive of the long winter"
OUT = ROOT / "bench" / "out" / "cluster"


@contextlib.contextmanager
def database() -> Iterator[tuple[str, str]]:
    name = f"kuzet_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def kuzet(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "kuzet", *args], env=env, check=True,
                   capture_output=True)


def count(conn: psycopg.Connection[tuple[int]], sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def xacts(db: str) -> int:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                           "WHERE datname = %s", (db,)).fetchone()
    return int(row[0]) if row else 0


def cpu_s(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def libpq(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it; PgPair's multi-host one by its own form."""
    return url.replace("+psycopg", "")


def rows_after(url: str, since_ns: int) -> dict[int, int]:
    """Each camera's first row committed (started) after an instant, by start (`url`
    as libpq takes it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return dict(conn.execute(
            "SELECT camera_id, min(start_ns) FROM segments WHERE start_ns > %s "
            "GROUP BY camera_id", (since_ns,)).fetchall())


def caught_up(url: str, cameras: int) -> bool:
    """Every camera has a row (`url` as libpq takes it)."""
    return len(rows_after(url, 0)) == cameras


def leases(url: str) -> dict[int, tuple[str, int]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {c: (n, e) for c, n, e in conn.execute(
            "SELECT camera_id, node, epoch FROM camera_leases").fetchall()}


def handover_gaps(url: str, cameras: set[int], since_ns: int) -> dict[int, float]:
    """The length (s) of each camera's `node_handover` gap opened after an instant and
    closed since."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {c: (e - s) / 1e9 for c, s, e in conn.execute(
            "SELECT camera_id, start_ns, end_ns FROM gaps WHERE cause = 'node_handover' "
            "AND start_ns > %s AND end_ns IS NOT NULL", (since_ns,)).fetchall()
            if c in cameras}


class Cluster:
    """Homes under OUT/<tag>, one per node, all on `url`, cameras from one simulator."""

    def __init__(self, tag: str, url: str, port: int, segment_s: float) -> None:
        self.tag, self.url, self.port, self.segment_s = tag, url, port, segment_s
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def env(self, node: str | None) -> dict[str, str]:
        home = OUT / self.tag / (node or "single")
        home.mkdir(parents=True, exist_ok=True)
        settings = {"database_url": self.url, "segment_s": str(self.segment_s),
                    "camera_alarm_s": "600", "volume_write_probe_mb": "0",
                    "api_host": "127.0.0.1", "node_port": "0"}  # several on one machine
        if node:
            settings["node"] = node
        return bench_env(home, **settings)

    def prepare(self, cameras: int) -> None:
        env = self.env(None)
        kuzet(env, "init")
        for i in range(cameras):
            kuzet(env, "camera", "add", f"cam{i + 1:02d}",
                  f"rtsp://127.0.0.1:{self.port}/cam{i + 1:02d}/main", "--zone", "corridor")

    def start(self, node: str | None) -> psutil.Process:
        proc = subprocess.Popen([sys.executable, "-m", "kuzet", "serve"], env=self.env(node),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs[node or "single"] = proc
        return psutil.Process(proc.pid)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)


def wait(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def steady(runs: list[tuple[str, list[psutil.Process]]], seconds: float
           ) -> list[tuple[float, float]]:
    """For each (catalog, processes): CPU-s per second of the processes and catalog
    transactions per second, over the same seconds."""
    before = [(cpu_s(p), xacts(db)) for db, p in runs]
    t0 = time.monotonic()
    time.sleep(seconds)
    t = time.monotonic() - t0
    return [((cpu_s(p) - c0) / t, (xacts(db) - x0) / t)
            for (db, p), (c0, x0) in zip(runs, before, strict=True)]


def first_fragment_ms(footage: Footage, seg: Segment) -> float:
    """The time from asking for a segment to its first fragment in hand, as the archive
    socket gets it (`web.routes.archive_ws._read`); the rest read after, as it does."""
    t0 = time.perf_counter()
    _init, fragments = read_segment(*footage.parts(seg, 0), keyindex.decode(seg.keyframes),
                                    seg.end_ns - seg.start_ns, 0, seg.end_ns - seg.start_ns)
    next(fragments)
    elapsed = (time.perf_counter() - t0) * 1000
    for _ in fragments:
        pass
    return elapsed


async def console_first_fragment_ms(base: str, cookie: str, camera: str, at_ns: int) -> float:
    """From opening the console's archive socket at `at_ns` to the first fragment after
    the init segment, as the player gets it."""
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at_ns // 10**9)) + \
        f".{at_ns % 10**9:09d}Z"
    query = f"start={start}&purpose=Benchmark+of+the+cluster"
    t0 = time.perf_counter()
    async with websockets.connect(f"{base.replace('https', 'wss')}/api/ws/archive/{camera}"
                                  f"?{query}", ssl=_self_signed(),
                                  additional_headers={"cookie": cookie}, max_size=None) as ws:
        init = None
        while True:
            message = await ws.recv()
            if isinstance(message, str):
                if json.loads(message)["type"] in ("end", "nothing"):
                    raise SystemExit(f"no footage at {start} on {camera}")
                continue
            if init is None:
                init = message
                continue
            return (time.perf_counter() - t0) * 1000


def _self_signed() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def drained(c: Cluster, url: str, even: Callable[[], bool]) -> dict[str, Figure]:
    """Node c drained: each of its cameras recorded by another node beside it, then
    handed over; the gaps between its last segment and the new node's first. Undrained
    after, and shared evenly again."""
    on_c = {cam for cam, (n, _) in leases(url).items() if n == "c"}
    since = time.time_ns()
    kuzet(c.env(None), "node", "drain", "c")
    gaps: dict[int, float] = {}

    def moved() -> bool:
        gaps.update(handover_gaps(url, on_c, since))
        return len(gaps) == len(on_c)

    wait("node c's cameras handed over", moved, 120)
    kuzet(c.env(None), "node", "undrain", "c")
    wait("three nodes sharing the cameras again", even, 180)
    times = sorted(gaps.values())
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(f"node c drained: {len(times)} cameras handed over, gap p50 "
          f"{statistics.median(times):.2f} s, p95 {p95:.2f} s, max {times[-1]:.2f} s "
          f"(one GOP: 1 s)")
    return {"cameras": len(times), "p50": round(statistics.median(times), 3),
            "p95": round(p95, 3), "max": round(times[-1], 3)}


def through_another(url: str, port: int, args: argparse.Namespace) -> dict[str, Figure]:
    """Cameras pinned to node b; each of their segments read as b reads it (from its
    disk) and as a reads it (from b's internal endpoint, mutual TLS), in turns."""
    c = Cluster("fetch", url, port, args.segment_s)
    c.prepare(4)
    kuzet(c.env(None), "cluster", "init")
    for node in ("a", "b"):  # every node's home holds the installation's key
        key = key_path(OUT / "fetch" / node)
        key.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(key_path(OUT / "fetch" / "single"), key)
        c.start(node)
    engine = make_engine(url)
    try:
        wait("both nodes up", lambda: len(leases(libpq(url))) == 4 and
             Remote(Catalog(engine, "a"), None, 10).up("b"), 120)
        for i in range(4):
            kuzet(c.env(None), "camera", "move", f"cam{i + 1:02d}", "b")
        here, there = Catalog(engine, "b"), Catalog(engine, "a")
        wait("node a's certificate", (OUT / "fetch" / "a" / "cluster" / "node.pem").exists, 60)
        tls = NodeTls(*(OUT / "fetch" / "a" / "cluster" / f
                        for f in ("ca.pem", "node.pem", "node.key")))
        local, remote = Footage(here), Footage(there, Remote(there, tls, 10))

        def on_b() -> list[Segment]:
            with here.session() as s:
                return [r for r in s.scalars(select(Segment).order_by(Segment.start_ns))
                        if here.volume_node(r.volume_id) == "b"]

        wait("40 segments on node b", lambda: len(on_b()) >= 40, 300)
        owner, other = [], []
        segments = on_b()[:40]
        for seg in segments:
            owner.append(first_fragment_ms(local, seg))
            other.append(first_fragment_ms(remote, seg))
        assert remote.remote is not None
        remote.remote.close()
        # the same segments as the console's player gets them, on b's console and on a's
        secret = account(url, OUT / "fetch" / "a", "head", PASSWORD, "head_of_security")
        assert secret is not None
        base = {n: api_address(OUT / "fetch" / n, c.procs[n]) for n in ("a", "b")}
        time.sleep(30.5 - time.time() % 30)  # enrolment used this step's code
        r = httpx.post(f"{base['a']}/api/auth/login", verify=False, json={
            "username": "head", "password": PASSWORD, "totp": pyotp.TOTP(secret).now()})
        r.raise_for_status()
        cookie = f"kuzet_session={r.cookies['kuzet_session']}"  # a session on any node
        with here.session() as s:
            names = {i: n for i, n in s.execute(select(Camera.id, Camera.name))}
        on_owner, on_other = [], []
        for seg in segments:
            at = seg.start_ns + 1_000_000
            cam = names[seg.camera_id]
            on_owner.append(asyncio.run(console_first_fragment_ms(base["b"], cookie, cam, at)))
            on_other.append(asyncio.run(console_first_fragment_ms(base["a"], cookie, cam, at)))
    finally:
        engine.dispose()
        c.stop()
    for xs in (owner, other, on_owner, on_other):
        xs.sort()

    def p95(xs: list[float]) -> float:
        return xs[max(0, round(0.95 * len(xs)) - 1)]

    def pair(mine: list[float], theirs: list[float]) -> dict[str, Figure]:
        return {"owner_p50": round(statistics.median(mine), 2),
                "owner_p95": round(p95(mine), 2),
                "other_p50": round(statistics.median(theirs), 2),
                "other_p95": round(p95(theirs), 2),
                "ratio_p50": round(statistics.median(theirs) / statistics.median(mine), 2),
                "ratio_p95": round(p95(theirs) / p95(mine), 2)}

    for what, mine, theirs in (("read", owner, other), ("console", on_owner, on_other)):
        print(f"archive, first fragment of a segment ({what}): on the node that recorded it "
              f"p50 {statistics.median(mine):.1f} ms, p95 {p95(mine):.1f} ms; through another "
              f"node p50 {statistics.median(theirs):.1f} ms, p95 {p95(theirs):.1f} ms: "
              f"{statistics.median(theirs) / statistics.median(mine):.2f}x")
    return {"segments": len(owner), **pair(owner, other),
            "console": pair(on_owner, on_other)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cameras", type=int, default=16, help="cameras per node")
    ap.add_argument("--seconds", type=float, default=60, help="each steady measurement")
    ap.add_argument("--segment-s", type=float, default=4)
    ap.add_argument("--outage", type=float, default=8, help="seconds without a primary")
    ap.add_argument("--archive-only", action="store_true",
                    help="only the archive's figures, printed, not written")
    args = ap.parse_args()
    bench = Run.start("cluster", args)
    total = args.cameras * 3
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    port_file = OUT / "sim.port"
    port_file.unlink(missing_ok=True)
    sim = subprocess.Popen([sys.executable, "-m", "kuzet", "sim", "--cameras", str(total),
                            "--port", "0", "--port-file", str(port_file), "--main-size",
                            "640x360", "--main-kbps", "1000"],
                           env=bench_env(OUT), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    figures: dict[str, Figure] = {"cameras": total, "segment_s": args.segment_s}
    try:
        port = sim_port(port_file, sim)
        if args.archive_only:
            with database() as (db, url):
                print(json.dumps(through_another(url, port, args)))
            return
        # -- 1. the same cameras on one server and on one node, side by side over the
        # same seconds: three runs one after the other read 1.06x, 1.07x and 1.17x, the
        # machine's drift between them larger than what is measured
        with database() as (db_a, url_a), database() as (db_b, url_b):
            single = Cluster("single", url_a, port, args.segment_s)
            node = Cluster("node", url_b, port, args.segment_s)
            single.prepare(total)
            node.prepare(total)
            pair_of = (single.start(None), node.start("a"))
            for url in (url_a, url_b):
                wait("every camera catalogued", functools.partial(
                    caught_up, libpq(url), total), 180)
            time.sleep(args.segment_s * 2)  # past the first segments' probes
            (cpu_a, tx_a), (cpu_b, tx_b) = steady([(db_a, [pair_of[0]]), (db_b, [pair_of[1]])],
                                                  args.seconds)
            single.stop()
            node.stop()
        per_hour = 3600 / total
        figures["one_server"] = {"cpu_s_per_camera_hour": round(cpu_a * per_hour, 2),
                                 "catalog_xacts_per_s": round(tx_a, 2)}
        figures["one_node"] = {"cpu_s_per_camera_hour": round(cpu_b * per_hour, 2),
                               "catalog_xacts_per_s": round(tx_b, 2)}
        figures["lease_cpu_ratio"] = round(cpu_b / cpu_a, 3)
        figures["lease_catalog_ratio"] = round(tx_b / tx_a, 3)
        print(f"one server: {cpu_a * per_hour:.1f} CPU-s per camera-hour, {tx_a:.1f} "
              f"catalog xacts/s; one node: {cpu_b * per_hour:.1f}, {tx_b:.1f}: CPU "
              f"{cpu_b / cpu_a:.3f}x, catalog {tx_b / tx_a:.3f}x")

        # -- 2. three nodes, then one killed
        with database() as (db, url):
            c = Cluster("three", url, port, args.segment_s)
            url = libpq(url)
            c.prepare(total)
            procs = [c.start(n) for n in ("a", "b", "c")]

            def even() -> bool:
                held = leases(url)
                counts = sorted(sum(1 for n, _ in held.values() if n == x) for x in "abc")
                lately = time.time_ns() - int(3e9 * args.segment_s)
                return counts == [args.cameras] * 3 and len(rows_after(url, lately)) == total

            wait("three nodes sharing the cameras", even, 180)
            [(cpu_c, tx_c)] = steady([(db, procs)], args.seconds)
            figures["three_nodes"] = {"cpu_s_per_camera_hour": round(cpu_c * per_hour, 2),
                                      "catalog_xacts_per_s": round(tx_c, 2)}
            figures["drain_gap_s"] = drained(c, url, even)
            held = leases(url)
            victim = {cam: e for cam, (n, e) in held.items() if n == "b"}
            killed_ns, killed = time.time_ns(), time.monotonic()
            c.procs["b"].send_signal(signal.SIGKILL)
            c.procs["b"].wait(10)
            first: dict[int, float] = {}

            def taken() -> bool:
                now, owners = time.monotonic(), leases(url)
                for cam in rows_after(url, killed_ns):
                    if cam in victim and cam not in first and owners[cam][0] != "b":
                        first[cam] = now - killed
                return len(first) == len(victim)

            wait("the killed node's cameras recorded elsewhere", taken, 120)
            times = sorted(first.values())
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            figures["failover_s"] = {"cameras": len(times), "p50": round(statistics.median(
                times), 2), "p95": round(p95, 2), "max": round(times[-1], 2)}
            print(f"three nodes: {cpu_c * per_hour:.1f} CPU-s per camera-hour, {tx_c:.1f} "
                  f"xacts/s; kill -9 to the first new row of each of {len(times)} cameras: "
                  f"p50 {statistics.median(times):.1f} s, p95 {p95:.1f} s, max "
                  f"{times[-1]:.1f} s")
            c.stop()

        # -- 4. archive through the node that recorded it and through another
        with database() as (db, url):
            figures["archive_first_fragment_ms"] = through_another(url, port, args)

        # -- 3. the catalog's primary killed, the replica promoted
        pair = PgPair()
        try:
            pair.start()
            c = Cluster("failover", pair.url, port, args.segment_s)
            c.prepare(args.cameras)
            c.start("a")
            wait("every camera catalogued", functools.partial(caught_up, pair.libpq_url,
                                                              args.cameras), 120)
            with psycopg.connect(pair.libpq_url, autocommit=True) as conn:
                before: dict[int, int] = dict(conn.execute(
                    "SELECT camera_id, count(*) FROM segments GROUP BY camera_id").fetchall())
            pair.kill_primary()
            time.sleep(args.outage)
            promoted_ns, promoted = time.time_ns(), time.monotonic()
            pair.promote()
            resumed: dict[int, float] = {}

            def back() -> bool:
                with contextlib.suppress(psycopg.OperationalError):
                    for cam in rows_after(pair.libpq_url, promoted_ns):
                        resumed.setdefault(cam, time.monotonic() - promoted)
                return bool(len(resumed) == args.cameras)

            wait("rows after the promotion for every camera", back, 120)
            c.stop()
            with psycopg.connect(pair.libpq_url, autocommit=True) as conn:
                rows = count(conn, "SELECT count(*) FROM segments")
                gaps = count(conn, "SELECT count(*) FROM gaps WHERE cause <> 'process_stopped'")
            media = OUT / "failover"  # the node's volumes (`init`'s adopted by the node)
            files = sum(1 for _ in media.rglob("*.mp4"))
            parts = sum(1 for _ in media.rglob("*.part"))
            figures["catalog_failover"] = {
                "outage_s": args.outage, "rows_before": sum(before.values()),
                "resumed_s_max": round(max(resumed.values()), 2),
                "resumed_s_p50": round(statistics.median(resumed.values()), 2),
                "rows": rows, "files": files, "parts_left": parts, "gaps": gaps}
            print(f"catalog failover after {args.outage:g} s without a primary: every "
                  f"camera's rows back {max(resumed.values()):.1f} s after the promotion "
                  f"(median {statistics.median(resumed.values()):.1f}); {rows} rows for "
                  f"{files} files, {parts} .part left, {gaps} gaps")
        finally:
            pair.close()
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(30)
    print(json.dumps(figures))
    bench.write(figures)


if __name__ == "__main__":
    main()
