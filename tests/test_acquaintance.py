"""Staff and students told of the surveillance (issue 23; UE-10-22 3.1.4, 3.4.6, 3.4.7),
through the API's real ASGI stack: 2,000 people imported from the HR and student
offices' list, a sign-off sheet for a group printed (read back with pypdf), its signed
scan uploaded and each person marked, the progress per unit and group, newcomers after
the edition took effect, a new edition asking everyone again; general meetings with their
minutes; bad lists, scans and marks refused in words with nothing changed; the lists seen
only by the head of internal security, the rector and the designated HR staff."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from pypdf import PdfReader

from api_world import World
from conftest import SQLITE_ONLY
from kuzet.timefmt import campus_day, parse_instant

NOW = parse_instant("2026-09-21T06:00:00Z")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HEADER = "person_id,full_name,kind,unit,group,start\r\n"
TEXT = {"text_kk": "UE-10-22. Бейнебақылау жүйесі туралы ереже.",
        "text_ru": "UE-10-22. Положение о системе видеонаблюдения."}


def _today(world: World, days: int = 0) -> str:
    return (campus_day(world.clock(), world.settings.display_timezone)
            + dt.timedelta(days=days)).isoformat()


def _roster(n: int, start: str) -> str:
    """`n` people: staff of two departments, and students of the Faculty of Engineering in
    groups of 25 (ИС-1 ... ), names in Kazakh."""
    lines = [HEADER]
    for i in range(n):
        if i % 10 == 0:
            lines.append(f"S{i:05d},Қызметкер Әлия {i},staff,Бухгалтерия,,{start}\r\n")
        else:
            lines.append(f"T{i:05d},Студент Нұрлан {i},student,Инженерия факультеті,"
                         f"ИС-{i % 8 + 1},{start}\r\n")
    return "".join(lines)


def _in_force(world: World, head: Any, rector: Any, number: str, day: str) -> int:
    r = head.post("/api/editions", json={"number": number, "title": "Бейнебақылау туралы",
                                         "summary": "Бейнебақылау ашық жүргізіледі.", **TEXT})
    assert r.status_code == 201, r.text
    edition = int(r.json()["id"])
    r = rector.post(f"/api/editions/{edition}/approve", json={
        "order_no": f"{number}00-Н", "order_date": _today(world), "effective": day})
    assert r.status_code == 200, r.text
    return edition


def _acquaint(client: Any) -> None:
    shown = client.get("/api/editions/current").json()
    assert client.post(f"/api/editions/{shown['edition']['id']}/acknowledge", json={
        "language": shown["language"], "text_sha256": shown["text_sha256"]}
    ).status_code == 200


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW)


def test_two_thousand_people_a_groups_sheet_its_scan_and_the_progress(world: World) -> None:
    """3.1.4, 3.4.4, 3.4.7: the list of 2,000 imported; a sheet for one group lists its people by
    name, prints in Kazakh and Russian with the edition and a signature column; after its
    scan each is marked; progress counts them per unit and group; the absent come onto the
    next sheet; a person who started after the edition took effect is a newcomer; a new
    edition in force starts over."""
    head = world.login(world.user("head", "head_of_security"))
    rector = world.login(world.user("rector", "rector"))
    hr = world.login(world.user("hr", "hr_officer"))
    edition = _in_force(world, head, rector, "2", _today(world))
    for client in (head, rector, hr):
        _acquaint(client)

    before = _today(world, -400)
    r = hr.post("/api/people/import", content=_roster(2000, before).encode(),
                headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 2000, "updated": 0, "bad": []}
    assert len(hr.get("/api/people").json()) == 2000
    group = hr.get("/api/people", params={"group": "ИС-3"}).json()
    assert len(group) == 200  # i % 8 == 2 and i % 10 != 0: 250 less 50

    r = hr.post("/api/sheets", json={"unit": "Инженерия факультеті", "group": "ИС-3"})
    assert r.status_code == 201, r.text
    sheet = r.json()
    names = [p["full_name"] for p in sheet["people"]]
    assert names == sorted(names)
    assert len(names) == 200
    for lang, title in (("kk", "ТАНЫСУ ПАРАҒЫ"), ("ru", "ЛИСТ ОЗНАКОМЛЕНИЯ")):
        pdf = hr.get(f"/api/sheets/{sheet['id']}/pdf", params={"lang": lang})
        assert pdf.status_code == 200, pdf.text
        said = " ".join((p.extract_text() or "")
                        for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert title in " ".join(said.split())
        assert names[0] in said
        assert names[-1] in said
        assert "200-Н" in said  # the rector's order

    ids = [p["person_id"] for p in sheet["people"]]
    r = hr.post(f"/api/sheets/{sheet['id']}/marks", json={"marks": {ids[0]: "signed"}})
    assert r.status_code == 409  # no scan yet
    assert "signed scan" in r.json()["detail"]
    assert hr.put(f"/api/sheets/{sheet['id']}/scan", content=PDF,
                  headers={"content-type": "application/pdf"}).status_code == 200
    marks = {pid: "signed" for pid in ids[:180]}
    marks |= {ids[180]: "refused"} | {pid: "absent" for pid in ids[181:]}
    r = hr.post(f"/api/sheets/{sheet['id']}/marks", json={"marks": marks})
    assert r.status_code == 200, r.text
    progress = {(p["unit"], p["group"]): p for p in hr.get("/api/people/progress").json()}
    mine = progress["Инженерия факультеті", "ИС-3"]
    assert (mine["people"], mine["signed"], mine["refused"], mine["absent"],
            mine["waiting"]) == (200, 180, 1, 19, 19)
    assert len(world.audit("people.read")) == 4  # lists and sheets read: counts, no name
    assert progress["Бухгалтерия", ""]["people"] == 200
    assert progress["Бухгалтерия", ""]["waiting"] == 200
    again = hr.post("/api/sheets", json={"unit": "Инженерия факультеті", "group": "ИС-3"})
    assert [p["person_id"] for p in again.json()["people"]] == ids[181:]  # the absent
    # one of them signs on the second sheet; the first sheet saved again leaves that be
    second = again.json()["id"]
    assert hr.put(f"/api/sheets/{second}/scan", content=PDF).status_code == 200
    r = hr.post(f"/api/sheets/{second}/marks", json={"marks": {ids[181]: "signed"}})
    assert r.status_code == 200, r.text
    r = hr.post(f"/api/sheets/{sheet['id']}/marks", json={"marks": marks})
    assert r.status_code == 200, r.text
    assert ids[181] not in r.json()["marks"]  # its final mark is the second sheet's
    listed = {s["id"]: s for s in hr.get("/api/sheets").json()}
    assert (listed[second]["people"], listed[second]["marked"]) == (19, 1)

    r = hr.post("/api/people/import", content=(
        HEADER + f"N00001,Жаңа Студент,student,Инженерия факультеті,ИС-3,{_today(world, 1)}"
        "\r\n").encode())
    assert r.json()["added"] == 1
    assert [p["person_id"] for p in hr.get("/api/people/newcomers").json()] == ["N00001"]

    # a new edition in force tomorrow asks everyone again
    _in_force(world, head, rector, "3", _today(world, 1))
    world.clock.advance(86400)
    hr = world.login("hr")
    _acquaint(hr)
    progress = {(p["unit"], p["group"]): p for p in hr.get("/api/people/progress").json()}
    assert progress["Инженерия факультеті", "ИС-3"]["signed"] == 0
    assert progress["Инженерия факультеті", "ИС-3"]["people"] == 201
    fresh = hr.post("/api/sheets", json={"unit": "Инженерия факультеті", "group": "ИС-3"})
    assert len(fresh.json()["people"]) == 201
    assert fresh.json()["edition"] != edition
    actions = [e.action for e in world.svc.audit.entries()]
    assert {"people.import", "sheet.make", "sheet.scan", "sheet.mark"} <= set(actions)


def test_bad_lists_scans_and_marks_are_refused_and_change_nothing(world: World) -> None:
    """Issue 23's bad input (3.1.4, 3.4.7): a CSV with bad rows (every one reported,
    nothing imported), a person id twice, a scan that is no PDF/JPEG/PNG or too large, a
    mark for someone not on the sheet or that is none; and who may not see the lists."""
    head = world.login(world.user("head", "head_of_security"))
    rector = world.login(world.user("rector", "rector"))
    _in_force(world, head, rector, "2", _today(world))
    _acquaint(head)
    bad = (HEADER + "A1,Әлия,staff,Бухгалтерия,,2020-09-01\r\n"
           "A2,,student,Инженерия,ИС-1,2020-09-01\r\n"
           "A3,Нұрлан,visitor,Инженерия,ИС-1,2020-09-01\r\n"
           "A1,Әлия екінші,staff,Бухгалтерия,,2020-09-01\r\n"
           "A4,Дана,student,Инженерия,ИС-1,01.09.2020\r\n")
    r = head.post("/api/people/import", content=bad.encode())
    assert r.status_code == 422, r.text
    assert [(b["line"], b["reason"]) for b in r.json()["bad"]] == [
        (3, "толық аты: 1–200 таңба"), (4, "түрі: қызметкер (staff) немесе білім алушы "
                                          "(student), 'visitor' емес"),
        (5, "A1 жеке нөмірі 2-жолда да бар"), (6, "басталған күні: ЖЖЖЖ-АА-КК түріндегі "
                                                "күн, '01.09.2020' емес")]
    assert (r.json()["added"], head.get("/api/people").json()) == (0, [])
    r = head.post("/api/people/import", content=b"name,surname\r\nx,y\r\n")
    assert (r.status_code, r.json()["bad"][0]["line"]) == (422, 1)
    r = head.post("/api/people/import", content="\ufeff".encode() + (
        HEADER + "A1,=HYPERLINK(\"x\"),staff,Бухгалтерия,,2020-09-01\r\n").encode("utf-8"))
    assert r.json()["added"] == 1
    # the student office's list numbering one of HR's people: refused, nothing changed
    r = head.post("/api/people/import", content=(
        HEADER + "A1,Басқа адам,student,Инженерия,ИС-1,2020-09-01\r\n").encode())
    assert r.status_code == 409
    assert "is a staff in the lists" in r.json()["detail"]
    sheet = head.post("/api/sheets", json={"unit": "Бухгалтерия"}).json()
    r = head.put(f"/api/sheets/{sheet['id']}/scan", content=b"MZ\x90\x00 not a scan")
    assert r.status_code == 415
    r = head.put(f"/api/sheets/{sheet['id']}/scan",
                 content=PDF + b"0" * world.settings.upload_max_bytes)
    assert r.status_code == 413
    assert head.put(f"/api/sheets/{sheet['id']}/scan", content=PDF).status_code == 200
    r = head.put(f"/api/sheets/{sheet['id']}/scan", content=PDF)
    assert r.status_code == 409  # once
    r = head.post(f"/api/sheets/{sheet['id']}/marks", json={"marks": {"ZZ": "signed"}})
    assert r.status_code == 400
    assert "not on sheet" in r.json()["detail"]
    r = head.post(f"/api/sheets/{sheet['id']}/marks", json={"marks": {"A1": "maybe"}})
    assert r.status_code == 400
    assert head.get(f"/api/sheets/{sheet['id']}").json()["marks"] == {}
    r = head.post("/api/sheets", json={"unit": "Нет такого"})
    assert r.status_code == 409
    r = head.post("/api/tokens", json={"name": "hr-sync", "perms": ["acquaintance.keep"]})
    assert r.status_code == 400  # a person reads the lists, never a token
    assert "3.1.4, 3.4.7" in r.json()["detail"]
    for role in ("guard", "administrator", "it_support"):  # personal data: not theirs
        other = world.login(world.user(f"u-{role}", role))
        _acquaint(other)
        assert other.get("/api/people").status_code == 403
        assert other.get("/api/meetings").status_code == 403


def test_a_general_meeting_with_its_minutes(world: World) -> None:
    """3.4.4, 3.4.6: a meeting where a dormitory's students were told, with its minutes' scan;
    the date, the audience and who informed are required; minutes told by content."""
    head = world.login(world.user("head", "head_of_security"))
    r = head.post("/api/meetings", json={
        "held": "2026-09-01", "audience": "№2 жатақхана студенттері",
        "informed_by": "Ішкі қауіпсіздік басшысы", "attendees": 180})
    assert r.status_code == 201, r.text
    meeting = r.json()
    assert head.put(f"/api/meetings/{meeting['id']}/minutes", content=PDF,
                    headers={"content-type": "application/pdf"}).status_code == 200
    assert head.get(f"/api/meetings/{meeting['id']}/minutes").content == PDF
    r = head.put(f"/api/meetings/{meeting['id']}/minutes", content=b"GIF89a",
                 headers={"content-type": "image/gif"})
    assert r.status_code == 415
    r = head.post("/api/meetings", json={"held": "1.9.2026", "audience": "x",
                                         "informed_by": "y"})
    assert r.status_code == 400
    assert [m["audience"] for m in head.get("/api/meetings").json()] == [
        "№2 жатақхана студенттері"]
    assert head.get("/api/meetings").json()[0]["minutes_type"] == "application/pdf"


@SQLITE_ONLY
def test_a_groups_sheet_is_made_scanned_and_marked_in_chromium(storage: Any,
                                                               tmp_path: Any) -> None:
    """3.4.7 in Chromium, in Kazakh, by clicks: the designated HR officer opens
    Acquaintance from the menu, makes a group's sheet, attaches its signed scan and saves
    the marks; the progress counts them; the pages pass axe-core's scan."""
    from playwright.sync_api import sync_playwright

    from api_world import CHROMIUM_ARGS
    from test_accessibility import AXE, _violations

    world = World(storage, NOW, https_port=0, http_redirect_port=None)
    head = world.login(world.user("head", "head_of_security"))
    rector = world.login(world.user("rector", "rector"))
    hr = world.login(world.user("hr", "hr_officer"))
    _in_force(world, head, rector, "2", _today(world))
    _acquaint(hr)
    assert hr.post("/api/people/import", content=_roster(40, _today(world, -30)).encode()
                   ).json()["added"] == 40
    scan = tmp_path / "signed.pdf"
    scan.write_bytes(PDF)
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(ignore_https_errors=True, bypass_csp=True).new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{base}/login")
        world.submit_login(page, "hr")
        page.wait_for_url(f"{base}/")
        page.get_by_role("navigation", name="Негізгі мәзір").get_by_role(
            "link", name="Таныстыру").click()
        page.wait_for_url(f"{base}/acquaintance")
        page.locator("#progress tr").first.wait_for()
        form = page.locator("#sheet")
        form.get_by_label("Бөлімше").fill("Инженерия факультеті")
        form.get_by_label("Топ").fill("ИС-2")
        form.get_by_role("button", name="Парақ жасау").click()
        page.wait_for_url(f"{base}/sheets/*")
        page.locator("#scan").wait_for(state="visible")
        page.locator("#scan input[type=file]").set_input_files(str(scan))
        page.locator("#scan").get_by_role("button", name="Тіркеу").click()
        marks = page.locator("#marks")
        marks.wait_for(state="visible")
        rows = page.locator("#people tr")
        assert rows.count() == 5  # i % 8 == 1 among 40: 1, 9, 17, 25, 33
        rows.nth(0).locator("select").select_option("absent")
        for i in range(1, 5):  # nothing is marked until chosen
            rows.nth(i).locator("select").select_option("signed")
        marks.get_by_role("button", name="Белгілерді сақтау").click()
        page.wait_for_function(
            "() => document.getElementById('message').textContent === 'Сақталды'")
        progress = {(p["unit"], p["group"]): p for p in hr.get("/api/people/progress").json()}
        assert (progress["Инженерия факультеті", "ИС-2"]["signed"],
                progress["Инженерия факультеті", "ИС-2"]["absent"]) == (4, 1)
        if AXE.exists():
            sheet_path = page.url.removeprefix(base)
            found = _violations(page, base, ("/acquaintance", sheet_path))
            assert not found, "\n".join(found)
