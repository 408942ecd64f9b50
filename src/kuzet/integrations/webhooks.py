"""Events to an HTTP endpoint (the police operational centre's, the campus's own), signed.

Each event is POSTed as JSON with `X-Kuzet-Signature: sha256=<hex>`, the HMAC-SHA256 of
the exact body under the shared secret, and `X-Kuzet-Delivery`, an id that stays the
same across retries so the receiver can drop duplicates. A delivery that fails (no
answer, or not 2xx) is retried with backoff (1, 2, 4 … s, at most `attempts` tries); one
that never succeeds goes to the dead-letter file (`<home>/run/webhook-dead-letters.jsonl`,
one JSON line each, with the last error) for someone to look at and replay. Sending runs
in a thread of its own with a bounded queue: `send` never blocks detection. Pictures go
only to an endpoint allowed to receive them (`webhook_images`).

`kuzet serve` builds one through `kuzet.hooks` when `webhook_url` is set; it hears
detection events only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kuzet.hooks import DetectionEvent, Message

if TYPE_CHECKING:
    from pydantic import SecretStr

    from kuzet.config import Settings

log = logging.getLogger(__name__)
QUEUE_MAX = 1000


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class Webhooks:
    hears: frozenset[type[Message]] = frozenset({DetectionEvent})
    shown = None

    def __init__(self, url: str, secret: SecretStr, dead_letters: Path, *, images: bool = False,
                 attempts: int = 5, backoff_s: float = 1.0, timeout_s: float = 5.0) -> None:
        self.url = url
        self.images = images
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

    def send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            self._queue.put_nowait((uuid.uuid4().hex, body))
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            delivery, body = item
            error = ""
            for attempt in range(self.attempts):
                error = self._post(delivery, body)
                if not error:
                    self.delivered += 1
                    break
                if attempt + 1 < self.attempts:
                    time.sleep(self.backoff_s * 2**attempt)
            else:
                log.warning("webhook: delivery %s failed %d times (%s); dead-lettered",
                            delivery, self.attempts, error)
                self._dead(delivery, body, error)

    def _post(self, delivery: str, body: bytes) -> str:
        """'' when delivered, else what went wrong."""
        signed = signature(self.secret.get_secret_value().encode(), body)
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "content-type": "application/json", "x-kuzet-delivery": delivery,
            "x-kuzet-signature": signed, "user-agent": "kuzet"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                return "" if 200 <= answer.status < 300 else f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return str(getattr(exc, "reason", exc))

    def _dead(self, delivery: str, body: bytes, error: str) -> None:
        self.dead_letters.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"delivery": delivery, "url": self.url, "error": error,
                           "failed_ns": time.time_ns(), "body": json.loads(body)},
                          ensure_ascii=False)
        with self.dead_letters.open("a") as f:
            f.write(line + "\n")


def from_settings(settings: Settings) -> Webhooks | None:
    if settings.webhook_url is None or settings.webhook_secret is None:
        return None
    return Webhooks(settings.webhook_url, settings.webhook_secret,
                    settings.home / "run" / "webhook-dead-letters.jsonl",
                    images=settings.webhook_images)
