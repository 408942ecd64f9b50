"""MQTT publication: each camera's status, retained, on `kuzet/<site>/cameras/<camera>/
status`; the server's own presence on `kuzet/<site>/server/status` ("online", and
"offline" left with the broker as the last will, so subscribers learn of a crash).

`publish` never blocks and never raises: it hands the message to a thread with its own
event loop (aiomqtt). While the broker is unreachable the thread retries with backoff
(at most `BACKOFF_MAX_S` between tries); retained statuses are kept, latest per topic,
and sent again on every reconnect; other messages wait in a bounded queue that drops
its oldest when full (counted in `dropped`). Credentials come in the URL
(`mqtt://user:password@host:1883`, a `SecretUrl` revealed only where the broker's address
is read for connecting) and are never logged.

Each connection goes to an address of the broker checked just then against the LAN
(`access.destinations`, clause 3.5.3), not to the name: when the broker's name has come to
point outside the LAN (and the broker is not the external endpoint), the thread does not
connect, logs the refusal, raises the `non_lan_egress` alarm and tries again with the
backoff, keeping what waits; the next connection that is allowed clears the alarm.

`MqttNotifier` is what `kuzet serve` builds through `kuzet.hooks` when `mqtt_url` is set:
camera statuses through `StatusFeed`, detection events on `kuzet/<site>/events` (never
with a picture), each camera's tamper conditions, retained, and the audit log's signed
checkpoints, retained on `kuzet/<site>/audit/checkpoint`, and each alarm raised or
cleared, retained on `kuzet/<site>/alarms/<kind>/<subject>` (issue 22: a subscriber
learns the equipment's open alarms on connecting), unless the broker is the external
endpoint outside the LAN, which hears no alarm.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import threading
from typing import Any

import aiomqtt

from kuzet.access.destinations import Destination, OutsideLan
from kuzet.config import Settings, parse_broker
from kuzet.credentials import SecretUrl
from kuzet.hooks import (
    AlarmChange,
    AuditCheckpoint,
    CameraStatuses,
    DetectionEvent,
    EgressAlarm,
    Message,
    TamperChange,
)
from kuzet.integrations.status import StatusFeed
from kuzet.timefmt import format_instant

log = logging.getLogger(__name__)
BACKOFF_MAX_S = 10.0
QUEUE_MAX = 1000


class MqttPublisher:
    def __init__(self, url: SecretUrl, site: str, destination: Destination,
                 alarm: EgressAlarm) -> None:
        self.broker = parse_broker(url)
        self.destination = destination
        self.alarm = alarm
        self.refused = False  # the last connection was refused: the alarm is up
        self.prefix = f"kuzet/{site}"
        self.dropped = 0
        self.connected = threading.Event()
        self._retained: dict[str, bytes] = {}
        self._queue: collections.deque[tuple[str, bytes]] = collections.deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(5)

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._poke()
        self._thread.join(timeout)

    def publish(self, suffix: str, payload: dict[str, Any], retain: bool = False) -> None:
        topic = f"{self.prefix}/{suffix}"
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        with self._lock:
            if retain:
                self._retained[topic] = data
            else:
                if len(self._queue) >= QUEUE_MAX:
                    self._queue.popleft()
                    self.dropped += 1
                self._queue.append((topic, data))
        self._poke()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            loop.call_soon_threadsafe(wake.set)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._ready.set()
        delay = 0.5
        presence = f"{self.prefix}/server/status"
        while not self._stop.is_set():
            try:
                address = await asyncio.to_thread(self.destination.checked_address)
                async with aiomqtt.Client(
                        address, self.broker.port, username=self.broker.username,
                        password=self.broker.password, timeout=5, keepalive=30,
                        will=aiomqtt.Will(presence, b"offline", qos=1, retain=True)) as client:
                    log.info("MQTT: connected to %s", self.broker.shown)
                    self.connected.set()
                    if self.refused:
                        self.refused = False
                        await asyncio.to_thread(self.alarm.clear, "mqtt_url")
                    delay = 0.5
                    await client.publish(presence, b"online", qos=1, retain=True)
                    await self._pump(client)
                    await client.publish(presence, b"offline", qos=1, retain=True)
                    return
            except OutsideLan as exc:
                log.error("MQTT: %s; retrying in %.1f s", exc, delay)
                await asyncio.to_thread(self.alarm.raise_, "mqtt_url", str(exc))
                self.refused = True
            except (aiomqtt.MqttError, OSError) as exc:
                self.connected.clear()
                log.warning("MQTT: %s unreachable (%s); retrying in %.1f s",
                            self.broker.shown, type(exc).__name__, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped(), delay)
            delay = min(BACKOFF_MAX_S, delay * 2)

    async def _stopped(self) -> None:
        while not self._stop.is_set():
            await asyncio.sleep(0.1)

    async def _pump(self, client: aiomqtt.Client) -> None:
        """Send what waits until stopped; every retained status again on each connection
        (the broker may have restarted without them)."""
        assert self._wake is not None
        sent: dict[str, bytes] = {}
        while True:
            with self._lock:
                retained = [(t, d) for t, d in self._retained.items() if sent.get(t) != d]
                queued = list(self._queue)
                self._queue.clear()
            for k, (topic, data) in enumerate(queued):
                try:
                    await client.publish(topic, data, qos=1)
                except aiomqtt.MqttError:
                    with self._lock:  # not sent: back at the front, in order
                        self._queue.extendleft(reversed(queued[k:]))
                    raise
            for topic, data in retained:
                await client.publish(topic, data, qos=1, retain=True)
                sent[topic] = data
            if self._stop.is_set():
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)


class MqttNotifier:
    """Everything `kuzet serve` tells the broker, by topic."""

    hears: frozenset[type[Message]] = frozenset(
        {CameraStatuses, DetectionEvent, TamperChange, AuditCheckpoint, AlarmChange})

    def __init__(self, url: SecretUrl, site: str, destination: Destination,
                 alarm: EgressAlarm) -> None:
        self.publisher = MqttPublisher(url, site, destination, alarm)
        self.feed = StatusFeed(self.publisher.publish)
        self.shown = (f"camera status to {self.publisher.broker.shown} as "
                      f"{self.publisher.prefix}/cameras/<camera>/status")

    def start(self) -> None:
        self.publisher.start()

    def stop(self) -> None:
        self.publisher.stop()

    def notify(self, message: Message) -> None:
        publish = self.publisher.publish
        match message:
            case CameraStatuses(cameras, at_ns):
                self.feed.offer(cameras, at_ns)
            case DetectionEvent(said, _):
                publish("events", said, False)
            case TamperChange(camera, active, at_ns):
                publish(f"cameras/{camera}/tamper", {
                    "camera": camera, "active": active, "at": format_instant(at_ns)}, True)
            case AuditCheckpoint(doc):
                publish("audit/checkpoint", doc, True)
            case AlarmChange(kind, subject, severity, text, raised, at_ns) \
                    if not self.publisher.destination.external:  # as the webhook's
                publish(f"alarms/{kind}/{topic_level(subject)}", {
                    "alarm": kind, "subject": subject, "severity": severity, "message": text,
                    "state": "raised" if raised else "cleared",
                    "at": format_instant(at_ns)}, True)


def topic_level(name: str) -> str:
    """`name` as one topic level: a volume's path or a setting may hold '/', '+' or '#',
    which MQTT reads as levels and wildcards."""
    return "".join("_" if c in "/+#" else c for c in name) or "_"


def from_settings(settings: Settings, alarm: EgressAlarm) -> MqttNotifier | None:
    destination = settings.destination("mqtt_url")
    if settings.mqtt_url is None or destination is None:
        return None
    return MqttNotifier(settings.mqtt_url, settings.mqtt_site, destination, alarm)
