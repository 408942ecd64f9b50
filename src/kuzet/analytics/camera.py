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
import time
from collections.abc import Callable
from typing import Any

import av
import cv2
import numpy as np

from kuzet.analytics.activity import ActivityRecorder, Minute
from kuzet.analytics.detector import Detector, DetectorError, detect_in
from kuzet.analytics.geometry import squares_around
from kuzet.analytics.motion import Motion, MotionSettings
from kuzet.analytics.rules import Alarm, Rule, Rules
from kuzet.analytics.tamper import Tamper, TamperWatch
from kuzet.analytics.tracker import Track, Tracker
from kuzet.catalog.streams import Stream
from kuzet.mp4.writer import VideoParams
from kuzet.recorder.worker import Worker

log = logging.getLogger(__name__)
QUEUE_FRAMES = 50
SAMPLE_SLACK_NS = 20_000_000
Sink = Callable[["CameraAnalytics", Alarm, list[Track], np.ndarray], None]
TamperSink = Callable[["CameraAnalytics", set[Tamper], set[Tamper], int], None]
MinuteSink = Callable[["CameraAnalytics", Minute], None]
EndSink = Callable[["CameraAnalytics", list[Track]], None]
DEFAULT_MOTION = MotionSettings()


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
    def __init__(self, camera: str, camera_id: int, stream: Stream, rules: list[Rule],
                 detector: Callable[[], Detector | None], threshold: float, fps: float,
                 sink: Sink, tamper_sink: TamperSink, minute_sink: MinuteSink | None = None,
                 settings: MotionSettings = DEFAULT_MOTION,
                 end_sink: EndSink | None = None, motion_width: int = 320) -> None:
        super().__init__(f"detect-{camera}")
        self.camera, self.camera_id, self.stream = camera, camera_id, stream
        self.tap = FrameTap(keyframes_only=stream is Stream.MAIN)
        self.detector = detector
        self.threshold = threshold
        self.interval_ns = int(1e9 / fps)
        self.sink = sink
        self.tamper_sink = tamper_sink
        self.tamper = TamperWatch()
        self.minute_sink = minute_sink
        self.end_sink = end_sink
        self.activity = ActivityRecorder()
        self.settings = settings
        self.motion_width = motion_width
        self.motion = self._motion(settings)
        self.tracker = Tracker()
        self.level = 0.0
        self.analysed = 0
        self.latency_ms: int | None = None  # the last analysed frame's, arrival to done
        self.last_error: str | None = None
        self._engine: Rules | None = None
        self._new_motion: Motion | None = None
        self._best: dict[int, np.ndarray] = {}  # track id -> its best picture so far
        self._lock = threading.Lock()
        self.rules: list[Rule] = []
        self.set_rules(rules)

    def set_rules(self, rules: list[Rule]) -> None:
        """New rules start a new engine; the same rules (re-read every few seconds) keep
        the running one, which remembers the tracks that already raised an alarm."""
        with self._lock:
            if rules == self.rules and self._engine is not None:
                return
            self.rules, self._engine = rules, None
            self._watch_tamper = any(r.kind == "tamper" for r in rules)
            self._detect = any(r.kind != "tamper" for r in rules)

    def _motion(self, settings: MotionSettings) -> Motion:
        return Motion(self.motion_width, sensitivity=settings.sensitivity,
                      masks=[list(m) for m in settings.masks])

    def set_settings(self, settings: MotionSettings) -> None:
        """New sensitivity or masks: a new background model, learnt again from the next
        picture (a mask changes what is watched)."""
        with self._lock:
            if settings != self.settings:
                self.settings, self._new_motion = settings, self._motion(settings)

    def status(self) -> dict[str, Any]:
        return {"camera": self.camera, "stream": self.stream.label,
                "mode": "main-keyframes" if self.stream is Stream.MAIN else "sub", "level":
                round(self.level, 4), "analysed": self.analysed, "dropped": self.tap.dropped,
                "rules": len(self.rules), "tamper": sorted(self.tamper.active),
                "last_error": self.last_error, "latency_ms": self.latency_ms}

    def _waiting(self) -> list[tuple[VideoParams, bytes, bool, int]]:
        """The frames queued now (at least one, or none after half a second)."""
        try:
            batch = [self.tap.frames.get(timeout=0.5)]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self.tap.frames.get_nowait())
            except queue.Empty:
                return batch

    def run(self) -> None:
        """Decode every frame (a decoder needs them all), but analyse only the newest
        picture due when the thread comes round: when analysis falls behind (many cameras
        with people at once), it analyses fewer pictures, never older ones, so an alarm
        is never later than about one analysis."""
        ctx: Any = None
        params: VideoParams | None = None
        last = 0
        while not self._stop.is_set():
            due: tuple[Any, int] | None = None
            for p, data, _key, arrival in self._waiting():
                try:
                    if p != params:
                        ctx = av.CodecContext.create(p.codec, "r")
                        ctx.extradata = p.extradata or None
                        params = p
                    for frame in ctx.decode(av.Packet(data)):
                        # A frame's worth early still counts: arrival times jitter, and
                        # 200 ms from 25 fps is every 5th frame, not every 6th.
                        if arrival - last >= self.interval_ns - SAMPLE_SLACK_NS:
                            due = frame, arrival
                except (av.FFmpegError, ValueError) as exc:  # broken: wait for a keyframe
                    self.last_error = f"decoding: {exc}"
                    ctx, params = None, None
            if due is None:
                continue
            frame, last = due
            try:
                self.process(frame.to_ndarray(format="bgr24"), last)
                # from the frame's arrival at the recorder to its analysis done (metrics)
                self.latency_ms = (time.time_ns() - last) // 1_000_000
            except Exception as exc:  # a bug here must never reach the recorder
                log.exception("camera %s: detection failed", self.camera)
                self.last_error = str(exc)
        done = self.activity.flush()
        if done is not None and self.minute_sink is not None:
            self.minute_sink(self, done)

    def process(self, image: np.ndarray, t_ns: int) -> None:
        self.analysed += 1
        if self._watch_tamper:
            grey = cv2.cvtColor(cv2.resize(image, (160, max(1, 160 * image.shape[0]
                                                            // image.shape[1]))),
                                cv2.COLOR_BGR2GRAY)
            raised, cleared = self.tamper.update(grey, t_ns)
            if raised or cleared:
                self.tamper_sink(self, raised, cleared, t_ns)
        with self._lock:
            if self._new_motion is not None:
                self.motion, self._new_motion = self._new_motion, None
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
        if self.minute_sink is not None:
            done = self.activity.add(t_ns, moved.level, moved.regions, image.shape[1],
                                     image.shape[0])
            if done is not None:
                self.minute_sink(self, done)
        tracks = self.tracker.update(t_ns, found)
        for track in tracks:  # the picture in which each object was seen best so far
            if track.best_t_ns == t_ns:
                self._best[track.id] = image
        ended = self.tracker.take_ended()
        for track in ended:
            self._best.pop(track.id, None)
        if ended and self.end_sink is not None:
            self.end_sink(self, ended)
        for alarm in engine.evaluate(t_ns, tracks):
            best = max((t for t in tracks if t.id in alarm.tracks and t.id in self._best),
                       key=lambda t: t.best_score, default=None)
            self.sink(self, alarm, tracks, self._best[best.id] if best else image)


def jpeg(image: np.ndarray) -> bytes | None:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return bytes(buf) if ok else None
