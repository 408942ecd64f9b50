"""Detection: what it costs per camera, how fast the detector is, how often it is right,
and how long an alarm takes inside the pipeline.

Run by hand (not in CI):  .venv/bin/python bench/analytics.py [--seconds 60]

The detector runs, as in `kuzet serve`, on square crops around the motion
(kuzet.analytics.geometry.squares_around), not on the whole 16:9 picture.

1. Cost per camera: the simulator's sub stream (640×360, 25 fps, 512 kbit/s, H.264)
   decoded frame by frame with PyAV, as the detection thread does, and motion run on 5
   pictures a second. CPU seconds per camera-second, against a baseline measured in the
   same run: decoding alone (what any analytics on this stream must pay).
2. The detector (OpenVINO person model, throughput mode with two shared requests, as in
   `kuzet serve`): ms per inference on a 640×360 picture on one thread, CPU ms per
   inference, and inferences a second on two threads. Baseline: the same model in
   OpenVINO's default (latency) mode, CPU per picture.
3. Capacity computed from those: how many cameras of decode + motion +
   detection-on-motion fit two cores beside recording them (the CPU per camera-hour
   `bench/recording.py` last measured, bench/results/recording.json), for a share of
   analysed pictures with motion of 10 % (a quiet corridor) and 100 %. Part 6 measures it.
4. Accuracy on sequences composed from real photographs shipped with scikit-image: the
   astronaut and the cameraman walking across backgrounds (brick, grass, gravel, and
   the rocket and coffee photographs), 0.8 of the picture high, with noise and changing
   light; recall over frames where a person is fully in view (a box overlapping the
   annotated person by IoU >= 0.3), precision of person boxes in those frames;
   then empty scenes (the same backgrounds, light rising and falling, sudden exposure
   jumps, noise) through the whole pipeline with an intrusion rule over the picture:
   false alarms per hour.
5. Latency inside the pipeline: from the first frame in which a person is in view being
   handed to the camera's tap until the alarm reaches the sink, p50/p95.
6. End to end, while recording (`--cameras 16 --minutes 3`; skip with `--no-end-to-end`):
   `kuzet sim --person` (the astronaut photograph walks across every camera's picture
   from second :20 to :40 of each minute; the rest of the minute the scene is still) and
   `kuzet serve` recording all cameras (1080p main, 640x360 sub) with an intrusion rule
   over each whole picture (the clock overlay masked) and the OpenVINO person model at
   5 fps. Latency from wall-clock second :20 (when the simulator sends the first frame
   showing the person) to the alarm on the console's WebSocket (`/api/ws/alerts`, a
   guard logged in over HTTPS) and on MQTT (`kuzet/<site>/events` on Mosquitto,
   127.0.0.1:1883), p50/p95 over cameras x minutes; and the capacity measured, not
   computed: CPU of `kuzet serve` and of the simulator, pictures analysed per camera
   per second, frames dropped before the detector, frames recorded vs sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # footage

from figures import RESULTS, Figure, Run
from footage import access_units
from home import api_address, sim_port
from kuzet.analytics.camera import CameraAnalytics, Sink
from kuzet.analytics.detector import Detector, detect_in, open_detector
from kuzet.analytics.geometry import Box, iou, squares_around
from kuzet.analytics.motion import Motion
from kuzet.analytics.rules import Rule
from kuzet.builtins import builtin
from kuzet.catalog.streams import Stream
from kuzet.rtsp.clip import FPS, ClipSpec

SUB = ClipSpec(640, 360, 512_000)
W, H = 640, 360


def recording_cpu_per_camera() -> float:
    """CPU-s per camera-second of recording, as `bench/recording.py` last measured Kuzet's
    (bench/results/recording.json), not a constant from an older figure."""
    path = RESULTS / "recording.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run bench/recording.py first; the capacity "
                         "is computed from the recording CPU it measures")
    return float(json.loads(path.read_text())["kuzet"]["cpu_s_per_camera_hour"]) / 3600


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cost_per_camera(seconds: int, cache: Path) -> tuple[float, float]:
    units, extradata = access_units(SUB, cache)
    frames = units * (seconds // 60 + 1)
    frames = frames[:seconds * FPS]

    def run(with_motion: bool) -> float:
        ctx = av.CodecContext.create("h264", "r")
        ctx.extradata = extradata
        motion = Motion()
        c0 = cpu()
        for k, (_, data) in enumerate(frames):
            for frame in ctx.decode(av.Packet(data)):
                if with_motion and k % (FPS // 5) == 0:
                    motion.update(frame.to_ndarray(format="bgr24"))
        return (cpu() - c0) / seconds

    return run(False), run(True)


def detector_speed(detector: Detector) -> tuple[float, float, float]:
    """Wall ms per picture on one thread, CPU ms per picture, and pictures a second with
    two threads (as cameras share it in `kuzet serve`)."""
    from skimage import data

    img = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (W, H))
    for _ in range(5):
        detector.detect(img, 0.5)
    n, t0 = 100, time.perf_counter()
    for _ in range(n):
        detector.detect(img, 0.5)
    wall_ms = (time.perf_counter() - t0) / n * 1000

    def work() -> None:
        for _ in range(n // 2):
            detector.detect(img, 0.5)

    t1, c1 = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu_ms = (time.process_time() - c1) / n * 1000
    return wall_ms, cpu_ms, n / (time.perf_counter() - t1)


def default_mode_cpu_ms(cache: Path) -> float:
    """The baseline: the same model compiled in OpenVINO's default (latency) mode, one
    inference at a time, CPU ms per picture."""
    import openvino as ov

    from kuzet.analytics.openvino_person import SIZE, _converted

    model = ov.Core().compile_model(str(_converted(cache)), "CPU")
    rgb = np.zeros((1, SIZE, SIZE, 3), np.uint8)
    for _ in range(5):
        model(rgb)
    n, c0 = 100, time.process_time()
    for _ in range(n):
        model(rgb)
    return (time.process_time() - c0) / n * 1000


def backgrounds() -> list[np.ndarray]:
    from skimage import data

    out = []
    for picture in (data.brick(), data.grass(), data.gravel(), data.rocket(), data.coffee()):
        if picture.ndim == 2:
            picture = np.stack([picture] * 3, -1)
        out.append(cv2.resize(cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), (W, H)))
    return out


# Where the person is inside each photograph (fractions x0, y0, x1, y1), annotated by
# hand: the truth a detection is compared with.
PERSON_IN_PHOTO = ((0.0, 0.05, 0.75, 1.0), (0.05, 0.1, 0.65, 1.0))


def people() -> list[np.ndarray]:
    from skimage import data

    out = []
    for picture in (data.astronaut(), data.camera()):
        if picture.ndim == 2:
            picture = np.stack([picture] * 3, -1)
        h = int(H * 0.8)
        w = int(h * picture.shape[1] / picture.shape[0])
        out.append(cv2.resize(cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), (w, h)))
    return out


def light(k: int, rng: np.random.Generator) -> float:
    """Slow rise and fall (0.65–1.05), with an exposure jump of +0.2 every 20 s."""
    return 0.85 + 0.2 * float(np.sin(k / 150)) + (0.2 if (k // 100) % 2 else 0.0)


def frame(bg: np.ndarray, gain: float, rng: np.random.Generator,
          person: np.ndarray | None = None, x: int = 0, which: int = 0
          ) -> tuple[np.ndarray, Box | None]:
    img = bg.astype(np.float32)
    truth = None
    if person is not None:
        h, w = person.shape[:2]
        y = H - h
        a, b = max(0, x), min(W, x + w)
        if b > a:
            img[y:y + h, a:b] = person[:, a - x:b - x]
            if a == x and b == x + w:
                fx0, fy0, fx1, fy1 = PERSON_IN_PHOTO[which]
                truth = Box(x + fx0 * w, y + fy0 * h, x + fx1 * w, y + fy1 * h)
    noisy = img * gain + rng.normal(0, 4, img.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8), truth


def noting_rules(fired: list[int]) -> Sink:
    """An alarm sink that notes the rule of each alarm in `fired`."""
    return lambda w, a, t, i: fired.append(a.rule)


def setting(done: threading.Event) -> Sink:
    """An alarm sink that sets `done`."""
    return lambda w, a, t, i: done.set()


def accuracy(detector: Detector, rng: np.random.Generator, empty_s: int
             ) -> tuple[float, float, float, float]:
    visible = hits = found = right = 0
    for which, person in enumerate(people()):
        for bg in backgrounds():
            motion = Motion()
            steps = 60
            for k in range(steps):
                x = -person.shape[1] + k * (W + person.shape[1]) // steps
                img, truth = frame(bg, light(k, rng), rng, person, x, which)
                moved = motion.update(img)
                dets = detect_in(detector, img, squares_around(moved.regions, W, H),
                                 0.5)
                people_found = [d for d in dets if d.label == "person"]
                if truth is not None:  # partly in view: neither counted nor held against
                    found += len(people_found)
                    visible += 1
                    ok = [d for d in people_found if iou(d.box, truth) >= 0.3]
                    hits += bool(ok)
                    right += len(ok)
    alarms = 0
    frames = 0
    for bg in backgrounds():
        fired: list[int] = []
        cam = CameraAnalytics("bench", 1, Stream.SUB, [Rule(1, "intrusion", zone=(
            (0, 0), (1, 0), (1, 1), (0, 1)))], lambda: detector, 0.5, 5,
            noting_rules(fired), lambda *a: None)
        for k in range(empty_s * 5):
            img, _ = frame(bg, light(k, rng), rng)
            cam.process(img, k * 200_000_000)
            frames += 1
        alarms += len(fired)
    hours = frames / 5 / 3600
    return hits / visible, right / max(1, found), alarms / hours, hours


def latency(detector: Detector, rng: np.random.Generator, runs: int) -> list[float]:
    bg, person = backgrounds()[0], people()[0]
    out = []
    for _ in range(runs):
        done = threading.Event()
        cam = CameraAnalytics("bench", 1, Stream.SUB, [Rule(1, "intrusion", zone=(
            (0, 0), (1, 0), (1, 1), (0, 1)))], lambda: detector, 0.5, 5,
            setting(done), lambda *a: None)
        t = 0
        for _ in range(10):  # the empty scene first
            cam.process(frame(bg, 1.0, rng)[0], t)
            t += 200_000_000
        img, _ = frame(bg, 1.0, rng, person, W // 3)
        t0 = time.perf_counter()
        cam.process(img, t)
        if done.is_set():
            out.append((time.perf_counter() - t0) * 1000)
    return out


# -- 6. end to end, while recording ---------------------------------------------------


def _proc_cpu(pid: int) -> float:
    """CPU seconds of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _prepare(home: Path, cameras: int, sim_port: int) -> None:
    from kuzet.access.accounts import Accounts
    from kuzet.access.roles import Roles
    from kuzet.access.tls import make_self_signed
    from kuzet.analytics.store import DetectionStore, check_settings
    from kuzet.audit.log import Actor
    from kuzet.catalog.db import make_engine, migrate
    from kuzet.catalog.store import Catalog
    from kuzet.config import Settings
    from kuzet.rtsp.sim import SIM_CLOCK_MASK

    settings = Settings()
    make_self_signed(settings.cert_path, settings.key_path)
    engine = make_engine(settings.catalog_url)
    migrate(engine)
    catalog = Catalog(engine)
    store = DetectionStore(catalog.session, settings.display_timezone)
    setup = Actor("bench", (), "local")
    for i in range(cameras):
        name = f"cam{i + 1:02d}"
        cam = catalog.add_camera(name, f"rtsp://127.0.0.1:{sim_port}/{name}/main",
                                 zone="corridor", sub_url=f"rtsp://127.0.0.1:{sim_port}/{name}/sub")
        store.add_rule(setup, cam.id, name, "intrusion",
                       {"zone": [[0, 0], [1, 0], [1, 1], [0, 1]]}, time.time_ns())
        store.set_motion(setup, cam.id, name, check_settings(False, 0.5, [SIM_CLOCK_MASK]),
                         time.time_ns())
    accounts, roles = Accounts(catalog.session), Roles(catalog.session)
    accounts.create(setup, "guard", "Guard", time.time_ns(), password=BENCH_PASSWORD)
    view = roles.request(setup, "guard", "guard", now_ns=time.time_ns())
    if view.state == "pending":
        roles.decide(Actor("approver", ("rector",), "127.0.0.1"), view.id, True, time.time_ns())


BENCH_PASSWORD = "correct horse battery staple"


async def _listen_ws(base: str, seen: dict[int, float], stop: asyncio.Event) -> None:
    import ssl

    import httpx
    import websockets

    async with httpx.AsyncClient(verify=False) as client:
        for _ in range(120):
            try:
                r = await client.post(f"{base}/api/auth/login", json={
                    "username": "guard", "password": BENCH_PASSWORD})
                break
            except httpx.HTTPError:
                await asyncio.sleep(1)
        r.raise_for_status()
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    async with websockets.connect(base.replace("https://", "wss://") + "/api/ws/alerts", ssl=ctx,
                                  additional_headers={"Cookie": cookie}) as ws:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                continue
            message = json.loads(raw)
            if message.get("type") == "event":
                seen.setdefault(message["id"], time.time())


def _mqtt_listener(site: str, seen: dict[int, float]) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2)

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        seen.setdefault(json.loads(msg.payload)["id"], time.time())

    client.on_message = on_message
    client.connect("127.0.0.1", 1883)
    client.subscribe(f"kuzet/{site}/events", qos=1)
    client.loop_start()
    return client


def end_to_end(cameras: int, minutes: int, cache: Path, together: bool
               ) -> dict[str, Figure]:
    """Prints the figures of part 6, and answers them."""
    from skimage import data

    from kuzet.analytics.store import DetectionStore
    from kuzet.catalog.db import make_engine
    from kuzet.catalog.store import Catalog
    from kuzet.rtsp.clip import PERSON_FROM_S
    from kuzet.rtsp.sim import offset_s

    home = Path(tempfile.mkdtemp(prefix="kuzet-bench-e2e-"))
    person = home / "person.png"
    cv2.imwrite(str(person), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    site = f"bench{os.getpid()}"
    # Every server here binds a free port itself and reports it: the simulator in its
    # --port-file, `kuzet serve` in run/api.json.
    env = {**os.environ, "KUZET_HOME": str(home), "KUZET_CACHE_DIR": str(cache),
           "KUZET_HTTPS_PORT": "0", "KUZET_HTTP_REDIRECT_PORT": "0",
           "KUZET_MQTT_URL": "mqtt://127.0.0.1:1883", "KUZET_MQTT_SITE": site,
           "KUZET_DETECT_FPS": "5", "PYTHONUNBUFFERED": "1"}
    os.environ.update(env)
    stats, port_file = home / "sim-stats.json", home / "sim.port"
    with (home / "sim.log").open("wb") as sim_log:
        sim = subprocess.Popen([sys.executable, "-m", "kuzet", "sim", "--cameras",
                                str(cameras), "--port", "0", "--port-file", str(port_file),
                                "--person", str(person), "--stats-file", str(stats),
                                *([] if together else ["--stagger"])], env=env,
                               stdout=sim_log, stderr=subprocess.STDOUT)
    print(f"end to end: {cameras} cameras, the person walking through "
          f"{'all at once' if together else 'them at different times (--stagger)'}; the "
          "simulator encodes its clips with the person on first use (about a minute)...",
          flush=True)
    _prepare(home, cameras, sim_port(port_file, sim))  # the cameras at the port it reports
    serve_log = (home / "serve.log").open("wb")
    serve = subprocess.Popen([sys.executable, "-m", "kuzet", "serve"], env=env,
                             stdout=serve_log, stderr=subprocess.STDOUT)
    base_url = api_address(home, serve)
    ws_seen: dict[int, float] = {}
    mqtt_seen: dict[int, float] = {}
    mqtt = _mqtt_listener(site, mqtt_seen)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    listener = threading.Thread(target=loop.run_until_complete,
                                args=(_listen_ws(base_url, ws_seen, stop),), daemon=True)
    listener.start()
    # Measure whole minutes, starting once every camera records and its detection runs.
    time.sleep(20)
    start = (int(time.time()) // 60 + 1) * 60
    time.sleep(max(0.0, start - time.time()))
    cpu0 = {"serve": _proc_cpu(serve.pid), "sim": _proc_cpu(sim.pid)}
    t0 = time.time()
    before = {w["camera"]: w for w in json.loads(
        (home / "run" / "status.json").read_text()).get("detection", [])}
    time.sleep(minutes * 60)
    wall = time.time() - t0
    cpu = {"serve": _proc_cpu(serve.pid) - cpu0["serve"], "sim": _proc_cpu(sim.pid)
           - cpu0["sim"]}
    status = json.loads((home / "run" / "status.json").read_text())
    time.sleep(3)  # the last alarms reach the sockets
    loop.call_soon_threadsafe(stop.set)
    listener.join(5)
    mqtt.loop_stop()
    serve.terminate()
    serve.wait(30)
    sim.terminate()
    sim.wait(30)
    catalog = Catalog(make_engine(f"sqlite:///{home / 'catalog.db'}"))
    store = DetectionStore(catalog.session, "Asia/Almaty")
    names = {c.id: c.name for c in catalog.cameras()}
    # When the person appeared on each camera: second :20 of its picture's minute.
    base = {cid: (PERSON_FROM_S - offset_s(int(n[3:]) - 1, cameras, not together)) % 60
            for cid, n in names.items()}
    last_appearance = start + minutes * 60 - 10  # alarms for it arrive before the end
    first: dict[tuple[int, int], int] = {}  # (camera, appearance) -> its first event
    for e in sorted(store.events(list(names), since_ns=int(start * 1e9), limit=100_000),
                    key=lambda e: e.id):
        at = e.at_ns // 1_000_000_000
        appeared = at - (at - base[e.camera_id]) % 60
        if start <= appeared <= last_appearance:
            first.setdefault((e.camera_id, appeared), e.id)
    expected = sum(len(range(start + (b - start) % 60, last_appearance + 1, 60))
                   for b in base.values())
    out: dict[str, Figure] = {"cameras": cameras, "minutes": minutes,
                              "person_on_every_camera_at_once": together,
                              "appearances_expected": expected}
    for where, seen in (("WebSocket", ws_seen), ("MQTT", mqtt_seen)):
        lat = sorted((seen[i] - appeared) * 1000 for (_, appeared), i in first.items()
                     if i in seen)
        key = "websocket" if where == "WebSocket" else "mqtt"
        out[f"{key}_appearances_seen"] = len(lat)
        if len(lat) >= 2:
            q = statistics.quantiles(lat, n=20)
            out[f"{key}_alarm_latency_p50_ms"] = statistics.median(lat)
            out[f"{key}_alarm_latency_p95_ms"] = q[18]
            print(f"alarm latency to the {where} (person appears -> alarm received): "
                  f"p50 {statistics.median(lat):.0f} ms, p95 {q[18]:.0f} ms over {len(lat)} "
                  f"appearances of {expected} (target p95 <= 1000 ms)")
        else:
            print(f"alarm latency to the {where}: {len(lat)} of {expected} appearances seen")
    after = status.get("detection", [])
    per_cam = [(w["analysed"] - before.get(w["camera"], {}).get("analysed", 0)) / wall
               for w in after]
    dropped = sum(w["dropped"] - before.get(w["camera"], {}).get("dropped", 0) for w in after)
    frames = json.loads(stats.read_text())["frames_sent"] if stats.exists() else {}
    recorded = sum(s.frames for c in names for s in catalog.segments(c))
    sent = sum(v for k, v in frames.items() if k.endswith("/main"))
    print(f"capacity measured: {cameras} cameras recording (1080p 4 Mbit/s main) with "
          f"detection at 5 fps: kuzet serve {cpu['serve'] / wall:.2f} CPU-s/s "
          f"({cpu['serve'] / wall / cameras:.3f} per camera), simulator "
          f"{cpu['sim'] / wall:.2f} CPU-s/s, machine {os.cpu_count()} cores; pictures "
          f"analysed per camera per second {min(per_cam, default=0):.2f}-"
          f"{max(per_cam, default=0):.2f} (of 5); {dropped} frames dropped before the "
          "detector; "
          f"main-stream frames recorded {recorded} of {sent} sent (segments closed)")
    print(f"  (data home kept for inspection: {home})")
    return out | {
        "serve_cpu_s_per_s": cpu["serve"] / wall,
        "serve_cpu_s_per_s_per_camera": cpu["serve"] / wall / cameras,
        "sim_cpu_s_per_s": cpu["sim"] / wall,
        "analysed_per_camera_per_s_min": min(per_cam, default=0),
        "analysed_per_camera_per_s_max": max(per_cam, default=0),
        "frames_dropped_before_detector": dropped, "main_frames_recorded": recorded,
        "main_frames_sent": sent}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60, help="stream seconds per cost run")
    ap.add_argument("--empty", type=int, default=120, help="seconds of each empty scene")
    ap.add_argument("--cameras", type=int, default=16, help="cameras end to end")
    ap.add_argument("--minutes", type=int, default=3, help="minutes end to end")
    ap.add_argument("--no-end-to-end", action="store_true")
    ap.add_argument("--together", action="store_true",
                    help="the person on every camera at once (the worst case)")
    ap.add_argument("--only-end-to-end", action="store_true")
    args = ap.parse_args()
    bench = Run.start("analytics", args)
    cache = Path(tempfile.gettempdir()) / "kuzet-bench-clips"
    found: dict[str, Figure] = {}
    if not args.no_end_to_end:
        found["end_to_end"] = end_to_end(args.cameras, args.minutes, cache, args.together)
    if args.only_end_to_end:
        bench.write(found)
        return
    rng = np.random.default_rng(1)
    decode, motion = cost_per_camera(args.seconds, cache)
    print(f"per camera (sub stream 640x360 25 fps): decode only {decode:.3f} CPU-s/s "
          f"(baseline); decode + motion at 5 fps {motion:.3f} CPU-s/s "
          f"(ratio {motion / decode:.2f})")
    found["cost_per_camera"] = {
        "baseline_decode_cpu_s_per_s": decode, "decode_and_motion_cpu_s_per_s": motion,
        "ratio": motion / decode}
    detector = open_detector(builtin().detectors, "openvino", cache)
    wall_ms, ms, per_s = detector_speed(detector)
    baseline_ms = default_mode_cpu_ms(cache)
    print(f"detector (OpenVINO person model, 640x360 in): {wall_ms:.1f} ms per inference on "
          f"one thread, {ms:.1f} ms of CPU each, {per_s:.0f} inferences/s on two threads; "
          f"OpenVINO's default latency mode (baseline) {baseline_ms:.1f} ms of CPU each "
          f"(ratio {ms / baseline_ms:.2f})")
    found["detector"] = {
        "wall_ms_per_inference_one_thread": wall_ms, "cpu_ms_per_inference": ms,
        "inferences_per_s_two_threads": per_s,
        "baseline_default_mode_cpu_ms_per_inference": baseline_ms,
        "cpu_ratio": ms / baseline_ms}
    recording = recording_cpu_per_camera()
    print(f"recording, as bench/results/recording.json measured it: {recording * 3600:.1f} "
          "CPU-s per camera-hour")
    for duty in (0.1, 1.0):
        per_cam = motion + recording + duty * 5 * ms / 1000
        found[f"capacity_at_{duty:.0%}_motion".replace("%", "_percent")] = {
            "cameras_on_2_cores": 2 / per_cam, "cpu_s_per_s_per_camera": per_cam}
        print(f"capacity at {duty:.0%} of analysed pictures with motion: "
              f"{2 / per_cam:.0f} cameras on 2 cores ({per_cam:.3f} CPU-s/s per camera "
              f"with recording)")
    recall, precision, false_per_h, hours = accuracy(detector, rng, args.empty)
    print(f"accuracy: person recall {recall:.3f} (target >= 0.9), precision {precision:.3f}; "
          f"empty scenes with changing light: {false_per_h:.2f} false alarms per hour "
          f"over {hours * 60:.0f} min (target <= 1)")
    found["accuracy"] = {"person_recall": recall, "person_precision": precision,
                         "false_alarms_per_hour": false_per_h,
                         "empty_scene_minutes": hours * 60}
    runs = 30
    lat = latency(detector, rng, runs)
    pipeline: dict[str, Figure] = {"runs": runs, "runs_alarmed": len(lat)}
    if lat:
        q = statistics.quantiles(lat, n=20)
        print(f"latency in the pipeline (frame in view -> alarm): p50 "
              f"{statistics.median(lat):.0f} ms, p95 {q[18]:.0f} ms over {len(lat)} runs")
        pipeline |= {"p50_ms": statistics.median(lat), "p95_ms": q[18]}
    found["pipeline_latency"] = pipeline
    bench.write(found)


if __name__ == "__main__":
    main()
