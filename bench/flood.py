"""A signed-in user's latency while requests from outside the local network flood the
server (issue 16, item 13): before, every refusal wrote an audit entry and an alarm on the
API's event loop, and 400 refused requests took one user's p95 from 13 ms to 234 ms.

Run by hand (not in CI):  .venv/bin/python bench/flood.py --seconds 20
The flood comes from wrk (Debian package `wrk`) through a trusted proxy: its requests
carry `X-Forwarded-For: 203.0.113.x`, so the LAN gate judges them by that public address
and refuses them, as it would a client outside. The signed-in user asks for the camera
list one request at a time, from Python, and its latencies are what is measured.

Baseline in the same run: the same user, the same server, no flood. Printed: the user's
p50/p95/p99 with and without the flood, their p95 ratio, how many requests the flood made,
and how many audit entries they cost. Figures go to bench/results/flood.json.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp

from figures import Run
from home import bench_env, prepare, running

PASSWORD = "load test password of some length"
FLOOD_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/api/cameras",
                    {["X-Forwarded-For"] = "203.0.113." .. (counter %% %d + 1)})
end
"""


def user_latencies(base: str, ctx: ssl.SSLContext, cookies: dict[str, str], seconds: float
                   ) -> list[float]:
    """One signed-in user, one request at a time, for `seconds`: milliseconds each."""
    out: list[float] = []
    with httpx.Client(base_url=base, verify=ctx, cookies=cookies) as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            c.get("/api/cameras").raise_for_status()
            out.append((time.perf_counter() - t0) * 1e3)
    return out


def figures(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=100)
    return {"requests": len(ms), "p50": q[49], "p95": q[94], "p99": q[98]}


def flood(base: str, seconds: float, sources: int, work: Path) -> int:
    """wrk refused requests for `seconds`; answers how many it made."""
    script = work / "flood.lua"
    script.write_text(FLOOD_SCRIPT % sources)
    out = subprocess.run(["wrk", "-t", "1", "-c", "20", "-d", f"{seconds:g}s", "-s",
                          str(script), base], capture_output=True, text=True,
                         check=True).stdout
    return int(out.split(" requests in")[0].split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--sources", type=int, default=50, help="outside addresses flooding")
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--port", type=int, default=18655)
    args = ap.parse_args()
    bench = Run.start("flood", args)
    with tempfile.TemporaryDirectory(prefix="kuzet-bench-flood-") as tmp:
        home = Path(tmp) / "home"
        env = bench_env(home, segment_s="10", trusted_proxies='["127.0.0.1/32"]')
        secret = prepare(home, env, args.cameras, args.port, "bench", PASSWORD, "rector")
        assert secret is not None
        with running(home, env, args.cameras, args.port) as (base, _):
            ctx = ssl.create_default_context(cafile=str(home / "tls" / "cert.pem"))
            time.sleep(10)  # the cameras connect
            with httpx.Client(base_url=base, verify=ctx) as c:
                r = c.post("/api/auth/login", json={
                    "username": "bench", "password": PASSWORD,
                    "totp": pyotp.TOTP(secret).at(time.time() + 30)})
                r.raise_for_status()
                cookies = dict(c.cookies.items())
            quiet = figures(user_latencies(base, ctx, cookies, args.seconds))
            made: list[int] = []
            flooder = threading.Thread(target=lambda: made.append(
                flood(base, args.seconds, args.sources, Path(tmp))))
            flooder.start()
            time.sleep(1)  # the flood is under way
            loud = figures(user_latencies(base, ctx, cookies, args.seconds - 2))
            flooder.join()
        entries = json.loads(subprocess.run(
            [sys.executable, "-m", "kuzet", "audit", "list", "--action", "access.refused",
             "--json"], env=env, capture_output=True, text=True, check=True).stdout)
    counted = sum(json.loads(e["detail"]).get("count", 1) if isinstance(e["detail"], str)
                  else e["detail"].get("count", 1) for e in entries)
    result: dict[str, Any] = {
        "cpus": os.cpu_count(), "seconds": args.seconds, "sources": args.sources,
        "baseline_no_flood": quiet, "with_flood": loud, "flood_requests": made[0],
        "audit_entries": len(entries), "refusals_counted": counted,
        "p95_ratio": loud["p95"] / quiet["p95"]}
    print(f"{os.cpu_count()} CPUs, {args.cameras} cameras recording; one signed-in user "
          f"asking for the camera list, one request at a time, {args.seconds:g} s")
    for name, f in (("baseline (no flood)", quiet), (f"flood from {args.sources} outside "
                                                     "addresses", loud)):
        print(f"{name}: {f['requests']:.0f} requests, p50 {f['p50']:.1f} ms, p95 "
              f"{f['p95']:.1f} ms, p99 {f['p99']:.1f} ms")
    print(f"flood: {made[0]} refused requests; audit entries written for them: "
          f"{len(entries)} (counting {counted})")
    print(f"p95 ratio flood / baseline: {result['p95_ratio']:.2f}")
    bench.write(result)


if __name__ == "__main__":
    main()
