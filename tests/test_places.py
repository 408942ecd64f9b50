"""Places under the cameras' view and their warning signs (issue 23; UE-10-22 3.3.9-3.3.17,
3.4.5), through the API's real ASGI stack: the coverage report flags a place with cameras
and no sign until one is recorded, a room 3.4.5 names, a camera that covers no place and
a sign overdue for a check; the printable sign carries the Kazakh text and the retention
(read back with pypdf); bad input is refused in words and changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from typing import Any

import pytest
from pypdf import PdfReader

from api_world import CAM, World
from conftest import SQLITE_ONLY
from kuzet.timefmt import campus_day, parse_instant

NOW = parse_instant("2026-09-21T06:00:00Z")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CLASSROOM = {"building": "Main", "floor": "2", "room": "Room 204", "zone": "classroom",
             "kind": "classroom", "cameras": [CAM]}


def _text(pdf: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW)


def test_the_coverage_report_flags_places_without_signs_until_one_is_put_up(
        world: World) -> None:
    """3.4.4, 3.4.5: a classroom watched by a camera with no sign before it is a finding (a room
    the clause names); the other camera, covering no place, too; a sign recorded clears the
    first, and becomes overdue once `sign_check_days` pass without a check; a check clears
    it again. The PDF and CSV say the same, the CSV escaped; reading them is audited."""
    it = world.login(world.user("it", "it_support"))
    head = world.login(world.user("head", "head_of_security"))
    r = it.post("/api/places", json={"name": "main-204", **CLASSROOM})
    assert r.status_code == 201, r.text
    assert (r.json()["named_room"], r.json()["cameras"]) == (True, [CAM])
    found = head.get("/api/places/coverage").json()
    assert [(f["finding"], f["place"], f["named_room"], f["cameras"]) for f in found] == [
        ("unplaced", "", False, ["cam2"]), ("no_sign", "main-204", True, [CAM])]

    today = campus_day(NOW, world.settings.display_timezone).isoformat()
    r = it.post("/api/places/main-204/signs", json={
        "position": "=HYPERLINK(\"x\") at the door", "kind": "sign", "installed": today})
    assert r.status_code == 201, r.text
    sign = r.json()["signs"][0]
    assert sign["due"] == (dt.date.fromisoformat(today) + dt.timedelta(days=90)).isoformat()
    assert it.put(f"/api/places/main-204/signs/{sign['id']}/photo", content=PNG,
                  headers={"content-type": "image/png"}).status_code == 200
    assert head.get(f"/api/places/main-204/signs/{sign['id']}/photo").content == PNG
    assert [f["finding"] for f in head.get("/api/places/coverage").json()] == ["unplaced"]

    world.clock.advance(91 * 86400)
    head = world.login("head")
    it = world.login("it")
    found = head.get("/api/places/coverage").json()
    assert [(f["finding"], f["sign"], f["since"]) for f in found] == [
        ("unplaced", None, ""), ("overdue", sign["id"], today)]
    table = list(csv.reader(io.StringIO(head.get("/api/places/coverage.csv").text)))
    assert table[0][:3] == ["finding", "building", "floor"]
    assert [row[0] for row in table[1:]] == ["unplaced", "overdue"]
    pdf = head.get("/api/places/coverage.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    said = _text(pdf.content)
    assert "Белгіні тексеру мерзімі өткен" in said  # Kazakh, the default language
    assert "main-204" in said
    assert len(world.audit("place.coverage")) == 2
    later = campus_day(world.clock(), world.settings.display_timezone).isoformat()
    r = it.post(f"/api/places/main-204/signs/{sign['id']}/check",
                json={"day": later, "present": True})
    assert r.status_code == 200, r.text
    assert [f["finding"] for f in head.get("/api/places/coverage").json()] == ["unplaced"]
    # found taken down: the place has no sign again
    it.post(f"/api/places/main-204/signs/{sign['id']}/check", json={"day": later,
                                                                     "present": False})
    assert [f["finding"] for f in head.get("/api/places/coverage").json()] == [
        "unplaced", "no_sign"]
    # the second camera placed: only the missing sign is left
    r = it.post("/api/places", json={"name": "main-hall", "building": "Main", "floor": "1",
                                     "room": "Lobby", "zone": "lobby", "cameras": ["cam2"]})
    assert r.status_code == 201, r.text
    assert [(f["finding"], f["place"]) for f in head.get("/api/places/coverage").json()] == [
        ("no_sign", "main-hall"), ("no_sign", "main-204")]


def test_the_printed_sign_says_the_university_the_retention_and_the_regulation(
        world: World) -> None:
    """3.4.5: the A4 and A3 sign for a place, drawn by Kuzet, in Kazakh, Russian and
    English: the university's name, the purpose, the retention of the place's cameras,
    UE-10-22 and whom to ask."""
    it = world.login(world.user("it", "it_support"))
    assert it.post("/api/places", json={"name": "main-204", **CLASSROOM}).status_code == 201
    for paper, width in (("A4", 595), ("A3", 842)):
        r = it.get(f"/api/places/main-204/sign.pdf?paper={paper}")
        assert r.status_code == 200, r.text
        page = PdfReader(io.BytesIO(r.content)).pages[0]
        assert round(float(page.mediabox.width)) == width
        said = " ".join(_text(r.content).split())
        assert "БЕЙНЕБАҚЫЛАУ ЖҮРГІЗІЛЕДІ" in said
        assert "ВЕДЁТСЯ ВИДЕОНАБЛЮДЕНИЕ" in said
        assert "Жазбалар ең көбі 30 күн сақталады" in said
        assert "Recordings are kept at most 30 days" in said
        assert world.settings.organisation in said
        assert "UE-10-22" in said
        assert "ішкі қауіпсіздік қызметі" in said
        assert "main-204: Main, 2, Room 204" in said
        assert "Бейне ғана жазылады, дыбыс жазылмайды" in said
    # 3.1.2: a camera of the place keeps its sound by the rector's order: the sign says so,
    # as the public notice does
    world.storage.catalog.set_audio(CAM, ("12-Н", "2026-09-01"))
    world.svc.cameras_changed()
    said = " ".join(_text(it.get("/api/places/main-204/sign.pdf").content).split())
    assert "По приказу ректора записываются изображение и звук" in said
    assert "Pictures only" not in said
    notice = world.client().get("/notice?lang=en").text
    assert "sound too, by the rector&#39;s order (3.1.2), only at:" in notice


def test_bad_places_and_signs_are_refused_in_words_and_change_nothing(world: World) -> None:
    """Issue 23's bad input (3.4.5): a zone off the regulation's list, a kind that is none, a
    camera that does not exist or covers another place already, a name taken or the
    report's, a photo that is no picture, a check before the sign was put up or on a day
    to come; and a guard keeps nothing."""
    it = world.login(world.user("it", "it_support"))
    guard = world.login(world.user("guard", "guard"))
    assert it.post("/api/places", json={"name": "main-204", **CLASSROOM}).status_code == 201
    cases = [
        ({"name": "x1", **CLASSROOM, "zone": "toilet"}, 400, "3.3.9-3.3.17"),
        ({"name": "x2", **CLASSROOM, "kind": "kitchen"}, 400, "kind of place"),
        ({"name": "x3", **CLASSROOM, "cameras": ["nope"]}, 404, "no camera named"),
        ({"name": "x4", **CLASSROOM}, 409, "covers place main-204 already"),
        ({"name": "main-204", **CLASSROOM, "cameras": []}, 409, "already"),
        ({"name": "bad name!", **CLASSROOM, "cameras": []}, 400, "a place's name"),
        ({"name": "x5", **CLASSROOM, "room": " ", "cameras": []}, 400, "required"),
    ]
    for body, status, words in cases:
        r = it.post("/api/places", json=body)
        assert r.status_code == status, (body, r.text)
        assert words in r.json()["detail"], (body, r.json())
    assert [p["name"] for p in it.get("/api/places").json()] == ["main-204"]
    r = guard.post("/api/places", json={"name": "g", **CLASSROOM, "cameras": []})
    assert r.status_code == 403
    assert "equipment.admin" in r.json()["detail"]
    assert guard.get("/api/places/coverage").status_code == 403  # health.read, 3.4.3

    today = campus_day(NOW, world.settings.display_timezone).isoformat()
    sign = it.post("/api/places/main-204/signs", json={
        "position": "door", "installed": today}).json()["signs"][0]["id"]
    r = it.put(f"/api/places/main-204/signs/{sign}/photo", content=b"%PDF-1.4 not a photo",
               headers={"content-type": "application/pdf"})
    assert r.status_code == 400
    assert "JPEG or PNG" in r.json()["detail"]
    r = it.put(f"/api/places/main-204/signs/{sign}/photo", content=b"GIF89a...")
    assert r.status_code == 415
    yesterday = (dt.date.fromisoformat(today) - dt.timedelta(days=1)).isoformat()
    r = it.post(f"/api/places/main-204/signs/{sign}/check", json={"day": yesterday})
    assert r.status_code == 400
    assert "comes before the sign was put up" in r.json()["detail"]
    r = it.post("/api/places/main-204/signs", json={"position": "door", "kind": "flag",
                                                     "installed": today})
    assert r.status_code == 400
    tomorrow = (dt.date.fromisoformat(today) + dt.timedelta(days=1)).isoformat()
    r = it.post(f"/api/places/main-204/signs/{sign}/check", json={"day": tomorrow})
    assert r.status_code == 400
    assert "has not come yet" in r.json()["detail"]
    r = it.post("/api/places", json={"name": "coverage.pdf", **CLASSROOM, "cameras": []})
    assert r.status_code == 400  # the report's own path
    place = it.get("/api/places/main-204").json()
    assert [(s["checked"], s["photo"]) for s in place["signs"]] == [(None, False)]


@SQLITE_ONLY
def test_the_command_line_reads_the_coverage_and_verify_warns_of_unplaced_cameras(
        world: World, monkeypatch: Any) -> None:
    """3.4.5 from the server's shell: `kuzet place list` and `kuzet place coverage` (and its
    CSV) read the register; once places are kept, `kuzet verify` warns of each camera that
    covers none."""
    from typer.testing import CliRunner

    from kuzet.cli.main import app

    it = world.login(world.user("it", "it_support"))
    monkeypatch.setenv("KUZET_HOME", str(world.settings.home))
    monkeypatch.setenv("KUZET_DATABASE_URL", world.settings.database_url)
    run = CliRunner().invoke
    assert "covers no place" not in run(app, ["verify"]).output  # no register kept yet
    assert it.post("/api/places", json={"name": "main-204", **CLASSROOM}).status_code == 201
    listed = run(app, ["place", "list"])
    assert listed.exit_code == 0, listed.output
    assert "main-204" in listed.output
    assert f"cameras {CAM}; signs 0" in listed.output
    found = run(app, ["place", "coverage"])
    assert found.exit_code == 0, found.output
    assert "no_sign (3.4.5 room)" in found.output
    assert "unplaced" in found.output
    assert run(app, ["place", "coverage", "--csv"]).output.startswith("finding,building")
    verify = run(app, ["verify"])
    assert "WARNING: camera cam2 covers no place of the register" in verify.output


@SQLITE_ONLY
def test_it_support_records_a_sign_from_the_console_in_chromium(storage: Any) -> None:
    """3.4.5 in Chromium, in Kazakh, by clicks: IT support opens Places and signs from the
    menu, sees the classroom without a sign among the findings, opens it and records the
    sign put up; the finding is gone; the pages pass axe-core's scan."""
    from playwright.sync_api import sync_playwright

    from api_world import CHROMIUM_ARGS
    from test_accessibility import AXE, _violations

    # the browser's own today is the sign's day: the world's clock is the real one
    world = World(storage, time.time_ns(), https_port=0, http_redirect_port=None)
    it = world.login(world.user("it", "it_support"))
    assert it.post("/api/places", json={"name": "main-204", **CLASSROOM}).status_code == 201
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(ignore_https_errors=True, bypass_csp=True).new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{base}/login")
        world.submit_login(page, "it")
        page.wait_for_url(f"{base}/")
        page.get_by_role("navigation", name="Негізгі мәзір").get_by_role(
            "link", name="Орындар мен белгілер").click()
        page.wait_for_url(f"{base}/places")
        findings = page.locator("#findings tr")
        findings.first.wait_for()
        assert "3.4.5-тармақ атаған бөлме, белгісі жоқ" in page.locator("#findings").inner_text()
        page.locator("#findings").get_by_role("link", name="main-204").click()
        page.wait_for_url(f"{base}/places/main-204")
        form = page.locator("#sign")
        form.wait_for(state="visible")
        form.get_by_label("Ілінген жері").fill("Есіктің оң жағында")
        form.get_by_role("button", name="Тіркеу").click()
        page.locator("#signs tr").first.wait_for()
        assert "Есіктің оң жағында" in page.locator("#signs").inner_text()
        page.goto(f"{base}/places")
        page.locator("#places tr").first.wait_for()
        page.wait_for_function("() => !document.getElementById('no-findings').hidden || "
                               "!document.getElementById('findings').textContent.includes"
                               "('main-204')")
        assert "main-204" not in page.locator("#findings").inner_text()
        if AXE.exists():
            found = _violations(page, base, ("/places", "/places/main-204"))
            assert not found, "\n".join(found)
