"""The console as each role finds it (issue 21, items 1, 2, 3, 8 and the menu's `<nav>`):
menus hold only what the role may use, a page reached anyway says why it is refused and
which role may (UE-10-22 3.5.4 and the clause of the permission), every API refusal for
want of a permission names the roles given it, the login brings a person back to the page
they asked for, and a locked screen keeps the wall's live video but no footage (3.5.1)."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any
from urllib.parse import quote

import pytest
from starlette.websockets import WebSocketDisconnect

from api_world import CAM, CHROMIUM_ARGS, PASSWORD, World
from conftest import SQLITE_ONLY
from kuzet.access.sessions import IDLE_LOCK_S
from kuzet.timefmt import parse_instant

NOW = parse_instant("2026-09-21T14:00:00Z")
HEAD = "Ішкі қауіпсіздік басшысы"  # the roles' Kazakh titles, as the roles table holds them
GUARD = "Күзет қызметкері (оператор)"
ADMIN = "Жүйе әкімшісі"


def _menu(html: str) -> list[str]:
    """The main menu's links, in order."""
    found = re.search(r'<nav id="menu"[^>]*>(.*?)</nav>', html, re.S)
    assert found is not None, html[:2000]
    return re.findall(r'href="([^"]+)"', found.group(1))


@SQLITE_ONLY
def test_menus_hold_what_each_role_may_use_and_refusals_name_who_may(storage: Any) -> None:
    """Issue 21 item 3 (UE-10-22 3.5.4, 3.5.6, 3.5.7, 3.5.8): the guard's menu has no
    Transfers, Acts or Approvals, the administrator's no Protocols; a page reached anyway
    says why and who may, in Kazakh; the administrator's "protocol of this instant" is
    refused for want of protocol.write (3.5.7), naming the guard and the head of security,
    not "you may not open this recording". Item 8: no session, no page: the login, which
    comes back."""
    world = World(storage, NOW)
    guard = world.login(world.user("guard", "guard"))
    admin = world.login(world.user("admin", "administrator"))
    assert _menu(guard.get("/").text) == ["/", "/wall", "/events", "/protocols",
                                          "/registers/holds"]
    admin_menu = _menu(admin.get("/").text)
    assert "/protocols" not in admin_menu
    assert "/archive" in admin_menu
    assert "/transfers" in admin_menu
    assert "/registers/viewings" in admin_menu

    page = guard.get("/transfers").text  # typed by hand anyway
    refused = re.search(r'<section id="refused".*?</section>', page, re.S)
    assert refused is not None
    assert "transfer.register" in refused.group(0)
    assert "3.5.6" in refused.group(0)
    assert HEAD in refused.group(0)
    assert GUARD in refused.group(0)
    assert 'id="rows"' not in page  # no empty register behind it
    assert HEAD in guard.get("/registers/acts").text

    r = admin.post("/api/protocols", json={"camera": CAM, "at": "2026-09-21T13:59:00Z"})
    assert r.status_code == 403
    body = r.json()
    assert "protocol.write" in body["message"]
    assert "3.5.7" in body["message"]
    assert body["message"].startswith("бас тартылды")  # said in the caller's language
    holders, yours = body["who"].split(". ", 1)
    assert GUARD in holders
    assert HEAD in holders
    assert ADMIN not in holders
    assert ADMIN in yours

    anonymous = world.client()
    r = anonymous.get("/archive/cam1?with=cam2", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=" + quote("/archive/cam1?with=cam2", safe="")
    assert anonymous.get("/login").status_code == 200


@SQLITE_ONLY
def test_a_locked_screen_keeps_the_wall_and_refuses_footage_until_unlocked(storage: Any
                                                                           ) -> None:
    """Issue 21 item 2 (UE-10-22 3.5.1): a session whose screen is locked still gets the
    wall's cameras and layouts, and nothing of the archive (API and WebSocket) nor any
    page but the wall; only the same account's password and second factor unlock it."""
    world = World(storage, NOW)
    head = world.login(world.user("head", "head_of_security"))
    timeline = f"/api/cameras/{CAM}/timeline?start=2026-09-21T13:00:00Z&end=2026-09-21T14:00:00Z"
    assert head.get(timeline).status_code == 200
    assert head.put("/api/auth/lock", json={"reason": "idle"}).status_code == 200

    assert head.get("/api/cameras").status_code == 200  # the wall goes on
    assert head.get("/api/layouts").status_code == 200
    r = head.get(timeline)
    assert r.status_code == 403
    assert "3.5.1" in r.json()["message"]
    assert head.get("/api/protocols").status_code == 403
    assert head.post("/api/tokens", json={"name": "x", "perms": ["health.read"],
                                          "days": 1}).status_code == 403
    sid = head.cookies.get("kuzet_session")
    url = f"/api/ws/archive/{CAM}?start=2026-09-21T12:00:00Z&purpose=Round+check"
    with pytest.raises(WebSocketDisconnect) as closed, world.client().websocket_connect(
            url, headers={"cookie": f"kuzet_session={sid}"}) as ws:
        ws.receive_json()
    assert closed.value.code == 1008
    assert "locked" in closed.value.reason
    assert 'class="archive"' not in head.get("/archive/cam1").text  # the page shows nothing
    assert 'data-locked="yes"' in head.get("/wall").text

    other = world.user("guard", "guard")
    r = head.post("/api/auth/unlock", json={"username": other, "password": PASSWORD})
    assert r.status_code == 403  # another person switches user instead
    r = head.post("/api/auth/unlock", json={"username": "head", "password": "not it at all"})
    assert r.status_code == 401
    assert head.get(timeline).status_code == 403
    r = head.post("/api/auth/unlock", json={"username": "head", "password": PASSWORD,
                                            "totp": world.code("head")})
    assert r.status_code == 200
    assert head.get(timeline).status_code == 200
    assert 'class="archive"' in head.get("/archive/cam1").text
    assert any("wrong password" in e.detail for e in world.audit("auth.login_failed"))


def _iso(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).isoformat()


def _log_in(page: Any, world: World, name: str) -> None:
    """Fill the login form the page shows (in its language) and send it."""
    page.fill("#login input[name=username]", name)
    page.fill("#login input[name=password]", PASSWORD)
    page.fill("#login input[name=totp]", world.code(name))
    page.click("#login button")


@SQLITE_ONLY
def test_a_guard_reaches_the_archive_by_clicks_and_the_screen_locks(storage: Any) -> None:
    """Issue 21 in Chromium, in Kazakh: a guard with a grant to a camera's footage
    (UE-10-22 3.5.5) opening its archive logged out lands on the login and comes back
    (item 8); from the home page, the camera's Archive link opens it (item 1); the menu is
    a labelled `<nav>` without Transfers or Acts (items 3, 12); left idle the screen locks
    and hides the archive until the password and code unlock it; the live page links the
    archive too; switching user and logging out land on the login (item 2)."""
    from playwright.sync_api import sync_playwright

    now = time.time_ns()
    world = World(storage, now, https_port=0, http_redirect_port=None)
    world.user("guard", "guard")
    head = world.login(world.user("head", "head_of_security"))
    rector = world.login(world.user("rector", "rector"))
    hour = 3600 * 10**9
    r = head.post("/api/grants", json={
        "user": "guard", "perms": ["archive.view"], "cameras": [CAM],
        "footage_from": _iso(now - hour), "footage_to": _iso(now),
        "valid_from": _iso(now - hour), "valid_until": _iso(now + hour),
        "instruction": "Rector's instruction No. 7 on the corridor incident"})
    assert r.status_code == 201, r.text
    assert rector.post(f"/api/grants/{r.json()['id']}/approve").status_code == 200
    world.enrol("guard")
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(ignore_https_errors=True)
        context.clock.install()
        page = context.new_page()
        page.goto(f"{base}/archive/{CAM}")  # logged out
        page.wait_for_url(f"{base}/login?next=%2Farchive%2F{CAM}")
        _log_in(page, world, "guard")
        page.wait_for_url(f"{base}/archive/{CAM}")
        assert page.locator("html").get_attribute("lang") == "kk"

        menu = page.get_by_role("navigation", name="Негізгі мәзір")
        assert menu.locator("a[href='/transfers'], a[href='/registers/acts']").count() == 0
        page.goto(f"{base}/transfers")  # typed by hand anyway: refused, saying who may
        assert HEAD in page.locator("#refused").inner_text()
        menu.get_by_role("link", name="Камералар").click()
        page.get_by_role("link", name=f"Мұрағат: {CAM}").click()
        page.wait_for_url(f"{base}/archive/{CAM}")
        page.locator("input[name=purpose]").wait_for(state="visible")

        context.clock.fast_forward(IDLE_LOCK_S * 1000 + 1000)
        page.locator("#screen-lock").wait_for(state="visible")
        assert not page.locator("input[name=purpose]").is_visible()
        refused = page.evaluate(f"fetch('/api/cameras/{CAM}/days?month=2026-12')"
                                ".then((r) => r.status)")
        assert refused == 403
        page.fill("#unlock input[name=password]", PASSWORD)
        page.fill("#unlock input[name=totp]", world.code("guard"))
        page.click("#unlock button[type=submit]")
        page.locator("input[name=purpose]").wait_for(state="visible")
        assert not page.locator("#screen-lock").is_visible()

        # The live page offers the camera's archive too, as the wall's tile does.
        menu.get_by_role("link", name="Камералар").click()
        page.locator(f"#cameras li[data-camera='{CAM}'] a[href='/live/{CAM}']").click()
        page.locator("#archive").click()
        page.wait_for_url(f"{base}/archive/{CAM}")

        page.click("#switch-user")
        page.wait_for_url(f"{base}/login?next=%2Farchive%2F{CAM}")
        world.clock.advance(30)  # a new second-factor code: each is used once
        _log_in(page, world, "guard")
        page.wait_for_url(f"{base}/archive/{CAM}")
        page.click("#logout")
        page.wait_for_url(f"{base}/login")
        page.goto(f"{base}/transfers")
        page.wait_for_url(f"{base}/login?next=%2Ftransfers")
        browser.close()
