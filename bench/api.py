"""API latency under load: 50 concurrent clients on camera status and timeline while 16
simulated cameras record.

Run by hand (not in CI):  .venv/bin/python bench/api.py --clients 50 --seconds 30

Baseline in the same run: the same clients against a bare app on the same uvicorn and TLS
certificate that answers a fixed JSON of the same size: the framework's floor, so the
ratio shows what Kuzet's gate, sessions, permission checks and catalog queries add.
Printed: p50 and p99 latency and errors for both, their p99 ratio, and the CPU the Kuzet
server used while answering.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import psutil
import pyotp

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load test password of some length"


def prepare(home: Path, env: dict[str, str], cameras: int, port: int) -> str:
    """An initialised home with cameras and a rector account; returns its TOTP secret."""
    subprocess.run([sys.executable, "-m", "kuzet", "init"], env=env, check=True,
                   capture_output=True)
    for i in range(cameras):
        subprocess.run([sys.executable, "-m", "kuzet", "camera", "add", f"cam{i + 1:02d}",
                        f"rtsp://127.0.0.1:{port}/cam{i + 1:02d}/main"], env=env, check=True,
                       capture_output=True)
    os.environ["KUZET_HOME"] = str(home)
    from kuzet.access.accounts import Accounts
    from kuzet.access.roles import Roles
    from kuzet.audit.log import Actor
    from kuzet.catalog.db import make_engine
    from kuzet.catalog.store import Catalog

    catalog = Catalog(make_engine(f"sqlite:///{home / 'catalog.db'}"))
    actor, now = Actor("bench", (), "local"), time.time_ns()
    Accounts(catalog.session).create(actor, "bench", "Bench", now, password=PASSWORD)
    Roles(catalog.session).request(actor, "bench", "rector", now_ns=now)
    uri = Accounts(catalog.session).totp_enrol(actor, "bench")
    secret = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
    Accounts(catalog.session).totp_confirm(actor, "bench", pyotp.TOTP(secret).now(), now)
    catalog.engine.dispose()
    return secret


async def load(base: str, ctx: ssl.SSLContext, paths: list[str], clients: int,
               seconds: float, cookies: dict[str, str]) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, verify=ctx, cookies=cookies,
                                 limits=limits, timeout=30) as c:
        async def worker(k: int) -> None:
            nonlocal errors
            i = k
            while time.monotonic() < deadline:
                path = paths[i % len(paths)]
                i += 1
                t0 = time.perf_counter()
                try:
                    r = await c.get(path)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

        await asyncio.gather(*(worker(k) for k in range(clients)))
    return latencies, errors


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")


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
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--port", type=int, default=18654)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kuzet-bench-api-") as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "KUZET_HOME": str(home), "KUZET_HTTPS_PORT": "0",
               "KUZET_HTTP_REDIRECT_PORT": "0", "KUZET_SEGMENT_S": "10",
               "KUZET_CACHE_DIR": str(ROOT / "bench" / "out" / "cache")}
        secret = prepare(home, env, args.cameras, args.port)
        sim = subprocess.Popen([sys.executable, "-m", "kuzet", "sim", "--cameras",
                                str(args.cameras), "--port", str(args.port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        serve = subprocess.Popen([sys.executable, "-m", "kuzet", "serve"], env=env,
                                 stderr=subprocess.DEVNULL)
        try:
            api = home / "run" / "api.json"
            while not api.exists():
                time.sleep(0.5)
            base = json.loads(api.read_text())["https"]
            ctx = ssl.create_default_context(cafile=str(home / "tls" / "cert.pem"))
            time.sleep(25)  # cameras connect, some segments close: the timeline has rows
            with httpx.Client(base_url=base, verify=ctx) as c:
                r = c.post("/api/auth/login", json={"username": "bench", "password": PASSWORD,
                                                    "totp": pyotp.TOTP(secret).now()})
                r.raise_for_status()
                cookies = dict(c.cookies)
                body = c.get("/api/cameras").content
            now = time.time()
            window = "start={}&end={}".format(
                urllib.parse.quote(time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                 time.gmtime(now - 3600))),
                urllib.parse.quote(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))))
            paths = ["/api/cameras"] + [f"/api/cameras/cam{i + 1:02d}/timeline?{window}"
                                        for i in range(args.cameras)]
            proc = psutil.Process(serve.pid)
            cpu0 = sum(proc.cpu_times()[:2])
            lat, errors = asyncio.run(load(base, ctx, paths, args.clients, args.seconds,
                                           cookies))
            cpu = sum(proc.cpu_times()[:2]) - cpu0
            server, port = baseline_server(home / "tls" / "cert.pem", home / "tls" / "key.pem",
                                           body)
            b_lat, b_err = asyncio.run(load(f"https://127.0.0.1:{port}", ctx, ["/"],
                                            args.clients, args.seconds, {}))
            server.should_exit = True
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(30)
            sim.send_signal(signal.SIGTERM)
            sim.wait(30)
    print(f"{args.clients} clients, {args.seconds:g} s, {args.cameras} cameras recording, "
          f"{os.cpu_count()} CPUs; requests: camera list and per-camera 1-hour timelines")
    print(f"baseline (bare ASGI app, same uvicorn + TLS, {len(body)}-byte JSON): "
          f"{len(b_lat)} requests, p50 {pct(b_lat, .5):.1f} ms, p99 {pct(b_lat, .99):.1f} ms, "
          f"errors {b_err}")
    print(f"kuzet: {len(lat)} requests ({len(lat) / args.seconds:.0f}/s), p50 "
          f"{pct(lat, .5):.1f} ms, p99 {pct(lat, .99):.1f} ms, errors {errors}, server CPU "
          f"{cpu:.1f} s ({100 * cpu / args.seconds:.0f} % of one core)")
    print(f"p99 ratio kuzet / baseline: {pct(lat, .99) / pct(b_lat, .99):.2f}")


if __name__ == "__main__":
    main()
