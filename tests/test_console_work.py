"""The operator's status bar and "my work" (issue 21, its "Also"), the camera list's
details and instants on the command line in the display zone (item 11).

The bar and the counts are read in-process, through the pages and `GET /status-bar`, and
compared with what the API lists for the same person: each role sees only its own figures
(UE-10-22 3.5.4) — a guard the cameras and alarms, never the equipment's alarms (3.4.3,
IT support's); a locked screen gets none (3.5.1)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from api_world import CAM, World
from conftest import SQLITE_ONLY
from kuzet.catalog.alarms import Severity
from kuzet.timefmt import display_instant, parse_instant

NOW = parse_instant("2026-09-21T14:00:00Z")
INFORMED = "2026-09-21T19:05:00+05:00"


def _figures(html: str) -> dict[str, str]:
    """The status bar's figures as the page shows them, by name."""
    bar = re.search(r'<aside id="status-bar".*?</aside>', html, re.S)
    assert bar is not None, html[:3000]
    return dict(re.findall(r'data-v="([a-z_]+)"[^>]*>([^<]*)<', bar.group(0)))


def _work(html: str) -> dict[str, int]:
    """"My work" on the home page: each line's count."""
    found = re.search(r'<section id="my-work".*?</section>', html, re.S)
    assert found is not None, html[:3000]
    return {k: int(v) for k, v in re.findall(
        r'data-work="([a-z]+)".*?<b>(\d+)</b>', found.group(0), re.S)}


def _badge(html: str, href: str) -> str | None:
    menu = re.search(r'<nav id="menu".*?</nav>', html, re.S)
    assert menu is not None
    link = re.search(rf'<a href="{re.escape(href)}"[^>]*>(.*?)</a>', menu.group(0), re.S)
    assert link is not None, (href, menu.group(0))
    count = re.search(r'class="count"[^>]*>(\d+)<', link.group(1))
    return count.group(1) if count else None


@SQLITE_ONLY
def test_each_role_sees_its_work_and_status_as_the_api_lists_them(storage: Any) -> None:
    """Issue 21 "Also": the guard's shift (alarms not acknowledged, own protocol drafts,
    3.5.7), the head of security's review queue, the rector's approvals, each counted as
    the API lists them, in "my work", the menu and the status bar; the bar shows cameras
    recording or not and the disk's days to whoever may see cameras, equipment alarms
    only to health.read (3.4.3), this server's clock offset as the last time check
    measured it ("—" before any, marked past the alarm's limit, 3.4.1), and nothing to a
    locked screen (3.5.1)."""
    world = World(storage, NOW)
    guard = world.login(world.user("guard", "guard"))
    head = world.login(world.user("head", "head_of_security"))
    rector = world.login(world.user("rector", "rector"))
    it = world.login(world.user("it", "it_support"))
    world.user("inspector", "viewer")
    cam = world.storage.catalog.camera(CAM).id
    for track in (1, 2, 3):
        world.svc.detection.record(cam, None, "intrusion", "person", 0.9, NOW, [track],
                                   b"\xff\xd8 a picture")
    drafts = [guard.post("/api/protocols", json={"camera": CAM}).json()["id"] for _ in "ab"]
    assert guard.put(f"/api/protocols/{drafts[0]}", json={
        "location": "Main building, north door", "circumstances": "Қақпа бұзылды.",
        "measures": "Патруль жіберілді", "informed": INFORMED}).status_code == 200
    assert guard.post(f"/api/protocols/{drafts[0]}/submit").status_code == 200
    assert head.post("/api/grants", json={
        "user": "inspector", "perms": ["archive.view"], "cameras": [CAM],
        "footage_from": "2026-09-21T10:00:00Z", "footage_to": "2026-09-21T11:00:00Z",
        "valid_from": "2026-09-21T00:00:00Z", "valid_until": "2026-09-22T00:00:00Z",
        "instruction": "Rector's instruction No. 7"}).status_code == 201

    open_alarms = len(guard.get("/api/events", params={"acknowledged": "false"}).json())
    mine = len(guard.get("/api/protocols", params={"state": "draft"}).json())
    assert (open_alarms, mine) == (3, 1)
    home = guard.get("/").text
    assert _work(home) == {"alarms": 3, "drafts": 1}
    assert (_badge(home, "/events"), _badge(home, "/protocols")) == ("3", "1")
    assert _figures(home) == {"recording": "0", "not_recording": "2", "alarms": "3",
                              "disk_days": "—", "clock_ms": "—"}  # nothing is run here
    assert "Сағаттың ауытқуы" in home
    assert 'class="over"' not in home
    # The server's time check (equipment.clockwatch) as `kuzet serve` reports it.
    reading = {"server": "127.0.0.1:123", "offset_ms": -3.24, "delay_ms": 0.2,
               "stratum": 2, "limit_ms": 100}
    world.svc.parts = lambda: {"time": dict(reading)}
    assert _figures(guard.get("/").text)["clock_ms"] == "-3.2"
    reading["offset_ms"] = 250.0
    over = guard.get("/").text
    assert _figures(over)["clock_ms"] == "+250.0"
    assert re.search(r'id="clock-offset"[^>]*class="over"', over)
    assert guard.get("/status-bar").json()["clock_over"] is True

    queue = len(head.get("/api/protocols", params={"state": "submitted"}).json())
    assert queue == 1
    assert _work(head.get("/").text)["review"] == queue
    waiting = rector.get("/").text
    assert _work(waiting)["approvals"] == 1
    assert _badge(waiting, "/approvals") == "1"
    assert _badge(waiting, "/events") == "3"

    world.svc.alarms.raise_("volume_missing", "media2", Severity.CRITICAL, "gone",
                            now_ns=NOW)
    assert guard.get("/status-bar").json()["equipment"] is None  # IT support's (3.4.3)
    seen = it.get("/status-bar").json()
    assert (seen["equipment"], seen["alarms"], seen["not_recording"]) == (1, None, 2)
    event = guard.get("/api/events").json()[0]["id"]
    assert guard.post(f"/api/events/{event}/ack", json={"note": "seen"}).status_code == 200
    now = guard.get("/status-bar").json()
    assert (now["alarms"], now["badges"]["/events"]) == (2, 2)
    assert guard.put("/api/auth/lock", json={"reason": "by hand"}).status_code == 200
    assert guard.get("/status-bar").status_code == 401
    assert 'id="status-bar"' not in guard.get("/wall").text


@SQLITE_ONLY
def test_the_command_line_prints_instants_in_the_display_zone(
        storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21 item 11: `kuzet alarms` says when in the console's zone, with its offset
    (the same wall time the console shows); `--json` stays UTC for programs."""
    from kuzet.cli.main import app

    raised = parse_instant("2026-09-21T14:00:00Z")
    storage.alarms.raise_("disk_pressure", "media", Severity.WARNING, "under the floor",
                          now_ns=raised)
    monkeypatch.setenv("KUZET_HOME", str(storage.settings.home))
    monkeypatch.setenv("KUZET_DATABASE_URL", storage.settings.database_url)
    monkeypatch.setenv("KUZET_DISPLAY_TIMEZONE", "Asia/Almaty")
    said = CliRunner().invoke(app, ["alarms"])
    assert said.exit_code == 0, said.output
    assert "2026-09-21T19:00:00+05:00" in said.output
    assert display_instant(raised, "UTC") == "2026-09-21T14:00:00+00:00"
    machine = CliRunner().invoke(app, ["alarms", "--json"])
    assert '"raised": "2026-09-21T14:00:00.000000000Z"' in machine.output


@SQLITE_ONLY
def test_the_bar_refreshes_the_camera_list_says_where_and_an_empty_viewing_is_warned(
        storage: Any) -> None:
    """Issue 21 in Chromium: the status bar and the menu's count follow an alarm
    acknowledged elsewhere (statusbar.js), the camera list says where a camera is
    (item 11), and a viewing session of a window with no footage is said before it is
    recorded, then recorded on "Record anyway" (UE-10-22 3.5.5)."""
    import time

    from playwright.sync_api import sync_playwright

    from api_world import CHROMIUM_ARGS

    now = time.time_ns()
    world = World(storage, now, https_port=0, http_redirect_port=None)
    world.storage.catalog.add_camera("cam3", "rtsp://10.0.0.4/s", zone="lobby",
                                     building="Main", floor="2", location="North door")
    guard = world.login(world.user("guard", "guard"))
    world.user("head", "head_of_security")
    cam = world.storage.catalog.camera(CAM).id
    for track in (1, 2):
        world.svc.detection.record(cam, None, "intrusion", "person", 0.9, now, [track],
                                   b"\xff\xd8 a picture")
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = world.browser_login(browser, base, "guard")
        page.goto(f"{base}/?lang=en")
        assert page.locator("#status-bar [data-v=alarms]").inner_text() == "2"
        assert page.locator("#menu a[href='/events'] .count").inner_text() == "2"
        place = page.locator("#cameras li[data-camera=cam3] .place")
        assert place.inner_text() == "Main, Floor 2, North door"
        event = guard.get("/api/events").json()[0]["id"]
        assert guard.post(f"/api/events/{event}/ack", json={}).status_code == 200
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        # a function, not an expression: Playwright evaluates an expression with eval(),
        # which the console's CSP refuses whenever it must poll (one CI run in five)
        page.wait_for_function("() => document.querySelector('#status-bar [data-v=alarms]')"
                               ".textContent === '1'")
        assert page.locator("#menu a[href='/events'] .count").inner_text() == "1"

        head = world.browser_login(browser, base, "head")
        head.goto(f"{base}/registers/viewings?lang=en")
        form = head.locator("#new-viewing")
        form.wait_for(state="visible")
        form.locator(f"input[name=camera][value={CAM}]").check()
        form.locator("input[name=purpose]").fill("Shown to the student's father")
        form.locator(".attendee input[name=name]").fill("S. Akhmetov")
        form.locator(".attendee input[name=document]").fill("ID 045678912")
        form.locator("button[type=submit]").click()
        head.locator("#record-anyway").wait_for(state="visible")
        assert "No footage was recorded" in head.locator("#message").inner_text()
        assert world.svc.viewings.listing() == []
        head.click("#record-anyway")
        head.locator("#rows tr a", has_text="В-").wait_for()
        browser.close()
    [entry] = world.audit("viewing.session")
    assert json.loads(entry.detail)["recorded"] == []  # audited as a viewing of nothing
