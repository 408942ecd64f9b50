"""The archive's timeline as the console asks it: `GET /api/cameras/X/timeline` for a day of
one camera, over HTTPS, from 50 concurrent clients, while the cameras record.

Run by hand (not in CI):  .venv/bin/python bench/timeline.py [--cameras 16 --days 29]
Needs wrk (Debian package `wrk`), a C client, so that the client's cost is not measured.

The catalog holds `--days` past days of 60-s segments for each of `--cameras` simulated
cameras that record meanwhile (1,440 rows a camera-day, as a camera with one-minute
segments leaves); the days asked (the last two, of the first `--files` cameras) have their
files on disk, one of them deleted, as a lost file would be. Each request asks one
Almaty day of one of those cameras, as the console asks them again while it pans and
refreshes (the answers kept, `console.timeline_read`); then, cold, each request a window
never asked before (a day shifted by whole seconds), so that every answer is drawn anew.

Baselines in the same run: the same clients against a bare ASGI app on the same uvicorn
and TLS certificate answering a fixed JSON of the timeline's size (the framework's floor),
and `console.timeline_read.read_window` (the route's one statement) called in this
process on the same catalog while the server runs. Printed: p50/p99 and errors for each,
the ratios, and the server's CPU per request. Figures go to bench/results/timeline.json.
"""

from __future__ import annotations

import argparse
import ssl
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pyotp

from api import baseline_server, wrk
from days import DAY_NS, fill, iso
from figures import Run
from home import bench_env, prepare, running
from kuzet.catalog.db import make_engine
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.console.timeline_read import read_window
from kuzet.timefmt import NS

PASSWORD = "timeline load test password"
COLD_SHIFTS = 2_000  # windows per camera-day in the cold phase: more than it can ask


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def in_process(home: Path, asked: list[tuple[str, int]], queries: int) -> list[float]:
    """`read_window` of the days asked, in this process: the query's own time."""
    catalog = Catalog(make_engine(f"sqlite:///{home / 'catalog.db'}"))
    took = []
    for k in range(queries):
        name, day = asked[k % len(asked)]
        cam = catalog.camera(name)
        assert cam is not None
        t = time.perf_counter()
        with catalog.one_statement() as conn:
            got = read_window(conn, cam.id, Stream.MAIN, day, day + DAY_NS).files()
        took.append(time.perf_counter() - t)
        assert len(got) >= 1439, len(got)
    catalog.engine.dispose()
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--days", type=int, default=29)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--port", type=int, default=18854)
    ap.add_argument("--profile", type=Path, help="py-spy's collapsed stacks of the server "
                    "while it answers, written here (needs py-spy)")
    args = ap.parse_args()
    bench = Run.start("timeline", args)
    with tempfile.TemporaryDirectory(prefix="kuzet-bench-timeline-") as tmp:
        home = Path(tmp) / "home"
        env = bench_env(home, segment_s="60")
        secret = prepare(home, env, args.cameras, args.port, "bench", PASSWORD, "rector")
        assert secret is not None
        asked = fill(home, args.cameras, args.days, args.files)
        print(f"{args.cameras} cameras x {args.days} days of 60-s rows; asking "
              f"{len(asked)} camera-days with files on disk", flush=True)
        with running(home, env, args.cameras, args.port) as (base, serve):
            ctx = ssl.create_default_context(cafile=str(home / "tls" / "cert.pem"))
            with httpx.Client(base_url=base, verify=ctx, timeout=30) as c:
                r = c.post("/api/auth/login", json={
                    "username": "bench", "password": PASSWORD,
                    "totp": pyotp.TOTP(secret).at(time.time() + 30)})
                r.raise_for_status()
                cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
                paths = [f"/api/cameras/{name}/timeline?start={iso(day)}&end="
                         f"{iso(day + DAY_NS)}" for name, day in asked]
                first = c.get(paths[0])
                first.raise_for_status()
                body = first.content
                assert len(first.json()["missing"]) == 1, first.json()["missing"]
            proc = psutil.Process(serve.pid)
            idle0, t0 = sum(proc.cpu_times()[:2]), time.monotonic()
            time.sleep(5)  # recording alone: its share is taken out of the per-request CPU
            recording = (sum(proc.cpu_times()[:2]) - idle0) / (time.monotonic() - t0)
            cpu0 = sum(proc.cpu_times()[:2])
            spy = None if args.profile is None else subprocess.Popen(
                ["py-spy", "record", "-p", str(serve.pid), "-f", "raw", "-o",
                 str(args.profile), "-d", f"{args.seconds:g}", "-r", "200"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ours = wrk(base, paths, args.clients, args.seconds, cookie, Path(tmp))
            cpu = sum(proc.cpu_times()[:2]) - cpu0
            net = max(0.0, cpu - recording * args.seconds)
            if spy is not None:
                spy.wait(60)
            # Cold: every request a window never asked before (a day shifted by whole
            # seconds), so that no answer kept from an earlier one serves it.
            cold_paths = [f"/api/cameras/{name}/timeline?start={iso(day + k * NS)}&end="
                          f"{iso(day + k * NS + DAY_NS)}" for k in range(1, COLD_SHIFTS)
                          for name, day in asked]
            cpu0 = sum(proc.cpu_times()[:2])
            cold = wrk(base, cold_paths, args.clients, args.seconds, cookie, Path(tmp))
            cold_cpu = sum(proc.cpu_times()[:2]) - cpu0
            if cold["requests"] >= len(cold_paths):
                print("note: the cold phase asked some windows twice (more requests than "
                      "windows)")
            query = in_process(home, asked, args.queries)
            server, port = baseline_server(home / "tls" / "cert.pem", home / "tls" / "key.pem",
                                           body)
            floor = wrk(f"https://127.0.0.1:{port}", ["/"], args.clients, args.seconds, "",
                        Path(tmp))
            server.should_exit = True
    q50, q99 = 1e3 * pct(query, 50), 1e3 * pct(query, 99)
    print(f"{args.clients} clients, {args.seconds:g} s each, {args.cameras} cameras recording")
    print(f"timeline route: {ours['requests']:.0f} requests, p50 {ours['p50']:.1f} ms, p99 "
          f"{ours['p99']:.1f} ms (target <= 20), errors {ours['errors']:.0f}; server CPU "
          f"{1e3 * cpu / max(ours['requests'], 1):.2f} ms per request, "
          f"{1e3 * net / max(ours['requests'], 1):.2f} ms without recording's share "
          f"({100 * recording:.0f} % of a core)")
    print(f"timeline route, cold (each window asked once): {cold['requests']:.0f} requests, "
          f"p50 {cold['p50']:.1f} ms, p99 {cold['p99']:.1f} ms, errors {cold['errors']:.0f}; "
          f"server CPU {1e3 * cold_cpu / max(cold['requests'], 1):.2f} ms per request")
    print(f"baseline, bare ASGI app ({len(body)}-byte JSON): p50 {floor['p50']:.1f} ms, p99 "
          f"{floor['p99']:.1f} ms; route / bare p99 {ours['p99'] / floor['p99']:.2f}")
    print(f"baseline, read_window in process: p50 {q50:.2f} ms, p99 {q99:.2f} ms")
    bench.write({
        "clients": args.clients, "seconds": args.seconds, "cameras": args.cameras,
        "days": args.days, "body_bytes": len(body),
        "route": {"requests": ours["requests"], "p50_ms": ours["p50"], "p99_ms": ours["p99"],
                  "errors": ours["errors"],
                  "server_cpu_ms_per_request": 1e3 * cpu / max(ours["requests"], 1),
                  "server_cpu_ms_per_request_less_recording":
                      1e3 * net / max(ours["requests"], 1),
                  "recording_cpu_share_of_core": recording},
        "route_cold": {"requests": cold["requests"], "p50_ms": cold["p50"],
                       "p99_ms": cold["p99"], "errors": cold["errors"],
                       "server_cpu_ms_per_request": 1e3 * cold_cpu / max(cold["requests"], 1)},
        "bare_asgi": {"requests": floor["requests"], "p50_ms": floor["p50"],
                      "p99_ms": floor["p99"], "errors": floor["errors"]},
        "catalog_timeline": {"p50_ms": q50, "p99_ms": q99},
        "route_p99_ratio_to_bare": ours["p99"] / floor["p99"],
        "route_p99_ratio_to_catalog": ours["p99"] / q99,
        "route_cold_p99_ratio_to_bare": cold["p99"] / floor["p99"]})


if __name__ == "__main__":
    main()
