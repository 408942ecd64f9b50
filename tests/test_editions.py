"""The regulation's editions and their acquaintance (issue 23; UE-10-22 3.1.4, 3.4.7, 4.1,
4.3), through the API's real ASGI stack: an edition comes into force only by the rector's
approval with an order; until an account acknowledges the edition in force it is refused
everything else, its API tokens too; a new edition asks every account again; bad input
is refused in words and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from typer.testing import CliRunner

from api_world import CAM, CHROMIUM_ARGS, World
from conftest import SQLITE_ONLY
from kuzet.timefmt import campus_day, parse_instant

NOW = parse_instant("2026-09-21T06:00:00Z")
DAY = 86400 * 10**9
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TEXT = {"text_kk": "UE-10-22. Бейнебақылау жүйесі туралы ереже.\n" + "3.1.4 ...\n" * 200,
        "text_ru": "UE-10-22. Положение о системе видеонаблюдения.\n" + "3.1.4 ...\n" * 200}


def _today(world: World, days: int = 0) -> str:
    return (campus_day(world.clock(), world.settings.display_timezone)
            + dt.timedelta(days=days)).isoformat()


def _prepare(client: Any, number: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/editions", json={"number": number, "title": "Бейнебақылау жүйесі "
                                           "туралы ереже", **TEXT, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _acknowledge(client: Any) -> Any:
    shown = client.get("/api/editions/current").json()
    return client.post(f"/api/editions/{shown['edition']['id']}/acknowledge",
                       json={"language": shown["language"], "text_sha256": shown["text_sha256"]})


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW)


def test_an_edition_comes_into_force_by_the_rectors_order_and_every_account_reads_it(
        world: World) -> None:
    """4.1, 4.3: prepared by the head of internal security, approved by the rector with the
    order and its day; 3.1.4, 3.4.7: then every account — a guard, the head, the rector —
    is refused anything else until it acknowledges the text, its API token too; a second
    edition in force asks again."""
    head = world.login(world.user("head", "head_of_security"))
    rector = world.login(world.user("rector", "rector"))
    guard = world.login(world.user("guard", "guard"))
    admin = world.login(world.user("admin", "administrator"))
    token = admin.post("/api/tokens", json={"name": "board", "perms": ["camera.status"]})
    assert token.status_code == 201, token.text
    bearer = world.client()
    bearer.headers["Authorization"] = f"Bearer {token.json()['token']}"
    assert guard.get("/api/cameras").status_code == 200  # no edition in force: nothing owed
    assert guard.get("/api/editions/current").status_code == 404

    draft = _prepare(head, "2", summary="Бейнебақылау ашық жүргізіледі.")
    assert (draft["state"], draft["in_force"], draft["label"]) == ("pending", False,
                                                                   "UE-10-22, edition 2")
    assert head.put(f"/api/editions/{draft['id']}/scan", content=PDF,
                    headers={"content-type": "application/pdf"}).status_code == 200
    approval = {"order_no": "215-Н", "order_date": _today(world), "effective": _today(world)}
    for who in (head, admin, guard):  # 4.1: the rector's alone
        r = who.post(f"/api/editions/{draft['id']}/approve", json=approval)
        assert r.status_code == 403, r.text
        assert "edition.approve" in r.json()["detail"]
    assert guard.get("/api/cameras").status_code == 200  # still nothing in force
    r = rector.post(f"/api/editions/{draft['id']}/approve", json=approval)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["in_force"]) == ("approved", True)
    assert r.json()["order_no"] == "215-Н"
    (approved,) = world.audit("edition.approve")
    assert approved.actor == "rector"

    for client in (guard, head, rector, bearer):
        r = client.get("/api/cameras")
        assert r.status_code == 403, r.text
        assert "UE-10-22, edition 2" in r.json()["detail"]
        assert "3.1.4, 3.4.7" in r.json()["detail"]
    assert guard.get("/api/auth/me").status_code == 200
    shown = guard.get("/api/editions/current").json()
    assert shown["language"] == "kk"
    assert shown["text"] == TEXT["text_kk"].strip()
    assert shown["acknowledged"] is None
    r = bearer.post(f"/api/editions/{draft['id']}/acknowledge",
                    json={"language": "kk", "text_sha256": shown["text_sha256"]})
    assert r.status_code == 403  # a token is no reader
    r = guard.post(f"/api/editions/{draft['id']}/acknowledge",
                   json={"language": "kk", "text_sha256": "0" * 64})
    assert r.status_code == 409  # not the text in force
    r = _acknowledge(guard)
    assert r.status_code == 200, r.text
    assert (r.json()["account"], r.json()["language"]) == ("guard", "kk")
    assert r.json()["text_sha256"] == shown["text_sha256"]
    assert guard.get("/api/cameras").status_code == 200
    assert guard.get("/api/editions/current").json()["acknowledged"] is not None
    assert _acknowledge(guard).status_code == 200  # once: a second time answers the first
    assert len(world.audit("edition.acquaint")) == 1
    assert bearer.get("/api/cameras").status_code == 403  # its owner has not read it yet
    assert _acknowledge(admin).status_code == 200
    assert bearer.get("/api/cameras").status_code == 200
    assert head.get(f"/api/editions/{draft['id']}/acquaintances").status_code == 403  # owes
    assert _acknowledge(head).status_code == 200
    assert [a["account"] for a in head.get(
        f"/api/editions/{draft['id']}/acquaintances").json()] == ["guard", "admin", "head"]
    assert guard.get(f"/api/editions/{draft['id']}/acquaintances").status_code == 403

    # An amendment in force tomorrow: nothing owed today, every account asked tomorrow.
    amendment = _prepare(head, "2.1", kind="amendment")
    assert _acknowledge(rector).status_code == 200
    r = rector.post(f"/api/editions/{amendment['id']}/approve", json={
        "order_no": "301-Н", "order_date": _today(world), "effective": _today(world, 1)})
    assert r.status_code == 200, r.text
    assert r.json()["in_force"] is False
    assert guard.get("/api/cameras").status_code == 200
    world.clock.advance(86400)
    guard = world.login("guard")  # yesterday's session has ended
    r = guard.get("/api/cameras")
    assert r.status_code == 403
    assert "UE-10-22, amendment 2.1" in r.json()["detail"]
    assert _acknowledge(guard).status_code == 200
    assert guard.get("/api/cameras").status_code == 200
    listed = guard.get("/api/editions").json()
    assert [(e["number"], e["in_force"]) for e in listed] == [("2.1", True), ("2", False)]


def test_bad_editions_are_refused_in_words_and_change_nothing(world: World) -> None:
    """Issue 23's bad input (4.1, 4.3): an approval without an order number, a day before its order,
    a second edition in force on the same day, a scan that is not a PDF/JPEG/PNG or too
    large, acknowledging an edition that is not in force, the rector's own draft, a
    decision taken twice."""
    head = world.login(world.user("head", "head_of_security"))
    rector = world.login(world.user("rector", "rector"))
    first, second = _prepare(head, "2"), _prepare(head, "3")

    def approve(edition: dict[str, Any], **body: str) -> Any:
        return rector.post(f"/api/editions/{edition['id']}/approve", json={
            "order_no": "215-Н", "order_date": _today(world), "effective": _today(world),
            **body})

    r = approve(first, order_no=" ")
    assert r.status_code == 400
    assert "order number" in r.json()["detail"]
    r = approve(first, effective=_today(world, -1))
    assert r.status_code == 400
    assert "on or after" in r.json()["detail"]
    r = approve(first, order_date="21.09.2026")
    assert r.status_code == 400
    assert "YYYY-MM-DD" in r.json()["detail"]
    assert head.get("/api/editions").json()[1]["state"] == "pending"  # nothing changed
    r = head.put(f"/api/editions/{first['id']}/scan", content=b"MZ\x90\x00 not a scan")
    assert r.status_code == 415, r.text
    r = head.put(f"/api/editions/{first['id']}/scan",
                 content=PDF + b"0" * world.settings.upload_max_bytes)
    assert r.status_code == 413
    assert head.get(f"/api/editions/{first['id']}/scan").status_code == 404
    r = head.post(f"/api/editions/{second['id']}/acknowledge",
                  json={"language": "kk", "text_sha256": "a" * 64})
    assert r.status_code == 409
    assert "not the one in force" in r.json()["detail"]
    assert approve(first).status_code == 200
    assert _acknowledge(rector).status_code == 200
    assert _acknowledge(head).status_code == 200
    r = approve(second)
    assert r.status_code == 409, r.text
    assert "takes effect on" in r.json()["detail"]
    assert head.get("/api/editions").json()[0]["state"] == "pending"
    r = approve(first)
    assert r.status_code == 409
    assert "decided already" in r.json()["detail"]
    r = head.post(f"/api/editions/{second['id']}/withdraw")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "withdrawn"
    r = head.post("/api/editions", json={"number": "4", "title": "x", "text_kk": "a",
                                         "text_ru": "", "kind": "edition"})
    assert r.status_code == 422
    assert rector.post("/api/editions", json={"number": "4", "title": "x", **TEXT}
                       ).status_code == 403  # 4.1: the rector approves, someone prepares


def test_an_amendment_needs_the_edition_it_amends(world: World) -> None:
    """4.1, 4.3: an amendment changes an edition: with none approved to take effect before
    it, its approval is refused and nothing is in force."""
    head = world.login(world.user("head", "head_of_security"))
    rector = world.login(world.user("rector", "rector"))
    lone = _prepare(head, "2.1", kind="amendment")
    r = rector.post(f"/api/editions/{lone['id']}/approve", json={
        "order_no": "7-Н", "order_date": _today(world), "effective": _today(world)})
    assert r.status_code == 409
    assert "approve the edition it amends first" in r.json()["detail"]
    assert head.get("/api/editions/current").status_code == 404


@SQLITE_ONLY
def test_the_command_line_decides_no_edition_and_lists_them(world: World,
                                                            monkeypatch: Any) -> None:
    """4.1, 4.3: whoever has a shell on the server is not the rector; `kuzet edition list` shows
    the register and the edition in force."""
    from kuzet.cli.main import app

    head = world.login(world.user("head", "head_of_security"))
    rector = world.login(world.user("rector", "rector"))
    draft = _prepare(head, "2")
    monkeypatch.setenv("KUZET_HOME", str(world.settings.home))
    monkeypatch.setenv("KUZET_DATABASE_URL", world.settings.database_url)
    out = CliRunner().invoke(app, ["edition", "list"])
    assert out.exit_code == 0, out.output
    assert "UE-10-22, edition 2" in out.output
    assert "pending" in out.output
    refused = CliRunner().invoke(app, ["edition", "approve", str(draft["id"]), "--order-no",
                                       "1", "--order-date", _today(world), "--effective",
                                       _today(world)])
    assert refused.exit_code == 2, refused.output
    assert "only the rector decides" in refused.output
    assert "(UE-10-22 4.1, 4.3)" in refused.output
    (attempt,) = world.audit("edition.approve")
    assert attempt.actor.startswith("local:")
    assert '"outcome":"refused"' in attempt.detail
    assert head.get("/api/editions").json()[0]["state"] == "pending"
    assert rector.post(f"/api/editions/{draft['id']}/approve", json={
        "order_no": "1", "order_date": _today(world), "effective": _today(world)}
    ).status_code == 200
    out = CliRunner().invoke(app, ["edition", "list", "--json"])
    assert '"in_force": true' in out.output
    assert CAM  # the world's cameras are not this test's


@SQLITE_ONLY
def test_the_rector_brings_an_edition_into_force_and_each_reads_it_in_chromium(
        storage: Any) -> None:
    """Issue 23 in Chromium, by clicks: the rector opens the head's draft from the menu in
    Kazakh and approves it with the order (4.1, 4.3); the console then sends the rector,
    and the guard at login, to the text, whose confirmation waits until it is scrolled to
    its end (3.1.4, 3.4.7); every page's footer names the edition in force; the public
    notice needs no login and says where cameras are and for how long footage is kept, in
    kk, ru and en (3.2.1, 3.4.4); the new pages pass axe-core's scan with no serious
    violation."""
    from playwright.sync_api import sync_playwright

    from test_accessibility import AXE, _violations

    world = World(storage, parse_instant("2026-09-21T06:00:00Z"), https_port=0,
                  http_redirect_port=None)
    head = world.login(world.user("head", "head_of_security"))
    world.user("rector", "rector")
    world.user("guard", "guard")
    draft = _prepare(head, "2")
    today = _today(world)
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(ignore_https_errors=True, bypass_csp=True)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto(f"{base}/login")
        world.submit_login(page, "rector")
        page.wait_for_url(f"{base}/")
        menu = page.get_by_role("navigation", name="Негізгі мәзір")
        assert menu.get_by_role("link", name="Мақұлдаулар").inner_text().endswith("1")
        menu.get_by_role("link", name="Мақұлдаулар").click()
        page.wait_for_url(f"{base}/approvals")
        waiting = page.locator("#editions li")
        assert "UE-10-22, 2-басылым" in waiting.inner_text()
        menu.get_by_role("link", name="Ереже").click()
        page.wait_for_url(f"{base}/editions")
        page.locator("#rows").get_by_role("link", name="UE-10-22, 2-басылым").click()
        page.wait_for_url(f"{base}/editions/{draft['id']}")
        decide = page.locator("#decide")
        decide.wait_for(state="visible")
        decide.get_by_label("Ректор бұйрығының нөмірі").fill("215-Н")
        decide.get_by_label("Бұйрық күні").fill(today)
        decide.get_by_label("Күшіне енетін күні").fill(today)
        decide.get_by_role("button", name="Бекіту").click()
        # approved: in force today, so the rector reads it before anything else
        page.wait_for_url(f"{base}/acquaint?next=%2Feditions%2F{draft['id']}")
        confirm = page.get_by_role("button", name="Растау")
        tick = page.get_by_label("Мен ережені соңына дейін оқыдым және онымен таныстым")
        assert tick.is_disabled()
        assert confirm.is_disabled()
        page.locator("#text").evaluate("(text) => { text.scrollTop = text.scrollHeight; }")
        tick.check()
        confirm.click()
        page.wait_for_url(f"{base}/editions/{draft['id']}")
        assert page.locator("#state").inner_text() == "Бекітілген (күшінде)"
        footer = page.locator("#edition-in-force").inner_text()
        assert "UE-10-22, 2-басылым" in footer
        assert "215-Н" in footer
        page.locator("#acquainted-rows tr").first.wait_for()  # filled by its script
        assert page.locator("#acquainted-rows tr").count() == 1  # the rector's own
        # the new pages in Russian and English too (the rector reads them all)
        for lang, headings in (
                ("ru", ("Положение UE-10-22: редакции и изменения",
                        "Места и предупреждающие знаки",
                        "Ознакомление сотрудников и обучающихся")),
                ("en", ("Regulation UE-10-22: editions and amendments",
                        "Places and warning signs", "Acquaintance of staff and students"))):
            for path, heading in zip(("/editions", "/places", "/acquaintance"), headings,
                                     strict=True):
                page.goto(f"{base}{path}?lang={lang}")
                assert page.get_by_role("heading", level=1).inner_text() == heading
            page.goto(f"{base}/editions/{draft['id']}?lang={lang}")
            assert "215-Н" in page.locator("#order").inner_text()
        page.goto(f"{base}/editions/{draft['id']}?lang=kk")

        guard = browser.new_context(ignore_https_errors=True, bypass_csp=True).new_page()
        guard.goto(f"{base}/login")
        world.submit_login(guard, "guard")
        guard.wait_for_url(f"{base}/acquaint?next=%2F")
        scanned = _violations(guard, base, ("/acquaint?next=%2F",)) if AXE.exists() else []
        assert guard.locator("#text").inner_text().startswith("UE-10-22. Бейнебақылау")
        guard.locator("#text").evaluate("(text) => { text.scrollTop = text.scrollHeight; }")
        guard.get_by_label("Мен ережені соңына дейін оқыдым және онымен таныстым").check()
        guard.get_by_role("button", name="Растау").click()
        guard.wait_for_url(f"{base}/")
        assert [a.account for a in world.svc.editions.acquainted(draft["id"])] == [
            "rector", "guard"]

        public = browser.new_context(ignore_https_errors=True, bypass_csp=True).new_page()
        for lang, heading, corridor, days in (
                ("kk", "Бейнебақылау: кампустағы барлық адамға хабарлама", "Дәліз",
                 "Ең көбі 30 күн"),
                ("ru", "Видеонаблюдение: уведомление для всех на территории кампуса",
                 "Коридор", "Не более 30 дней"),
                ("en", "Video surveillance: a notice to everyone on campus", "Corridor",
                 "At most 30 days")):
            public.goto(f"{base}/notice?lang={lang}")
            assert public.get_by_role("heading", level=1).inner_text() == heading
            rows = public.locator("#notice table tbody tr")
            assert rows.count() == 1  # both test cameras: no building, the corridor
            assert rows.first.locator("td").all_inner_texts()[1:] == [corridor, "3.3.11", "2"]
            assert days in public.locator("#notice").inner_text()
            assert "UE-10-22" in public.locator("#in-force").inner_text()
            assert public.locator("video, img").count() == 0
        if AXE.exists():
            found = scanned + _violations(public, base, ("/notice",))
            found += _violations(page, base, ("/editions", f"/editions/{draft['id']}",
                                              "/approvals"))
            assert not found, "\n".join(found)
