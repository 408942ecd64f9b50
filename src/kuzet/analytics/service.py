"""Detection inside `kuzet serve`: one `CameraAnalytics` per camera that has rules or keeps
its motion activity, fed by a tap on the camera's sub stream (its main stream's keyframes
when it has none); rules and motion settings re-read every few seconds, so a rule drawn
in the console takes effect without a restart; motion activity stored a minute at a
time for the archive's bar; each alarm stored as an event and handed, with its
picture, to the notifiers (`kuzet.hooks`: MQTT, webhooks), which decide what of it
leaves the server. The pictures and the activity go with the footage they show, cleared
by the storage sweeper (`store.EVENT_PICTURES`, `store.ACTIVITY`), not here.

The detector is opened once, when the first camera needs it. If it cannot be (a missing
or broken model), an alarm says so and cameras go on with motion alone: recording never
waits for detection.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kuzet.analytics.activity import Minute
from kuzet.analytics.camera import CameraAnalytics, jpeg
from kuzet.analytics.detector import Detector, DetectorError, open_detector
from kuzet.analytics.motion import MotionSettings
from kuzet.analytics.rules import Alarm, Rule
from kuzet.analytics.store import DetectionStore, to_rule
from kuzet.analytics.tamper import Tamper
from kuzet.analytics.tracker import Track
from kuzet.catalog.alarms import Alarms, Severity
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.config import Settings
from kuzet.errors import Invalid
from kuzet.hooks import DetectionEvent, DetectorFactory, Notify, TamperChange
from kuzet.recorder.fanout import LiveHub
from kuzet.timefmt import format_instant

log = logging.getLogger(__name__)
SYNC_S = 5.0
TAMPER_TEXT = {Tamper.COVERED: "the lens is covered or the picture is black",
               Tamper.BLURRED: "the picture is out of focus",
               Tamper.MOVED: "the camera shows another scene (turned or moved)",
               Tamper.FROZEN: "the picture is frozen"}
SIGNAL = "signal"
LOST = ("reconnecting", "failed")
Hubs = Callable[[str, Stream], LiveHub | None]


@dataclass(frozen=True)
class DetectionSettings:
    """The settings detection uses, of all `kuzet serve` has."""

    detector: str
    cache: Path
    model: Path | None
    labels: Path | None
    threshold: float
    fps: float
    motion_width: int
    timezone: str

    @classmethod
    def of(cls, s: Settings) -> DetectionSettings:
        return cls(s.detector, s.cache_path, s.detector_model, s.detector_labels,
                   s.detect_threshold, s.detect_fps, s.motion_width, s.display_timezone)


class DetectionService:
    def __init__(self, settings: DetectionSettings, catalog: Catalog, hubs: Hubs,
                 alarms: Alarms, detectors: Mapping[str, DetectorFactory[Detector]],
                 notify: Notify | None = None) -> None:
        self.settings = settings
        self.detectors = detectors
        self.catalog = catalog
        self.hubs = hubs
        self.notify = notify
        self.store = DetectionStore(catalog.session, settings.timezone)
        self.alarms = alarms
        self.workers: dict[int, tuple[CameraAnalytics, LiveHub]] = {}
        self._detector: Detector | None = None
        self._detector_tried = False
        self._lock = threading.Lock()
        self._last_sync = 0.0
        self._tamper_cameras: set[str] = set()  # names of cameras with a tamper rule
        # camera id -> track id -> events raised with that track, until it ends; each
        # camera's thread touches only its own
        self._open: dict[int, dict[int, list[int]]] = {}
        self._no_signal: set[str] = set()

    def detector(self) -> Detector | None:
        with self._lock:
            if not self._detector_tried:
                self._detector_tried = True
                s = self.settings
                try:
                    self._detector = open_detector(self.detectors, s.detector, s.cache,
                                                   s.model, s.labels)
                    self.alarms.clear("detector", s.detector)
                except DetectorError as exc:
                    log.error("detector %s: %s; detection runs on motion alone", s.detector, exc)
                    self.alarms.raise_("detector", s.detector, Severity.WARNING,
                                       f"the detector cannot run: {exc}; motion only")
            return self._detector

    def tick(self, statuses: list[dict[str, Any]]) -> None:
        """Called by the recorder every second: signal loss on cameras watched for
        tampering; re-read the rules every `SYNC_S`."""
        self._watch_signal(statuses)
        if time.monotonic() - self._last_sync >= SYNC_S:
            self.sync()

    def _watch_signal(self, statuses: list[dict[str, Any]]) -> None:
        """Signal loss is tampering too (a cut cable): a camera with a tamper rule that is
        not recording (the recorder finds a stalled stream within 5 s) raises a critical
        alarm, cleared when it records again."""
        for name in self._no_signal - self._tamper_cameras:  # its tamper rule is gone
            self._no_signal.discard(name)
            self.alarms.clear("tamper", f"{name}:{SIGNAL}")
        for st in statuses:
            name, lost = st["camera"], st["state"] in LOST
            if name not in self._tamper_cameras or lost == (name in self._no_signal):
                continue
            if lost:
                self._no_signal.add(name)
                cause = st.get("last_error") or st["state"]
                self.alarms.raise_("tamper", f"{name}:{SIGNAL}", Severity.CRITICAL,
                                   f"camera {name}: no signal ({cause})")
                log.warning("camera %s: tampering: no signal", name)
            else:
                self._no_signal.discard(name)
                self.alarms.clear("tamper", f"{name}:{SIGNAL}")
                log.info("camera %s: signal back", name)

    def sync(self) -> None:
        self._last_sync = time.monotonic()
        wanted: dict[int, list[Rule]] = {}
        for row in self.store.rules():
            if not row.enabled:
                continue
            try:
                rule = to_rule(row.id, row.kind, json.loads(row.spec),
                               self.settings.timezone)
            except (Invalid, ValueError) as exc:  # one bad row must not stop the others
                log.warning("detection rule %d skipped: %s", row.id, exc)
                continue
            wanted.setdefault(row.camera_id, []).append(rule)
        motion = self.store.motion_settings()
        for cam_id, settings in motion.items():
            if settings.activity:
                wanted.setdefault(cam_id, [])
        cameras = {c.id: c.name for c in self.catalog.cameras()}
        self._tamper_cameras = {cameras[c] for c, rules in wanted.items()
                                if c in cameras and any(r.kind == "tamper" for r in rules)}
        for cam_id in set(self.workers) - {c for c in wanted if c in cameras}:
            self._stop(cam_id)
        for cam_id, rules in wanted.items():
            if cam_id not in cameras:
                continue
            settings = motion.get(cam_id, MotionSettings())
            name = cameras[cam_id]
            stream = Stream.SUB if self.hubs(name, Stream.SUB) is not None else Stream.MAIN
            hub = self.hubs(name, stream)
            if cam_id in self.workers:
                if self.workers[cam_id][1] is hub:
                    self.workers[cam_id][0].set_rules(rules)
                    self.workers[cam_id][0].set_settings(settings)
                    continue
                # its recording moved: a new session, or another recording node (issue
                # 25), whose fan-out is another; detection follows it, or stops here
                self._stop(cam_id)
            if hub is None:
                continue  # its recorder starts on the next camera sync, or elsewhere
            worker = CameraAnalytics(name, cam_id, stream, rules, self.detector,
                                     self.settings.threshold, self.settings.fps,
                                     self._on_alarm, self._on_tamper, self._on_minute,
                                     settings, self._on_ended, self.settings.motion_width)
            worker.start()
            hub.taps.append(worker.tap)
            self.workers[cam_id] = (worker, hub)
            log.info("camera %s: detection on its %s stream, %d rule(s)", name, stream.label,
                     len(rules))

    def _stop(self, cam_id: int) -> None:
        worker, hub = self.workers.pop(cam_id)
        if worker.tap in hub.taps:
            hub.taps.remove(worker.tap)
        worker.stop()

    def stop(self) -> list[CameraAnalytics]:
        """Tell every camera's thread to stop; returns them, for `join`."""
        workers = [w for w, _ in self.workers.values()]
        for cam_id in list(self.workers):
            self._stop(cam_id)
        return workers

    @staticmethod
    def join(workers: list[CameraAnalytics], timeout_s: float) -> None:
        """Wait, `timeout_s` in all, for stopped threads to store the minute of activity
        in hand (after the recorder has closed its segments: that comes first)."""
        deadline = time.monotonic() + timeout_s
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    def status(self) -> list[dict[str, Any]]:
        return [w.status() for w, _ in self.workers.values()]

    def _on_ended(self, worker: CameraAnalytics, tracks: list[Track]) -> None:
        """Tracks that left the picture close the time range of the events they raised
        (an event of several tracks ends with the last of them)."""
        mine_open = self._open.setdefault(worker.camera_id, {})  # only this thread's
        for track in tracks:
            ids = mine_open.pop(track.id, [])
            still = {i for v in mine_open.values() for i in v}
            done = [i for i in ids if i not in still]
            if done:
                try:
                    self.store.set_end(done, track.last_ns)
                except Exception:  # a database hiccup leaves the end open, nothing more
                    log.exception("camera %s: event end not stored", worker.camera)

    def _on_minute(self, worker: CameraAnalytics, minute: Minute) -> None:
        try:
            self.store.write_minute(worker.camera_id, minute)
        except Exception:  # a database hiccup costs a minute of activity, nothing more
            log.exception("camera %s: motion activity not stored", worker.camera)

    def _on_tamper(self, worker: CameraAnalytics, raised: set[Tamper], cleared: set[Tamper],
                   t_ns: int) -> None:
        """Tampering is a condition that lasts: an alarm raised, then cleared."""
        for kind in raised:
            self.alarms.raise_("tamper", f"{worker.camera}:{kind}", Severity.CRITICAL,
                               f"camera {worker.camera}: {TAMPER_TEXT[kind]}", now_ns=t_ns)
            log.warning("camera %s: tampering: %s", worker.camera, kind)
        for kind in cleared:
            self.alarms.clear("tamper", f"{worker.camera}:{kind}", now_ns=t_ns)
            log.info("camera %s: tampering over: %s", worker.camera, kind)
        if self.notify is not None:
            self.notify(TamperChange(worker.camera, sorted(worker.tamper.active), t_ns))

    def _on_alarm(self, worker: CameraAnalytics, alarm: Alarm, tracks: list[Track],
                  image: np.ndarray) -> None:
        mine = [t for t in tracks if t.id in alarm.tracks]
        label = mine[0].label if mine else "object"
        score = max((t.best_score for t in mine), default=0.0)
        picture = jpeg(image)
        start = min((t.start_ns for t in mine), default=alarm.t_ns)
        event = self.store.record(worker.camera_id, alarm.rule, alarm.kind, label, score,
                                  alarm.t_ns, list(alarm.tracks), picture, start)
        mine_open = self._open.setdefault(worker.camera_id, {})
        for track in alarm.tracks:
            mine_open.setdefault(track, []).append(event.id)
        log.info("camera %s: %s (%s, rule %d)", worker.camera, alarm.kind, label, alarm.rule)
        said = {"id": event.id, "camera": worker.camera, "kind": alarm.kind,
                "rule": alarm.rule, "label": label, "score": round(score, 3),
                "at": format_instant(alarm.t_ns), "tracks": list(alarm.tracks)}
        if self.notify is not None:
            self.notify(DetectionEvent(said, picture))
