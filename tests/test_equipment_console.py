"""The equipment register's console pages in Chromium (issue 22 items 1, 2 and 4; UE-10-22
3.3.1-3.3.8, 3.4.3): IT support finds the register in the menu, adds a UPS, links a
camera's passport to it, writes a failed check and closes the fault with a repair, imports
a spreadsheet with a bad row and is told which and why, sees the checks due, and follows
an alarm of the health page to its item; a reader without equipment.admin sees the
passport read-only; a guard has no such page (3.4.3: the IT office's). No video anywhere
on these pages: IT support sees none."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any
from zoneinfo import ZoneInfo

from api_world import CAM, CHROMIUM_ARGS, World
from conftest import SQLITE_ONLY
from kuzet.catalog.alarms import Severity
from kuzet.equipment.schedule import WHAT
from kuzet.web.i18n import LANGUAGES, catalog

SPREADSHEET = (b"kind,name,model,building,power\n"
               b"switch,sw-1,SG350-28P,Main,ups-1\n"
               b"monitor,post-1,P2422H,Dormitory 9,\n")


def _no_video(page: Any) -> None:
    assert page.locator("video").count() == 0, page.url


@SQLITE_ONLY
def test_it_support_keeps_the_register_from_the_console(storage: Any) -> None:
    """UE-10-22 3.4.3, issue 22 items 1 and 2: IT support keeps the register. The register
    as a table with filters that keep their width (issue 21 point 4), an item added, a
    camera's passport linked to its UPS (and the UPS's page naming the camera), a failed
    check making the camera faulty with an open fault that a repair closes, a CSV import
    reporting its bad row by line, name and reason and then importing the good rows on
    request, the overdue check marked; item 3: the health page's alarm on a camera links to
    its item, a volume's does not; times in the display zone; no <video> on any of these
    pages."""
    from playwright.sync_api import sync_playwright

    world = World(storage, time.time_ns(), https_port=0, http_redirect_port=None,
                  buildings=["Main", "Library"])
    world.user("it", "it_support")
    world.svc.alarms.raise_("camera_offline", "cam2", Severity.CRITICAL,
                            "no packets for 30 s", now_ns=world.clock())
    world.svc.alarms.raise_("volume_missing", "media2", Severity.CRITICAL, "gone",
                            now_ns=world.clock())
    zone = ZoneInfo(world.settings.display_timezone)
    shown_now = dt.datetime.fromtimestamp(world.clock() / 1e9, zone).strftime(
        "%d.%m.%Y %H:%M:%S")

    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = world.browser_login(browser, base, "it")
        page.click("#menu a[href='/equipment']")
        page.wait_for_url(f"{base}/equipment")
        page.locator(f"#rows tr[data-name={CAM}]").wait_for()
        assert page.locator(f"#rows tr[data-name={CAM}] td").first.inner_text() == "Camera"
        assert page.locator("#menu a[aria-current=page]").inner_text() == "Equipment"
        assert page.locator("#export").get_attribute("href") == "/api/equipment.csv"
        for field in page.locator("#filters input, #filters select").all():
            box = field.bounding_box()
            assert box is not None
            assert box["width"] >= 150, box  # never collapsed

        add = page.locator("#add")
        add.wait_for(state="visible")
        add.locator("select[name=kind]").select_option("ups")
        add.locator("input[name=name]").fill("ups-1")
        add.locator("input[name=model]").fill("Smart-UPS 1500")
        add.locator("input[name=serial]").fill("U-100")
        add.locator("input[name=building]").fill("Main")
        add.locator("input[name=room]").fill("server room 014")
        add.locator("input[name=installed]").fill("2025-01-15")  # its battery test overdue
        add.locator("button[type=submit]").click()
        page.locator("#rows tr[data-name=ups-1]").wait_for()
        assert "Added:" in page.locator("#keep-message").inner_text()
        row = page.locator("#rows tr[data-name=ups-1]").inner_text()
        assert "UPS" in row
        assert "Main, server room 014" in row
        assert "In service" in row
        overdue = page.locator("#due tr[data-name=ups-1][data-overdue=yes]")
        overdue.wait_for()
        assert "overdue" in overdue.inner_text()
        assert "battery test, runtime on battery" in overdue.inner_text()

        page.select_option("#filters select[name=kind]", "ups")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#rows tr')].map((r) => r.dataset.name)"
            ".join() === 'ups-1'")
        assert page.url.endswith("/equipment?kind=ups")
        page.select_option("#filters select[name=kind]", "")
        page.locator(f"#rows tr[data-name={CAM}]").wait_for()
        _no_video(page)

        # The camera's passport, linked to the UPS.
        page.click(f"#rows a[href='/equipment/{CAM}']")
        page.wait_for_url(f"{base}/equipment/{CAM}")
        page.locator("#fields:not([disabled])").wait_for()
        page.locator("#passport input[name=power]").fill("ups-1")
        page.locator("#passport input[name=serial]").fill("DS-2CD-001")
        page.locator("#passport input[name=building]").fill("Main")
        page.click("#save button")
        page.locator("#link-power a[href='/equipment/ups-1']").wait_for()
        assert page.locator("#message").inner_text() == "Saved."
        assert page.input_value("#passport input[name=serial]") == "DS-2CD-001"

        # A failed check: the camera is faulty, its fault open; a repair closes it.
        write = page.locator("#write")
        write.locator("select[name=entry]").select_option("check-fault")
        write.locator("textarea[name=what]").fill("picture dark at night")
        write.locator("button[type=submit]").click()
        page.locator("#state[data-state=faulty]").wait_for()
        assert page.locator("#state").inner_text() == "Faulty"
        fault = page.locator("#log tr[data-open=yes]")
        assert fault.count() == 1
        assert "open" in fault.inner_text()
        assert fault.locator("td").first.inner_text() == shown_now  # Almaty, day.month.year
        fault_id = fault.get_attribute("data-entry")
        write.locator("select[name=entry]").select_option("repair")
        closes = write.locator("select[name=closes]")
        assert closes.locator("option").count() == 1
        assert closes.input_value() == fault_id
        write.locator("textarea[name=what]").fill("IR illuminator replaced")
        write.locator("button[type=submit]").click()
        page.locator("#state[data-state=in_service]").wait_for()
        assert page.locator("#log tr[data-open=yes]").count() == 0
        repair = page.locator("#log tr[data-kind=repair]")
        assert f"№{fault_id}" in repair.inner_text()
        assert page.locator("#write option[value=repair]").is_disabled()  # none left open
        _no_video(page)

        page.goto(f"{base}/equipment/ups-1")
        page.locator(f"#linked a[href='/equipment/{CAM}']").wait_for()
        _no_video(page)

        # A spreadsheet with a bad row: nothing imported, the row said; then the good rows.
        page.goto(f"{base}/equipment")
        form = page.locator("#import")
        form.wait_for(state="visible")
        form.locator("input[name=file]").set_input_files(
            files=[{"name": "equipment.csv", "mimeType": "text/csv", "buffer": SPREADSHEET}])
        form.locator("button[type=submit]").click()
        bad = page.locator("#bad-rows tbody tr[data-line='3']")
        bad.wait_for()
        cells = bad.locator("td").all_inner_texts()
        assert cells[:2] == ["3", "post-1"]
        assert "Dormitory 9" in cells[2], cells
        assert page.locator("#bad-rows tbody tr").count() == 1
        assert page.locator("#imported").inner_text().startswith("Nothing imported")
        assert page.locator("#rows tr[data-name=sw-1]").count() == 0
        form.locator("input[name=good_rows]").check()
        form.locator("button[type=submit]").click()
        page.locator("#rows tr[data-name=sw-1]").wait_for()
        assert page.locator("#imported").inner_text() == "Imported: 1 added, 0 changed."
        assert page.locator("#rows tr[data-name=post-1]").count() == 0

        # Item 3: the health page's alarm on a registered camera links to its item.
        page.click("#menu a[href='/health']")
        page.locator("#alarms a[href='/equipment/cam2']").wait_for()
        assert page.locator("#alarms a").count() == 1  # the volume is no item
        _no_video(page)
        browser.close()
    assert world.storage.catalog.camera(CAM).building == "Main"  # one record, the camera's
    assert len(world.audit("equipment.log")) == 2


@SQLITE_ONLY
def test_a_reader_sees_the_passport_read_only_and_a_guard_has_no_register(storage: Any
                                                                         ) -> None:
    """RBAC (UE-10-22 3.4.3, 3.5.4): the head of security reads the register (health.read)
    with no form to change it; a guard has no Equipment in the menu and, typing the
    address, gets the refusal naming health.read, not an empty table."""
    from playwright.sync_api import sync_playwright

    world = World(storage, time.time_ns(), https_port=0, http_redirect_port=None)
    guard = world.login(world.user("guard", "guard"))
    world.user("head", "head_of_security")
    home = guard.get("/?lang=en").text
    assert 'href="/equipment"' not in home
    for path in ("/equipment", f"/equipment/{CAM}"):
        html = guard.get(path).text
        refused = re.search(r'<section id="refused".*?</section>', html, re.S)
        assert refused is not None, path
        assert "health.read" in refused.group(0)
        assert 'id="rows"' not in html

    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = world.browser_login(browser, base, "head")
        page.goto(f"{base}/equipment/{CAM}")
        page.locator("#state[data-state=in_service]").wait_for()
        assert page.locator("#passport input[name=serial]").is_disabled()  # the fieldset
        assert page.locator("#passport select[name=state]").is_disabled()
        assert page.locator("#save").is_hidden()
        assert page.locator("#write").is_hidden()
        _no_video(page)
        page.goto(f"{base}/equipment")
        page.locator(f"#rows tr[data-name={CAM}]").wait_for()
        assert page.locator("#keep").is_hidden()
        _no_video(page)
        browser.close()


def test_what_a_check_looks_at_is_said_in_every_language() -> None:
    """The checks due say what to look at in the page's language: each kind's words
    (kuzet.equipment.schedule.WHAT) are catalog entries, as the page shows them."""
    for lang in LANGUAGES:
        said = catalog(lang)
        assert all(what in said for what in WHAT.values()), lang
