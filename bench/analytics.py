"""Detection: what it costs per camera, how fast the detector is, how often it is right,
and how long an alarm takes inside the pipeline.

Run by hand (not in CI):  .venv/bin/python bench/analytics.py [--seconds 60]

The detector runs, as in `kuzet serve`, on square crops around the motion
(kuzet.analytics.geometry.squares_around), not on the whole 16:9 picture.

1. Cost per camera: the simulator's sub stream (640×360, 25 fps, 512 kbit/s, H.264)
   decoded frame by frame with PyAV, as the detection thread does, and motion run on 5
   pictures a second. CPU seconds per camera-second, against a baseline measured in the
   same run: decoding alone (what any analytics on this stream must pay).
2. The detector (OpenVINO person model): ms per inference on a 640×360 picture, and
   inferences a second on one thread.
3. Capacity: how many cameras of decode + motion + detection-on-motion fit two cores
   beside recording them (15.4 CPU-s per camera-hour, docs/design/recording.md), for a
   share of analysed pictures with motion of 10 % (a quiet corridor) and 100 %.
4. Accuracy on sequences composed from real photographs shipped with scikit-image: the
   astronaut and the cameraman walking across backgrounds (brick, grass, gravel, and
   the rocket and coffee photographs), 0.8 of the picture high, with noise and changing
   light; recall over frames where a person is fully in view (a box overlapping the
   annotated person by IoU >= 0.3), precision of person boxes in those frames;
   then empty scenes (the same backgrounds, light rising and falling, sudden exposure
   jumps, noise) through the whole pipeline with an intrusion rule over the picture:
   false alarms per hour.
5. Latency inside the pipeline: from the first frame in which a person is in view being
   handed to the camera's tap until the alarm reaches the sink, p50/p95 (RTSP delivery
   and MQTT are measured elsewhere: tests show MQTT within the same second).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kuzet.analytics.camera import CameraAnalytics  # noqa: E402
from kuzet.analytics.detector import detect_in, open_detector  # noqa: E402
from kuzet.analytics.geometry import Box, iou, squares_around  # noqa: E402
from kuzet.analytics.motion import Motion  # noqa: E402
from kuzet.analytics.rules import Rule  # noqa: E402
from kuzet.media.synthetic import access_units  # noqa: E402
from kuzet.rtsp.clip import FPS, ClipSpec  # noqa: E402

SUB = ClipSpec(640, 360, 512_000)
W, H = 640, 360
RECORDING_CPU_PER_CAMERA = 15.4 / 3600


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


def detector_speed(detector: object) -> tuple[float, float]:
    from skimage import data

    img = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (W, H))
    for _ in range(5):
        detector.detect(img, 0.5)  # type: ignore[attr-defined]
    n, t0 = 100, time.perf_counter()
    for _ in range(n):
        detector.detect(img, 0.5)  # type: ignore[attr-defined]
    ms = (time.perf_counter() - t0) / n * 1000
    return ms, 1000 / ms


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
    return 0.85 + 0.2 * np.sin(k / 150) + (0.2 if (k // 100) % 2 else 0.0)


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
    img = img * gain + rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), truth


def accuracy(detector: object, rng: np.random.Generator, empty_s: int
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
                dets = detect_in(detector, img, squares_around(moved.regions, W, H),  # type: ignore[arg-type]
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
        cam = CameraAnalytics("bench", 1, "sub", [Rule(1, "intrusion", zone=(
            (0, 0), (1, 0), (1, 1), (0, 1)))], lambda: detector, 0.5, 5,  # type: ignore
            lambda w, a, t, i, fired=fired: fired.append(a.rule), lambda *a: None)
        for k in range(empty_s * 5):
            img, _ = frame(bg, light(k, rng), rng)
            cam.process(img, k * 200_000_000)
            frames += 1
        alarms += len(fired)
    hours = frames / 5 / 3600
    return hits / visible, right / max(1, found), alarms / hours, hours


def latency(detector: object, rng: np.random.Generator, runs: int) -> list[float]:
    bg, person = backgrounds()[0], people()[0]
    out = []
    for _ in range(runs):
        done = threading.Event()
        cam = CameraAnalytics("bench", 1, "sub", [Rule(1, "intrusion", zone=(
            (0, 0), (1, 0), (1, 1), (0, 1)))], lambda: detector, 0.5, 5,  # type: ignore
            lambda w, a, t, i, done=done: done.set(), lambda *a: None)
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60, help="stream seconds per cost run")
    ap.add_argument("--empty", type=int, default=120, help="seconds of each empty scene")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    cache = Path(tempfile.gettempdir()) / "kuzet-bench-clips"
    decode, motion = cost_per_camera(args.seconds, cache)
    print(f"per camera (sub stream 640x360 25 fps): decode only {decode:.3f} CPU-s/s "
          f"(baseline); decode + motion at 5 fps {motion:.3f} CPU-s/s "
          f"(ratio {motion / decode:.2f})")
    detector = open_detector("openvino", cache)
    ms, per_s = detector_speed(detector)
    print(f"detector (OpenVINO person model, 640x360 in): {ms:.1f} ms per inference, "
          f"{per_s:.0f} inferences/s on one thread")
    for duty in (0.1, 1.0):
        per_cam = motion + RECORDING_CPU_PER_CAMERA + duty * 5 * ms / 1000
        print(f"capacity at {duty:.0%} of analysed pictures with motion: "
              f"{2 / per_cam:.0f} cameras on 2 cores ({per_cam:.3f} CPU-s/s per camera "
              f"with recording)")
    recall, precision, false_per_h, hours = accuracy(detector, rng, args.empty)
    print(f"accuracy: person recall {recall:.3f} (target >= 0.9), precision {precision:.3f}; "
          f"empty scenes with changing light: {false_per_h:.2f} false alarms per hour "
          f"over {hours * 60:.0f} min (target <= 1)")
    lat = latency(detector, rng, 30)
    if lat:
        q = statistics.quantiles(lat, n=20)
        print(f"latency in the pipeline (frame in view -> alarm): p50 "
              f"{statistics.median(lat):.0f} ms, p95 {q[18]:.0f} ms over {len(lat)} runs")


if __name__ == "__main__":
    main()
