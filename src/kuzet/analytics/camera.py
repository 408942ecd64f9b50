"""Detection on one camera: frames from the recorder's fan-out (no extra camera session),
decoded in a thread of its own, sampled at `fps`, run through motion, the detector on
square crops around the motion only, the tracker and the camera's rules; each alarm
becomes an event.

The tap the recorder feeds never blocks it: a bounded queue that, when full, drops frames
until the next keyframe (a decoder cannot resume anywhere else). A camera without a sub
stream is analysed on its main stream's keyframes only, about one picture a second,
rather than decoding every full-size frame; its status says so.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import av
import cv2
import numpy as np

from kuzet.analytics.detector import Detector, DetectorError, detect_in
from kuzet.analytics.geometry import squares_around
from kuzet.analytics.motion import Motion
from kuzet.analytics.rules import Alarm, Rule, Rules
from kuzet.analytics.tamper import Tamper, TamperWatch
from kuzet.analytics.tracker import Track, Tracker
from kuzet.media.fmp4 import VideoParams
from kuzet.recorder.worker import Worker

log = logging.getLogger(__name__)
QUEUE_FRAMES = 50
Sink = Callable[["CameraAnalytics", Alarm, list[Track], np.ndarray], None]
TamperSink = Callable[["CameraAnalytics", set[Tamper], set[Tamper], int], None]


class FrameTap:
    """What the recorder thread calls for every frame: queue it or drop it, at once."""

    def __init__(self, keyframes_only: bool) -> None:
        self.keyframes_only = keyframes_only
        self.frames: queue.Queue[tuple[VideoParams, bytes, bool, int]] = queue.Queue(
            QUEUE_FRAMES)
        self.dropped = 0
        self._skipping = True

    def offer(self, params: VideoParams, data: bytes, keyframe: bool, arrival_ns: int) -> None:
        if self.keyframes_only and not keyframe:
            return
        if self._skipping and not keyframe:
            self.dropped += 1
            return
        try:
            self.frames.put_nowait((params, data, keyframe, arrival_ns))
            self._skipping = False
        except queue.Full:
            self.dropped += 1
            self._skipping = True


class CameraAnalytics(Worker):
    def __init__(self, camera: str, camera_id: int, stream: str, rules: list[Rule],
                 detector: Callable[[], Detector | None], threshold: float, fps: float,
                 sink: Sink, tamper_sink: TamperSink) -> None:
        super().__init__(f"detect-{camera}")
        self.camera, self.camera_id, self.stream = camera, camera_id, stream
        self.tap = FrameTap(keyframes_only=stream == "main")
        self.detector = detector
        self.threshold = threshold
        self.interval_ns = int(1e9 / fps)
        self.sink = sink
        self.tamper_sink = tamper_sink
        self.tamper = TamperWatch()
        self.motion = Motion()
        self.tracker = Tracker()
        self.level = 0.0
        self.analysed = 0
        self.last_error: str | None = None
        self._engine: Rules | None = None
        self._lock = threading.Lock()
        self.set_rules(rules)

    def set_rules(self, rules: list[Rule]) -> None:
        with self._lock:
            self.rules, self._engine = rules, None
            self._watch_tamper = any(r.kind == "tamper" for r in rules)
            self._detect = any(r.kind != "tamper" for r in rules)

    def status(self) -> dict[str, Any]:
        return {"camera": self.camera, "stream": self.stream,
                "mode": "main-keyframes" if self.stream == "main" else "sub", "level":
                round(self.level, 4), "analysed": self.analysed, "dropped": self.tap.dropped,
                "rules": len(self.rules), "tamper": sorted(self.tamper.active),
                "last_error": self.last_error}

    def run(self) -> None:
        ctx: Any = None
        params: VideoParams | None = None
        last = 0
        while not self._stop.is_set():
            try:
                p, data, key, arrival = self.tap.frames.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                if p != params:
                    ctx = av.CodecContext.create(p.codec, "r")
                    ctx.extradata = p.extradata or None
                    params = p
                for frame in ctx.decode(av.Packet(data)):
                    if arrival - last < self.interval_ns:
                        continue
                    last = arrival
                    self.process(frame.to_ndarray(format="bgr24"), arrival)
            except (av.FFmpegError, ValueError) as exc:  # a broken frame: wait for a keyframe
                self.last_error = f"decoding: {exc}"
                ctx, params = None, None
            except Exception as exc:  # a bug here must never reach the recorder
                log.exception("camera %s: detection failed", self.camera)
                self.last_error = str(exc)

    def process(self, image: np.ndarray, t_ns: int) -> None:
        self.analysed += 1
        if self._watch_tamper:
            grey = cv2.cvtColor(cv2.resize(image, (160, max(1, 160 * image.shape[0]
                                                            // image.shape[1]))),
                                cv2.COLOR_BGR2GRAY)
            raised, cleared = self.tamper.update(grey, t_ns)
            if raised or cleared:
                self.tamper_sink(self, raised, cleared, t_ns)
        moved = self.motion.update(image)
        self.level = moved.level
        with self._lock:
            if self._engine is None:
                self._engine = Rules(self.rules, (image.shape[1], image.shape[0]))
            engine = self._engine
        found = []
        if moved.regions and self._detect:
            detector = self.detector()
            if detector is not None:
                try:
                    crops = squares_around(moved.regions, image.shape[1], image.shape[0])
                    found = detect_in(detector, image, crops, self.threshold)
                except DetectorError as exc:
                    self.last_error = str(exc)
        tracks = self.tracker.update(t_ns, found)
        for alarm in engine.evaluate(t_ns, tracks):
            self.sink(self, alarm, tracks, image)


def jpeg(image: np.ndarray) -> bytes | None:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return bytes(buf) if ok else None
