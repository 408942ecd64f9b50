"""The camera register against UE-10-22 (issue 18, items 5 and 6): every camera in one
installation zone of the regulation's closed list (3.3.9-3.3.17) on every path, older rows
listed until someone places them, and a camera's sound kept only on the rector's order
(3.1.2, 3.3.1), recorded by the rector's own account, shown and audited. The recording
side (what ffprobe finds in the files) is tests/test_recording.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from api_world import CAM, CHROMIUM_ARGS, World
from conftest import SQLITE_ONLY, Kuzet
from kuzet.catalog.db import alembic_config, make_engine, migrate
from kuzet.catalog.store import Catalog
from kuzet.regulation import ZONE_CLAUSES, PolicyError, Zone, check_audio_order
from kuzet.timefmt import parse_instant

NOW = parse_instant("2026-09-21T14:00:00Z")
ZONE_REFUSED = "(UE-10-22 3.3.9-3.3.17)"


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW)


def test_the_zone_list_is_the_regulations() -> None:
    """3.3.9-3.3.17 as the closed list: each place the clauses name is a zone, items that
    name two places split (3.3.10 entrances, emergency exits and the perimeter; 3.3.13 a
    dormitory's entrance groups and floors; 3.3.16 classrooms and computer classes), each
    clause from 3.3.10 to 3.3.17 behind at least one zone, and no "other"."""
    assert {str(z): c for z, c in ZONE_CLAUSES.items()} == {
        "entrance": "3.3.10", "emergency_exit": "3.3.10", "perimeter": "3.3.10",
        "corridor": "3.3.11", "staircase": "3.3.12", "dormitory_entrance": "3.3.13",
        "dormitory_floor": "3.3.13", "sports_leisure": "3.3.14", "lobby": "3.3.15",
        "classroom": "3.3.16", "computer_class": "3.3.16", "valuables": "3.3.17"}
    assert set(ZONE_CLAUSES) == set(Zone)


def test_every_path_refuses_a_zone_outside_the_list(world: World) -> None:
    """3.3.9-3.3.17: the API and the catalog refuse "other", "dormitory" (3.3.13 names
    entrance groups and floors apart), free text and no zone, naming the clauses; nothing
    is added or changed, and nothing is logged as done. The API's description lists the
    values."""
    admin = world.login(world.user("admin", "administrator"))
    catalog = world.storage.catalog
    for zone in ("other", "dormitory", "Main hall, 2nd floor", None):
        body = {"name": "door", "url": "rtsp://10.0.0.5/s", "zone": zone}
        r = admin.post("/api/cameras", json={k: v for k, v in body.items() if v is not None})
        assert r.status_code == 422, r.text
        assert ZONE_REFUSED in r.json()["detail"][0]["msg"], r.text
        r = admin.put(f"/api/cameras/{CAM}/zone", json={"zone": zone})
        assert r.status_code == 422, r.text
        assert ZONE_REFUSED in r.json()["detail"][0]["msg"], r.text
        with pytest.raises(PolicyError, match=r"refused: .*\(UE-10-22 3\.3\.9-3\.3\.17\)"):
            catalog.add_camera("door", "rtsp://10.0.0.5/s", zone=zone)
        with pytest.raises(PolicyError, match=r"\(UE-10-22 3\.3\.9-3\.3\.17\)"):
            catalog.set_zone(CAM, zone)
    assert [c.name for c in catalog.cameras()] == [CAM, "cam2"]
    assert catalog.camera(CAM).zone == "corridor"
    assert world.audit("camera.add") == world.audit("camera.zone") == []
    schema = admin.get("/api/openapi.json").json()["components"]["schemas"]
    assert schema["Zone"]["enum"] == [str(z) for z in Zone]
    assert "zone" in schema["NewCamera"]["required"]


def test_a_camera_outside_the_list_is_listed_until_placed(tmp_path: Path,
                                                          empty_database_url: str) -> None:
    """3.3.9-3.3.17 on an older catalog: the migration renames what the list names one to
    one ("sports" is 3.3.14's sports and leisure premises) and keeps the rest ("dormitory",
    which 3.3.13 splits, "other", free text, none) for a person to choose; the catalog
    lists exactly those."""
    from alembic import command

    engine = make_engine(empty_database_url)
    command.upgrade(alembic_config(engine), "0009")
    old = {"gym": "sports", "dorm": "dormitory", "misc": "other", "hall": "Main hall",
           "bare": None, "gate": "entrance"}
    with engine.begin() as conn:
        for name, zone in old.items():
            conn.execute(text("INSERT INTO cameras (name, main_url, zone, created_ns) "
                              "VALUES (:n, 'rtsp://10.0.0.2/s', :z, 0)"), {"n": name, "z": zone})
    migrate(engine)
    catalog = Catalog(engine)
    zones = {c.name: c.zone for c in catalog.cameras()}
    assert zones == {**old, "gym": "sports_leisure"}
    assert {c.name for c in catalog.unzoned()} == {"dorm", "misc", "hall", "bare"}
    assert all(c.audio_order_no is None for c in catalog.cameras())  # video only
    catalog.set_zone("dorm", "dormitory_floor")
    assert {c.name for c in catalog.unzoned()} == {"misc", "hall", "bare"}
    engine.dispose()


def test_verify_lists_unplaced_cameras_and_the_command_places_them(kuzet: Kuzet) -> None:
    """3.3.9-3.3.17 on the server's command line: `kuzet verify` names each camera without
    a zone of the list; `kuzet camera zone` refuses another word (the clause named, nothing
    changed) and places a camera, audited with the operating-system user; `camera add`
    without a zone is refused; the register shows the zone and its clause."""
    kuzet.run("camera", "add", "gate", "rtsp://10.0.0.2/s", "--zone", "entrance")
    no_zone = kuzet.run("camera", "add", "yard", "rtsp://10.0.0.3/s", check=False)
    assert no_zone.returncode == 2
    assert "refused: no installation zone (UE-10-22 3.3.9-3.3.17)" in no_zone.stderr
    catalog = kuzet.catalog()
    with catalog.session.begin() as s:  # a row as an older version left it
        s.execute(text("UPDATE cameras SET zone = 'other' WHERE name = 'gate'"))
    verify = kuzet.run("verify")
    assert "WARNING: camera gate has zone 'other'" in verify.stdout
    assert "kuzet camera zone gate ZONE" in verify.stdout
    refused = kuzet.run("camera", "zone", "gate", "dormitory", check=False)
    assert refused.returncode == 2
    assert "refused: installation zone 'dormitory' (UE-10-22 3.3.9-3.3.17)" in refused.stderr
    assert catalog.camera("gate").zone == "other"
    placed = kuzet.run("camera", "zone", "gate", "emergency_exit")
    assert "UE-10-22 3.3.10" in placed.stdout
    assert "camera gate" not in kuzet.run("verify").stdout
    (entry,) = kuzet.json("audit", "list", "--action", "camera.zone")
    assert entry["actor"].startswith("local:")
    assert entry["detail"].items() >= {"zone": "emergency_exit", "before": "other"}.items()
    (row,) = kuzet.json("camera", "list")
    assert (row["zone"], row["zone_clause"], row["audio"]) == ("emergency_exit", "3.3.10",
                                                               None)


def test_sound_is_kept_only_on_the_rectors_order(world: World) -> None:
    """3.1.2, 3.3.1: a camera records video only until the rector, with the rector's own
    account (second factor and all), records the order that keeps its sound; the order is
    shown in the register and audited. Nobody else may: the administrator is refused (and
    the refusal logged), no API token carries the decision, a missing order or a date after
    today is refused naming the clause, and nothing changes. Recording video only again is
    less than the order allows: the administrator may do it, audited too."""
    admin = world.login(world.user("admin", "administrator"))
    rector = world.login(world.user("rector", "rector"))
    order = {"order_no": "112-П", "order_date": "2026-09-15"}
    assert admin.get(f"/api/cameras/{CAM}").json()["audio"] is None
    assert admin.put(f"/api/cameras/{CAM}/audio", json=order).status_code == 403
    assert any("camera.audio" in e.detail for e in world.audit("access.refused"))
    token = rector.post("/api/tokens", json={"name": "sound", "perms": ["camera.audio"]})
    assert token.status_code == 400
    assert "camera.audio" in token.json()["detail"]
    for bad, words in (({"order_no": " ", "order_date": "2026-09-15"},
                        "refused: keeping sound without the rector's order (UE-10-22 3.1.2)"),
                       ({"order_no": "112-П", "order_date": "15.09.2026"},
                        "(UE-10-22 3.1.2): the date is YYYY-MM-DD"),
                       ({"order_no": "112-П", "order_date": "2026-09-22"},
                        "after today (UE-10-22 3.1.2)")):
        r = rector.put(f"/api/cameras/{CAM}/audio", json=bad)
        assert r.status_code == 400, r.text
        assert words in r.json()["detail"]
    assert world.storage.catalog.camera(CAM).audio_order_no is None
    assert world.audit("camera.audio") == []

    r = rector.put(f"/api/cameras/{CAM}/audio", json=order)
    assert r.status_code == 200, r.text
    assert r.json()["audio"] == order
    listed = {c["name"]: c for c in admin.get("/api/cameras").json()}
    assert listed[CAM]["audio"] == order
    assert listed["cam2"]["audio"] is None
    (kept,) = world.audit("camera.audio")
    assert (kept.actor, kept.subject) == ("rector", CAM)
    assert json.loads(kept.detail).items() >= {"keep": True, **order}.items()

    r = admin.delete(f"/api/cameras/{CAM}/audio")
    assert r.status_code == 200, r.text
    assert r.json()["audio"] is None
    assert world.storage.catalog.camera(CAM).audio_order_no is None
    dropped = world.audit("camera.audio")[-1]
    assert dropped.actor == "admin"
    assert json.loads(dropped.detail).items() >= {"keep": False, **order}.items()


def test_the_order_check_knows_today_from_the_clock_it_is_given() -> None:
    """3.1.2: an order dated the day of the decision is a basis; one dated the next day
    is not yet given, whatever day the test runs."""
    day = parse_instant("2026-09-21T23:59:00Z")
    assert check_audio_order(" 7 ", "2026-09-21", day) == ("7", "2026-09-21")
    with pytest.raises(PolicyError, match="after today"):
        check_audio_order("7", "2026-09-22", day)


def test_the_command_line_cannot_keep_sound(kuzet: Kuzet) -> None:
    """3.1.2, 4.1: the command line, open to whoever holds a shell, cannot record the
    rector's order (refused, the clause named, nothing changed); it shows the setting and
    can only stop keeping sound, audited with the operating-system user."""
    kuzet.run("camera", "add", "hall", "rtsp://10.0.0.2/s", "--zone", "lobby")
    refused = kuzet.run("camera", "audio", "hall", "--order", "112-П", "--date", "2026-09-15",
                        check=False)
    assert refused.returncode == 2
    assert "refused: keeping a camera's sound from the command line (UE-10-22 3.1.2" \
        in refused.stderr
    catalog = kuzet.catalog()
    assert catalog.camera("hall").audio_order_no is None
    assert "video only" in kuzet.run("camera", "audio", "hall").stdout
    catalog.set_audio("hall", ("112-П", "2026-09-15"))  # as the rector's API call leaves it
    assert "order 112-П of 2026-09-15" in kuzet.run("camera", "audio", "hall").stdout
    assert kuzet.json("camera", "list")[0]["audio"] == {"order_no": "112-П",
                                                         "order_date": "2026-09-15"}
    assert "video only" in kuzet.run("camera", "audio", "hall", "--off").stdout
    assert catalog.camera("hall").audio_order_no is None
    tried, entry = kuzet.json("audit", "list", "--action", "camera.audio")
    assert (tried["actor"], tried["detail"]["outcome"]) == (entry["actor"], "refused")
    assert tried["detail"]["reason"].startswith("refused: keeping a camera's sound")
    assert entry["actor"].startswith("local:")
    assert entry["detail"].items() >= {"keep": False, "order_no": "112-П",
                                       "order_date": "2026-09-15"}.items()


@SQLITE_ONLY
@pytest.mark.slow
def test_the_console_places_cameras_and_the_rector_keeps_sound(world: World) -> None:
    """3.3.9-3.3.17 and 3.1.2 in Chromium: the administrator's camera page lists the
    cameras outside the zone list and places one by choosing its zone; the rector records
    the order that keeps a camera's sound, which every viewer of the page then sees; a
    guard sees neither form."""
    from playwright.sync_api import sync_playwright

    world.user("admin", "administrator")
    world.user("rector", "rector")
    world.user("guard", "guard")
    with world.storage.catalog.session.begin() as s:  # a row as an older version left it
        s.execute(text("UPDATE cameras SET zone = 'dormitory' WHERE name = 'cam2'"))
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = world.browser_login(browser, base, "admin")
        page.goto(f"{base}/?lang=en")
        row = page.locator("#unzoned li[data-camera=cam2]")
        row.wait_for()
        assert "(dormitory)" in row.inner_text()
        assert page.locator("#unzoned li").count() == 1
        row.locator("select").select_option(label="Dormitory floor")
        row.locator("button").click()
        page.wait_for_selector("#unzoned", state="hidden")
        assert "Dormitory floor" in page.locator("#cameras li[data-camera=cam2]").inner_text()
        assert page.locator("#cameras form.audio").count() == 0  # not the rector's page

        page = world.browser_login(browser, base, "rector")
        page.goto(f"{base}/?lang=en")
        item = page.locator(f"#cameras li[data-camera={CAM}]")
        item.locator("details.audio summary").click()  # folded until opened
        item.locator("input[name=order_no]").fill("112-П")
        item.locator("input[name=order_date]").fill("2026-09-15")
        item.locator("button", has_text="Keep sound").click()
        item.locator(".sound").wait_for()
        assert "sound recorded by order № 112-П, 2026-09-15" in item.inner_text()

        page = world.browser_login(browser, base, "guard")
        page.goto(f"{base}/?lang=en")
        page.locator(f"#cameras li[data-camera={CAM}] .sound").wait_for()
        assert page.locator("#cameras form").count() == 0
        assert page.locator("#unzoned").is_hidden()
        browser.close()
    assert [(e.actor, e.subject) for e in world.audit("camera.zone")] == [("admin", "cam2")]
    assert [(e.actor, e.subject) for e in world.audit("camera.audio")] == [("rector", CAM)]


def test_neither_client_sets_up_the_sound_without_the_order(gst_server: int) -> None:
    """3.1.2: a camera sending H.265 and AAC (GStreamer's RTSP server). Without the order
    neither RTSP client sets up the sound's medium, so not a byte of it arrives: Kuzet's own
    client reads one RTP channel, FFmpeg's finds no audio stream. With it, both find the
    AAC track."""
    from kuzet.credentials import SecretUrl
    from kuzet.ingest.ffmpeg_source import PyavSource, open_source
    from kuzet.ingest.rtsp_source import RtspSource

    url = SecretUrl(f"rtsp://127.0.0.1:{gst_server}/h265aac")
    for audio in (False, True):
        own = RtspSource.open(url, stall_s=5, audio=audio)
        try:
            assert (own.audio is not None) is audio
            assert len(own._channels) == (2 if audio else 1)
        finally:
            own.close()
        container = open_source(url, transport="tcp", stall_s=5, audio=audio)
        ffmpeg = PyavSource(container)
        try:
            assert len(container.streams.audio) == audio
            assert (ffmpeg.audio is not None and ffmpeg.audio.codec == "aac") is audio
        finally:
            ffmpeg.close()
