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
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from api_world import CAM, CHROMIUM_ARGS, World
from conftest import SQLITE_ONLY, Kuzet, stop, wait_for
from kuzet.analytics.activity import ActivityRecorder
from kuzet.analytics.geometry import Box
from kuzet.analytics.service import DetectionService, DetectionSettings
from kuzet.analytics.store import DetectionStore
from kuzet.audit.log import Actor
from kuzet.builtins import builtin
from kuzet.catalog.alarms import Alarms
from kuzet.catalog.streams import Stream
from kuzet.storage.retention import DAY_NS
from kuzet.timefmt import format_instant, parse_instant
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
    """UE-10-22 3.2.7: a person entering a zone raises an intrusion event, stored and on MQTT."""
    _, port = kuzet.sim()
    kuzet.run("camera", "add", "cam01", f"rtsp://127.0.0.1:{port}/cam01/main", "--zone", "corridor",
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
        assert picture is not None  # the sub stream
        assert picture.shape[:2] == (180, 320)
        assert "detection on its sub stream" in kuzet.log("serve")
    finally:
        stop(server)
        listener.close()
    # The minute in hand was stored on the way out: the moving box, every second.
    cam_id = catalog.camera("cam01").id
    [(_, levels, grid)] = store.minutes(cam_id, row.at_ns - 1, row.at_ns + 1)
    assert max(levels) > 0
    assert any(grid)


@pytest.fixture
def world(storage: Any) -> World:
    w = World(storage, NOW)
    for name, role in (("admin", "administrator"), ("guard", "guard"), ("it", "it_support")):
        w.user(name, role)
    return w


def test_rules_and_events_through_the_api(world: World) -> None:
    admin, guard, it = world.login("admin"), world.login("guard"), world.login("it")
    r = admin.post(f"/api/cameras/{CAM}/rules", json={
        "kind": "intrusion", "zone": [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]})
    assert r.status_code == 400
    assert "cross" in r.json()["detail"]
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
    _ok, jpg = cv2.imencode(".jpg", np.zeros((18, 32, 3), np.uint8))
    e = store.record(cam_id, rule, "intrusion", "person", 0.8, NOW, [3], bytes(jpg))
    assert it.get("/api/events").status_code == 403  # IT support sees no footage
    [listed] = guard.get("/api/events?kind=intrusion&acknowledged=false").json()
    assert (listed["id"], listed["camera"], listed["snapshot"]) == (e.id, CAM, True)
    assert guard.get("/api/events?label=car").json() == []
    snap = guard.get(f"/api/events/{e.id}/snapshot")
    assert snap.status_code == 200
    assert snap.content == bytes(jpg)
    r = guard.post(f"/api/events/{e.id}/ack", json={"note": "Checked: a cleaner on shift"})
    assert r.status_code == 200
    assert r.json()["acknowledged_by"] == "guard"
    assert guard.post(f"/api/events/{e.id}/ack", json={}).status_code == 409
    assert guard.get("/api/events?acknowledged=false").json() == []
    acts = {a.action: a for a in world.svc.audit.entries() if a.action.startswith("detection")}
    assert {"detection.rule_add", "detection.snapshot", "detection.acknowledge"} <= set(acts)
    assert acts["detection.acknowledge"].actor == "guard"
    r = admin.patch(f"/api/cameras/{CAM}/rules/{rule}", json={"enabled": False})
    assert r.status_code == 200
    assert r.json()["enabled"] is False
    assert guard.patch(f"/api/cameras/{CAM}/rules/{rule}", json={"enabled": True}
                       ).status_code == 403
    assert admin.patch(f"/api/cameras/cam2/rules/{rule}", json={"enabled": True}
                       ).status_code == 404  # another camera's rule
    assert {a.action for a in world.svc.audit.entries()} >= {"detection.rule_disable"}
    assert admin.delete(f"/api/cameras/{CAM}/rules/{rule}").status_code == 200
    assert [x["kind"] for x in admin.get(f"/api/cameras/{CAM}/rules").json()] == [
        "line", "tamper"]
    assert json.loads(store.rules()[0].spec)["direction"] == "left"


def test_motion_settings_activity_and_search_by_zone(world: World) -> None:
    """Masks and sensitivity are set per camera (checked, audited); the activity stored a
    minute at a time comes back per bucket, also for a part of the picture only; events
    are searched by the rule (zone) that raised them and carry its name."""
    admin, guard = world.login("admin"), world.login("guard")
    url = f"/api/cameras/{CAM}/motion"
    assert admin.get(url).json() == {"activity": False, "sensitivity": 0.5, "masks": []}
    bow_tie = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]
    r = admin.put(url, json={"activity": True, "sensitivity": 0.7, "masks": [bow_tie]})
    assert r.status_code == 400
    assert "cross" in r.json()["detail"]
    clock_corner = [[0, 0], [0.4, 0], [0.4, 0.25], [0, 0.25]]
    assert guard.put(url, json={"masks": [clock_corner]}).status_code == 403
    r = admin.put(url, json={"activity": True, "sensitivity": 0.7, "masks": [clock_corner]})
    assert r.status_code == 200, r.text
    assert admin.get(url).json()["masks"] == [clock_corner]
    assert any(a.action == "detection.motion_settings" for a in world.svc.audit.entries())

    store = world.svc.detection
    cam_id = world.storage.catalog.camera(CAM).id
    rec = ActivityRecorder()
    minute = NOW - NOW % 60_000_000_000
    # 10 s of a person in the lower right (640x360 picture), then stillness, next minute.
    for k in range(50):
        rec.add(minute + k * 200_000_000, 0.08, [Box(500, 200, 600, 350)], 640, 360)
    done = rec.add(minute + 61_000_000_000, 0.0, [], 640, 360)
    assert done is not None
    store.write_minute(cam_id, done)
    store.write_minute(cam_id, done)  # written twice (a restart): merged, not doubled
    start = format_instant(minute)
    end = format_instant(minute + 60_000_000_000)
    body = admin.get(f"/api/cameras/{CAM}/activity",
                     params={"start": start, "end": end, "step": 5}).json()
    assert body["levels"] == [21, 21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # ceil(0.08 x 255)
    lower_right = admin.get(f"/api/cameras/{CAM}/activity", params={
        "start": start, "end": end, "step": 60, "area": "0.7,0.5,1,1"}).json()
    upper_left = admin.get(f"/api/cameras/{CAM}/activity", params={
        "start": start, "end": end, "step": 60, "area": "0,0,0.3,0.3"}).json()
    assert (lower_right["levels"], upper_left["levels"]) == ([21], [0])
    assert admin.get(f"/api/cameras/{CAM}/activity", params={
        "start": start, "end": end, "area": "1,1,0,0"}).status_code == 400
    day_by_seconds = admin.get(f"/api/cameras/{CAM}/activity", params={
        "start": start, "end": format_instant(minute + 86_400_000_000_000), "step": 1})
    assert day_by_seconds.status_code == 400
    assert "buckets" in day_by_seconds.json()["detail"]
    assert guard.get(f"/api/cameras/{CAM}/activity",
                     params={"start": start, "end": end}).status_code == 403

    door = admin.post(f"/api/cameras/{CAM}/rules", json={
        "kind": "intrusion", "name": "Storage room 12", "zone": LOWER_HALF}).json()["id"]
    gate = admin.post(f"/api/cameras/{CAM}/rules", json={
        "kind": "line", "name": "Main entrance", "line": [[0.5, 0], [0.5, 1]]}).json()["id"]
    store.record(cam_id, door, "intrusion", "person", 0.8, NOW, [1], b"\xff\xd8 a picture")
    store.record(cam_id, gate, "line", "person", 0.7, NOW + 1, [2], None)
    store.record(cam_id, gate, "line", "car", 0.9, NOW + 2, [3], None)
    [found] = guard.get("/api/events", params={"rule": door}).json()
    assert (found["kind"], found["rule_name"]) == ("intrusion", "Storage room 12")
    at_gate = guard.get("/api/events", params={"rule": gate, "label": "person"}).json()
    assert [(e["label"], e["rule_name"]) for e in at_gate] == [("person", "Main entrance")]
    # Retention takes the footage up to the next minute: its activity and pictures go too.
    days = world.settings.retention_days
    report = world.storage.sweeper.sweep(minute + 60_000_000_000 + days * DAY_NS)
    assert report.pictures == {"event_pictures": 1, "activity_minutes": 1, "protocol_frames": 0}
    assert guard.get("/api/events", params={"rule": door}).json()[0]["snapshot"] is False
    assert admin.get(f"/api/cameras/{CAM}/activity",
                     params={"start": start, "end": end, "step": 60}).json()["levels"] == [0]


def test_signal_loss_on_a_watched_camera_is_a_tamper_alarm(storage: Any) -> None:
    """A camera with a tamper rule that stops recording (the recorder's status, given
    every second) raises a critical alarm at once, cleared when it records again; a
    camera without one raises none, and removing the rule clears it."""
    catalog = storage.catalog
    catalog.add_camera("gate", "rtsp://10.0.0.2/s", zone="corridor")
    catalog.add_camera("yard", "rtsp://10.0.0.3/s", zone="corridor")
    alarms = Alarms(catalog.session)
    service = DetectionService(DetectionSettings.of(storage.settings), catalog,
                               lambda name, stream: None, alarms, builtin().detectors)
    rule = service.store.add_rule(Actor("setup", (), "local"), catalog.camera("gate").id,
                                  "gate", "tamper", {}, 0)
    service.sync()

    def active() -> list[tuple[str, str, str]]:
        return [(a.subject, a.severity, a.message) for a in alarms.list()
                if a.kind == "tamper"]

    service.tick([{"camera": "gate", "state": "recording"},
                  {"camera": "yard", "state": "reconnecting", "last_error": "refused"}])
    assert active() == []
    service.tick([{"camera": "gate", "state": "reconnecting",
                   "last_error": "no packet for 5 s"}])
    [(subject, severity, message)] = active()
    assert (subject, severity) == ("gate:signal", "critical")
    assert "no packet" in message
    service.tick([{"camera": "gate", "state": "reconnecting"}])  # raised once
    assert len(active()) == 1
    service.tick([{"camera": "gate", "state": "recording"}])
    assert active() == []
    service.tick([{"camera": "gate", "state": "failed", "last_error": "401"}])
    assert len(active()) == 1
    service.store.remove_rule(Actor("setup", (), "local"), rule.id,
                              catalog.camera("gate").id, "gate")
    service.sync()
    service.tick([{"camera": "gate", "state": "failed"}])
    assert active() == []


@SQLITE_ONLY
@pytest.mark.slow
def test_an_alarm_reaches_the_wall_and_is_acknowledged_in_chromium(storage: Any,
                                                                    tmp_path: Path) -> None:
    """An event stored while a guard watches the wall appears there at once with its
    picture; the guard acknowledges it with a note (audited) and finds it on /events.
    UE-10-22 3.2.2: the guard sees the danger at once and can respond."""
    import time

    from playwright.sync_api import sync_playwright

    now = time.time_ns()
    world = World(storage, now, https_port=0, http_redirect_port=None)
    world.user("guard", "guard")
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=CHROMIUM_ARGS)
        page = world.browser_login(browser, base, "guard")
        page.goto(f"{base}/wall?lang=en")
        # The alert socket has read the last event's id: every new one reaches this page.
        page.wait_for_selector("#alerts[data-connected=yes]", state="attached")
        _ok, jpg = cv2.imencode(".jpg", np.full((18, 32, 3), 200, np.uint8))
        e = world.svc.detection.record(world.storage.catalog.camera(CAM).id, None,
                                       "intrusion", "person", 0.91, now, [1], bytes(jpg))
        alert = page.locator(f"li.alert[data-event='{e.id}']")
        alert.wait_for(timeout=10_000)
        assert "Intrusion" in alert.inner_text()
        assert CAM in alert.inner_text()
        page.wait_for_function(f"() => document.querySelector("
                               f"\"li.alert[data-event='{e.id}'] img\").naturalWidth === 32")
        # The camera live beside the alarm (no recorder runs here: it says offline).
        alert.locator("video.clip[data-state]").wait_for(state="attached")
        alert.locator("input").fill("Patrol sent; a student without a pass")
        alert.locator("button", has_text="Acknowledge").click()
        page.locator(f"li.alert[data-event='{e.id}'][data-acknowledged]").wait_for()
        assert alert.locator("video.clip").count() == 0  # acknowledged: it stops
        assert world.svc.detection.event(e.id).acknowledged_by == "guard"
        page.goto(f"{base}/events?lang=en")
        page.locator("#rows tr", has_text="Intrusion").wait_for()
        assert "guard" in page.locator("#rows tr").first.inner_text()
        browser.close()
    assert [a.actor for a in world.audit("detection.acknowledge")] == ["guard"]
    assert [a.actor for a in world.audit("detection.snapshot")] == ["guard"]


@SQLITE_ONLY
@pytest.mark.slow
def test_zones_drawn_on_the_picture_and_activity_on_the_archive_bar_in_chromium(
        storage: Any, clip_cache: Path) -> None:
    """The administrator opens a camera's detection page, draws an intrusion zone by
    clicking four corners on its latest recorded picture, names it and saves it, draws a
    mask over the clock and keeps activity; the rule and mask are stored as drawn. Then
    the archive's bar shows the camera's motion and its event."""
    import time

    from playwright.sync_api import sync_playwright

    from footage import record
    from kuzet.rtsp.clip import ClipSpec

    ns = 1_000_000_000
    now = time.time_ns()
    world = World(storage, now, https_port=0, http_redirect_port=None)
    world.user("admin", "administrator")
    start = now - 600 * ns
    record(storage.catalog, clip_cache / "sim", ClipSpec(320, 180, 500_000), CAM, start, 3)
    cam_id = storage.catalog.camera(CAM).id
    rec = ActivityRecorder()
    for k in range(12 * 5):  # 12 s of motion from the recording's start
        rec.add(start + k * 200_000_000, 0.05, [Box(10, 10, 60, 60)], 320, 180)
    done = rec.flush()
    assert done is not None
    world.svc.detection.write_minute(cam_id, done)
    event = world.svc.detection.record(cam_id, None, "intrusion", "person", 0.9,
                                       start + 6 * ns, [1], None)
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=CHROMIUM_ARGS)
        page = world.browser_login(browser, base, "admin",
                                   viewport={"width": 1400, "height": 900})
        page.locator("#cameras a", has_text="Detection").first.click()
        page.wait_for_url(f"{base}/cameras/{CAM}/detection")
        page.wait_for_function("() => document.querySelector('#picture')"
                               ".naturalWidth === 320")
        svg = page.locator("#drawing")

        def click(x: float, y: float) -> None:
            box = svg.bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + min(x * box["width"], box["width"] - 1),
                             box["y"] + min(y * box["height"], box["height"] - 1))

        for x, y in ((0.5, 0.5), (0.9, 0.5), (0.9, 0.9), (0.5, 0.9)):
            click(x, y)
        assert svg.get_attribute("data-points") == "4"
        form = page.locator("#rule")
        form.locator("input[name=name]").fill("Storage room 12")
        form.locator("input[name=from]").fill("22:00")
        form.locator("input[name=to]").fill("07:00")
        form.locator("button[type=submit]").click()
        page.locator("#rules li", has_text="Storage room 12").wait_for()
        for x, y in ((0.0, 0.0), (0.4, 0.0), (0.4, 0.25)):
            click(x, y)
        page.click("#add-mask")
        page.check("#motion input[name=activity]")
        page.click("#motion button[type=submit]")
        page.locator("#message", has_text="Saved").wait_for()
        page.wait_for_function("() => document.querySelectorAll('#drawing polygon')"
                               ".length === 2")

        page.goto(f"{base}/archive/{CAM}?lang=en")
        page.fill("#open input[name=purpose]", "Checking the storage room alarm")
        page.fill("#open input[name=start]", format_instant(start))
        page.click("#open button[type=submit]")
        canvas = page.locator(f".row[data-camera='{CAM}'] canvas.activity")
        canvas.wait_for(state="attached")
        assert int(canvas.get_attribute("data-moving") or 0) >= 1
        mark = page.locator(f".row[data-camera='{CAM}'] .event[data-event='{event.id}']")
        mark.wait_for(state="attached")
        assert "Intrusion: person" in (mark.get_attribute("title") or "")
        browser.close()
    [rule] = world.svc.detection.rules(cam_id)
    spec = json.loads(rule.spec)
    assert spec["name"] == "Storage room 12"
    assert len(spec["zone"]) == 4
    assert spec["zone"][0] == pytest.approx([0.5, 0.5], abs=0.01)
    assert spec["schedule"]["windows"][0]["start"] == "22:00"
    settings = world.svc.detection.motion_settings()[cam_id]
    assert settings.activity
    assert len(settings.masks) == 1
    assert [a.actor for a in world.audit("camera.still")] == ["admin"]


@SQLITE_ONLY
def test_an_event_spans_from_first_seen_to_last_seen(storage: Any) -> None:
    """`kuzet demo`'s cameras as it sets them up on its first run (issue 21): each its own
    picture, motion activity on all, an intrusion rule on cam01, where the astronaut (the
    photograph in the package) walks past the entrance from :20 to :40 of each minute,
    drawn as the simulator's sub stream draws her. Through the bundled person model and
    the service's own sinks she raises one intrusion event as she steps in (not one more
    for each of the detector's crops that sees half of her), whose time range runs from
    when she was first seen to when she was last seen, closed once she has left.
    UE-10-22 3.2.12: a person detected, an unauthorised entry confirmed."""
    from kuzet.analytics import demo
    from kuzet.analytics.camera import CameraAnalytics
    from kuzet.analytics.store import to_rule
    from kuzet.rtsp.clip import (
        FPS,
        PERSON_PHOTO,
        ClipSpec,
        draw_frame,
        load_person,
        name_layer,
        scene_i420,
        to_i420,
    )
    from kuzet.rtsp.sim import SimOptions, camera_specs

    catalog = storage.catalog
    service = DetectionService(DetectionSettings.of(storage.settings), catalog,
                               lambda name, stream: None, Alarms(catalog.session),
                               builtin().detectors)
    cams = [catalog.add_camera(f"cam0{i}", f"rtsp://127.0.0.1:8554/cam0{i}/main",
                               zone="corridor") for i in (1, 2)]
    for cam in cams:
        demo.set_up(service.store, Actor("setup", (), "local"), cam.id, cam.name,
                    cam.name == "cam01", NOW)
    [row] = service.store.rules()
    assert (row.camera_id, row.kind) == (cams[0].id, "intrusion")
    motion = service.store.motion_settings()
    assert all(motion[c.id].activity for c in cams)
    # The demo's simulator: --scenes --person PERSON_PHOTO --person-on cam01.
    opts = SimOptions(cameras=2, sub=ClipSpec(640, 360, 512_000, PERSON_PHOTO), scenes=True,
                      person_on=frozenset({"cam01"}))
    (_, sub), (_, other) = camera_specs(opts, 0), camera_specs(opts, 1)
    assert (sub.label, sub.person) == ("cam01", PERSON_PHOTO)
    assert (other.label, other.person) == ("cam02", None)
    assert np.abs(scene_i420(sub).astype(int) - scene_i420(other)).mean() > 20
    rules = [to_rule(row.id, row.kind, json.loads(row.spec), "Asia/Almaty")]
    worker = CameraAnalytics("cam01", cams[0].id, Stream.SUB, rules, service.detector, 0.5, 5,
                             service._on_alarm, service._on_tamper, None, motion[cams[0].id],
                             end_sink=service._on_ended)
    background, person = scene_i420(sub), to_i420(load_person(PERSON_PHOTO, sub.height))
    name = name_layer(sub)
    second = 1_000_000_000
    for k in range(15 * 5, 42 * 5):  # from :15 to :42 of the minute, 5 pictures a second
        picture = draw_frame(sub, k * FPS // 5, background, person, name)
        worker.process(cv2.cvtColor(picture, cv2.COLOR_YUV2BGR_I420), NOW + k * second // 5)
    [event] = service.store.events([cams[0].id])
    assert (event.rule_id, event.kind, event.label) == (row.id, "intrusion", "person")
    assert event.start_ns is not None
    assert event.end_ns is not None
    assert NOW + 20 * second <= event.start_ns <= event.at_ns <= NOW + 21 * second
    assert event.at_ns <= event.end_ns <= NOW + 40 * second
    assert event.end_ns - event.start_ns >= 6 * second  # most of her walk
