"""`kuzet serve`: every camera recorded 24/7 until SIGTERM, then every open segment closed.

The service reconciles catalog and disk at start, runs one supervisor per camera, picks up
cameras added or removed while it runs, and writes everyone's status to
`<home>/run/status.json` for the CLI (and, until the HTTP API exists, for people).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from kuzet.audit.anchor import Anchor
from kuzet.audit.log import AuditLog
from kuzet.catalog.alarms import Alarms
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.config import Settings
from kuzet.credentials import SecretUrl
from kuzet.governance.hold_reminder import HoldReminder
from kuzet.governance.holds import Holds
from kuzet.ingest.choice import ClientChoice
from kuzet.ingest.errors import GapCause
from kuzet.recorder.camera_health import CameraHealth
from kuzet.recorder.fanout import LiveHub
from kuzet.recorder.status import State
from kuzet.recorder.substream import SubStream
from kuzet.recorder.supervisor import CameraSource, Supervisor
from kuzet.recorder.waiting import clear_journals
from kuzet.storage.derived import Beside
from kuzet.storage.integrity import IntegrityCheck
from kuzet.storage.recovery import (
    RecoveryReport,
    open_stop_gaps,
    quarantine_orphans,
    recover,
)
from kuzet.storage.sweeper import Sweeper
from kuzet.storage.volumes import Volumes

log = logging.getLogger(__name__)

STATUS_INTERVAL_S = 1.0
SYNC_INTERVAL_S = 3.0


def run_dir(settings: Settings) -> Path:
    return settings.home / "run"


def status_path(settings: Settings) -> Path:
    return run_dir(settings) / "status.json"


class AlreadyRunning(RuntimeError):
    """Two recorders on one data home would open every camera twice and race on the catalog."""


def lock_path(settings: Settings) -> Path:
    return run_dir(settings) / "serve.lock"


def recording_now(settings: Settings) -> bool:
    """Whether a `kuzet serve` records into this home now: its status file is then live,
    not what a stopped server last wrote."""
    return _recorder_alive(lock_path(settings))


def _recorder_alive(lock: Path) -> bool:
    """True while a recorder holds the lock file's `flock`, which the kernel releases when
    its process ends however it ends. (Before, the pid written in it and that process's
    command line were asked: a pid reused by another `kuzet` process, pids wrapping at
    32768 while the tests churn processes, was taken for a live recorder.)"""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases the shared lock taken to ask
    return False


class Leased(Protocol):
    """A recording node's leases (kuzet.cluster.member.Member): the cameras it records,
    each with the epoch every segment is committed under, and those it records beside
    their holder, waiting for them (a planned move), with the epoch they will have."""

    held: Mapping[int, int]
    standby: Mapping[int, int]

    def turn(self) -> None:
        """Heartbeat, renew, and take or hand over cameras; `held` follows."""
        ...


class StatusListener(Protocol):
    def tick(self, statuses: list[dict[str, Any]]) -> None:
        """Every camera's status, once a second (the notifiers, detection's signal watch).
        Its fault is logged and never stops the status loop."""
        ...


StatusPart = Callable[[], Any]  # another part's entries in status.json (JSON)


def _why_new_session(old: CameraSource, new: CameraSource) -> str:
    """What changed in the register that a camera's new session follows, for its gap."""
    if old.keep_audio != new.keep_audio:
        sound = "kept on the rector's order" if new.keep_audio else "no longer kept"
        return f"the camera's sound is {sound} (UE-10-22 3.1.2)"
    if old.tls_fingerprint != new.tls_fingerprint:
        pin = (f"pinned to sha256 {new.tls_fingerprint}" if new.tls_fingerprint
               else "no longer pinned")
        return f"the camera's TLS certificate is {pin}"
    return "the camera's settings changed"


class RecorderService:
    def __init__(self, settings: Settings, catalog: Catalog, alarms: Alarms, volumes: Volumes,
                 holds: Holds, beside: Beside) -> None:
        self.settings = settings
        self.catalog = catalog
        # On a node of a cluster (issue 25), the cameras its leases give it; None: one
        # server, every camera of the register.
        self.leased: Leased | None = None
        # sync, power-down and a hand-over (the lease thread's) change the supervisors
        self._sync_lock = threading.RLock()
        self.supervisors: dict[int, Supervisor] = {}
        self._restarting: dict[int, Supervisor] = {}  # stopped for a new session, closing
        self._stopping: dict[int, Supervisor] = {}  # its lease gone, closing (a hand-over)
        self._started = False  # a node's leases may not start a camera before its gaps
        self.substreams: dict[int, SubStream] = {}  # live-only, for cameras with a sub_url
        # a camera not recording for camera_alarm_s is an alarm (issue 22)
        self._listeners: list[StatusListener] = [
            CameraHealth(alarms, settings.camera_alarm_s, settings.camera_clock_alarm_ms,
                         time.time_ns, lambda: self.registered,
                         rate_ratio=settings.camera_rate_low_ratio,
                         rate_window_s=settings.camera_rate_window_s,
                         loss_percent=settings.camera_loss_alarm_percent,
                         loss_window_s=settings.camera_loss_window_s,
                         lag_limit_ms=settings.camera_lag_alarm_ms)]
        self.registered: set[str] = set()  # the register's cameras, as last synced
        self.last_statuses: list[dict[str, Any]] = []  # as the status loop last wrote them
        self._parts: dict[str, StatusPart] = {}
        self.recovery: list[RecoveryReport] = []
        self._lock = lock_path(settings)
        self._lock_fd = -1  # the open lock file whose flock says this recorder lives
        self.alarms = alarms
        self.audit = AuditLog(catalog.session)
        self.volumes = volumes
        self.holds = holds
        self.clients = ClientChoice()  # which RTSP client reads each camera
        self.sweeper = Sweeper(catalog, self.volumes, self.holds, self.alarms, settings,
                               beside=beside)
        self.integrity = IntegrityCheck(catalog, self.volumes, self.alarms, self.audit,
                                        settings)
        self.anchor = Anchor(self.audit, settings.home)
        self.reminder = HoldReminder(holds, alarms, self.audit, settings.display_timezone)
        self._maintenance: threading.Thread | None = None
        self._stop_maintenance = threading.Event()
        # Why the power is about to go (the UPS watch's word, issue 22), or None; read by
        # the status loop, which closes every segment and records again once it is None.
        self.power_low: str | None = None
        self._powered_down = False
        self._power_gaps: dict[int, tuple[int, str]] = {}  # camera id -> (start, why)

    def start(self) -> None:
        run_dir(self.settings).mkdir(parents=True, exist_ok=True)
        unclean = self._lock.exists()
        if unclean and _recorder_alive(self._lock):
            raise AlreadyRunning(f"another kuzet serve (pid {self._lock.read_text().strip()}) "
                                 f"is recording into {self.settings.home}")
        self._lock.write_text(str(os.getpid()))
        self._lock_fd = os.open(self._lock, os.O_RDONLY)
        try:  # held for the process's life (its end releases it): what "alive" asks
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another started at the same instant
            os.close(self._lock_fd)
            self._lock_fd = -1
            raise AlreadyRunning(f"another kuzet serve is recording into "
                                 f"{self.settings.home}") from None
        self.volumes.ensure_default()
        clear_journals(self.settings.home)  # what they listed is salvaged below
        present = self.volumes.check_presence()
        finished = self.sweeper.finish_interrupted([v.id for v in present])
        if finished:
            log.warning("recovery: completed %d deletions cut short by a crash", finished)
        for vol in present:
            r = recover(self.catalog, vol.id)
            self.recovery.append(r)
            if r.salvaged or r.renamed or r.quarantined or r.discarded:
                log.warning("recovery of volume %s: salvaged %d, finished %d renames, "
                            "discarded %d empty, quarantined %d", vol.name, len(r.salvaged),
                            len(r.renamed), len(r.discarded), len(r.quarantined))
        only: set[int] | None = None
        if self.leased is not None:  # which cameras are this node's, before any records
            self.leased.turn()
            only = set(self.leased.held)
        open_stop_gaps(self.catalog, unclean=unclean, only=only)
        self._started = True
        self.sync_cameras()
        self._maintenance = threading.Thread(target=self._maintain, name="maintenance",
                                             daemon=True)
        self._maintenance.start()

    def _maintain(self) -> None:
        """Quarantine unknown files once, then sweep (retention, holds, disk pressure) and
        check integrity, until stopped."""
        orphans_checked = False
        while True:
            try:
                if not orphans_checked:
                    for vol_id in self.volumes.present_ids():
                        r = quarantine_orphans(self.catalog, vol_id)
                        if r.quarantined:
                            log.warning("volume %s: quarantined %d files the catalog does "
                                        "not know", self.catalog.volume_path(vol_id),
                                        len(r.quarantined))
                    orphans_checked = True
                self.sweeper.sweep()
                self.integrity.run_if_due()
            except Exception:  # a failing sweep must not stop recording; it is retried
                log.exception("maintenance pass failed")
            try:  # on its own: a sweep that keeps failing must not leave the log unanchored
                self.anchor.run_if_due()
            except Exception:
                log.exception("audit checkpoint failed")
            try:  # on its own too: the rector is reminded whatever the sweep does
                self.reminder.run_if_due()
            except Exception:
                log.exception("reminder of pending holds failed")
            if self._stop_maintenance.wait(self.settings.sweep_interval_s):
                return

    def sync_cameras(self) -> None:
        """Record cameras added, stop those removed, and give a camera whose sound setting
        (UE-10-22 3.1.2), URL or certificate pin changed a new session once the old one
        has closed its segment. On a node of a cluster, the cameras it holds the lease of,
        each under its epoch; a camera whose epoch changed gets a new session."""
        if not self._started:  # a lease's turn at start: its gaps first (`start`)
            return
        with self._sync_lock:
            self._sync()

    def _sync(self) -> None:
        cameras = {c.id: c for c in self.catalog.cameras()}
        epochs: Mapping[int, int] = {}
        standby: Mapping[int, int] = {}
        if self.leased is not None:
            epochs, standby = self.leased.held, self.leased.standby
            cameras = {i: c for i, c in cameras.items() if i in epochs or i in standby}
        self.registered = {c.name for c in cameras.values()}
        if self._powered_down:
            return  # nothing starts until the UPS is back on line
        for cam_id in set(self.supervisors) - set(cameras):
            sup = self.supervisors.pop(cam_id)
            sup.stop()
            if self.leased is not None:  # a hand-over waits for it (`release`)
                self._stopping[cam_id] = sup
            if cam_id in self.substreams:
                self.substreams.pop(cam_id).stop()
        for cam_id, sup in list(self._stopping.items()):
            if sup.join(0):
                del self._stopping[cam_id]
        for cam_id in set(self._restarting) - set(cameras):  # removed while restarting
            del self._restarting[cam_id]
        for cam_id, cam in cameras.items():
            transport = cam.transport or self.settings.rtsp_transport
            # the catalog's text becomes a SecretUrl here, before any log or status sees it
            source = CameraSource(id=cam.id, name=cam.name, url=SecretUrl(cam.main_url),
                                  transport=transport, keep_audio=cam.audio_order_no is not None,
                                  tls_fingerprint=cam.tls_fingerprint,
                                  epoch=epochs.get(cam_id, standby.get(cam_id)))
            running = self.supervisors.get(cam_id)
            if running is not None and running.source != source:
                running.stop()
                self._restarting[cam_id] = self.supervisors.pop(cam_id)
            elif running is not None and cam_id not in standby:
                running.grant()  # handed over: what it recorded beside the holder goes in
            old = self._restarting.get(cam_id)
            if cam_id in self.supervisors or not self._old_session_closed(source):
                continue
            sup = Supervisor(source, self.catalog, self.settings, self.volumes,
                             opener=self.clients.open, standby=cam_id in standby)
            if old is not None:  # the camera's certificate, still what it presents
                sup.status.certificate_sha256 = old.status.certificate_sha256
            self.supervisors[cam_id] = sup
            sup.start()
            if cam.sub_url and cam_id not in self.substreams:
                sub = SubStream(cam.name, SecretUrl(cam.sub_url), transport, self.settings)
                self.substreams[cam_id] = sub
                sub.start()

    def release(self, cameras: list[int]) -> None:
        """Stop recording cameras handed to another node, and wait (up to
        `shutdown_grace_s`) for their segments to be committed under this node's lease."""
        with self._sync_lock:
            going = [self.supervisors.pop(c) for c in cameras if c in self.supervisors]
            going += [self._restarting.pop(c) for c in cameras if c in self._restarting]
            going += [self._stopping.pop(c) for c in cameras if c in self._stopping]
            for c in cameras:
                if c in self.substreams:
                    self.substreams.pop(c).stop()
        for sup in going:
            sup.stop()
        deadline = time.monotonic() + self.settings.shutdown_grace_s
        for sup in going:
            if not sup.join(max(0.0, deadline - time.monotonic())):
                log.warning("camera %s did not stop in time to be handed over; its last "
                            "segment is refused by the new lease and kept in quarantine",
                            sup.source.name)

    def _old_session_closed(self, new: CameraSource) -> bool:
        """Whether a camera restarted for a new setting has closed its old session; the
        seconds until the new one records are a gap that says why."""
        old = self._restarting.get(new.id)
        if old is None:
            return True
        if not old.join(0):
            return False
        del self._restarting[new.id]
        if old.prev_end_ns is not None and old.granted:  # standing by: no timeline of ours
            self.catalog.open_gap(new.id, old.prev_end_ns, GapCause.PROCESS_STOPPED.value,
                                  f"new session: {_why_new_session(old.source, new)}")
        return True

    def standing(self, camera_id: int) -> bool:
        """Whether a camera offered to this node is recorded here beside its holder."""
        sup = self.supervisors.get(camera_id)
        return sup is not None and not sup.granted and sup.status.state is State.RECORDING

    def live(self, name: str, stream: Stream = Stream.MAIN) -> LiveHub | None:
        """The fan-out of a camera's stream recorded or relayed here, if any (not of one
        recorded beside its holder, waiting for it: the holder's is the camera's)."""
        if stream is Stream.MAIN:
            return next((s.live for s in self._recording() if s.source.name == name), None)
        return next((s.live for s in list(self.substreams.values()) if s.camera == name), None)

    def listen(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    def set_onvif_clock(self, camera: str, offset_ms: int | None) -> None:
        """The camera's clock as ONVIF read it (`kuzet.equipment.onvifwatch`), None when
        it could not be read: its status says it where no sender report does."""
        for s in list(self.supervisors.values()):
            if s.source.name == camera:
                s.onvif_clock_ms = offset_ms

    def report(self, key: str, part: StatusPart) -> None:
        """`part` answers `key` in status.json (detection's pipelines)."""
        self._parts[key] = part

    def parts(self) -> dict[str, Any]:
        """The other parts' entries of the status (detection, UPSes, time, the server),
        as `run/status.json` has them, read now (the API's metrics and health page)."""
        out: dict[str, Any] = {}
        for key, part in list(self._parts.items()):
            try:
                out[key] = part()
            except Exception:  # a part's fault must not fail its reader
                log.exception("status part %s failed", key)
        return out

    def camera_status(self) -> dict[str, dict[str, Any]]:
        """Every camera's status by name, read from the supervisors in memory (the API);
        not of a camera standing by (its holder says how it is)."""
        return {s.source.name: s.snapshot().to_json() for s in self._recording()}

    def _recording(self) -> list[Supervisor]:
        """The supervisors of the cameras this server records (not those standing by)."""
        return [s for s in list(self.supervisors.values()) if s.granted]

    def write_status(self) -> None:
        statuses = [s.snapshot().to_json() for s in self._recording()]
        self.last_statuses = statuses
        doc: dict[str, Any] = {"written_ns": time.time_ns(), "pid": os.getpid(),
                               "cameras": statuses}
        doc.update(self.parts())
        path = status_path(self.settings)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        tmp.replace(path)
        for listener in self._listeners:
            try:
                listener.tick(statuses)
            except Exception:  # an integration's fault must not stop the status loop
                log.exception("a status listener failed")

    @property
    def powered_down(self) -> bool:
        """Whether it records nothing until its UPS is back on line."""
        return self._powered_down

    def power_signal(self, why: str | None) -> None:
        """The UPS watch's word: `why` the power is about to go, or None once it is not."""
        self.power_low = why

    def _follow_power(self) -> None:
        if self.power_low is not None and not self._powered_down:
            self._power_down(self.power_low)
        elif self.power_low is None and self._powered_down:
            log.warning("power: the UPS is back on line; recording again")
            self._powered_down = False
            self.sync_cameras()
        self._write_power_gaps()

    def _power_down(self, why: str) -> None:
        """Close every camera's segment before the power goes, each outage a `power` gap
        from its last segment's end (UE-10-22 3.3.4: footage whole to the last fragment,
        and the archive saying why it stops there). A camera that does not stop within
        `shutdown_grace_s` (still connecting, a slow disk) stays among those restarting,
        so that no second session starts beside it when the power comes back."""
        log.warning("power: %s: closing every segment", why)
        with self._sync_lock:
            self._closing_for_power(why)

    def _closing_for_power(self, why: str) -> None:
        self._powered_down = True
        for sub in self.substreams.values():
            sub.stop()
        self.substreams.clear()
        stopping = {**self._restarting, **self.supervisors}
        self.supervisors.clear()
        for sup in stopping.values():
            sup.stop()
        self._restarting = dict(stopping)
        deadline = time.monotonic() + self.settings.shutdown_grace_s
        for cam_id, sup in stopping.items():
            if sup.join(max(0.0, deadline - time.monotonic())):
                del self._restarting[cam_id]
            elif sup.writing:
                log.warning("camera %s did not stop in time; its segment is salvaged at "
                            "next start", sup.source.name)
            if not sup.granted:
                continue  # standing by: the camera's timeline is its holder's
            start = sup.prev_end_ns if sup.prev_end_ns is not None else time.time_ns()
            self._power_gaps[cam_id] = (start, why)

    def _write_power_gaps(self) -> None:
        """The `power` gaps not written yet (the catalog busy as the power fails: tried
        again each second)."""
        for cam_id, (start, why) in list(self._power_gaps.items()):
            try:
                self.catalog.open_gap(cam_id, start, GapCause.POWER.value, why)
            except Exception:
                log.exception("power gap of camera %d not written yet", cam_id)
            else:
                del self._power_gaps[cam_id]

    def run_until(self, stop: threading.Event) -> None:
        last_sync = time.monotonic()
        while not stop.wait(STATUS_INTERVAL_S):
            try:
                self._follow_power()
            except Exception:  # tried again at the next tick; the status goes on
                log.exception("power: following the UPS failed")
            self.write_status()
            # a camera between sessions is looked at each tick: its new one starts as soon
            # as the old has closed, not up to SYNC_INTERVAL_S later
            if self._restarting or time.monotonic() - last_sync >= SYNC_INTERVAL_S:
                try:
                    self.sync_cameras()
                except Exception:  # the catalog unreachable (a failover): the cameras
                    log.exception("reading the register failed")  # record on meanwhile
                last_sync = time.monotonic()

    def shutdown(self) -> bool:
        """Stop every supervisor; True when all closed their segments within the grace time.

        A camera still connecting (a host that does not answer can hold its thread for
        `stall_s`) has no segment open, so it does not make the stop unclean.
        """
        self._stop_maintenance.set()
        for sub in self.substreams.values():
            sub.stop()
        for sup in self.supervisors.values():
            sup.stop()
        deadline = time.monotonic() + self.settings.shutdown_grace_s
        clean = True
        for sup in [*self.supervisors.values(), *self._restarting.values(),
                    *self._stopping.values()]:
            if not sup.join(max(0.0, deadline - time.monotonic())) and sup.writing:
                log.warning("camera %s did not stop in time; its segment is salvaged at next "
                            "start", sup.source.name)
                clean = False
        self.write_status()
        try:  # what this run wrote, anchored before the process is gone
            self.anchor.checkpoint()
        except Exception:  # the stop must still finish; the next hourly one covers it
            log.exception("audit checkpoint at stop failed")
        if clean:
            self._lock.unlink(missing_ok=True)
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = -1
        return clean

