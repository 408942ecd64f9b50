"""Webhooks (issue 7, clause 3.2.11): a receiver in the test checks each delivery's
HMAC-SHA256 signature, fails the first tries to make Kuzet retry, and a delivery to an
endpoint that never answers lands in the dead-letter file; settings refuse an unsigned
webhook. Where a webhook may point (the LAN only, clause 3.5.3): tests/test_egress.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from conftest import Storage, wait_for
from kuzet.access.destinations import Destination
from kuzet.access.lan import DEFAULT_ALLOWED, parse_networks
from kuzet.config import Settings
from kuzet.hooks import DetectionEvent
from kuzet.integrations.dead_letters import dead_letters_file
from kuzet.integrations.webhooks import Webhooks
from kuzet.storage.retention import DAY_NS

SECRET = "a shared secret of the police centre"


class Receiver:
    """An HTTP endpoint that answers 503 to the first `failures` deliveries."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.seen: list[tuple[str, bytes, bool]] = []  # delivery id, body, signature ok
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the http.server name
                body = self.rfile.read(int(self.headers["content-length"]))
                want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(want, self.headers["x-kuzet-signature"])
                outer.seen.append((self.headers["x-kuzet-delivery"], body, ok))
                failing = len(outer.seen) <= outer.failures
                self.send_response(503 if failing or not ok else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kuzet"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Alarm:
    """What the webhook says to the `non_lan_egress` alarm (never a word, on the LAN)."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def raise_(self, subject: str, message: str) -> None:
        self.said.append(message)

    def clear(self, subject: str) -> None:
        self.said.append(f"{subject} cleared")


def on_lan(url: str) -> Destination:
    return Destination.of("webhook_url", url, parse_networks(DEFAULT_ALLOWED), None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.close()


def test_signed_deliveries_are_retried_until_accepted(receiver: Receiver,
                                                      tmp_path: Path) -> None:
    alarm = Alarm()
    hooks = Webhooks(receiver.url, SecretStr(SECRET), tmp_path / "dead.jsonl",
                     on_lan(receiver.url), alarm, backoff_s=0.05)
    hooks.start()
    hooks.send({"kind": "intrusion", "camera": "cam01", "label": "person"})
    wait_for(lambda: hooks.delivered == 1, 10, what="delivery")
    hooks.stop()
    assert len(receiver.seen) == 3  # two refusals, then accepted
    assert len({d for d, _, _ in receiver.seen}) == 1  # one delivery id across retries
    assert all(ok for _, _, ok in receiver.seen)
    assert json.loads(receiver.seen[-1][1])["kind"] == "intrusion"
    assert not (tmp_path / "dead.jsonl").exists()
    assert alarm.said == []


def test_an_endpoint_that_never_answers_gets_a_dead_letter(tmp_path: Path,
                                                           closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/"
    hooks = Webhooks(url, SecretStr(SECRET), tmp_path / "dead.jsonl", on_lan(url), Alarm(),
                     attempts=3, backoff_s=0.05, timeout_s=1)
    hooks.start()
    hooks.send({"kind": "line", "camera": "cam02"})
    wait_for(lambda: (tmp_path / "dead.jsonl").exists(), 10, what="dead letter")
    hooks.stop()
    [letter] = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert letter["body"] == {"kind": "line", "camera": "cam02"}
    assert letter["error"]
    assert hooks.delivered == 0


def test_a_dead_letter_keeps_the_event_without_its_picture_for_30_days(
        storage: Storage) -> None:
    """UE-10-22 3.5.1, 3.3: an event with its picture, sent to a receiver on the LAN that
    keeps refusing it, is dead-lettered as the event alone; the sweeper drops a dead
    letter once it is 30 days old, and strips the picture of one an older version wrote
    (before: every picture stayed in the file for good)."""
    receiver = Receiver(failures=1000)  # never accepts
    dead = dead_letters_file(storage.settings.home)
    hooks = Webhooks(receiver.url, SecretStr(SECRET), dead, on_lan(receiver.url), Alarm(),
                     images=True, attempts=2, backoff_s=0.05)
    hooks.start()
    picture = b"\xff\xd8\xff\xe0 a face at the gate"
    event = {"kind": "intrusion", "camera": "cam01", "label": "person"}
    hooks.notify(DetectionEvent(event, picture))
    wait_for(dead.exists, 10, what="dead letter")
    hooks.stop()
    receiver.close()
    # The receiver, on the LAN and allowed pictures, was offered it; the file keeps none.
    assert json.loads(receiver.seen[0][1])["snapshot_jpeg_base64"] == (
        base64.b64encode(picture).decode())
    [letter] = [json.loads(x) for x in dead.read_text().splitlines()]
    assert letter["body"] == event
    assert letter["error"] == "HTTP 503"
    assert base64.b64encode(picture).decode() not in dead.read_text()
    # A line an older version wrote, picture and all, a day after the refused one.
    failed = letter["failed_ns"]
    older = {"delivery": "0" * 32, "url": receiver.url, "error": "HTTP 503",
             "failed_ns": failed + DAY_NS, "body": {**event, "camera": "cam02",
                                                    "snapshot_jpeg_base64": "/9j/AAAA"}}
    with dead.open("a") as f:
        f.write(json.dumps(older) + "\n")
    sweeper = storage.sweeper
    assert sweeper.sweep(failed + 30 * DAY_NS - 1).dead_letters == 0
    assert [json.loads(x)["body"] for x in dead.read_text().splitlines()] == [
        event, {**event, "camera": "cam02"}]
    assert sweeper.sweep(failed + 30 * DAY_NS).dead_letters == 1
    assert [json.loads(x)["delivery"] for x in dead.read_text().splitlines()] == [
        older["delivery"]]
    assert sweeper.sweep(failed + 31 * DAY_NS).dead_letters == 1
    assert dead.read_text() == ""
    assert list(dead.parent.iterdir()) == [dead]  # no temporary file left behind


def test_a_webhook_is_signed_or_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="webhook_secret"):
        Settings(home=tmp_path, webhook_url="https://10.20.0.5/kuzet")
    with pytest.raises(ValidationError, match="http"):
        Settings(home=tmp_path, webhook_url="ftp://x", webhook_secret=SECRET)
    assert Settings(home=tmp_path, webhook_url="https://10.20.0.5/k",
                    webhook_secret=SECRET).webhook_images is False


def test_the_secret_is_never_shown(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, webhook_url="https://10.20.0.5/k", webhook_secret=SECRET)
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert SECRET not in shown
        assert "10.20.0.5" in shown
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == SECRET  # what the HMAC is keyed with
