"""Live view: latency in a real browser, and server CPU per extra viewer.

Run by hand (not in CI):  .venv/bin/python bench/live.py --seconds 20

Latency end to end: the simulator stamps each frame with its send time in the bitstream
(`kuzet sim --stamp`, an SEI message: kuzet.rtsp.stamp), and the page reads the stamp of
each fragment the console's player appends to its SourceBuffer (a script added to the
page wraps `appendBuffer`); server and browser share the machine's clock. Also, as the
player itself measures it, from the frame's arrival at the recorder to the append.
CPU: `kuzet serve` recording the cameras with nobody watching (the baseline, same run),
then with 16 viewers on each of 4 cameras (64 WebSockets read by a Python client) and the
browser; the difference per viewer.
Figures go to bench/results/live.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets

from figures import Run
from home import bench_env, prepare, running
from kuzet.rtsp.stamp import UUID

PASSWORD = "watching the gate all night"
# Added to the page before its scripts: the send time the simulator stamped in each
# fragment appended (kuzet.rtsp.stamp: the UUID, then 16 hex digits of UTC ns).
STAMPS_READER = """
window.kuzetSendLatencyMs = [];
const UUID = [UUID_BYTES];
const append = SourceBuffer.prototype.appendBuffer;
SourceBuffer.prototype.appendBuffer = function (data) {
  const bytes = new Uint8Array(data.buffer || data, data.byteOffset || 0, data.byteLength);
  for (let i = 0; i + UUID.length + 16 <= bytes.length; i++) {
    if (bytes[i] !== UUID[0] || !UUID.every((b, k) => bytes[i + k] === b)) continue;
    const hex = String.fromCharCode(...bytes.subarray(i + UUID.length, i + UUID.length + 16));
    window.kuzetSendLatencyMs.push(Date.now() - Number(BigInt("0x" + hex) / 1000000n));
    break;
  }
  return append.call(this, data);
};
""".replace("UUID_BYTES", ", ".join(str(b) for b in UUID))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]


def stamped_context(pw: Any, base: str, cookie: str) -> Any:
    """A context of a real Chromium logged in with `cookie`, whose pages record the send
    stamp of every fragment the player appends (STAMPS_READER)."""
    browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    context = browser.new_context(ignore_https_errors=True)
    context.add_init_script(STAMPS_READER)
    name, value = cookie.split(";")[0].split("=", 1)
    context.add_cookies([{"name": name, "value": value, "url": base}])
    return context


async def viewers(base: str, cookie: str, cameras: int, per_camera: int, seconds: float,
                  ctx: ssl.SSLContext) -> int:
    received = 0

    async def one(name: str) -> None:
        nonlocal received
        uri = base.replace("https://", "wss://") + f"/api/ws/live/{name}"
        async with websockets.connect(uri, ssl=ctx, additional_headers={"cookie": cookie},
                                      max_size=None) as ws:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
                    received += 1
                except TimeoutError:
                    break

    await asyncio.gather(*(one(f"cam{c + 1:02d}") for c in range(cameras)
                           for _ in range(per_camera)))
    return received


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--per-camera", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--port", type=int, default=18754)
    args = ap.parse_args()
    bench = Run.start("live", args)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="kuzet-bench-live-") as tmp:
        home = Path(tmp) / "home"
        env = bench_env(home, max_views_per_user="256")  # 64 viewers + a browser, one account
        prepare(home, env, args.cameras, args.port, "watcher", PASSWORD, "guard")
        with running(home, env, args.cameras, args.port, ("--stamp",)) as (base, serve):
            ctx = ssl.create_default_context(cafile=str(home / "tls" / "cert.pem"))
            time.sleep(10)
            proc = psutil.Process(serve.pid)

            def cpu() -> float:
                return sum(proc.cpu_times()[:2])

            c0 = cpu()
            time.sleep(args.seconds)
            idle = cpu() - c0
            with httpx.Client(base_url=base, verify=ctx) as c:
                c.post("/api/auth/login", json={"username": "watcher",
                                                "password": PASSWORD}).raise_for_status()
                cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
            with sync_playwright() as pw:
                context = stamped_context(pw, base, cookie)
                page = context.new_page()
                page.goto(f"{base}/live/cam01")
                page.wait_for_function("() => window.kuzetLatencyMs.length > 25",
                                       timeout=30_000)
                c1 = cpu()
                # Playwright's sync API holds this thread's event loop: viewers get their own.
                counts: list[int] = []
                runner = threading.Thread(target=lambda: counts.append(asyncio.run(viewers(
                    base, cookie, args.cameras, args.per_camera, args.seconds, ctx))))
                runner.start()
                while runner.is_alive():
                    page.wait_for_timeout(500)
                received = counts[0] if counts else 0
                busy = cpu() - c1
                latencies = sorted(page.evaluate("window.kuzetLatencyMs"))
                sent = sorted(page.evaluate("window.kuzetSendLatencyMs"))
                frames = page.evaluate("document.getElementById('video')"
                                       ".getVideoPlaybackQuality().totalVideoFrames")
                context.browser.close()
    n = args.cameras * args.per_camera
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"{args.cameras} cameras recording, {os.cpu_count()} CPUs, {args.seconds:g} s per "
          "phase")
    if not sent:
        raise SystemExit("no fragment reached the page with the simulator's send stamp")
    sent_p95 = sent[int(0.95 * (len(sent) - 1))]
    print(f"latency end to end, camera's send -> SourceBuffer append ({len(sent)} "
          f"fragments): p50 {statistics.median(sent):.0f} ms, p95 {sent_p95:.0f} ms "
          "(target p95 <= 300)")
    print(f"browser latency, arrival at recorder -> SourceBuffer append ({len(latencies)} "
          f"frames, {frames} shown): p50 {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms")
    print(f"server CPU, baseline (recording, nobody watching): {idle / args.seconds:.3f} "
          "CPU-s per second")
    print(f"server CPU with {n} viewers + 1 browser: {busy / args.seconds:.3f} CPU-s per "
          f"second; per extra viewer {(busy - idle) / args.seconds / (n + 1) * 1000:.1f} ms "
          f"per second; ratio to baseline {busy / max(idle, 1e-9):.2f}; {received} fragments "
          "delivered to the Python viewers")
    bench.write({
        "cameras": args.cameras, "viewers": n, "seconds": args.seconds,
        "send_to_append_fragments": len(sent),
        "send_to_append_p50_ms": statistics.median(sent), "send_to_append_p95_ms": sent_p95,
        "browser_latency_frames": len(latencies), "browser_frames_shown": frames,
        "browser_latency_p50_ms": statistics.median(latencies),
        "browser_latency_p95_ms": p95,
        "baseline_server_cpu_s_per_s": idle / args.seconds,
        "watched_server_cpu_s_per_s": busy / args.seconds,
        "cpu_ms_per_s_per_extra_viewer": (busy - idle) / args.seconds / (n + 1) * 1000,
        "cpu_ratio": busy / max(idle, 1e-9), "fragments_to_python_viewers": received})


if __name__ == "__main__":
    main()
