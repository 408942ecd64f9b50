"""The restream to external centres (issue 24, UE-10-22 3.2.11): latency, CPU per stream
against GStreamer's own RTSP relay, and recording untouched beside it.

Run by hand (not in CI):  .venv/bin/python bench/restream.py --seconds 30

`kuzet sim --stamp` (each frame's send time in an SEI message) feeds `kuzet serve`, which
records every camera and restreams them to a registered, approved centre: the bench's
clients, `--per-camera` sessions a camera over RTSP/TCP with digest authentication, in one
asyncio process. Latency: from the simulator's send of a frame to the client's receipt of
its last packet (same machine, same clock). CPU: `kuzet serve` recording with no session
(the baseline, same run), then with every session; the difference per stream, against
GStreamer's gst-rtsp-server relaying the same cameras from a second simulator
(`bench/gst_relay.py`: `rtspsrc ! rtph264depay ! rtph264pay`) to as many sessions, its
whole process per stream. Recording: the frames the simulator sent against those the
catalog holds once both stop. Figures go to bench/results/restream.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from figures import ROOT, Run
from home import bench_env, reported, sim_port
from kuzet.rtsp import digest
from kuzet.rtsp.stamp import stamp_of


@dataclass
class Session:
    """One centre's session as its client sees it."""

    frames: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    stamp: int | None = None
    error: str | None = None


async def centre(port: int, path: str, user: str | None, password: str | None,
                 session: Session, stop: asyncio.Event) -> None:
    """DESCRIBE, SETUP (interleaved TCP), PLAY, then read until `stop`: a frame at each
    marker bit, its latency from the stamp in its first packets."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    url = f"rtsp://127.0.0.1:{port}/{path}"
    cseq = 0
    challenge: tuple[str, str] | None = None

    async def ask(method: str, uri: str, headers: dict[str, str]) -> dict[str, str]:
        nonlocal cseq, challenge
        for _ in range(2):
            cseq += 1
            lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {cseq}",
                     *(f"{k}: {v}" for k, v in headers.items())]
            if challenge is not None and user and password:
                realm, nonce = challenge
                said = digest.digest_response(user, realm, password, method, uri, nonce)
                lines.append(f'Authorization: Digest username="{user}", realm="{realm}", '
                             f'nonce="{nonce}", uri="{uri}", response="{said}"')
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            fields = {k.strip().lower(): v.strip() for k, _, v in
                      (line.partition(":") for line in head.split("\r\n")[1:] if line)}
            if size := int(fields.get("content-length", "0")):
                await reader.readexactly(size)
            status = int(head.split()[1])
            if status == 401 and challenge is None:
                m = re.search(r'realm="([^"]*)", nonce="([^"]*)"',
                              fields.get("www-authenticate", ""))
                if m is None:
                    raise RuntimeError("401 without a digest challenge")
                challenge = (m.group(1), m.group(2))
                continue
            if status != 200:
                raise RuntimeError(f"{method} {uri}: {status}")
            return fields
        raise RuntimeError(f"{method} {uri}: refused")

    try:
        await ask("DESCRIBE", url, {"Accept": "application/sdp"})
        setup = await ask("SETUP", f"{url}/trackID=0" if user else f"{url}/stream=0",
                          {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        await ask("PLAY", url, {"Session": setup["session"].split(";")[0],
                                "Range": "npt=0.000-"})
        while not stop.is_set():
            head = await reader.readexactly(4)
            if head[0] != 0x24:  # an answer to nothing we asked: skip its head
                await reader.readuntil(b"\r\n\r\n")
                continue
            packet = await reader.readexactly(int.from_bytes(head[2:4], "big"))
            if head[1] != 0:
                continue  # RTCP
            if session.stamp is None:
                session.stamp = stamp_of(packet)
            if packet[1] & 0x80:  # the frame's last packet
                session.frames += 1
                if session.stamp is not None:
                    session.latencies_ms.append((time.time_ns() - session.stamp) / 1e6)
                session.stamp = None
    except (OSError, RuntimeError, asyncio.IncompleteReadError) as exc:
        session.error = str(exc)
    finally:
        writer.close()


async def watch(port: int, paths: list[str], user: str | None, password: str | None,
                warmup: float, seconds: float, proc: psutil.Process
                ) -> tuple[list[Session], float]:
    """Every session for `warmup` + `seconds`; the CPU-seconds `proc` used in the last
    `seconds` (sessions counted from then on too)."""
    stop = asyncio.Event()
    sessions = [Session() for _ in paths]
    tasks = [asyncio.create_task(centre(port, p, user, password, s, stop))
             for p, s in zip(paths, sessions, strict=True)]
    await asyncio.sleep(warmup)
    for s in sessions:
        s.frames, s.latencies_ms = 0, []
    c0 = sum(proc.cpu_times()[:2])
    await asyncio.sleep(seconds)
    used = sum(proc.cpu_times()[:2]) - c0
    counted = [Session(s.frames, list(s.latencies_ms), None, s.error) for s in sessions]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return counted, used


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


HEAD = ("head", ("head_of_security",), "127.0.0.1")
RECTOR = ("rector", ("rector",), "127.0.0.1")


@contextmanager
def centres_of(home: Path) -> Iterator[Any]:
    """The register of centres of the home's catalog, as the console's process has it."""
    from kuzet.access.secretbox import SecretBox, key_path
    from kuzet.catalog.db import make_engine
    from kuzet.catalog.store import Catalog
    from kuzet.restream.centres import Centres

    catalog = Catalog(make_engine(f"sqlite:///{home / 'catalog.db'}"))
    try:
        yield Centres(catalog.session, SecretBox(key_path(home)), "Asia/Almaty", time.time_ns)
    finally:
        catalog.engine.dispose()


def register_centre(home: Path, sessions: int, cameras: int) -> tuple[str, str, int]:
    """A centre on 127.0.0.1 with every camera, approved by the rector's account."""
    from kuzet.audit.log import Actor
    from kuzet.restream.centres import CentreFields

    today = dt.date.today()
    with centres_of(home) as centres:
        made = centres.prepare(
            Actor(*HEAD),
            CentreFields("Bench OCC", "occ", "bench", "1", today.isoformat(), ["127.0.0.1"],
                         sessions, 10_000_000, (today - dt.timedelta(days=1)).isoformat(),
                         (today + dt.timedelta(days=2)).isoformat()),
            {f"cam{i:02d}": "main" for i in range(1, cameras + 1)}, "bench", time.time_ns())
        centres.approve(Actor(*RECTOR), made.centre.requests[0].id, time.time_ns())
    return made.centre.username, made.password, made.centre.id


async def cut_after_approval(home: Path, port: int, user: str, password: str,
                             centre_id: int, cameras: int, trials: int) -> list[float]:
    """Seconds from the rector's approval of a set without cam01 (in another process, as
    the console's would be) to the end of a running session of cam01 at the centre, each
    trial after cam01 is approved again and served."""
    from kuzet.audit.log import Actor

    def approve(first: int) -> float:
        with centres_of(home) as centres:
            asked = centres.request_cameras(Actor(*HEAD), centre_id, {
                f"cam{i:02d}": "main" for i in range(first, cameras + 1)}, "bench",
                time.time_ns())
            at = time.monotonic()
            centres.approve(Actor(*RECTOR), asked.requests[0].id, time.time_ns())
        return at

    took = []
    for trial in range(trials):
        if trial:
            approve(1)  # cam01 back in the set
        session = Session()
        while not session.frames:  # until the server has read the set with cam01 again
            stop, session = asyncio.Event(), Session()
            task = asyncio.create_task(centre(port, "cam01/main", user, password, session,
                                              stop))
            for _ in range(40):
                if session.frames >= 25 or task.done():
                    break
                await asyncio.sleep(0.05)
            if task.done():
                await asyncio.sleep(0.2)
        approved = approve(2)
        await task  # the server closes the connection
        took.append(time.monotonic() - approved)
    return took


def start_sim(env: dict[str, str], args: argparse.Namespace, work: Path, name: str
              ) -> tuple[subprocess.Popen[bytes], int, Path]:
    stats, port_file = work / f"{name}.json", work / f"{name}.port"
    for f in (stats, port_file):
        f.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "kuzet", "sim", "--cameras",
                             str(args.cameras), "--port", "0", "--port-file", str(port_file),
                             "--main-size", args.main_size, "--main-kbps", str(args.kbps),
                             "--stamp", "--stats-file", str(stats)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, sim_port(port_file, proc), stats


def stop(proc: subprocess.Popen[Any]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def summary(sessions: list[Session], seconds: float) -> dict[str, float]:
    latencies = [x for s in sessions for x in s.latencies_ms]
    return {"sessions": len(sessions), "sessions_failed": sum(1 for s in sessions if s.error),
            "frames_per_s_per_session": statistics.mean(s.frames for s in sessions) / seconds,
            "fewest_frames_per_s": min(s.frames for s in sessions) / seconds,
            "latency_p50_ms": percentile(latencies, 0.5),
            "latency_p95_ms": percentile(latencies, 0.95),
            "latency_p99_ms": percentile(latencies, 0.99)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--per-camera", type=int, default=2, help="centre sessions a camera")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=8)
    ap.add_argument("--main-size", default="1280x720")
    ap.add_argument("--kbps", type=int, default=2000)
    ap.add_argument("--cut-trials", type=int, default=8)
    args = ap.parse_args()
    bench = Run.start("restream", args)
    work = ROOT / "bench" / "out" / "restream"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    home = work / "home"
    env = bench_env(home, restream_port="0", segment_s="10")
    subprocess.run([sys.executable, "-m", "kuzet", "init"], env=env, check=True,
                   capture_output=True)
    sim, port, stats = start_sim(env, args, work, "sim-kuzet")
    for i in range(1, args.cameras + 1):
        subprocess.run([sys.executable, "-m", "kuzet", "camera", "add", f"cam{i:02d}",
                        f"rtsp://127.0.0.1:{port}/cam{i:02d}/main", "--zone", "corridor"],
                       env=env, check=True, capture_output=True)
    n = args.cameras * args.per_camera
    user, password, centre_id = register_centre(home, n, args.cameras)
    serve = subprocess.Popen([sys.executable, "-m", "kuzet", "serve"], env=env,
                             stdout=subprocess.DEVNULL,
                             stderr=(work / "serve.log").open("wb"))
    proc = psutil.Process(serve.pid)
    rtsp = json.loads(reported(home / "run" / "restream.json", serve, "kuzet serve"))
    rport = int(rtsp["ports"]["rtsp"])
    paths = [f"cam{i % args.cameras + 1:02d}/main" for i in range(n)]
    time.sleep(args.warmup)
    c0 = sum(proc.cpu_times()[:2])
    time.sleep(args.seconds)
    idle = sum(proc.cpu_times()[:2]) - c0
    kuzet, busy = asyncio.run(watch(rport, paths, user, password, args.warmup, args.seconds,
                                    proc))
    cuts = asyncio.run(cut_after_approval(home, rport, user, password, centre_id,
                                          args.cameras, args.cut_trials))
    # the recording: every frame the simulator sent is in the catalog
    stop(sim)
    time.sleep(3)  # the recorder sees each stream end and closes its segment
    stop(serve)
    sent = sum(v for k, v in json.loads(stats.read_text())["frames_sent"].items()
               if k.endswith("/main"))
    with sqlite3.connect(home / "catalog.db") as db:
        recorded = db.execute("SELECT COALESCE(SUM(frames), 0) FROM segments").fetchone()[0]
        dropped = db.execute("SELECT COALESCE(SUM(dropped), 0), COUNT(*) FROM "
                             "restream_sessions").fetchone()

    # the baseline: GStreamer's relay of a second simulator, as many sessions
    sim_b, port_b, _ = start_sim(env, args, work, "sim-gst")
    relay = subprocess.Popen(["/usr/bin/python3", str(ROOT / "bench" / "gst_relay.py"),
                              "18990", str(port_b), str(args.cameras)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert relay.stdout is not None
    relay.stdout.readline()
    gst_paths = [p.split("/")[0] for p in paths]
    gst, gst_used = asyncio.run(watch(18990, gst_paths, None, None, args.warmup,
                                      args.seconds, psutil.Process(relay.pid)))
    stop(relay)
    stop(sim_b)

    ours, theirs = summary(kuzet, args.seconds), summary(gst, args.seconds)
    per_stream = (busy - idle) / args.seconds / n * 1000
    gst_per_stream = gst_used / args.seconds / n * 1000
    print(f"{args.cameras} cameras {args.main_size} at {args.kbps} kbit/s recorded, {n} "
          f"centre sessions over RTSP/TCP, {args.seconds:g} s")
    print(f"latency camera -> centre: p50 {ours['latency_p50_ms']:.1f} ms, p95 "
          f"{ours['latency_p95_ms']:.1f} ms, p99 {ours['latency_p99_ms']:.1f} ms "
          f"(GStreamer's relay: p95 {theirs['latency_p95_ms']:.1f} ms)")
    print(f"kuzet serve: {idle / args.seconds * 1000:.0f} ms/s recording alone, "
          f"{busy / args.seconds * 1000:.0f} ms/s with the sessions: {per_stream:.2f} ms of CPU "
          f"a second per stream; GStreamer's relay {gst_per_stream:.2f} ms/s per stream "
          f"(ratio {per_stream / gst_per_stream:.2f})")
    print(f"a camera taken out of the set by the rector's approval, {len(cuts)} times: the "
          f"session ended {statistics.median(cuts) * 1000:.0f} ms after it (median), at "
          f"most {max(cuts) * 1000:.0f} ms")
    print(f"frames a second per session: {ours['frames_per_s_per_session']:.2f} (fewest "
          f"{ours['fewest_frames_per_s']:.2f}); frames a slow reader lost: {dropped[0]} in "
          f"{dropped[1]} sessions; recording: {recorded}/{sent} frames")
    bench.write({"cameras": args.cameras, "sessions": n, "seconds": args.seconds,
                 "kuzet": ours, "gstreamer_relay": theirs,
                 "serve_cpu_ms_per_s_recording_alone": idle / args.seconds * 1000,
                 "serve_cpu_ms_per_s_with_sessions": busy / args.seconds * 1000,
                 "kuzet_cpu_ms_per_s_per_stream": per_stream,
                 "gstreamer_cpu_ms_per_s_per_stream": gst_per_stream,
                 "cpu_ratio_kuzet_to_gstreamer": per_stream / gst_per_stream,
                 "frames_sent": sent, "frames_recorded": recorded,
                 "frames_lost_in_recording": sent - recorded,
                 "frames_dropped_for_slow_readers": int(dropped[0]),
                 "session_ended_after_removal_ms": [round(c * 1000) for c in cuts],
                 "session_ended_after_removal_max_ms": max(cuts) * 1000})


if __name__ == "__main__":
    main()
