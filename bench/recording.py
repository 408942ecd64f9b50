"""Recording cost: Kuzet against one `ffmpeg -c copy -f segment` process per camera.

Run by hand (not in CI):  .venv/bin/python bench/recording.py --cameras 64 --seconds 60

Each phase gets its own simulator process (so frames sent are counted per phase), and both
record the same N simulated 1080p 4 Mbit/s cameras for the same time. CPU is counted over
the phase after a warm-up (start-up is a one-off for a 24/7 recorder) and, separately,
from process start. Printed: CPU-seconds per camera-hour for each and their ratio, RSS and
PSS per camera, frames recorded vs frames sent (ffprobe counts the frames in both sides'
files; Kuzet's catalog count beside it). Figures go to bench/results/recording.json.

`--spread` runs the simulator as `kuzet sim --spread`: each frame's RTP packets leave
spread over its 40 ms, in several writes, as a network camera's encoder and NIC send them,
rather than in one write per frame; both Kuzet and the ffmpeg baseline read that stream,
so the recording CPU is measured against a camera's real packet pacing (more, smaller
reads for whoever wakes per packet).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from figures import Run

ROOT = Path(__file__).resolve().parents[1]


def wait_port(port: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise SystemExit(f"simulator did not open port {port}")


def start_sim(env: dict[str, str], args: argparse.Namespace,
              stats: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "kuzet", "sim", "--cameras",
                             str(args.cameras), "--port", str(args.port), "--main-size",
                             args.main_size, "--main-kbps", str(args.kbps),
                             "--stats-file", str(stats),
                             *(["--spread"] if args.spread else [])],
                            env=env, stdout=subprocess.DEVNULL)
    wait_port(args.port)
    if proc.poll() is not None:
        raise SystemExit(f"the simulator exited: is port {args.port} taken?")
    return proc


def stop_sim(proc: subprocess.Popen[bytes], stats: Path) -> int:
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    sent = json.loads(stats.read_text())["frames_sent"]
    return sum(v for k, v in sent.items() if k.endswith("/main"))


def cpu_and_rss(procs: list[psutil.Process]) -> tuple[float, int, int]:
    """CPU seconds, RSS and PSS (each shared page divided among the processes sharing
    it: 64 ffmpeg processes share their libraries, which RSS counts 64 times)."""
    cpu: float = 0
    rss = pss = 0
    for p in procs:
        try:
            t = p.cpu_times()
            cpu += t.user + t.system
            memory = p.memory_full_info()
            rss += memory.rss
            pss += memory.pss
        except psutil.NoSuchProcess:
            pass
    return cpu, rss, pss


def machine_busy_s() -> float:
    """CPU-seconds the whole machine has been busy (all but idle and iowait), /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def sim_cpu_s(sim: subprocess.Popen[bytes]) -> float:
    t = psutil.Process(sim.pid).cpu_times()
    return float(t.user + t.system)


def count_frames(files: list[Path]) -> int:
    total = 0
    for f in files:
        out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                              "-count_packets", "-show_entries", "stream=nb_read_packets",
                              "-of", "csv=p=0", str(f)], capture_output=True, text=True)
        total += int(out.stdout.strip() or 0)
    return total


def ffmpeg_phase(args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict[str, float]:
    stats = work / "sim-ffmpeg.json"
    stats.unlink(missing_ok=True)
    sim = start_sim(env, args, stats)
    out = work / "ffmpeg"
    procs = []
    for i in range(args.cameras):
        cam = out / f"cam{i + 1:02d}"
        cam.mkdir(parents=True)
        procs.append(subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i",
             f"rtsp://127.0.0.1:{args.port}/cam{i + 1:02d}/main", "-c", "copy", "-f", "segment",
             "-segment_time", "60", "-reset_timestamps", "1", str(cam / "%05d.mp4")]))
    ps = [psutil.Process(p.pid) for p in procs]
    time.sleep(args.warmup)
    cpu0, _, _ = cpu_and_rss(ps)
    machine0, sim0 = machine_busy_s(), sim_cpu_s(sim)
    time.sleep(args.seconds)
    cpu, rss, pss = cpu_and_rss(ps)
    machine = machine_busy_s() - machine0 - (sim_cpu_s(sim) - sim0)
    # Stop the source first: every frame sent is then in a recorder's socket, and each
    # ffmpeg finishes its file when the stream ends.
    sent = stop_sim(sim, stats)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGINT)
            p.wait(20)
    recorded = count_frames(sorted(out.rglob("*.mp4")))
    return {"cpu_s": cpu, "steady_cpu_s": cpu - cpu0, "rss": rss, "pss": pss, "sent": sent,
            "recorded": recorded, "probed": recorded, "machine_s": machine}


def kuzet_phase(args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict[str, float]:
    """`--shards K` runs K recorders, each on its own data home with every K-th camera."""
    (work / "sim-kuzet.json").unlink(missing_ok=True)
    homes = [work / "kuzet" / f"shard{k}" for k in range(args.shards)]
    envs = [{**env, "KUZET_HOME": str(h)} for h in homes]
    for kenv in envs:
        subprocess.run([sys.executable, "-m", "kuzet", "init"], env=kenv, check=True,
                       capture_output=True)
    for i in range(args.cameras):
        subprocess.run([sys.executable, "-m", "kuzet", "camera", "add", f"cam{i + 1:02d}",
                        f"rtsp://127.0.0.1:{args.port}/cam{i + 1:02d}/main",
                        "--zone", "corridor"],
                       env=envs[i % args.shards], check=True, capture_output=True)
    idle = subprocess.Popen([sys.executable, "-c", "import kuzet.recorder.service, av, time;"
                             "time.sleep(5)"], env=envs[0])
    time.sleep(4)
    idle_rss = psutil.Process(idle.pid).memory_info().rss * args.shards
    idle.wait()
    stats = work / "sim-kuzet.json"
    sim = start_sim(envs[0], args, stats)
    serves = [subprocess.Popen([sys.executable, "-m", "kuzet", "serve"], env=kenv,
                               stderr=(work / f"serve{k}.log").open("wb"))
              for k, kenv in enumerate(envs)]
    procs = [psutil.Process(s.pid) for s in serves]
    time.sleep(args.warmup)
    cpu0, _, _ = cpu_and_rss(procs)
    machine0, sim0 = machine_busy_s(), sim_cpu_s(sim)
    time.sleep(args.seconds)
    cpu, rss, pss = cpu_and_rss(procs)
    machine = machine_busy_s() - machine0 - (sim_cpu_s(sim) - sim0)
    sent = stop_sim(sim, stats)
    time.sleep(3)  # the recorder sees each stream end and closes its segment
    for serve in serves:
        serve.send_signal(signal.SIGTERM)
    for serve in serves:
        serve.wait(30)
    import sqlite3
    recorded = 0
    for home in homes:
        with sqlite3.connect(home / "catalog.db") as db:
            recorded += db.execute("SELECT COALESCE(SUM(frames), 0) FROM segments").fetchone()[0]
    # ffprobe counts the frames in Kuzet's files as it counts ffmpeg's: the catalog's
    # count is what Kuzet says it wrote, the files' what a player would find
    probed = count_frames(sorted(p for home in homes for p in (home / "media").rglob("*.mp4")))
    return {"cpu_s": cpu, "steady_cpu_s": cpu - cpu0, "rss": rss, "pss": pss,
            "idle_rss": idle_rss, "sent": sent, "recorded": recorded, "probed": probed,
            "machine_s": machine}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cameras", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=60, help="measured time per phase")
    ap.add_argument("--warmup", type=float, default=10, help="unmeasured start of each phase")
    ap.add_argument("--port", type=int, default=18554)
    ap.add_argument("--rounds", type=int, choices=(1, 2), default=2,
                    help="2: phases run ffmpeg, kuzet, kuzet, ffmpeg and are averaged")
    ap.add_argument("--shards", type=int, default=1,
                    help="kuzet recorder processes, cameras dealt out among them")
    ap.add_argument("--main-size", default="1920x1080")
    ap.add_argument("--kbps", type=int, default=4000)
    ap.add_argument("--spread", action="store_true",
                    help="the simulator spreads each frame's packets over its 40 ms")
    args = ap.parse_args()
    bench = Run.start("recording", args)
    cache = ROOT / "bench" / "out" / "cache"
    env = {**os.environ, "KUZET_CACHE_DIR": str(cache), "KUZET_SEGMENT_S": "60",
           "KUZET_HTTPS_PORT": "0", "KUZET_HTTP_REDIRECT_PORT": "0"}
    n, hours = args.cameras, args.seconds / 3600
    with tempfile.TemporaryDirectory(prefix="kuzet-bench-") as tmp:
        work = Path(tmp)
        # Encode the clip before timing anything.
        warm = start_sim({**env, "KUZET_HOME": str(work / "warm")}, args, work / "warm.json")
        stop_sim(warm, work / "warm.json")
        # ABBA order, and no phase starts with another's dirty pages still being written
        # back: the kernel's writeback and reclaim work lands on whoever writes next.
        runs: dict[str, list[dict[str, float]]] = {"ffmpeg": [], "kuzet": []}
        frames_lost: dict[str, list[int]] = {}
        order = ["ffmpeg", "kuzet", "kuzet", "ffmpeg"][: 2 * args.rounds]
        for name in order:
            for leftover in ("ffmpeg", "kuzet"):
                shutil.rmtree(work / leftover, ignore_errors=True)
            os.sync()
            phase = ffmpeg_phase if name == "ffmpeg" else kuzet_phase
            runs[name].append(phase(args, work, env))
        base = {k: sum(r[k] for r in runs["ffmpeg"]) / len(runs["ffmpeg"])
                for k in runs["ffmpeg"][0]}
        ours = {k: sum(r[k] for r in runs["kuzet"]) / len(runs["kuzet"])
                for k in runs["kuzet"][0]}
        for name, rs in runs.items():  # frames are per run: a loss in one is not averaged away
            lost = [int(r["sent"] - r["recorded"]) for r in rs]
            print(f"{name}: frames lost per run {lost}")
            frames_lost[name] = lost
    b_rate = base["steady_cpu_s"] / n / hours
    k_rate = ours["steady_cpu_s"] / n / hours
    whole = hours + args.warmup / 3600
    b_all = base["cpu_s"] / n / whole
    k_all = ours["cpu_s"] / n / whole
    pacing = "spread over each frame's 40 ms" if args.spread else "one write per frame"
    print(f"cameras: {n} x {args.main_size} @ {args.kbps} kbit/s ({pacing}), "
          f"{args.warmup:g} s warm-up + "
          f"{args.seconds:g} s measured per phase, {args.rounds} round(s) averaged, "
          f"{os.cpu_count()} CPUs")
    b_kept = 100 * base["recorded"] / max(1, base["sent"])
    k_kept = 100 * ours["recorded"] / max(1, ours["sent"])
    k_extra = (ours["rss"] - ours["idle_rss"]) / n / 1e6
    print(f"ffmpeg -c copy -f segment (one process per camera): {b_rate:.1f} CPU-s per "
          f"camera-hour ({b_all:.1f} with start-up), RSS {base['rss'] / n / 1e6:.1f} MB per "
          f"camera, frames recorded "
          f"{base['recorded']:.0f} of {base['sent']:.0f} sent ({b_kept:.2f} %)")
    print(f"kuzet serve ({args.shards} process(es), {n} cameras): {k_rate:.1f} CPU-s per "
          "camera-hour "
          f"({k_all:.1f} with start-up), RSS "
          f"{ours['rss'] / n / 1e6:.1f} MB per camera ({k_extra:.1f} MB above an idle "
          f"interpreter), frames recorded {ours['recorded']:.0f} of {ours['sent']:.0f} sent "
          f"({k_kept:.2f} %), ffprobe finds {ours['probed']:.0f} in the files")
    print(f"PSS per camera (shared pages divided among their processes): ffmpeg "
          f"{base['pss'] / n / 1e6:.1f} MB, kuzet {ours['pss'] / n / 1e6:.1f} MB")
    print(f"CPU ratio kuzet / ffmpeg: {k_rate / b_rate:.2f} steady, {k_all / b_all:.2f} with "
          "start-up")
    # The recorders' own CPU leaves out work the kernel does for them in its own threads:
    # above all writing dirty pages back. Kuzet fsyncs each closed segment, so it pays its
    # writeback itself; ffmpeg leaves it to the kernel's flusher threads. The whole
    # machine's busy time (less the simulator's) counts both the same way.
    b_machine = base["machine_s"] / n / hours
    k_machine = ours["machine_s"] / n / hours
    print(f"whole machine less the simulator, steady: ffmpeg {b_machine:.1f}, kuzet "
          f"{k_machine:.1f} CPU-s per camera-hour, ratio {k_machine / b_machine:.2f}")
    bench.write({
        "cameras": n, "main_size": args.main_size, "kbps": args.kbps,
        "warmup_s": args.warmup, "seconds": args.seconds, "rounds": args.rounds,
        "shards": args.shards, "spread": args.spread,
        "baseline": "ffmpeg -c copy -f segment, one per camera",
        **{name: {"cpu_s_per_camera_hour": rate, "cpu_s_per_camera_hour_with_startup": every,
                  "rss_mb_per_camera": r["rss"] / n / 1e6,
                  "pss_mb_per_camera": r["pss"] / n / 1e6, "frames_recorded": r["recorded"],
                  "frames_in_files_by_ffprobe": r["probed"],
                  "frames_sent": r["sent"], "frames_recorded_percent": kept,
                  "frames_lost_per_run": frames_lost[name],
                  "machine_cpu_s_per_camera_hour": machine}
           for name, r, rate, every, kept, machine in (
               ("ffmpeg", base, b_rate, b_all, b_kept, b_machine),
               ("kuzet", ours, k_rate, k_all, k_kept, k_machine))},
        "kuzet_rss_mb_per_camera_above_idle": k_extra,
        "cpu_ratio": k_rate / b_rate, "cpu_ratio_with_startup": k_all / b_all,
        "machine_cpu_ratio": k_machine / b_machine})


if __name__ == "__main__":
    main()
