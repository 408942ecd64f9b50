"""Export of one hour of one 4 Mbit/s camera into a signed transfer package, against
`ffmpeg -f concat -c copy` of the same segments, in the same run.

Run by hand (not in CI):  .venv/bin/python bench/export.py [--minutes 60 --runs 3]

1. `--minutes` one-minute segments of the simulator's 1080p, 25 fps, ~4 Mbit/s clip are
   written by the recorder's own segment writer into a fresh catalog (tests/footage.py).
2. Each run, alternating: ffmpeg's concat demuxer stream-copies the segment files into
   one MP4 (the baseline: what an export by shelling out to ffmpeg would pay, with no
   hashing, signing or checking); then `kuzet.export.package.build` writes the package
   (source files checked against their catalog SHA-256, fragments joined by stream copy,
   every file and the ZIP hashed, the manifest signed). Both write to the same disk.
Wall time and CPU time (user + system, all threads or the child process) are reported
per run and as medians; the ratio is Kuzet / ffmpeg (target ≤ 1.0 in wall time).
Figures go to bench/results/export.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # footage

from figures import Run
from footage import record
from kuzet.catalog.db import make_engine, migrate
from kuzet.catalog.store import Catalog
from kuzet.config import Settings
from kuzet.export.package import build
from kuzet.rtsp.clip import ClipSpec
from kuzet.signing import load_or_create
from kuzet.storage.volumes import Volumes

MAIN = ClipSpec(1920, 1080, 4_000_000)  # the simulator's main stream
T0 = 1_790_000_000 * 1_000_000_000
NS = 1_000_000_000


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args()
    bench = Run.start("export", args)
    work = Path(args.dir or tempfile.mkdtemp(prefix="kuzet-bench-export-"))
    settings = Settings(home=work / "home", volume_floor_bytes=0, volume_floor_percent=0)
    engine = make_engine(settings.catalog_url)
    migrate(engine)
    catalog = Catalog(engine)
    from kuzet.catalog.alarms import Alarms

    Volumes(catalog, settings, Alarms(catalog.session)).ensure_default()
    cache = Path(os.environ.get("KUZET_CACHE_DIR", Path.home() / ".cache" / "kuzet")) / "sim"
    t = time.perf_counter()
    rows = record(catalog, cache, MAIN, "cam01", T0, args.minutes, seg_s=60)
    size = sum(r.size_bytes for r in rows)
    print(f"recorded {len(rows)} segments, {size / 1e9:.2f} GB, "
          f"{sum(r.frames for r in rows)} frames in {time.perf_counter() - t:.0f} s")
    listing = work / "concat.txt"
    listing.write_text("".join(f"file '{catalog.path_of(r)}'\n" for r in rows))
    key = load_or_create(settings.home)
    out = work / "out"
    out.mkdir(exist_ok=True)
    base_wall, base_cpu, ours_wall, ours_cpu = [], [], [], []
    for run in range(args.runs):
        target = out / "ffmpeg.mp4"
        c0, w0 = cpu_children(), time.perf_counter()
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i",
                        str(listing), "-c", "copy", str(target)], check=True)
        base_wall.append(time.perf_counter() - w0)
        base_cpu.append(cpu_children() - c0)
        target.unlink()
        dest = out / "package.zip"
        c0, w0 = cpu_self(), time.perf_counter()
        built = build(dest, "kuzet-transfer-bench", [("cam01", rows[0].start_ns,
                                                        rows[-1].end_ns)],
                      {"number": "Т-2026/0000"}, key, catalog, time.time_ns(), "Bench")
        ours_wall.append(time.perf_counter() - w0)
        ours_cpu.append(cpu_self() - c0)
        frames = sum(p.frames for c in built.cameras for p in c.parts)
        dest.unlink()
        print(f"run {run + 1}: ffmpeg {base_wall[-1]:.2f} s wall / {base_cpu[-1]:.2f} s CPU; "
              f"kuzet {ours_wall[-1]:.2f} s wall / {ours_cpu[-1]:.2f} s CPU "
              f"({frames} frames, {built.size / 1e9:.2f} GB package)")
    bw, bc = statistics.median(base_wall), statistics.median(base_cpu)
    ow, oc = statistics.median(ours_wall), statistics.median(ours_cpu)
    print(f"median: ffmpeg concat copy {bw:.2f} s wall, {bc:.2f} s CPU; kuzet package "
          f"{ow:.2f} s wall, {oc:.2f} s CPU")
    print(f"ratio kuzet/ffmpeg: wall {ow / bw:.2f}x (target <= 1.0), CPU {oc / bc:.2f}x")
    bench.write({"minutes": args.minutes, "runs": args.runs, "segments": len(rows),
               "recorded_gb": size / 1e9, "frames": sum(r.frames for r in rows),
               "package_gb": built.size / 1e9, "ffmpeg_wall_s": base_wall,
               "ffmpeg_cpu_s": base_cpu, "kuzet_wall_s": ours_wall, "kuzet_cpu_s": ours_cpu,
               "ffmpeg_median_wall_s": bw, "ffmpeg_median_cpu_s": bc,
               "kuzet_median_wall_s": ow, "kuzet_median_cpu_s": oc,
               "wall_ratio": ow / bw, "cpu_ratio": oc / bc})


if __name__ == "__main__":
    main()
