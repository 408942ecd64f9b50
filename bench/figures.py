"""Where a benchmark leaves its figures: `bench/results/<name>.json`.

A bench's main() takes `bench = Run.start("<name>", args)` once its arguments are parsed,
and ends with `bench.write({...})`: the numbers it printed (each measurement, the baseline
measured in the same run, their ratio), under names that carry their unit (`p99_ms`,
`cpu_s_per_camera_hour`). The file keeps those figures at its top level and adds `run`:
when the run started and ended (UTC, ISO 8601), the checkout (`git rev-parse --short
HEAD`, and whether tracked files differed from it), the machine's CPUs and load average
at the start and the end, and the bench's arguments (as typed, and as parsed with their
defaults). A later run of the same bench replaces the file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

# What a figure may be: JSON's plain values, and lists and objects of them.
Figure = str | int | float | bool | None | Sequence["Figure"] | Mapping[str, "Figure"]


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages, where the system tells them."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


@dataclass(frozen=True)
class Run:
    name: str  # the file's name: bench/results/<name>.json
    args: Mapping[str, Figure]
    started_utc: str
    started: float  # time.monotonic()
    load_start: list[float] | None

    @classmethod
    def start(cls, name: str, args: argparse.Namespace) -> Run:
        parsed: dict[str, Figure] = {
            k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in vars(args).items()}
        return cls(name, parsed, utc_now(), time.monotonic(), load_average())

    def write(self, figures: Mapping[str, Figure]) -> Path:
        """Writes the figures and the run's context; answers the file's path."""
        if "run" in figures:
            raise ValueError("`run` is the context's key, not a figure's")
        commit = git("rev-parse", "--short", "HEAD")
        changes = git("status", "--porcelain", "--untracked-files=no") if commit else None
        context: dict[str, Figure] = {
            "started_utc": self.started_utc, "finished_utc": utc_now(),
            "wall_s": round(time.monotonic() - self.started, 1),
            "git_commit": commit, "git_dirty": None if changes is None else bool(changes),
            "cpus": os.cpu_count(), "load_average_start": self.load_start,
            "load_average_end": load_average(), "argv": sys.argv[1:], "args": self.args}
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        tmp = path.with_name(path.name + ".tmp")  # a reader never sees half a file
        tmp.write_text(json.dumps({**figures, "run": context}, indent=2) + "\n")
        tmp.replace(path)
        return path
