"""The cost of watching the complex's health, and how soon an alarm reaches MQTT (issue 22).

Run by hand (not in CI):
    .venv/bin/python bench/health.py --cameras 64 --items 500 --seconds 60

Two phases on one data home, alternated `--rounds` times, each a fresh `kuzet serve`
recording the same N simulated cameras (640x360, 1 Mbit/s, one `kuzet sim`):
- baseline: the recorder alone: an empty equipment register, no UPS nor time server, the
  disk and server watches at their longest intervals;
- health: `--items` items in the register (a CSV import: switches, UPSes, servers, disks,
  monitors), a UPS read from Debian's upsd with the dummy-ups driver every 2 s (the
  default), the server's clock checked against chronyd every 2 s (32 times the default,
  to make it visible), the server watch every 10 s, Prometheus's scrape of /api/metrics
  every 15 s and the health page's hourly rates every 15 s, as an IT office's screens
  would poll them.
CPU is the serve process's own (user + system), counted over `--seconds` after a warm-up;
printed as CPU-seconds and as the share of one core, with the difference between the
phases. Then, in the health phase, with a subscriber on the broker (Mosquitto at
127.0.0.1:1883): the UPS put on battery and, later, the simulator killed, each timed from
the cause to the alarm's message on `kuzet/<site>/alarms/<kind>/<subject>`; the camera's
alarm waits `camera_alarm_s` by design (2 s here), which is printed apart. Figures to
bench/results/health.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from figures import Run
from home import account, bench_env, reported, sim_port
from kuzet.timefmt import parse_instant

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "peers"))
from chrony import TimeServer  # noqa: E402 (the tests' real peers, reused)
from nut import DummyUps  # noqa: E402

KUZET = [sys.executable, "-m", "kuzet"]
SITE = "bench"


def register_csv(items: int, cameras: int) -> bytes:
    """`items` rows: the cameras' own (a passport each), then switches, UPSes, servers,
    disks and monitors in turn, linked as a campus's are."""
    rows = ["kind,name,model,serial,building,uplink,power,part_of"]
    rows += [f"camera,cam{i + 1:02d},DS-2CD2143,CAM{i:05d},,,," for i in range(cameras)]
    kinds = ("ups", "switch", "server", "storage", "monitor")
    for n in range(items - cameras):
        kind = kinds[n % len(kinds)]
        power = f"ups{n // 5 * 5:04d}" if kind != "ups" else ""
        part = f"server{n // 5 * 5 + 2:04d}" if kind == "storage" else ""
        rows.append(f"{kind},{kind}{n:04d},Model {n},SN{n:06d},,,{power},{part}")
    return ("\n".join(rows) + "\n").encode()


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def poll_screens(api: str, token: str, stop: threading.Event) -> None:
    """What an IT office's Prometheus and health page ask, every 15 s."""
    with httpx.Client(base_url=api, verify=False,
                      headers={"authorization": f"Bearer {token}"}) as c:
        while not stop.wait(15):
            c.get("/api/metrics")
            c.get("/api/health/rates")


def token(api: str, user: str, password: str) -> str:
    with httpx.Client(base_url=api, verify=False) as c:
        r = c.post("/api/auth/login", json={"username": user, "password": password})
        r.raise_for_status()
        c.headers["X-CSRF-Token"] = r.json()["csrf"]
        r = c.post("/api/tokens", json={"name": "bench", "perms": ["health.read"]})
        r.raise_for_status()
        return str(r.json()["token"])


class Subscriber:
    """Every alarm message on the broker, with its arrival (time.monotonic)."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, dict[str, Any]]] = []
        self.ready = threading.Event()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise SystemExit("no MQTT broker at 127.0.0.1:1883")

    async def _run(self) -> None:
        import aiomqtt

        async with aiomqtt.Client("127.0.0.1", 1883) as client:
            await client.subscribe(f"kuzet/{SITE}/alarms/#")
            self.ready.set()
            async for message in client.messages:
                payload = message.payload
                if isinstance(payload, bytes | bytearray) and payload:
                    self.seen.append((time.monotonic(), json.loads(payload)))
                if self._stop.is_set():
                    return

    def first(self, kind: str, after: float, after_ns: int, timeout: float = 60) -> float:
        """When the first message of `kind` raised at or after `after_ns` (its own `at`:
        retained messages of earlier alarms come too) arrived (time.monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, doc in self.seen:
                if at >= after and doc.get("alarm") == kind and doc.get("state") == "raised" \
                        and parse_instant(str(doc["at"])) >= after_ns:
                    return at
            time.sleep(0.01)
        raise SystemExit(f"no {kind} alarm on the broker within {timeout} s")


def phase(name: str, serve: subprocess.Popen[bytes], home: Path, args: argparse.Namespace,
          during: Any = None) -> dict[str, float]:
    """The serve process's CPU over `args.seconds`, after `args.warmup`."""
    api = json.loads(reported(home / "run" / "api.json", serve, "kuzet serve"))["https"]
    proc = psutil.Process(serve.pid)
    stop = threading.Event()
    if during is not None:
        during(api, stop)
    time.sleep(args.warmup)  # recording settled: start-up is a one-off
    c0, t0 = cpu_s(proc), time.monotonic()
    time.sleep(args.seconds)
    used, wall = cpu_s(proc) - c0, time.monotonic() - t0
    stop.set()
    print(f"{name}: {used:.2f} CPU-s in {wall:.0f} s = {100 * used / wall:.2f} % of one "
          "core", flush=True)
    return {"cpu_s": round(used, 3), "wall_s": round(wall, 1),
            "core_percent": round(100 * used / wall, 3)}


def serving(env: dict[str, str]) -> subprocess.Popen[bytes]:
    (Path(env["KUZET_HOME"]) / "run" / "api.json").unlink(missing_ok=True)  # the last one's
    return subprocess.Popen([*KUZET, "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def ended(serve: subprocess.Popen[bytes]) -> None:
    if serve.poll() is None:
        serve.send_signal(signal.SIGTERM)
        serve.wait(60)


def alarms(args: argparse.Namespace, ups: DummyUps, sim: subprocess.Popen[bytes]
           ) -> dict[str, float]:
    """Seconds from each cause to its alarm's message on the broker."""
    latency: dict[str, float] = {}
    sub = Subscriber()
    cause, cause_ns = time.monotonic(), time.time_ns()
    ups.set("OB DISCHRG", charge=90, runtime=1500)
    latency["ups_on_battery_s"] = round(sub.first("ups_on_battery", cause, cause_ns) - cause, 2)
    cause, cause_ns = time.monotonic(), time.time_ns()
    sim.send_signal(signal.SIGKILL)
    seen = sub.first("camera_offline", cause, cause_ns) - cause
    latency["camera_offline_s"] = round(seen, 2)
    latency["camera_offline_less_camera_alarm_s"] = round(seen - 2, 2)
    print(f"to MQTT: UPS on battery {latency['ups_on_battery_s']} s after its cause; "
          f"camera offline {latency['camera_offline_s']} s after the camera went "
          f"(camera_alarm_s 2 s, so {latency['camera_offline_less_camera_alarm_s']} s more)",
          flush=True)
    return latency


def forget_register(catalog: str) -> None:
    """Empties the equipment register of the catalog at `catalog` (its log, then its
    items): the recorder-alone phase's register, as a campus's before its import."""
    import sqlite3

    with sqlite3.connect(catalog) as db:
        db.execute("DELETE FROM equipment_log")
        db.execute("DELETE FROM equipment")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=64)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2,
                        help="baseline and health phases, alternated, this many times each")
    parser.add_argument("--no-alarms", dest="alarms", action="store_false",
                        help="skip timing the alarms to MQTT")
    args = parser.parse_args()
    bench = Run.start("health", args)
    work = Path(tempfile.mkdtemp(prefix="kuzet-bench-health-"))
    home = work / "home"
    quiet = {"server_poll_s": "3600", "disk_poll_s": "86400", "camera_alarm_s": "2",
             "server_load_alarm": "1000"}
    env = bench_env(home, mqtt_url="mqtt://127.0.0.1:1883", mqtt_site=SITE, **quiet)
    subprocess.run([*KUZET, "init"], env=env, check=True, capture_output=True)
    sim = subprocess.Popen([*KUZET, "sim", "--cameras", str(args.cameras), "--port", "0",
                            "--port-file", str(work / "sim.port"), "--main-size", "640x360",
                            "--main-kbps", "1000", "--sub-size", "320x180"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ups = DummyUps(work / "nut")
    clock = TimeServer(work / "chrony")
    try:
        port = sim_port(work / "sim.port", sim)
        for i in range(args.cameras):
            subprocess.run([*KUZET, "camera", "add", f"cam{i + 1:02d}",
                            f"rtsp://127.0.0.1:{port}/cam{i + 1:02d}/main", "--zone",
                            "corridor"], env=env, check=True, capture_output=True)
        account(f"sqlite:///{home / 'catalog.db'}", home, "it", "bench-password-42",
                "it_support")
        (work / "register.csv").write_bytes(register_csv(args.items, args.cameras))
        ups.start()
        clock.start()
        health_env = {**env, **bench_env(home, ups=json.dumps({"ups0000": ups.address}),
                                         ntp_servers=json.dumps([clock.address]),
                                         time_poll_s="2", server_poll_s="10",
                                         mqtt_url="mqtt://127.0.0.1:1883", mqtt_site=SITE,
                                         disk_poll_s="86400", camera_alarm_s="2",
                                         server_load_alarm="1000")}

        def screens(api: str, stop: threading.Event) -> None:
            t = token(api, "it", "bench-password-42")
            threading.Thread(target=poll_screens, args=(api, t, stop), daemon=True).start()

        baselines, healths = [], []
        for n in range(args.rounds):
            # the register is emptied for the recorder alone and filled for the health
            # phase: the same catalog otherwise, the same cameras, one after the other
            forget_register(str(home / "catalog.db"))
            print(f"round {n + 1}: {args.cameras} cameras; the recorder alone", flush=True)
            serve = serving(env)
            try:
                baselines.append(phase("baseline", serve, home, args))
            finally:
                ended(serve)
            subprocess.run([*KUZET, "equipment", "import", str(work / "register.csv")],
                           env=env, check=True, capture_output=True)
            print(f"round {n + 1}: {args.items} register items, a UPS, a time server, the "
                  "screens", flush=True)
            serve = serving(health_env)
            try:
                healths.append(phase("health", serve, home, args, screens))
                last = n == args.rounds - 1
                latency = alarms(args, ups, sim) if args.alarms and last else {}
            finally:
                ended(serve)
        baseline = {k: round(sum(d[k] for d in baselines) / len(baselines), 3)
                    for k in baselines[0]}
        health = {k: round(sum(d[k] for d in healths) / len(healths), 3) for k in healths[0]}
        spread = max(d["cpu_s"] for d in baselines) - min(d["cpu_s"] for d in baselines)
        print(f"the recorder alone varied by {spread:.2f} CPU-s between rounds", flush=True)
        extra = health["cpu_s"] - baseline["cpu_s"]
        per_core = 100 * extra / health["wall_s"]
        print(f"health polling: {extra:+.2f} CPU-s = {per_core:+.2f} % of one core "
              f"(limit 2 %); ratio health/baseline {health['cpu_s'] / baseline['cpu_s']:.3f}")
        path = bench.write({"cameras": args.cameras, "items": args.items,
                            "rounds": args.rounds, "baseline": baseline, "health": health,
                            "baseline_rounds": baselines, "health_rounds": healths,
                            "baseline_spread_cpu_s": round(spread, 3),
                            "extra_cpu_s": round(extra, 3),
                            "extra_core_percent": round(per_core, 3),
                            "ratio": round(health["cpu_s"] / baseline["cpu_s"], 4),
                            "to_mqtt": latency})
        print(f"figures: {path}")
    finally:
        ups.close()
        clock.close()
        if sim.poll() is None:
            sim.send_signal(signal.SIGTERM)
            sim.wait(30)


if __name__ == "__main__":
    main()
