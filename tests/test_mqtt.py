"""Camera status over MQTT (issue 7, clause 3.2.11) against the real Mosquitto broker on
127.0.0.1:1883: `kuzet serve` publishes each camera's state retained, says so again when
it changes, announces itself online and offline; a broker that cannot be reached costs
no recording and no password in the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Kuzet, stop, wait_for
from kuzet.config import Settings, parse_broker
from kuzet.integrations.status import HEARTBEAT_NS, StatusFeed, due
from mqtt_peer import BROKER, Subscriber


def test_a_status_goes_out_on_change_and_every_half_minute() -> None:
    sent: list[tuple[str, str]] = []
    feed = StatusFeed(lambda topic, payload, retain: sent.append((topic, payload["state"])))
    rec = {"camera": "cam01", "state": "recording", "last_cause": None}
    feed.offer([rec], 0)
    feed.offer([rec], 10**9)  # a second later, nothing new
    feed.offer([{**rec, "state": "reconnecting", "last_cause": "stalled"}], 2 * 10**9)
    feed.offer([{**rec, "state": "reconnecting", "last_cause": "stalled"}],
               2 * 10**9 + HEARTBEAT_NS)
    assert sent == [("cameras/cam01/status", "recording"),
                    ("cameras/cam01/status", "reconnecting"),
                    ("cameras/cam01/status", "reconnecting")]
    assert due(None, ("recording", None), 0)


def test_the_brokers_password_is_shown_masked(tmp_path: Path) -> None:
    # a LAN address: a broker outside the LAN is refused (tests/test_egress.py)
    settings = Settings(home=tmp_path, mqtt_url="mqtt://kuzet:s3cret-word@10.20.0.9:1884")
    assert settings.mqtt_url is not None
    assert str(settings.mqtt_url) == "mqtt://kuzet:***@10.20.0.9:1884"
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "s3cret-word" not in shown
        assert "10.20.0.9" in shown
    broker = parse_broker(settings.mqtt_url)  # what the MQTT client connects with
    assert (broker.host, broker.port, broker.username, broker.password) == (
        "10.20.0.9", 1884, "kuzet", "s3cret-word")
    assert "s3cret-word" not in repr(broker)


@pytest.mark.slow
def test_serve_publishes_camera_status_to_mosquitto(kuzet: Kuzet, site: str) -> None:
    sim, port = kuzet.sim()
    kuzet.run("camera", "add", "cam01", f"rtsp://127.0.0.1:{port}/cam01/main", "--zone", "corridor")
    kuzet.env.update(KUZET_MQTT_URL=f"mqtt://{BROKER[0]}:{BROKER[1]}", KUZET_MQTT_SITE=site)
    live = Subscriber(f"kuzet/{site}/#")
    camera, server_topic = f"kuzet/{site}/cameras/cam01/status", f"kuzet/{site}/server/status"
    server = kuzet.serve()
    try:
        wait_for(lambda: "recording" in live.states(camera), 60, what="recording on MQTT")
        assert "online" in live.states(server_topic)
        stop(sim)  # the camera goes dark: the recorder reconnects, and says so at once
        wait_for(lambda: "reconnecting" in live.states(camera), 30, what="reconnecting")
        late = Subscriber(camera)  # a subscriber that comes later gets the retained state
        wait_for(lambda: late.states(camera) == ["reconnecting"], 10, what="retained")
        with late.lock:
            assert late.messages[0][2] is True
        late.close()
    finally:
        stop(server)
    wait_for(lambda: live.states(server_topic)[-1:] == ["offline"], 10, what="offline")
    live.close()


@pytest.mark.slow
def test_an_unreachable_broker_costs_no_recording(kuzet: Kuzet, site: str,
                                                  closed_port: int) -> None:
    _, port = kuzet.sim()
    kuzet.run("camera", "add", "cam01", f"rtsp://127.0.0.1:{port}/cam01/main", "--zone", "corridor")
    kuzet.env.update(KUZET_MQTT_URL=f"mqtt://kuzet:s3cret-word@127.0.0.1:{closed_port}",
                     KUZET_MQTT_SITE=site)
    server = kuzet.serve()
    try:
        wait_for(lambda: kuzet.status().get("cam01", {}).get("state") == "recording", 60,
                 what="recording")
        wait_for(lambda: "unreachable" in kuzet.log("serve"), 20, what="the broker's warning")
        assert "s3cret-word" not in kuzet.log("serve")
    finally:
        assert stop(server) < 10
