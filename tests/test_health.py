"""IT support's information-security duty (issue 18, UE-10-22 3.4.3): it checks the audit
log's integrity (`audit.verify`) and watches alarms, volumes and camera states on the
console's health page, and never reads what an audit entry says about footage (the
entries are `audit.read`'s, refused naming clause 3.5.1)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import update

from api_world import CAM, CHROMIUM_ARGS, World
from conftest import SQLITE_ONLY
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor
from kuzet.catalog.alarms import Severity
from kuzet.catalog.models import AuditEntry

NOW = 1_790_000_000 * 10**9
PURPOSE = "Complaint 41: the corridor of the third floor"


def _footage_entry(world: World) -> int:
    """An archive opening by the head of security, with the purpose it stated."""
    head = Actor("head", ("head_of_security",), "10.0.0.8")
    return world.svc.audit.act(head, AuditAction.ARCHIVE_OPEN, CAM, purpose=PURPOSE,
                               window=["2026-09-20T08:00:00Z", "2026-09-20T08:05:00Z"]).seq


def test_it_support_verifies_the_audit_but_never_reads_its_entries(storage: Any) -> None:
    """Clause 3.4.3: IT support checks the audit log's integrity through the API, and a
    rewritten entry is found; the entries themselves, and what the verdict could tell of
    them, stay out of its reach (refused naming 3.5.1), and nothing is read."""
    world = World(storage, NOW)
    it = world.login(world.user("it", "it_support"))
    seq = _footage_entry(world)
    r = it.get("/api/audit/verify")
    assert r.status_code == 200, r.text
    assert r.json()["intact"] is True
    assert r.json()["entries"] >= seq
    assert set(r.json()) == {"entries", "intact", "first_bad_seq", "checkpoints", "problems"}
    # The log's entries stay the rector's and the head of security's, by clause.
    reads = len(world.audit("audit.read"))
    for path in ("/api/audit", "/api/audit/export.csv"):
        refused = it.get(path)
        assert refused.status_code == 403, path
        assert "audit.read" in refused.json()["detail"]
        assert "UE-10-22 3.5.1" in refused.json()["detail"]
        assert PURPOSE not in refused.text
    assert len(world.audit("audit.read")) == reads  # nothing was read
    # A rewritten entry is found; the verdict says where, not what the entry said.
    with storage.catalog.session.begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(subject="cam2"))
    r = it.get("/api/audit/verify")
    assert r.json()["intact"] is False
    assert r.json()["first_bad_seq"] == seq
    assert r.json()["problems"]
    for said in (PURPOSE, "head", CAM, "cam2", "archive.open"):
        assert said not in r.text, said


def test_audit_read_is_refused_to_it_support_by_the_clause_that_keeps_it(storage: Any) -> None:
    """A role edit giving IT support the entries is refused, naming clause 3.5.1 (not 4.2,
    which is about liability), and the role stays as it was."""
    world = World(storage, NOW)
    rector = world.login(world.user("rector", "rector"))
    before = rector.get("/api/roles").json()
    r = rector.put("/api/roles/it_support", json={
        "perms": ["camera.status", "health.read", "audit.verify", "audit.read"],
        "order_no": "17-P", "order_date": "2026-09-01"})
    assert r.status_code == 400
    assert "refused: audit.read for 'it_support'" in r.json()["detail"]
    assert "UE-10-22 3.5.1" in r.json()["detail"]
    assert "4.2" not in r.json()["detail"]
    assert rector.get("/api/roles").json() == before


@SQLITE_ONLY
def test_the_health_page_shows_an_alarm_and_the_audit_verdict_in_chromium(storage: Any
                                                                          ) -> None:
    """Clause 3.4.3 in Chromium: IT support's health page shows an open alarm with its
    clause and the audit log's verdict, and no video, picture or audit entry's purpose."""
    from playwright.sync_api import sync_playwright

    world = World(storage, time.time_ns(), https_port=0, http_redirect_port=None)
    world.user("it", "it_support")
    _footage_entry(world)
    world.svc.alarms.raise_("non_lan_egress", "webhook_url", Severity.CRITICAL,
                            "refused: webhook_url names hooks.lan (UE-10-22 3.5.3)")
    _recorded_an_hour_ago(world)
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = world.browser_login(browser, base, "it")
        page.goto(f"{base}/health?lang=en")
        alarm = page.locator("#alarms tr", has_text="non_lan_egress")
        alarm.wait_for()
        assert "webhook_url" in alarm.inner_text()
        assert "3.5.3" in alarm.inner_text()
        page.locator("#audit").wait_for(state="visible")
        assert page.locator("#verdict").inner_text().startswith("Intact")
        assert int(page.locator("#entries").inner_text()) > 0
        assert PURPOSE not in page.content()
        # issue 22 item 4: each camera's frame rate hour by hour, drawn from numbers
        rates = page.locator("#rates tbody tr", has_text=CAM)
        rates.wait_for()
        assert rates.locator("svg.rates rect").count() == 24
        assert rates.locator("td").nth(3).inner_text() == "25 fps"  # its lowest hour
        assert page.locator("video, img").count() == 0
        browser.close()


def _recorded_an_hour_ago(world: World) -> None:
    """Ten minutes of 25 fps at 1 Mbit/s recorded in the last full hour, as 60-s rows."""
    from kuzet.catalog.store import NewSegment
    from kuzet.catalog.streams import Stream

    catalog = world.storage.catalog
    cam = catalog.camera(CAM).id
    hour = (world.clock() // (3600 * 10**9) - 1) * 3600 * 10**9
    for i in range(10):
        start = hour + i * 60 * 10**9
        catalog.add_segment(NewSegment(
            camera_id=cam, stream=Stream.MAIN, volume_id=world.storage.default_volume_id,
            start_ns=start, end_ns=start + 60 * 10**9, frames=1500, size_bytes=7_500_000,
            codec="h264", width=2, height=2, audio_codec=None, params_json="{}",
            keyframes_ns=[start], sha256=bytes(32)))


def test_each_cameras_rates_hour_by_hour(storage: Any) -> None:
    """Clause 3.4.3 (issue 22 item 4): the last 24 hours of each camera's frame rate and
    bitrate from the catalog's rows, an hour with nothing recorded said as none; for
    health.read only."""
    world = World(storage, time.time_ns())
    _recorded_an_hour_ago(world)
    it = world.login(world.user("it", "it_support"))
    guard = world.login(world.user("guard", "guard"))
    assert guard.get("/api/health/rates").status_code == 403
    by_camera = {c["camera"]: c["hours"] for c in it.get("/api/health/rates").json()}
    hours = by_camera[CAM]
    assert len(hours) == 24
    assert (hours[-2]["fps"], hours[-2]["bitrate_bps"]) == (25.0, 1_000_000)
    assert [h["fps"] for h in hours[:-2]] == [None] * 22
    assert all(h["fps"] is None for h in by_camera["cam2"])
