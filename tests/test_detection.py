"""Detection inside `kuzet serve` (issue 7): a rule on a camera, its sub stream tapped from
the recorder, decoded, motion found in the simulator's moving box, the detector run, an
intrusion event stored with its picture and published on Mosquitto; and the rules and
events API with its permissions and audit.

The detector here is an ONNX model built by the test that always sees one person in the
lower middle of the picture: it stands in for the scene, so that the plumbing from RTSP
to MQTT is what is tested. The person model itself is tested on photographs
(tests/test_analytics.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from api_world import CAM, World
from conftest import Kuzet, free_port, stop, wait_for
from kuzet.analytics.store import DetectionStore
from kuzet.audit.log import Actor
from kuzet.timefmt import parse_instant
from mqtt_peer import Subscriber
from onnx_models import constant_model

NOW = parse_instant("2026-09-21T14:00:00Z")
LOWER_HALF = [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]


def person_model(folder: Path) -> tuple[Path, Path]:
    yolo = np.zeros((1, 5, 10))  # one class; the person stands in the lower middle
    yolo[0, :, 0] = [32, 40, 16, 32, 0.9]
    labels = folder / "labels.txt"
    labels.write_text("person\n")
    return constant_model(folder / "person.onnx", {"output0": yolo}), labels


@pytest.mark.slow
def test_an_intrusion_reaches_the_catalog_and_mqtt(kuzet: Kuzet, site: str,
                                                   tmp_path: Path) -> None:
    port = free_port()
    kuzet.sim(port)
    kuzet.run("camera", "add", "cam01", f"rtsp://127.0.0.1:{port}/cam01/main",
              "--sub-url", f"rtsp://127.0.0.1:{port}/cam01/sub")
    model, labels = person_model(tmp_path)
    kuzet.env.update(KUZET_MQTT_URL="mqtt://127.0.0.1:1883", KUZET_MQTT_SITE=site,
                     KUZET_DETECTOR="onnx", KUZET_DETECTOR_MODEL=str(model),
                     KUZET_DETECTOR_LABELS=str(labels))
    catalog = kuzet.catalog()
    store = DetectionStore(catalog.session, "Asia/Almaty")
    store.add_rule(Actor("setup", (), "local"), catalog.camera("cam01").id, "cam01",
                   "intrusion", {"zone": LOWER_HALF}, 0)
    listener = Subscriber(f"kuzet/{site}/events")
    server = kuzet.serve()
    try:
        wait_for(lambda: listener.messages, 90, what="an event on MQTT")
        topic, event, retained = listener.messages[0]
        assert (topic, retained) == (f"kuzet/{site}/events", False)
        assert (event["camera"], event["kind"], event["label"]) == ("cam01", "intrusion",
                                                                    "person")
        rows = {r.id: r for r in store.events([catalog.camera("cam01").id])}
        row = rows[event["id"]]  # (the stand-in's box moves with the crop: maybe more)
        assert row.score == pytest.approx(0.9, abs=1e-3)
        picture = cv2.imdecode(np.frombuffer(row.snapshot_jpeg or b"", np.uint8),
                               cv2.IMREAD_COLOR)
        assert picture is not None and picture.shape[:2] == (180, 320)  # the sub stream
        assert "detection on its sub stream" in kuzet.log("serve")
    finally:
        stop(server)
        listener.close()


@pytest.fixture
def world(storage: Any) -> Iterator[World]:
    w = World(storage, NOW)
    for name, role in (("admin", "administrator"), ("guard", "guard"), ("it", "it_support")):
        w.user(name, role)
    yield w


def test_rules_and_events_through_the_api(world: World) -> None:
    admin, guard, it = world.login("admin"), world.login("guard"), world.login("it")
    r = admin.post(f"/api/cameras/{CAM}/rules", json={
        "kind": "intrusion", "zone": [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]})
    assert r.status_code == 400 and "cross" in r.json()["detail"]
    r = admin.post(f"/api/cameras/{CAM}/rules", json={"kind": "line", "line": [[0.5, 0.0],
                                                                                  [0.5, 1.0]],
                                                      "direction": "left"})
    assert r.status_code == 201, r.text
    r = admin.post(f"/api/cameras/{CAM}/rules", json={
        "kind": "intrusion", "zone": LOWER_HALF, "schedule": {"windows": [
            {"days": ["sat", "sun"], "start": "22:00", "end": "07:00"}]}})
    assert r.status_code == 201, r.text
    rule = r.json()["id"]
    assert admin.post(f"/api/cameras/{CAM}/rules", json={"kind": "tamper"}).status_code == 201
    assert guard.post(f"/api/cameras/{CAM}/rules", json={"kind": "line", "line": [
        [0, 0], [1, 1]]}).status_code == 403
    assert [x["kind"] for x in guard.get(f"/api/cameras/{CAM}/rules").json()] == [
        "line", "intrusion", "tamper"]
    store = world.svc.detection
    cam_id = world.storage.catalog.camera(CAM).id
    ok, jpg = cv2.imencode(".jpg", np.zeros((18, 32, 3), np.uint8))
    e = store.record(cam_id, rule, "intrusion", "person", 0.8, NOW, [3], bytes(jpg))
    assert it.get("/api/events").status_code == 403  # IT support sees no footage
    [listed] = guard.get("/api/events?kind=intrusion&acknowledged=false").json()
    assert (listed["id"], listed["camera"], listed["snapshot"]) == (e.id, CAM, True)
    assert guard.get("/api/events?label=car").json() == []
    snap = guard.get(f"/api/events/{e.id}/snapshot")
    assert snap.status_code == 200 and snap.content == bytes(jpg)
    r = guard.post(f"/api/events/{e.id}/ack", json={"note": "Checked: a cleaner on shift"})
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "guard"
    assert guard.post(f"/api/events/{e.id}/ack", json={}).status_code == 409
    assert guard.get("/api/events?acknowledged=false").json() == []
    acts = {a.action: a for a in world.svc.audit.entries() if a.action.startswith("detection")}
    assert {"detection.rule_add", "detection.snapshot", "detection.acknowledge"} <= set(acts)
    assert acts["detection.acknowledge"].actor == "guard"
    assert admin.delete(f"/api/cameras/{CAM}/rules/{rule}").status_code == 200
    assert [x["kind"] for x in admin.get(f"/api/cameras/{CAM}/rules").json()] == [
        "line", "tamper"]
    assert json.loads(store.rules()[0].spec)["direction"] == "left"


@pytest.mark.slow
def test_an_alarm_reaches_the_wall_and_is_acknowledged_in_chromium(storage: Any,
                                                                    tmp_path: Path) -> None:
    """An event stored while a guard watches the wall appears there at once with its
    picture; the guard acknowledges it with a note (audited) and finds it on /events."""
    import time

    from playwright.sync_api import sync_playwright

    from kuzet.access.tls import make_self_signed
    from kuzet.web.server import ApiServer

    now = time.time_ns()
    world = World(storage, now, https_port=0, http_redirect_port=None)
    world.user("guard", "guard")
    make_self_signed(world.settings.cert_path, world.settings.key_path)
    server = ApiServer(world.settings, world.svc)
    base = server.start()["https"]
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            page = browser.new_context(ignore_https_errors=True).new_page()
            page.goto(f"{base}/login?lang=en")
            page.fill("#login input[name=username]", "guard")
            page.fill("#login input[name=password]", "correct horse battery staple")
            page.click("#login button")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/wall?lang=en")
            page.wait_for_function("() => document.querySelector('#alerts') !== null")
            time.sleep(1.5)  # the alert socket is open and has read the last id
            ok, jpg = cv2.imencode(".jpg", np.full((18, 32, 3), 200, np.uint8))
            e = world.svc.detection.record(world.storage.catalog.camera(CAM).id, None,
                                           "intrusion", "person", 0.91, now, [1], bytes(jpg))
            alert = page.locator(f"li.alert[data-event='{e.id}']")
            alert.wait_for(timeout=10_000)
            assert "Intrusion" in alert.inner_text() and CAM in alert.inner_text()
            page.wait_for_function(f"() => document.querySelector("
                                   f"\"li.alert[data-event='{e.id}'] img\").naturalWidth === 32")
            alert.locator("input").fill("Patrol sent; a student without a pass")
            alert.locator("button", has_text="Acknowledge").click()
            page.locator(f"li.alert[data-event='{e.id}'][data-acknowledged]").wait_for()
            assert world.svc.detection.event(e.id).acknowledged_by == "guard"
            page.goto(f"{base}/events?lang=en")
            page.locator("#rows tr", has_text="Intrusion").wait_for()
            assert "guard" in page.locator("#rows tr").first.inner_text()
            browser.close()
    finally:
        server.stop()
    assert [a.actor for a in world.audit("detection.acknowledge")] == ["guard"]
    assert [a.actor for a in world.audit("detection.snapshot")] == ["guard"]
