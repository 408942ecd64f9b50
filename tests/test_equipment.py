"""The equipment register through the API (issue 22 items 1 and 2; UE-10-22 3.3.1-3.3.8,
3.4.3): one record per camera, links, the maintenance log, due checks, a spreadsheet of
300 cameras with bad rows, and who may read and keep it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from api_world import CAM, World
from kuzet.timefmt import parse_instant

NOW = parse_instant("2026-11-02T06:00:00Z")
BUILDINGS = ["Main", "Library", "Бас ғимарат"]


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW, buildings=BUILDINGS, check_interval_days={"ups": 60})


def test_a_camera_is_one_record_linked_to_its_switch_port_and_ups(world: World) -> None:
    """3.3.2-3.3.6: a camera is one record of the register, linked to its switch's port
    (3.3.6) and to the UPS (3.3.4) that also powers the switch; monitors (3.3.3) and every
    other kind are items the same way; the passport as a PDF; bad input refused."""
    it = world.login(world.user("it", "it_support"))
    r = it.post("/api/equipment", json={"kind": "ups", "name": "ups-main", "serial": "U-1",
                                        "building": "Main", "room": "server room 014",
                                        "model": "Smart-UPS 1500", "installed": "2026-01-15"})
    assert r.status_code == 201, r.text
    assert it.post("/api/equipment", json={"kind": "switch", "name": "sw-2f", "building": "Main",
                                           "power": "ups-main", "mac": "AA-BB-CC-00-11-22"}
                   ).json()["mac"] == "aa:bb:cc:00:11:22"
    r = it.patch(f"/api/equipment/{CAM}", json={
        "serial": "DS-2CD-001", "inventory_no": "INV-7", "uplink": "sw-2f", "uplink_port": "12",
        "power": "ups-main", "building": "Бас ғимарат", "floor": "2", "room": "North door"})
    assert r.status_code == 200, r.text
    assert r.json()["uplink"] == "sw-2f"
    assert r.json()["kind"] == "camera"
    # one record: the camera's place is the camera's own, as the camera list shows it
    cam = world.login(world.user("admin", "administrator")).get(f"/api/cameras/{CAM}").json()
    assert (cam["building"], cam["floor"], cam["location"]) == ("Бас ғимарат", "2", "North door")
    names = [i["name"] for i in it.get("/api/equipment").json()]
    assert names.count(CAM) == 1
    assert "cam2" in names
    detail = it.get("/api/equipment/ups-main").json()
    assert sorted(detail["linked"]) == sorted([CAM, "sw-2f"])
    log = it.get(f"/api/equipment/{CAM}").json()["log"]
    assert log[0]["kind"] == "change"
    assert "serial: — → DS-2CD-001" in log[0]["what"]
    assert any(e.action == "equipment.change" for e in world.audit("equipment.change"))

    # bad input: each a clear refusal, nothing changed
    for body, status, words in [
        ({"serial": "U-1"}, 409, "serial 'U-1' is already ups-main's"),
        ({"building": "Dormitory 9"}, 400, "unknown building 'Dormitory 9'"),
        ({"power": "sw-2f"}, 400, "'sw-2f' is a switch, and this link goes to a ups"),
        ({"uplink": "nothing"}, 400, "no item named 'nothing'"),
        ({"ip": "10.0.0.300"}, 400, "an IPv4 or IPv6 address"),
        ({"installed": "15.01.2026"}, 400, "a date YYYY-MM-DD"),
    ]:
        r = it.patch(f"/api/equipment/{CAM}", json=body)
        assert (r.status_code, words in r.json()["detail"]) == (status, True), (body, r.text)
    assert it.get(f"/api/equipment/{CAM}").json()["item"]["serial"] == "DS-2CD-001"
    r = it.post("/api/equipment", json={"kind": "switch", "name": CAM})
    assert r.status_code == 409
    assert "already has an item named" in r.json()["detail"]
    r = it.post("/api/equipment", json={"kind": "camera", "name": "cam9"})
    assert r.status_code == 422  # a camera enters by being added for recording
    r = world.login("admin").post("/api/cameras", json={
        "name": "ups-main", "url": "rtsp://10.0.0.9/s", "zone": "corridor"})
    assert r.status_code == 409
    assert "an item of the equipment register" in r.json()["detail"]

    # the passport, in Russian, as a PDF a reader opens, its handing out audited
    pdf = it.get("/api/equipment.pdf?lang=ru")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "ups-main" in text
    assert "DS-2CD-001" in text
    assert "Бас ғимарат" in text
    assert "passport" in world.audit("equipment.register_export")[-1].detail


def test_checks_faults_repairs_and_what_is_due(world: World) -> None:
    """3.4.3: the IT office's checks by schedule, faults and repairs, in the item's log."""
    it = world.login(world.user("it", "it_support"))
    it.post("/api/equipment", json={"kind": "ups", "name": "ups-1", "installed": "2026-08-01"})
    due = {d["name"]: d for d in it.get("/api/checks").json()}
    # a UPS every 60 days (the setting): installed 1 August, due 30 September, overdue
    assert due["ups-1"]["overdue"]
    assert due["ups-1"]["due"] == "2026-09-30"
    # a camera monthly (the default), from its last check
    assert it.post(f"/api/equipment/{CAM}/log", json={"kind": "check", "outcome": "ok",
                                                      "what": "picture, angle, sign"}
                   ).status_code == 201
    assert CAM not in {d["name"] for d in it.get("/api/checks").json()}
    world.clock.advance(25 * 86400)
    it = world.login("it")  # the session ended while the days passed
    due = {d["name"]: d for d in it.get("/api/checks").json()}
    assert due[CAM]["due"] == "2026-12-02"
    assert not due[CAM]["overdue"]
    assert due[CAM]["last_check"] == "2026-11-02"
    world.clock.advance(6 * 86400)
    it = world.login("it")
    assert {d["name"]: d for d in it.get("/api/checks").json()}[CAM]["overdue"]
    r = it.post("/api/equipment/ups-1/log", json={"kind": "check", "outcome": "fault",
                                                  "what": "battery test: 4 min on battery"})
    assert r.status_code == 201, r.text
    detail = it.get("/api/equipment/ups-1").json()
    assert detail["item"]["state"] == "faulty"
    fault = next(e for e in detail["log"] if e["kind"] == "fault")
    assert fault["open"]
    assert "ups-1" not in {d["name"] for d in it.get("/api/checks").json()}
    r = it.post("/api/equipment/ups-1/log", json={"kind": "repair", "what": "battery replaced"})
    assert r.status_code == 400
    assert "which fault" in r.json()["detail"]
    r = it.post("/api/equipment/ups-1/log", json={"kind": "repair", "what": "battery replaced",
                                                  "closes": fault["id"]})
    assert r.status_code == 201, r.text
    detail = it.get("/api/equipment/ups-1").json()
    assert detail["item"]["state"] == "in_service"
    assert not any(e["open"] for e in detail["log"])
    r = it.post("/api/equipment/ups-1/log", json={"kind": "repair", "what": "again",
                                                  "closes": fault["id"]})
    assert r.status_code == 409
    assert "closed already" in r.json()["detail"]


def _cameras_csv(n: int, bad: dict[int, dict[str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["kind", "name", "url", "zone", "model", "serial", "inventory_no", "building",
                "floor", "room", "ip", "installed"])
    for i in range(n):
        row = {"kind": "camera", "name": f"k{i:03d}", "url": f"rtsp://10.1.{i // 250}.{i % 250}/s",
               "zone": "corridor", "model": "DS-2CD2143G2-I", "serial": f"SN{i:05d}",
               "inventory_no": f"INV{i:05d}", "building": "Library", "floor": str(i % 5),
               "room": f"corridor {i}", "ip": f"10.1.{i // 250}.{i % 250}",
               "installed": "2026-09-01"} | bad.get(i, {})
        w.writerow(row.values())
    return buf.getvalue().encode()


def test_a_spreadsheet_of_300_cameras_with_3_bad_rows(world: World) -> None:
    """3.3.1, 3.3.2, 3.4.3: the complex's first installation from a spreadsheet: every
    bad row reported (a zone outside 3.3.9-3.3.17 among them), nothing imported from the
    file, then the good rows; the export reads back unchanged and never holds a URL."""
    admin = world.login(world.user("admin", "administrator"))
    it = world.login(world.user("it", "it_support"))
    bad = {17: {"zone": "dormitory"}, 120: {"serial": "SN00005"},
           299: {"building": "Dormitory 9"}}
    data = _cameras_csv(300, bad)
    before = len(world.storage.catalog.cameras())
    r = admin.post("/api/equipment/import", content=data, headers={"content-type": "text/csv"})
    # each reason in the reader's language: Kazakh by default
    assert "бұрыннан k005" in r.json()["bad_rows"][1]["reason"], r.text
    admin.cookies.set("kuzet_lang", "en")
    r = admin.post("/api/equipment/import", content=data, headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert not report["imported"]
    assert report["added"] == 0
    assert [(b["line"], b["name"]) for b in report["bad_rows"]] == [
        (19, "k017"), (122, "k120"), (301, "k299")]
    reasons = [b["reason"] for b in report["bad_rows"]]
    assert "UE-10-22 3.3.9-3.3.17" in reasons[0]
    assert "already k005's" in reasons[1]
    assert "unknown building 'Dormitory 9'" in reasons[2]
    assert len(world.storage.catalog.cameras()) == before  # nothing from a file with bad rows

    # IT support keeps the register but adds no camera for recording (3.4.2)
    r = it.post("/api/equipment/import?good_rows=true", content=data)
    assert r.status_code == 403, r.text
    assert "camera.admin" in r.json()["detail"]
    r = admin.post("/api/equipment/import?good_rows=true", content=data)
    assert (r.json()["imported"], r.json()["added"]) == (True, 297), r.text
    assert len(world.storage.catalog.cameras()) == before + 297
    assert world.storage.catalog.camera("k001").building == "Library"
    assert len(world.audit("camera.add")) >= 297

    # the export holds no URL, and reading it back changes nothing
    export = it.get("/api/equipment.csv")
    assert export.status_code == 200
    assert "rtsp://" not in export.text
    assert "k298" in export.text
    assert "k299" not in export.text
    r = it.post("/api/equipment/import", content=export.content)
    assert r.json() == {"imported": True, "added": 0, "changed": 0, "bad_rows": []}, r.text
    # a formula typed in a cell is exported as text (csvcells) and read back the same
    it.patch("/api/equipment/k001", json={"notes": "=HYPERLINK(\"http://x\")"})
    text = it.get("/api/equipment.csv").text
    assert "'=HYPERLINK" in text
    r = it.post("/api/equipment/import", content=text.encode())
    assert r.json()["changed"] == 0, r.text

    for body, words in [(b"\xff\xfenot utf-8", "not UTF-8"),
                        (b"name;model\nx;y\n", "kind and name"),
                        (b"kind,name,colour\nups,u,red\n", "unknown column(s): colour")]:
        r = it.post("/api/equipment/import", content=body)
        assert (r.status_code, words in r.json()["detail"]) == (400, True), r.text
    r = it.post("/api/equipment/import", content=b"kind,name\x00\n")
    assert r.status_code == 415, r.text


def test_who_reads_and_who_keeps_the_register(world: World) -> None:
    """3.4.2, 3.4.3: IT support and the administrator keep the register; the head of
    security reads it; a guard sees camera states only."""
    guard = world.login(world.user("guard", "guard"))
    head = world.login(world.user("head", "head_of_security"))
    assert guard.get("/api/equipment").status_code == 403
    assert guard.get(f"/api/cameras/{CAM}").json()["status"]["state"] == "unknown"
    assert head.get("/api/equipment").status_code == 200
    r = head.patch(f"/api/equipment/{CAM}", json={"serial": "x"})
    assert r.status_code == 403
    assert "equipment.admin" in r.json()["detail"]
    assert "(UE-10-22 3.4.2, 3.4.3)" in r.json()["detail"]
