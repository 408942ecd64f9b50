"""Events to an HTTP endpoint (the campus's own, or the police operational centre's as the
external endpoint), signed.

Each event is POSTed as JSON with `X-Kuzet-Signature: sha256=<hex>`, the HMAC-SHA256 of
the exact body under the shared secret, and `X-Kuzet-Delivery`, an id that stays the
same across retries so the receiver can drop duplicates. A delivery that fails (no
answer, or not 2xx) is retried with backoff (1, 2, 4 … s, at most `attempts` tries); one
that never succeeds goes to the dead-letter file (`<home>/run/webhook-dead-letters.jsonl`,
one JSON line each, with the last error, without its picture, for at most 30 days:
`integrations.dead_letters`) for someone to look at and replay. Sending runs
in a thread of its own with a bounded queue: `send` never blocks detection. Pictures go
only to an endpoint allowed to receive them (`webhook_images`), never to the external one.

Each delivery connects to an address checked just then against the LAN
(`access.destinations`, clause 3.5.3): when the endpoint's name has come to point outside
it, the delivery is refused without a try more, dead-lettered with the refusal, logged,
and the `non_lan_egress` alarm raised (cleared by the next delivery that goes out). The
connection is made with `http.client` rather than `urllib`, which would look the name up
again (and follow a proxy from the environment) after the check.

`kuzet serve` builds one through `kuzet.hooks` when `webhook_url` is set; it hears
detection events and, where it is inside the LAN, alarms raised or cleared (`{"alarm":
kind, "subject", "severity", "message", "state": "raised"|"cleared", "at"}`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import logging
import queue
import ssl
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kuzet.access.destinations import Destination, OutsideLan
from kuzet.hooks import AlarmChange, DetectionEvent, EgressAlarm, Message
from kuzet.integrations import dead_letters as letters
from kuzet.timefmt import format_instant

if TYPE_CHECKING:
    from pydantic import SecretStr

    from kuzet.config import Settings

log = logging.getLogger(__name__)
QUEUE_MAX = 1000


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class _Checked(http.client.HTTPConnection):
    """A connection whose socket goes only to an address checked just now."""

    destination: Destination
    timeout_s: float

    def connect(self) -> None:
        self.sock = self.destination.connect(self.timeout_s)


class _CheckedHTTPS(http.client.HTTPSConnection, _Checked):
    """TLS over `_Checked`'s socket: `HTTPSConnection.connect` opens it through
    `_Checked.connect` (next in the order) and verifies the certificate for the name."""


def _connection(url: str, destination: Destination, timeout_s: float
                ) -> http.client.HTTPConnection:
    u = urlsplit(url)
    conn: _Checked
    if u.scheme == "https":
        conn = _CheckedHTTPS(destination.host, destination.port, timeout=timeout_s,
                             context=ssl.create_default_context())
    else:
        conn = _Checked(destination.host, destination.port, timeout=timeout_s)
    conn.destination, conn.timeout_s = destination, timeout_s
    return conn


class Webhooks:
    hears: frozenset[type[Message]] = frozenset({DetectionEvent, AlarmChange})
    shown = None

    def __init__(self, url: str, secret: SecretStr, dead_letters: Path, destination: Destination,
                 alarm: EgressAlarm, *, images: bool = False, attempts: int = 5,
                 backoff_s: float = 1.0, timeout_s: float = 5.0) -> None:
        self.url = url
        self.destination = destination
        self.alarm = alarm
        # clauses 3.5.1, 3.5.3: a picture never leaves the LAN, whatever the settings say
        self.images = images and not destination.external
        self.refused = False  # the last delivery was refused: the alarm is up
        self.secret = secret
        self.dead_letters = dead_letters
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.delivered = 0
        self.dropped = 0
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(QUEUE_MAX)
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._thread.join(timeout)

    def notify(self, message: Message) -> None:
        if isinstance(message, DetectionEvent):
            said = message.said
            if self.images and message.picture is not None:
                said = {**said,
                        "snapshot_jpeg_base64": base64.b64encode(message.picture).decode()}
            self.send(said)
        elif isinstance(message, AlarmChange) and not self.destination.external:
            # issue 22: alarms, raised and cleared, to the campus's own systems only: the
            # police's or an operations centre's endpoint outside the LAN hears events,
            # never the installation's internals (refused addresses, paths, names)
            self.send({"alarm": message.kind, "subject": message.subject,
                       "severity": message.severity, "message": message.message,
                       "state": "raised" if message.raised else "cleared",
                       "at": format_instant(message.at_ns)})

    def send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            self._queue.put_nowait((uuid.uuid4().hex, body))
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            delivery, body = item
            try:
                self._deliver(delivery, body)
            except OutsideLan as exc:
                self._refuse(delivery, body, str(exc))

    def _deliver(self, delivery: str, body: bytes) -> None:
        error = ""
        for attempt in range(self.attempts):
            error = self._post(delivery, body)
            if not error:
                self.delivered += 1
                if self.refused:
                    self.refused = False
                    self.alarm.clear("webhook_url")
                return
            if attempt + 1 < self.attempts:
                time.sleep(self.backoff_s * 2**attempt)
        log.warning("webhook: delivery %s failed %d times (%s); dead-lettered",
                    delivery, self.attempts, error)
        self._dead(delivery, body, error)

    def _refuse(self, delivery: str, body: bytes, reason: str) -> None:
        """Nothing was sent: the endpoint's name points outside the LAN now."""
        log.error("webhook: delivery %s %s; dead-lettered", delivery, reason)
        self.refused = True
        self.alarm.raise_("webhook_url", reason)
        self._dead(delivery, body, reason)

    def _post(self, delivery: str, body: bytes) -> str:
        """'' when delivered, else what went wrong; `OutsideLan` when it may not be sent."""
        signed = signature(self.secret.get_secret_value().encode(), body)
        u = urlsplit(self.url)
        target = (u.path or "/") + (f"?{u.query}" if u.query else "")
        conn = _connection(self.url, self.destination, self.timeout_s)
        try:
            conn.request("POST", target, body=body, headers={
                "content-type": "application/json", "x-kuzet-delivery": delivery,
                "x-kuzet-signature": signed, "user-agent": "kuzet"})
            answer = conn.getresponse()
            answer.read()
            return "" if 200 <= answer.status < 300 else f"HTTP {answer.status}"
        except (OSError, http.client.HTTPException) as exc:
            return str(exc) or type(exc).__name__
        finally:
            conn.close()

    def _dead(self, delivery: str, body: bytes, error: str) -> None:
        letters.append(self.dead_letters, {
            "delivery": delivery, "url": self.url, "error": error,
            "failed_ns": time.time_ns(), "body": json.loads(body)})


def from_settings(settings: Settings, alarm: EgressAlarm) -> Webhooks | None:
    destination = settings.destination("webhook_url")
    if settings.webhook_url is None or settings.webhook_secret is None or destination is None:
        return None
    return Webhooks(settings.webhook_url, settings.webhook_secret,
                    letters.dead_letters_file(settings.home), destination, alarm,
                    images=settings.webhook_images)
