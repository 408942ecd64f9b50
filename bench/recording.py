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

`--mix` (issue 20): a quarter of the cameras each plain, with B-frames, read over UDP, and
sending G.711 whose sound is kept (Kuzet stores it as AAC; ffmpeg, since MP4 cannot hold
G.711, `-c:v copy -c:a aac`), one simulator per kind. One round is ffmpeg then Kuzet
recording all of them, each kind recorded alone by Kuzet (`--kind-seconds`), and the G.711
quarter copied by ffmpeg into Matroska, which holds G.711 as sent. Printed per kind: CPU
per camera-hour of each and their ratio, frames sent, in Kuzet's catalog, in the files;
figures to bench/results/recording-mix.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def start_sim(env: dict[str, str], args: argparse.Namespace, stats: Path, *,
              cameras: int | None = None, port: int | None = None,
              extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """`kuzet sim` with the bench's cameras; `--mix` starts one per kind of camera, each
    with its own port, number of cameras and options (`extra`)."""
    port = args.port if port is None else port
    proc = subprocess.Popen([sys.executable, "-m", "kuzet", "sim", "--cameras",
                             str(args.cameras if cameras is None else cameras),
                             "--port", str(port), "--main-size",
                             args.main_size, "--main-kbps", str(args.kbps),
                             "--stats-file", str(stats),
                             *(["--spread"] if args.spread else []), *extra],
                            env=env, stdout=subprocess.DEVNULL)
    wait_port(port)
    if proc.poll() is not None:
        raise SystemExit(f"the simulator exited: is port {port} taken?")
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


def count_frames(files: list[Path], stream: str = "v:0") -> int:
    """Packets of `stream` in the files: video frames, or (`a:0`) the sound's packets."""
    total = 0
    for f in files:
        out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream,
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


# -- `--mix` (issue 20): cameras of four kinds --------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One quarter of `--mix`'s cameras: how its simulator sends, how both recorders read."""
    name: str
    sim: tuple[str, ...]  # `kuzet sim` options
    transport: str  # tcp or udp, for Kuzet's camera and ffmpeg's -rtsp_transport
    sound: bool  # G.711 kept: Kuzet on the audio order (stored as AAC), ffmpeg -c:a aac


KINDS = (Kind("plain", (), "tcp", False), Kind("bframes", ("--bframes", "2"), "tcp", False),
         Kind("udp", (), "udp", False), Kind("g711", ("--audio", "pcma"), "tcp", True))

# A phase's figures per kind (and "all"): CPU-seconds steady and from process start,
# frames sent, in Kuzet's catalog, in the files by ffprobe; the machine's busy seconds.
Figures = dict[str, dict[str, float]]


def kind_port(args: argparse.Namespace, kind: Kind) -> int:
    return int(args.port) + KINDS.index(kind)


def kind_url(args: argparse.Namespace, kind: Kind, i: int) -> str:
    return f"rtsp://127.0.0.1:{kind_port(args, kind)}/cam{i + 1:02d}/main"


def start_sims(args: argparse.Namespace, work: Path, env: dict[str, str],
               kinds: Sequence[Kind]) -> dict[str, subprocess.Popen[bytes]]:
    sims = {}
    for kind in kinds:
        stats = work / f"sim-{kind.name}.json"
        stats.unlink(missing_ok=True)
        sims[kind.name] = start_sim(env, args, stats, cameras=args.cameras // len(KINDS),
                                    port=kind_port(args, kind), extra=kind.sim)
    return sims


def stop_sims(sims: dict[str, subprocess.Popen[bytes]], work: Path) -> dict[str, int]:
    return {name: stop_sim(sim, work / f"sim-{name}.json") for name, sim in sims.items()}


def measure(args: argparse.Namespace, groups: dict[str, list[psutil.Process]],
            sims: dict[str, subprocess.Popen[bytes]]) -> Figures:
    """Warm-up, then CPU per group over `--seconds`; the machine's busy time less the
    simulators' over the same seconds."""
    time.sleep(args.warmup)
    before = {name: cpu_and_rss(ps)[0] for name, ps in groups.items()}
    machine0, sims0 = machine_busy_s(), sum(sim_cpu_s(s) for s in sims.values())
    time.sleep(args.seconds)
    figures: Figures = {}
    for name, ps in groups.items():
        cpu, rss, pss = cpu_and_rss(ps)
        figures[name] = {"cpu_s": cpu, "steady_cpu_s": cpu - before[name], "rss": rss,
                         "pss": pss}
    machine = machine_busy_s() - machine0 - (sum(sim_cpu_s(s) for s in sims.values()) - sims0)
    figures["all"] = {"machine_s": machine}
    return figures


def ffmpeg_command(args: argparse.Namespace, kind: Kind, i: int, folder: Path,
                   g711_copy: bool) -> list[str]:
    """Stream copy to 60-s segments as the default baseline; G.711 kept needs its sound made
    AAC (MP4 cannot hold G.711), or, with `g711_copy`, Matroska, which holds it as sent."""
    codecs = ["-c", "copy"]
    ext, muxer = "mp4", []
    if kind.sound and g711_copy:
        ext, muxer = "mkv", ["-segment_format", "matroska"]
    elif kind.sound:
        codecs = ["-c:v", "copy", "-c:a", "aac"]
    return ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", kind.transport, "-i",
            kind_url(args, kind, i), *codecs, "-f", "segment", *muxer, "-segment_time", "60",
            "-reset_timestamps", "1", str(folder / f"%05d.{ext}")]


def end_all(procs: Sequence[subprocess.Popen[bytes]], timeout: float) -> None:
    """Waits for each to end by itself (its stream gone), up to `timeout` for them all; then
    SIGINT, on which ffmpeg finishes its file (over UDP it may wait out a long time-out)."""
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGINT)
    for p in procs:
        p.wait(30)


def ffmpeg_mix_phase(args: argparse.Namespace, work: Path, env: dict[str, str],
                     kinds: Sequence[Kind], g711_copy: bool = False) -> Figures:
    """One ffmpeg process per camera; its kind's CPU is its processes' CPU, exactly."""
    sims = start_sims(args, work, env, kinds)
    procs: dict[str, list[subprocess.Popen[bytes]]] = {}
    for kind in kinds:
        for i in range(args.cameras // len(KINDS)):
            folder = work / "ffmpeg" / f"{kind.name}-{i + 1:02d}"
            folder.mkdir(parents=True)
            procs.setdefault(kind.name, []).append(subprocess.Popen(
                ffmpeg_command(args, kind, i, folder, g711_copy)))
    figures = measure(args, {k: [psutil.Process(p.pid) for p in ps]
                             for k, ps in procs.items()}, sims)
    sent = stop_sims(sims, work)
    end_all([p for ps in procs.values() for p in ps], 15)
    for kind in kinds:
        files = sorted(f for f in (work / "ffmpeg").glob(f"{kind.name}-*/*") if f.is_file())
        probed = count_frames(files)
        figures[kind.name].update(sent=sent[kind.name], catalog=probed, probed=probed,
                                  sound_packets=count_frames(files, "a:0"))
    return figures


def kuzet_home(args: argparse.Namespace, work: Path, env: dict[str, str],
               kinds: Sequence[Kind]) -> dict[str, str]:
    """A data home with the kinds' cameras; the G.711 ones keep their sound on an order
    written straight to the catalog, as the console's Approvals leaves it (the command
    line refuses it: UE-10-22 3.1.2)."""
    from kuzet.catalog.db import make_engine
    from kuzet.catalog.store import Catalog

    home = work / "kuzet"
    kenv = {**env, "KUZET_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "kuzet", "init"], env=kenv, check=True,
                   capture_output=True)
    for kind in kinds:
        for i in range(args.cameras // len(KINDS)):
            subprocess.run([sys.executable, "-m", "kuzet", "camera", "add",
                            f"{kind.name}-{i + 1:02d}", kind_url(args, kind, i), "--zone",
                            "corridor", "--transport", kind.transport],
                           env=kenv, check=True, capture_output=True)
    engine = make_engine(f"sqlite:///{home / 'catalog.db'}")
    catalog = Catalog(engine)
    for kind in (k for k in kinds if k.sound):
        for i in range(args.cameras // len(KINDS)):
            catalog.set_audio(f"{kind.name}-{i + 1:02d}",
                              ("bench", datetime.date.today().isoformat()))
    engine.dispose()
    return kenv


def kuzet_mix_phase(args: argparse.Namespace, work: Path, env: dict[str, str],
                    kinds: Sequence[Kind]) -> Figures:
    """One `kuzet serve` records the kinds' cameras; its CPU is the kinds' together."""
    kenv = kuzet_home(args, work, env, kinds)
    sims = start_sims(args, work, env, kinds)
    serve = subprocess.Popen([sys.executable, "-m", "kuzet", "serve"], env=kenv,
                             stderr=(work / "serve.log").open("wb"))
    figures = measure(args, {"serve": [psutil.Process(serve.pid)]}, sims)
    lost = packets_lost(work / "kuzet")  # before the stop: a loss in the stream, not at its end
    sent = stop_sims(sims, work)
    time.sleep(3)  # the recorder sees each stream end and closes its segment
    serve.send_signal(signal.SIGTERM)
    serve.wait(30)
    import sqlite3
    home = work / "kuzet"
    with sqlite3.connect(home / "catalog.db") as db:
        rows = db.execute("SELECT c.name, COALESCE(SUM(s.frames), 0) FROM cameras c "
                          "LEFT JOIN segments s ON s.camera_id = c.id GROUP BY c.name")
        in_catalog = dict(rows.fetchall())
    for kind in kinds:
        catalog = sum(v for k, v in in_catalog.items() if k.startswith(f"{kind.name}-"))
        files = sorted((home / "media").glob(f"{kind.name}-*/**/*.mp4"))
        figures[kind.name] = {"sent": sent[kind.name], "catalog": catalog,
                              "probed": count_frames(files),
                              "sound_packets": count_frames(files, "a:0"),
                              "packets_lost_running": sum(
                                  v for k, v in lost.items() if k.startswith(f"{kind.name}-"))}
    return figures


def packets_lost(home: Path) -> dict[str, int]:
    """RTP packets each camera lost so far, as `kuzet serve`'s status file says."""
    doc = json.loads((home / "run" / "status.json").read_text())
    return {c["camera"]: int(c.get("packets_lost", 0)) for c in doc["cameras"]}


def clean(work: Path) -> None:
    """No phase starts with another's files, nor with its dirty pages still being written
    back: the kernel's writeback and reclaim work lands on whoever writes next."""
    for leftover in ("ffmpeg", "kuzet"):
        shutil.rmtree(work / leftover, ignore_errors=True)
    os.sync()


def mix_runs(args: argparse.Namespace, work: Path,
             env: dict[str, str]) -> dict[str, list[Figures]]:
    """The mix in ABBA order (`--rounds`), then each kind alone in Kuzet, then the G.711
    quarter by ffmpeg copied into Matroska."""
    runs: dict[str, list[Figures]] = {"ffmpeg": [], "kuzet": [], "alone": [], "g711_copy": []}
    for name in ["ffmpeg", "kuzet", "kuzet", "ffmpeg"][: 2 * args.rounds]:
        clean(work)
        phase = ffmpeg_mix_phase if name == "ffmpeg" else kuzet_mix_phase
        runs[name].append(phase(args, work, env, KINDS))
    short = argparse.Namespace(**{**vars(args), "seconds": args.kind_seconds})
    for kind in KINDS:
        clean(work)
        runs["alone"].append(kuzet_mix_phase(short, work, env, [kind]))
    clean(work)
    runs["g711_copy"].append(ffmpeg_mix_phase(short, work, env, [KINDS[-1]], g711_copy=True))
    return runs


def mean(runs: list[Figures], group: str, key: str) -> float:
    return sum(r[group][key] for r in runs) / len(runs)


def frames(runs: list[Figures], kind: str) -> dict[str, int]:
    """Frames (and sound packets) over all the runs (a loss in one is not averaged away)."""
    return {k: int(sum(r[kind][k] for r in runs))
            for k in ("sent", "catalog", "probed", "sound_packets")}


def mix_rows(args: argparse.Namespace, runs: dict[str, list[Figures]]) -> list[dict[str, Any]]:
    """Per kind: ffmpeg's CPU from its own processes in the mix; Kuzet's, which records every
    kind in one process, from the mix's CPU split in the proportions of the phases where each
    kind was recorded alone (each of those also pays the whole process's fixed cost, which
    the split shares out), and the alone figure beside it."""
    q, hours, alone_hours = args.cameras // len(KINDS), args.seconds / 3600, \
        args.kind_seconds / 3600
    alone = {kind.name: r["serve"]["steady_cpu_s"]
             for kind, r in zip(KINDS, runs["alone"], strict=True)}
    mix_cpu = mean(runs["kuzet"], "serve", "steady_cpu_s")
    rows = []
    for kind, alone_run in zip(KINDS, runs["alone"], strict=True):
        base = mean(runs["ffmpeg"], kind.name, "steady_cpu_s") / q / hours
        ours = mix_cpu * alone[kind.name] / sum(alone.values()) / q / hours
        rows.append({"kind": kind.name, "kuzet_cpu_s_per_camera_hour": ours,
                     "kuzet_alone_cpu_s_per_camera_hour": alone[kind.name] / q / alone_hours,
                     "ffmpeg_cpu_s_per_camera_hour": base, "ratio": ours / base,
                     "ratio_alone": alone[kind.name] / q / alone_hours / base,
                     "kuzet_frames": frames(runs["kuzet"], kind.name),
                     "kuzet_packets_lost_before_the_stop": int(sum(
                         r[kind.name]["packets_lost_running"]
                         for r in [*runs["kuzet"], alone_run])),
                     "kuzet_alone_frames": frames([alone_run], kind.name),
                     "ffmpeg_frames": frames(runs["ffmpeg"], kind.name)})
    return rows


def print_mix(args: argparse.Namespace, rows: list[dict[str, Any]],
              totals: dict[str, float], copy: dict[str, Any]) -> None:
    pacing = "spread over each frame's 40 ms" if args.spread else "one write per frame"
    print(f"cameras: {args.cameras} x {args.main_size} @ {args.kbps} kbit/s ({pacing}), a "
          f"quarter each {', '.join(k.name for k in KINDS)}; {args.warmup:g} s warm-up + "
          f"{args.seconds:g} s measured per mix phase, {args.rounds} round(s) averaged, "
          f"{args.kind_seconds:g} s per kind alone; {os.cpu_count()} CPUs")
    print("CPU-s per camera-hour, steady; frames sent / in Kuzet's catalog / in the files "
          "(ffprobe)")
    print(f"{'kind':8} {'kuzet':>6} {'alone':>6} {'ffmpeg':>6} {'ratio':>5} {'alone':>5}  "
          f"{'kuzet frames':>20}  {'ffmpeg frames':>13}")
    for r in rows:
        k, b = r["kuzet_frames"], r["ffmpeg_frames"]
        print(f"{r['kind']:8} {r['kuzet_cpu_s_per_camera_hour']:6.1f} "
              f"{r['kuzet_alone_cpu_s_per_camera_hour']:6.1f} "
              f"{r['ffmpeg_cpu_s_per_camera_hour']:6.1f} {r['ratio']:5.2f} "
              f"{r['ratio_alone']:5.2f}  {k['sent']:6}/{k['catalog']:6}/{k['probed']:6}  "
              f"{b['sent']:6}/{b['probed']:6}")
    print(f"{'all':8} {totals['kuzet']:6.1f} {'':6} {totals['ffmpeg']:6.1f} "
          f"{totals['ratio']:5.2f}   whole machine less the simulators: ffmpeg "
          f"{totals['ffmpeg_machine']:.1f}, kuzet {totals['kuzet_machine']:.1f}, ratio "
          f"{totals['machine_ratio']:.2f}")
    print("AAC packets in the files (the sound kept), per kind, Kuzet / ffmpeg: " + ", ".join(
        f"{r['kind']} {r['kuzet_frames']['sound_packets']} / "
        f"{r['ffmpeg_frames']['sound_packets']}" for r in rows))
    print("Kuzet's RTP packets lost before the simulators stopped, per kind: "
          + ", ".join(f"{r['kind']} {r['kuzet_packets_lost_before_the_stop']}" for r in rows))
    print("ffmpeg's G.711 quarter: MP4 cannot hold G.711, so the baseline keeps the sound as "
          "-c:v copy -c:a aac; copied as sent into Matroska (-c copy, "
          f"{args.kind_seconds:g} s alone): {copy['cpu_s_per_camera_hour']:.1f} CPU-s per "
          f"camera-hour, frames {copy['frames']['sent']}/{copy['frames']['probed']}")


def machine() -> str:
    """The CPU's model and count, the kernel: what the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.machine())
    return f"{os.cpu_count()} x {model}, {platform.system()} {platform.release()}"


def mix_main(args: argparse.Namespace, env: dict[str, str]) -> None:
    if args.cameras % len(KINDS):
        raise SystemExit(f"--mix needs --cameras divisible by {len(KINDS)}")
    bench = Run.start("recording-mix", args)
    with tempfile.TemporaryDirectory(prefix="kuzet-bench-") as tmp:
        work = Path(tmp)
        clean(work)
        # Encode every kind's clip before timing anything.
        stop_sims(start_sims(args, work, {**env, "KUZET_HOME": str(work / "warm")}, KINDS),
                  work)
        runs = mix_runs(args, work, env)
    n, hours = args.cameras, args.seconds / 3600
    rows = mix_rows(args, runs)
    totals = {"ffmpeg": sum(mean(runs["ffmpeg"], k.name, "steady_cpu_s") for k in KINDS)
              / n / hours,
              "kuzet": mean(runs["kuzet"], "serve", "steady_cpu_s") / n / hours,
              "ffmpeg_machine": mean(runs["ffmpeg"], "all", "machine_s") / n / hours,
              "kuzet_machine": mean(runs["kuzet"], "all", "machine_s") / n / hours}
    totals["ratio"] = totals["kuzet"] / totals["ffmpeg"]
    totals["machine_ratio"] = totals["kuzet_machine"] / totals["ffmpeg_machine"]
    g711 = runs["g711_copy"][0][KINDS[-1].name]
    copy = {"cpu_s_per_camera_hour": g711["steady_cpu_s"] / (n // len(KINDS))
            / (args.kind_seconds / 3600),
            "frames": frames(runs["g711_copy"], KINDS[-1].name),
            "command": "ffmpeg -rtsp_transport tcp -i URL -c copy -f segment "
                       "-segment_format matroska"}
    print_mix(args, rows, totals, copy)
    bench.write({
        "machine": machine(),
        "cameras": n, "main_size": args.main_size, "kbps": args.kbps, "spread": args.spread,
        "warmup_s": args.warmup, "seconds": args.seconds, "kind_seconds": args.kind_seconds,
        "rounds": args.rounds,
        "kinds": {k.name: {"sim": " ".join(k.sim), "transport": k.transport,
                           "sound_kept": k.sound} for k in KINDS},
        "baseline": "one ffmpeg per camera, -rtsp_transport as the camera's kind, -c copy "
                    "-f segment; the G.711 kind -c:v copy -c:a aac (MP4 cannot hold G.711)",
        "kuzet_per_kind_method": " ".join((mix_rows.__doc__ or "").split()),
        "per_kind": rows, "g711_copied_into_matroska": copy,
        "kuzet_cpu_s_per_camera_hour": totals["kuzet"],
        "ffmpeg_cpu_s_per_camera_hour": totals["ffmpeg"], "cpu_ratio": totals["ratio"],
        "kuzet_machine_cpu_s_per_camera_hour": totals["kuzet_machine"],
        "ffmpeg_machine_cpu_s_per_camera_hour": totals["ffmpeg_machine"],
        "machine_cpu_ratio": totals["machine_ratio"]})


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
    ap.add_argument("--mix", action="store_true",
                    help="issue 20: a quarter each plain, B-frames, over UDP, G.711 kept; "
                         "figures per kind to bench/results/recording-mix.json")
    ap.add_argument("--kind-seconds", type=float, default=20,
                    help="--mix: measured time of each kind recorded alone by Kuzet")
    args = ap.parse_args()
    cache = ROOT / "bench" / "out" / "cache"
    env = {**os.environ, "KUZET_CACHE_DIR": str(cache), "KUZET_SEGMENT_S": "60",
           "KUZET_HTTPS_PORT": "0", "KUZET_HTTP_REDIRECT_PORT": "0"}
    if args.mix:
        mix_main(args, env)
        return
    bench = Run.start("recording", args)
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
