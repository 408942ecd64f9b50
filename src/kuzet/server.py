"""`kuzet serve` assembled in one place: each part built once and handed only what it uses.

The command used to wire detection, MQTT and the API through helpers typed `Any`,
append lambdas to the recorder's listeners and patch the API's detection store after the
fact, and three parts each built their own `Alarms`. Here the catalog's one `Alarms`
goes to the recorder, detection and the API; detection's store goes to the API when it
is built; notifiers and the detector come from `kuzet.hooks`, where Kuzet's own are
registered by `kuzet.builtins`; each notifier decides
from the settings whether it is configured; detection (`DetectionSettings`), the API
server (`Listen`), its handlers (`WebSettings`) and each notifier get their own few
settings, not all of them. The volumes and the holds are built once, here, for the
recorder (and its sweeper) and the API alike.

Start and stop keep the order recording depends on: the recorder first (recovery, and
the refusal of a second server on the same home), then notifiers, detection, the API;
at the stop the API first (no request reads a closing catalog), detection told to stop,
notifiers that hear detection only, the recorder (closing every segment, its last status
and audit checkpoint), detection's last minute of activity, and last the notifiers that
hear the recorder, so that its last words still go out.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, Literal

from kuzet.access.destinations import Destination
from kuzet.access.lan import ClientAddress, allowed, parse_address
from kuzet.access.reconcile import reconcile
from kuzet.access.secretbox import SecretBox, key_path
from kuzet.access.tls import make_self_signed
from kuzet.analytics.service import DetectionService, DetectionSettings
from kuzet.analytics.store import ACTIVITY, EVENT_PICTURES
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import SYSTEM
from kuzet.builtins import builtin
from kuzet.catalog.alarms import Alarms, Change, Severity
from kuzet.catalog.db import schema_of
from kuzet.catalog.models import Volume
from kuzet.catalog.store import Catalog
from kuzet.cluster.ca import node_tls
from kuzet.cluster.internal import InternalServer
from kuzet.cluster.leases import Leases, Me
from kuzet.cluster.live_relay import LiveRelays
from kuzet.cluster.member import Member
from kuzet.cluster.remote import Remote
from kuzet.config import Settings
from kuzet.endpoints import UpsAddress
from kuzet.equipment.clockwatch import ClockWatch
from kuzet.equipment.diskwatch import DiskWatch
from kuzet.equipment.onvifwatch import OnvifClocks
from kuzet.equipment.periodic import Periodic
from kuzet.equipment.power import UpsWatch
from kuzet.equipment.reach import NetworkWatch
from kuzet.equipment.register import Register
from kuzet.equipment.serverhealth import Limits
from kuzet.equipment.serverwatch import ServerWatch
from kuzet.equipment.throughput import WriteWatch
from kuzet.equipment.timesync import query
from kuzet.equipment.ups import Reading, read_ups
from kuzet.export.execute import expire_packages
from kuzet.governance.holds import Holds
from kuzet.governance.protocols import PROTOCOL_FRAMES
from kuzet.hooks import (
    AlarmChange,
    AuditCheckpoint,
    CameraStatuses,
    Message,
    Notifier,
)
from kuzet.integrations.dead_letters import dead_letters_file
from kuzet.integrations.dead_letters import expire as expire_dead_letters
from kuzet.recorder.service import RecorderService
from kuzet.restream.service import Restream, RestreamSettings
from kuzet.storage.derived import Beside
from kuzet.storage.volumes import Volumes
from kuzet.web.server import ApiServer, Listen
from kuzet.web.services import Services, WebSettings

Say = Callable[[str], None]  # a line for the operator
JOIN_DETECTION_S = 2.0
VOLUMES_S = 30.0  # a node's heartbeat reads its volume list this often
RECORDER: frozenset[type[Message]] = frozenset({CameraStatuses, AuditCheckpoint, AlarmChange})
NON_LAN_EGRESS = "non_lan_egress"  # the alarm of a destination refused outside the LAN


class Notifiers:
    """The notifiers the settings ask for, as one: each message to those that hear it."""

    def __init__(self, notifiers: list[Notifier]) -> None:
        self.all = notifiers

    def start(self, say: Say) -> None:
        for n in self.all:
            n.start()
            if n.shown:
                say(f"kuzet serve: {n.shown}")

    def notify(self, message: Message) -> None:
        for n in self.all:
            if type(message) in n.hears:
                n.notify(message)

    def tick(self, statuses: list[dict[str, Any]]) -> None:
        """The recorder's status listener."""
        self.notify(CameraStatuses(statuses, time.time_ns()))

    def checkpoint(self, doc: dict[str, Any]) -> None:
        """The audit anchor's publisher."""
        self.notify(AuditCheckpoint(doc))

    def alarm(self, change: Change) -> None:
        """The alarms' listener."""
        self.notify(AlarmChange(change.kind, change.subject, change.severity, change.message,
                                change.raised, change.at_ns))

    def stop(self, *, hearing_recorder: bool) -> None:
        for n in self.all:
            if bool(n.hears & RECORDER) == hearing_recorder:
                n.stop()


class EgressAlarms:
    """The notifiers' `EgressAlarm`: the catalog's critical `non_lan_egress` alarm, one per
    setting that names a destination."""

    def __init__(self, alarms: Alarms) -> None:
        self.alarms = alarms

    def raise_(self, subject: str, message: str) -> None:
        self.alarms.raise_(NON_LAN_EGRESS, subject, Severity.CRITICAL, message)

    def clear(self, subject: str) -> None:
        self.alarms.clear(NON_LAN_EGRESS, subject)


def kept_beside(settings: Settings, catalog: Catalog) -> Beside:
    """What Kuzet keeps beside the footage, for the sweeper to delete with it (clause 3.3):
    event pictures, activity and protocol frames with the footage they show, export
    packages when their approval expires, the webhook's dead letters after 30 days."""
    return Beside((EVENT_PICTURES, ACTIVITY, PROTOCOL_FRAMES),
                  functools.partial(expire_packages, catalog.session, settings.home),
                  functools.partial(expire_dead_letters,
                                    dead_letters_file(settings.home)))


class Server:
    def __init__(self, settings: Settings, catalog: Catalog, say: Say) -> None:
        self.settings = settings
        self.catalog = catalog
        self.say = say
        self.alarms = Alarms(catalog.session)
        volumes = Volumes(catalog, settings, self.alarms)
        holds = Holds(catalog, settings.hold_decision_window_days)
        self.recorder = RecorderService(settings, catalog, self.alarms, volumes, holds,
                                        kept_beside(settings, catalog))
        hooks = builtin()
        self.notifiers = Notifiers(hooks.build_notifiers(settings, EgressAlarms(self.alarms)))
        self.alarms.listen(self.notifiers.alarm)
        # an alarm about a register item opens a fault in its log, closed when it clears
        self.register = Register(catalog.session, settings.buildings)
        self.alarms.listen(self.register.on_alarm)
        self.detection = DetectionService(DetectionSettings.of(settings), catalog,
                                          self.recorder.live, self.alarms, hooks.detectors,
                                          self._notify)
        self.services = Services(WebSettings.of(settings), catalog, self.recorder.camera_status,
                                 time.time_ns, self.alarms, self.detection.store, volumes,
                                 holds, self.recorder.live, parts=self.recorder.parts)
        self.api = ApiServer(Listen.of(settings), self.services)
        # live video to the registered centres (3.2.11), from the recorder's fan-out
        self.restream = Restream(RestreamSettings.of(settings), self.services.centres,
                                 self.recorder.live, self.services.restream_journal)
        self.services.restream = self.restream
        self.watches: list[Periodic] = []
        self.member: Member | None = None
        self.internal: InternalServer | None = None
        self._internal_at: list[str | int] | None = None  # [address, port], once listening
        self._volumes_read: tuple[float, list[Volume]] = (-1e9, [])
        if settings.node is not None:  # one of several recording servers (issue 25)
            self.member = Member(Leases(catalog, Me(
                settings.node, tuple(settings.node_addresses), version("kuzet"),
                schema_of(catalog.engine) or "", settings.node_max_cameras,
                settings.node_max_mbps, settings.node_building), settings.lease_ttl_s),
                self.recorder.release, self.recorder.sync_cameras, self._node_status,
                lambda: not self.recorder.powered_down, self.recorder.standing)
            self.recorder.leased = self.member
            self.watches.append(Periodic("cluster-lease", settings.lease_renew_s,
                                         self.member.turn))
            # footage between the nodes, where the cluster has its authority (issue 25)
            tls = node_tls(catalog, SecretBox(key_path(settings.home.resolve())),
                           settings.home, settings.node)
            if tls is not None:
                lan = settings.lan
                self.internal = InternalServer(
                    settings.api_host, settings.node_port, tls, catalog,
                    lambda ip: allowed(ClientAddress(parse_address(ip), ip), lan),
                    self.recorder.live)
            remote = Remote(catalog, tls, settings.lease_ttl_s)
            self.services.footage.remote = remote
            self.services.relays = LiveRelays(remote, settings.node)
        if settings.ups:
            lan = settings.lan

            def read(a: UpsAddress) -> Reading:  # to an address on the LAN only (3.5.3)
                return read_ups(a, connect=Destination.on_lan("ups", a.host, a.port,
                                                              lan).connect)

            ups = UpsWatch({n: UpsAddress.parse(a) for n, a in settings.ups.items()},
                           self.alarms, settings.server_ups, self.recorder.power_signal, read)
            self.watches.append(Periodic("ups-watch", settings.ups_poll_s, ups.poll))
            self.recorder.report("ups", ups.status)
        if settings.ntp_servers:
            clock = ClockWatch(settings.server_name, settings.ntp_servers,
                               settings.time_alarm_ms, self.alarms,
                               functools.partial(query, lan=settings.lan))
            self.watches.append(Periodic("clock-watch", settings.time_poll_s, clock.poll))
            self.recorder.report("time", clock.status)
        # disks and md arrays (3.3.7); with no disk named and no md driver, nothing to read
        disks = DiskWatch(settings.disks, settings.arrays, self.alarms,
                          settings.disk_hot_alarm_c, mdstat=settings.mdstat)
        self.watches.append(Periodic("disk-watch", settings.disk_poll_s, disks.poll))
        self.recorder.report("disks", disks.status)
        if settings.volume_write_probe_mb:
            writes = WriteWatch(volumes, self.recorder.camera_status, self.alarms,
                                settings.volume_write_probe_mb << 20,
                                settings.volume_write_margin)
            self.watches.append(Periodic("write-watch", settings.disk_poll_s, writes.poll))
            self.recorder.report("writes", writes.status_part)
        # this machine's load, memory and temperature (3.3.5): /proc and /sys, 0.05 ms a
        # reading on this test machine (no sensors); the catalog only when an alarm is open
        machine = ServerWatch(settings.server_name, Limits(
            settings.server_load_alarm, settings.server_memory_alarm_percent,
            settings.server_hot_alarm_c), self.alarms)
        self.watches.append(Periodic("server-watch", settings.server_poll_s, machine.poll))
        if settings.network_poll_s:
            network = NetworkWatch(self.register, self.alarms,
                                   settings.network_probe_port, settings.lan)
            self.watches.append(Periodic("network-watch", settings.network_poll_s,
                                         network.poll))
        self.recorder.report("server", machine.status)
        if settings.onvif_clock_poll_s:
            # cameras' clocks over ONVIF where RTCP does not tell them (3.4.1)
            clocks = OnvifClocks(catalog.cameras, self.recorder.set_onvif_clock,
                                 settings.lan)
            self.watches.append(Periodic("onvif-clock", settings.onvif_clock_poll_s,
                                         clocks.poll))
            self.recorder.report("onvif_clock", clocks.status)

    def _advertised(self) -> str:
        """The address the other nodes reach this one's endpoint at."""
        if self.settings.node_addresses:
            return self.settings.node_addresses[0]
        host = self.settings.api_host
        return socket.gethostname() if host in ("0.0.0.0", "::") else host  # noqa: S104

    def _node_status(self) -> dict[str, Any]:
        """What this node's heartbeat says of it: its cameras (as the status loop last
        saw them: no snapshot of its own) and its disks (the volume list read again each
        half-minute)."""
        cams = {c["camera"]: c for c in self.recorder.last_statuses}
        if time.monotonic() - self._volumes_read[0] > VOLUMES_S:
            self._volumes_read = (time.monotonic(), self.catalog.volumes())
        vols: list[dict[str, Any]] = []
        for v in self._volumes_read[1]:
            try:
                use = shutil.disk_usage(v.path)
            except OSError:  # the disk gone: said so, not a failed heartbeat
                vols.append({"name": v.name, "path": v.path, "state": v.state})
                continue
            vols.append({"name": v.name, "path": v.path, "state": v.state,
                         "total": use.total, "free": use.free})
        return {"cameras": len(cams), "internal": self._internal_at,
                "recording": sum(1 for c in cams.values() if c.get("state") == "recording"),
                "bitrate_bps": sum(c.get("bitrate_bps") or 0 for c in cams.values()),
                "volumes": vols, "pid": os.getpid()}

    def _notify(self, message: Message) -> None:
        """Detection's messages to the notifiers, each event with the camera's restream
        URL for the centres that receive it (3.2.11)."""
        self.notifiers.notify(self.restream.linked(message))

    def start(self) -> None:
        """Start every part; `AlreadyRunning` when another server records into this home."""
        recorder = self.recorder
        recorder.start()
        try:
            # what an older Kuzet let the command line decide, before anyone is answered
            for line in reconcile(self.catalog.session, time.time_ns()).lines():
                self.say(f"kuzet serve: WARNING: {line}")
            self.notifiers.start(self.say)
            self._audit_external()
            recorder.listen(self.notifiers)
            for watch in self.watches:
                watch.start()
            recorder.anchor.publish_to(self.notifiers.checkpoint)
            self.detection.sync()
            recorder.listen(self.detection)
            recorder.report("detection", self.detection.status)
            recorder.write_status()
            vols = ", ".join(v.path for v in self.catalog.volumes())
            self.say(f"kuzet serve: recording {len(recorder.supervisors)} cameras into "
                     f"{vols}")
            if self.settings.tls_cert is None:
                make_self_signed(self.settings.cert_path, self.settings.key_path)
            urls = self.api.start()
            restream = self.restream.start()
            if self.internal is not None:
                port = self.internal.start()
                self._internal_at = [self._advertised(), port]
                self.say(f"kuzet serve: node {self.settings.node}'s internal endpoint at "
                         f"{self._internal_at[0]}:{port} (mutual TLS)")
        except BaseException:
            # A part that fails to start (the HTTPS port taken, say) must not leave the
            # recorder running behind the error with its lock held: close its segments.
            self.recorder.shutdown()
            raise
        # What start-up made (modules, the app, ORM mappers, supervisors) lives as long as
        # the process. Freezing it keeps every full collection from walking it all again:
        # those walks were the API's latency tail (bench/api.py p99 117 → 57 ms,
        # docs/design/access.md).
        gc.freeze()
        self.say(f"kuzet serve: console and HTTP API at {urls['https']}")
        if restream:
            self.say("kuzet serve: live video to registered centres at "
                     + ", ".join(v for k, v in restream.items() if k != "fingerprint"))

    def _audit_external(self) -> None:
        """Clauses 3.2.11, 3.5.3: at each start, the one endpoint outside the LAN that
        hears Kuzet, as the settings name it (password masked), and what it receives."""
        endpoint = self.settings.external_endpoint
        if endpoint is None:
            return
        settings: list[Literal["webhook_url", "mqtt_url"]] = ["webhook_url", "mqtt_url"]
        sends = [name for name in settings
                 if (d := self.settings.destination(name)) is not None and d.external]
        self.recorder.audit.record(SYSTEM, AuditAction.EGRESS_EXTERNAL, endpoint.shown,
                                   {"endpoint": endpoint.shown, "settings": sends,
                                    "pictures": False})
        self.say(f"kuzet serve: sending outside the LAN to {endpoint.shown} "
                 f"({', '.join(sends)}, never a picture)")

    def run_until(self, stop: threading.Event) -> int:
        """Record until `stop` is set, then stop every part; 0 when every camera closed its
        segment in time, else 1 (the next start salvages what was left)."""
        try:
            self.recorder.run_until(stop)
        finally:
            self.restream.stop()
            self.api.stop()
            if self.internal is not None:
                self.internal.stop()
            if self.services.footage.remote is not None:
                self.services.footage.remote.close()
        for watch in self.watches:
            watch.stop()
        stopping = self.detection.stop()
        self.notifiers.stop(hearing_recorder=False)
        clean = self.recorder.shutdown()
        if self.member is not None:  # its cameras to the other nodes at their next turn
            try:
                self.member.leases.let_go()
            except Exception:  # the catalog unreachable: the leases run out by themselves
                logging.getLogger(__name__).exception("letting the leases go failed")
        self.detection.join(stopping, JOIN_DETECTION_S)
        self.notifiers.stop(hearing_recorder=True)
        return 0 if clean else 1
