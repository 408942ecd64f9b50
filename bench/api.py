"""API latency under load: 50 concurrent clients, each its own logged-in session, on the
camera list and whole-day timelines while 16 simulated cameras record.

Run by hand (not in CI):  .venv/bin/python bench/api.py --clients 50 --seconds 30
The load comes from wrk (Debian package `wrk`), a C client, so that the client's own cost
is not what gets measured. The catalog holds `--days` past days of 60-s segments for each
camera (1,440 rows a camera-day, as `bench/timeline.py` fills it); each client is its own
account (head of internal security, with a second factor) and session, and asks the
camera list and Almaty days of the cameras' timelines in turn.

Baseline in the same run: the same clients against a bare app on the same uvicorn and TLS
certificate that answers a fixed JSON of the same size: the framework's floor, so the
ratio shows what Kuzet's gate, sessions, permission checks and catalog queries add.
Printed: p50 and p99 latency and errors for both, their p99 ratio, and the CPU the Kuzet
server used while answering. Figures go to bench/results/api.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pyotp

from days import DAY_NS, almaty_days, fill, iso
from figures import Run
from home import account, bench_env, prepare, running

PASSWORD = "load test password of some length"


WRK_SCRIPT = """
paths = {%s}
cookies = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1],
                    {["Cookie"] = cookies[(counter %% #cookies) + 1]})
end
"""


def wrk(base: str, paths: list[str], clients: int, seconds: float, cookie: str | list[str],
        work: Path) -> dict[str, float]:
    """Closed-loop load by wrk (a C client, so the client is not what is measured); with a
    list of cookies, the requests take them in turn (a session per client)."""
    cookies = [cookie] if isinstance(cookie, str) else cookie
    script = work / "load.lua"
    script.write_text(WRK_SCRIPT % (", ".join(json.dumps(p) for p in paths),
                                    ", ".join(json.dumps(c) for c in cookies)))
    out = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds:g}s",
                          "--timeout", "30s",
                          "--latency", "-s", str(script), base], capture_output=True,
                         text=True, check=True).stdout
    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            raise SystemExit(f"wrk printed no {label} latency:\n{out}")
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    total = re.search(r"(\d+) requests in", out)
    if not total:
        raise SystemExit(f"wrk printed no request count:\n{out}")
    requests = int(total.group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"requests": requests, "p50": ms("50%"), "p90": ms("90%"), "p99": ms("99%"),
            "errors": errors}


def baseline_server(cert: Path, key: Path, body: bytes) -> tuple[Any, int]:
    import socket

    import uvicorn

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           lifespan="off", ssl_certfile=str(cert),
                                           ssl_keyfile=str(key)))
    threading.Thread(target=asyncio.run, args=(server.serve(sockets=[sock]),),
                     daemon=True).start()
    return server, sock.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--days", type=int, default=29)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--port", type=int, default=18654)
    args = ap.parse_args()
    bench = Run.start("api", args)
    with tempfile.TemporaryDirectory(prefix="kuzet-bench-api-") as tmp:
        home = Path(tmp) / "home"
        env = bench_env(home, segment_s="60")
        prepare(home, env, args.cameras, args.port, "bench", PASSWORD, "rector")
        secrets = {f"client{i:02d}": account(f"sqlite:///{home / 'catalog.db'}", home,
                                             f"client{i:02d}", PASSWORD, "head_of_security")
                   for i in range(args.clients)}
        fill(home, args.cameras, args.days, files=0)
        with running(home, env, args.cameras, args.port) as (base, serve):
            ctx = ssl.create_default_context(cafile=str(home / "tls" / "cert.pem"))
            cookies = []
            for name, secret in secrets.items():
                assert secret is not None
                with httpx.Client(base_url=base, verify=ctx) as c:
                    r = c.post("/api/auth/login", json={
                        "username": name, "password": PASSWORD,
                        "totp": pyotp.TOTP(secret).at(time.time() + 30)})
                    r.raise_for_status()
                    cookies.append("; ".join(f"{k}={v}" for k, v in c.cookies.items()))
            with httpx.Client(base_url=base, verify=ctx,
                              headers={"cookie": cookies[0]}) as c:
                body = c.get("/api/cameras").content  # the bare app answers its size
            days = almaty_days(2)
            paths = ["/api/cameras"] + [
                f"/api/cameras/cam{i + 1:02d}/timeline?start={iso(day)}&end={iso(day + DAY_NS)}"
                for i in range(args.cameras) for day in days]
            proc = psutil.Process(serve.pid)
            cpu0 = sum(proc.cpu_times()[:2])
            ours = wrk(base, paths, args.clients, args.seconds, cookies, Path(tmp))
            cpu = sum(proc.cpu_times()[:2]) - cpu0
            server, port = baseline_server(home / "tls" / "cert.pem", home / "tls" / "key.pem",
                                           body)
            base_line = wrk(f"https://127.0.0.1:{port}", ["/"], args.clients, args.seconds,
                            "", Path(tmp))
            server.should_exit = True
    print(f"{args.clients} clients, {args.seconds:g} s, {args.cameras} cameras recording, "
          f"{os.cpu_count()} CPUs, a session per client; requests: the camera list and "
          f"whole-day timelines of {args.days} days of 1,440 segments")
    for name, res in (("baseline (bare ASGI app, same uvicorn + TLS, "
                     f"{len(body)}-byte JSON)", base_line), ("kuzet", ours)):
        print(f"{name}: {res['requests']:.0f} requests ({res['requests'] / args.seconds:.0f}"
              f"/s), p50 {res['p50']:.1f} ms, p90 {res['p90']:.1f} ms, p99 {res['p99']:.1f} "
              f"ms, errors {res['errors']:.0f}")
    print(f"kuzet server CPU {cpu:.1f} s ({100 * cpu / args.seconds:.0f} % of one core, "
          "recording included)")
    print(f"p99 ratio kuzet / baseline: {ours['p99'] / base_line['p99']:.2f}")
    bench.write({
        "clients": args.clients, "seconds": args.seconds, "cameras": args.cameras,
        "days": args.days, "sessions": len(cookies),
        "baseline_body_bytes": len(body),
        **{name: {"requests": res["requests"], "requests_per_s": res["requests"] / args.seconds,
                  "p50_ms": res["p50"], "p90_ms": res["p90"], "p99_ms": res["p99"],
                  "errors": res["errors"]} for name, res in (("baseline", base_line),
                                                             ("kuzet", ours))},
        "kuzet_server_cpu_s": cpu,
        "kuzet_server_cpu_percent_of_core": 100 * cpu / args.seconds,
        "p99_ratio": ours["p99"] / base_line["p99"]})


if __name__ == "__main__":
    main()
