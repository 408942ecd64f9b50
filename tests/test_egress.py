"""Nothing leaves the LAN (issue 18, UE-10-22 3.5.3): the webhook endpoint and the MQTT
broker are refused outside `allowed_networks` when the settings load, and again at each
connection on the addresses then used, with an alarm and nothing sent; the one external
endpoint the settings may name (the police or operational centre's, 3.2.11) is audited at
each start of `kuzet serve` and never receives a picture (3.5.1).

Nothing here reaches beyond this machine: a name that resolves outside the LAN is
`localhost` under an allowlist without loopback, and the endpoints are real servers on
127.0.0.1 (an HTTP receiver, the Mosquitto broker)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from conftest import Kuzet, Storage, stop, wait_for
from kuzet.access.destinations import Destination
from kuzet.access.lan import DEFAULT_ALLOWED, parse_networks
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import AuditLog
from kuzet.config import Settings
from kuzet.credentials import SecretUrl
from kuzet.hooks import DetectionEvent
from kuzet.integrations.mqtt import MqttPublisher
from kuzet.integrations.webhooks import Webhooks, from_settings
from kuzet.server import NON_LAN_EGRESS, EgressAlarms
from mqtt_peer import BROKER, Subscriber

SECRET = "a shared secret of the campus hook"
CAMPUS = ["10.0.0.0/8"]  # a LAN without loopback: here, localhost lies outside it


class Receiver:
    """An HTTP endpoint on 127.0.0.1 keeping every body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the http.server name
                outer.bodies.append(json.loads(self.rfile.read(
                    int(self.headers["content-length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/kuzet"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def egress_alarms(storage: Storage) -> list[tuple[str, str]]:
    return [(a.subject, a.message) for a in storage.alarms.list() if a.kind == NON_LAN_EGRESS]


def test_a_webhook_or_broker_outside_the_lan_is_refused_when_the_settings_load(
        tmp_path: Path, receiver: Receiver) -> None:
    """Clause 3.5.3: the same LAN as the console's clients, for an address as written and
    for a name as it resolves; the refusal names the clause, and no notifier is built."""
    for public in ("https://203.0.113.7/kuzet", "http://[2001:db8::7]:8080/k"):
        with pytest.raises(ValidationError, match=r"refused: webhook_url .*UE-10-22 3\.5\.3"):
            Settings(home=tmp_path, webhook_url=public, webhook_secret=SECRET)
    with pytest.raises(ValidationError, match=r"refused: mqtt_url .*UE-10-22 3\.5\.3"):
        Settings(home=tmp_path, mqtt_url="mqtt://kuzet:pw@198.51.100.3:1883")
    # a name that resolves now is judged by its addresses: localhost is outside CAMPUS
    with pytest.raises(ValidationError, match=r"localhost \(at 127\.0\.0\.1\).*3\.5\.3"):
        Settings(home=tmp_path, allowed_networks=CAMPUS, webhook_url=receiver.url("localhost"),
                 webhook_secret=SECRET)
    with pytest.raises(ValidationError, match=r"mqtt_url names localhost .*3\.5\.3"):
        Settings(home=tmp_path, allowed_networks=CAMPUS,
                 mqtt_url=f"mqtt://localhost:{BROKER[1]}")
    assert receiver.bodies == []
    # on the LAN, as written or resolved, the same settings load
    on_lan = Settings(home=tmp_path, webhook_url=receiver.url("localhost"),
                      webhook_secret=SECRET, mqtt_url="mqtt://10.20.0.9")
    assert on_lan.destination("webhook_url") is not None


def test_a_name_that_resolves_outside_the_lan_at_send_time_is_refused(
        storage: Storage, receiver: Receiver, tmp_path: Path) -> None:
    """The settings loaded while the endpoint's name pointed into the LAN; now it points
    outside (here: localhost, under a LAN without loopback). The delivery is refused at the
    connection, not sent and not retried: dead-lettered with the refusal, and the
    `non_lan_egress` alarm raised with the clause; the rest runs on."""
    url = receiver.url("localhost")
    moved = Destination.of("webhook_url", url, parse_networks(CAMPUS), None)
    dead = tmp_path / "dead.jsonl"
    hooks = Webhooks(url, SecretStr(SECRET), dead, moved, EgressAlarms(storage.alarms),
                     attempts=5, backoff_s=30)  # a retry would outlast the wait below
    hooks.start()
    hooks.send({"kind": "intrusion", "camera": "cam01"})
    wait_for(lambda: dead.exists(), 10, what="the refused delivery's dead letter")
    [letter] = [json.loads(x) for x in dead.read_text().splitlines()]
    assert "UE-10-22 3.5.3" in letter["error"]
    assert "127.0.0.1" in letter["error"]
    [(subject, message)] = egress_alarms(storage)
    assert subject == "webhook_url"
    assert "UE-10-22 3.5.3" in message
    hooks.send({"kind": "line", "camera": "cam02"})  # the thread runs on, refusing
    wait_for(lambda: len(dead.read_text().splitlines()) == 2, 10, what="second refusal")
    hooks.stop()
    assert receiver.bodies == []
    assert hooks.delivered == 0


def test_a_broker_name_outside_the_lan_is_never_connected_to(storage: Storage,
                                                             site: str) -> None:
    """The broker's name resolves outside the LAN: no connection, the alarm raised, what
    waits is kept; once the name is back on the LAN the publisher connects, sends it and
    clears the alarm."""
    listener = Subscriber(f"kuzet/{site}/#")
    url = SecretUrl(f"mqtt://localhost:{BROKER[1]}")
    publisher = MqttPublisher(url, site, Destination.of("mqtt_url", url.reveal(),
                                                        parse_networks(CAMPUS), None),
                              EgressAlarms(storage.alarms))
    publisher.start()
    try:
        publisher.publish("cameras/cam01/status", {"state": "recording"}, retain=True)
        wait_for(lambda: egress_alarms(storage), 10, what="the non_lan_egress alarm")
        [(subject, message)] = egress_alarms(storage)
        assert subject == "mqtt_url"
        assert "localhost (at 127.0.0.1)" in message
        assert "UE-10-22 3.5.3" in message
        assert not publisher.connected.is_set()
        # DNS puts the name back on the LAN: the next try connects and sends what waited
        publisher.destination = Destination.of("mqtt_url", url.reveal(),
                                               parse_networks(DEFAULT_ALLOWED), None)
        topic = f"kuzet/{site}/cameras/cam01/status"
        wait_for(lambda: listener.states(topic) == ["recording"], 30, what="status sent")
        wait_for(lambda: not egress_alarms(storage), 10, what="the alarm cleared")
    finally:
        publisher.stop()
        listener.close()


def test_pictures_never_go_to_the_external_endpoint(tmp_path: Path, receiver: Receiver
                                                    ) -> None:
    """Clauses 3.5.1, 3.5.3: a webhook on the LAN may carry the event's picture
    (`webhook_images`); the external endpoint never does, whatever the notifier is told,
    and the settings refuse to ask for it."""
    external = receiver.url()
    with pytest.raises(ValidationError, match=r"refused: webhook_images .*3\.5\.1"):
        Settings(home=tmp_path, webhook_url=external, webhook_secret=SECRET,
                 external_endpoint=external, webhook_images=True)
    settings = Settings(home=tmp_path, webhook_url=external, webhook_secret=SECRET,
                        external_endpoint=f"http://127.0.0.1:{receiver.port}")
    built = from_settings(settings, EgressAlarmsUnused())
    assert built is not None
    assert built.destination.external
    lan = Webhooks(external, SecretStr(SECRET), tmp_path / "lan.jsonl",
                   Destination.of("webhook_url", external, settings.lan, None),
                   EgressAlarmsUnused(), images=True)
    outside = Webhooks(external, SecretStr(SECRET), tmp_path / "out.jsonl",
                       built.destination, EgressAlarmsUnused(), images=True)
    picture = b"\xff\xd8 the event's picture"
    _deliver(lan, DetectionEvent({"kind": "intrusion", "camera": "lan"}, picture))
    _deliver(outside, DetectionEvent({"kind": "intrusion", "camera": "outside"}, picture))
    by_camera = {b["camera"]: b for b in receiver.bodies}
    assert base64.b64decode(by_camera["lan"]["snapshot_jpeg_base64"]) == picture
    assert "snapshot_jpeg_base64" not in by_camera["outside"]


def _deliver(hooks: Webhooks, event: DetectionEvent) -> None:
    hooks.start()
    hooks.notify(event)
    wait_for(lambda: hooks.delivered == 1, 10, what="delivery")
    hooks.stop()


class EgressAlarmsUnused:
    """The alarm of destinations allowed here: raising it fails the test."""

    def raise_(self, subject: str, message: str) -> None:
        raise AssertionError(message)

    def clear(self, subject: str) -> None:
        raise AssertionError(subject)


@pytest.mark.slow
def test_the_external_endpoint_is_audited_at_each_start(kuzet: Kuzet,
                                                       receiver: Receiver) -> None:
    """Clause 3.2.11 (the police or operational centre's endpoint, and 3.5.3): each start
    of `kuzet serve` writes which endpoint outside the LAN it sends to, with its password
    masked, and that no picture goes there."""
    kuzet.env.update(KUZET_WEBHOOK_URL=receiver.url(), KUZET_WEBHOOK_SECRET=SECRET,
                     KUZET_EXTERNAL_ENDPOINT=f"http://centre:pass-w0rd@127.0.0.1:{receiver.port}")
    audit = AuditLog(kuzet.catalog().session)

    def entries() -> list[Any]:
        return audit.entries(action=AuditAction.EGRESS_EXTERNAL)

    def serve_until_audited(n: int) -> None:
        server = kuzet.serve()
        try:
            wait_for(lambda: len(entries()) == n, 60, what=f"egress.external of start {n}")
        finally:
            stop(server)

    serve_until_audited(1)
    serve_until_audited(2)
    entry = entries()[-1]
    shown = f"http://centre:***@127.0.0.1:{receiver.port}"
    assert entry.subject == shown
    assert json.loads(entry.detail) == {"endpoint": shown, "settings": ["webhook_url"],
                                        "pictures": False}
    assert "pass-w0rd" not in entry.detail + kuzet.log("serve")
