"""The Management Board (UE-10-22 3.5.7, issue 18 item 9): a protocol is addressed to the
Board, so its members read the registered protocols and the acts resting on them — never
a draft, never a frame of footage — and each member's acknowledgement of a protocol is
recorded once. Through the real app over a real catalog, with footage recorded by
tests/footage.py so that the protocol keeps a real frame."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest
from pypdf import PdfReader
from starlette.testclient import TestClient

from api_world import CAM, CHROMIUM_ARGS, World
from conftest import Kuzet, wait_for
from footage import record
from kuzet.access.accounts import Accounts
from kuzet.access.roles import Roles
from kuzet.access.secretbox import SecretBox, key_path
from kuzet.audit.log import Actor
from kuzet.governance.protocols import Fields, Protocols
from kuzet.rtsp.clip import ClipSpec
from kuzet.timefmt import format_instant
from test_console import _USED_STEPS, CHROMIUM, PASSWORD, SECRETS, _api, _code, _logged_in

NS = 10**9
INFORMED_AGO_S = 60


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: who reads which document is decided above the catalog; the table and
    its migration are compared on both databases in tests/test_catalog.py."""
    return f"sqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture
def world(storage: Any, clip_cache: Path) -> World:
    """Now, with footage around it (so a protocol keeps its frame), and one account of
    each role the tests need."""
    w = World(storage, time.time_ns())
    record(storage.catalog, clip_cache / "sim", ClipSpec(320, 180, 500_000), CAM,
           w.clock() - 2 * NS, 1)
    for name, role in (("guard", "guard"), ("head", "head_of_security"), ("rector", "rector"),
                       ("member", "board_member"), ("admin", "administrator")):
        w.user(name, role)
    return w


def _protocol(world: World, guard: TestClient, *, register: bool) -> dict[str, Any]:
    """A protocol of the guard's at the live instant (its frame kept), registered or not."""
    r = guard.post("/api/protocols", json={"camera": CAM})
    assert r.status_code == 201, r.text
    p: dict[str, Any] = r.json()
    assert p["snapshot"], p
    informed = format_instant(world.clock() - INFORMED_AGO_S * NS)
    r = guard.put(f"/api/protocols/{p['id']}", json={
        "location": "Main building, north door", "circumstances": "Two people forced the gate",
        "informed": informed})
    assert r.status_code == 200, r.text
    if register:
        r = guard.post(f"/api/protocols/{p['id']}/submit")
        assert r.status_code == 200, r.text
    return dict(r.json())


def _images(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def _text(pdf: bytes) -> str:
    """The PDF's words, whatever lines they were wrapped into."""
    return " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_board_reads_registered_protocols_and_acts_without_their_frame(
        world: World) -> None:
    """Clause 3.5.7: the Board is whom a protocol is addressed to, yet only the writer and
    the reviewers read protocols before this issue. A member now lists and opens the
    registered protocols and acts, not the drafts; the member's PDF leaves the frame out
    (3.5.4: the Board views no footage), where the author's holds it."""
    guard, head, member = world.login("guard"), world.login("head"), world.login("member")
    registered = _protocol(world, guard, register=True)
    draft = _protocol(world, guard, register=False)
    assert [p["id"] for p in member.get("/api/protocols").json()] == [registered["id"]]
    assert member.get(f"/api/protocols/{registered['id']}").json()["number"] == \
        registered["number"]
    assert member.get(f"/api/protocols/{draft['id']}").status_code == 404
    assert member.get("/api/protocols?state=draft").json() == []
    # The PDF: the author's holds the frame; the member's says it is left out.
    pdf = f"/api/protocols/{registered['id']}/pdf?lang=en"
    own = guard.get(pdf)
    assert own.status_code == 200, own.text
    assert _images(own.content) == 1
    r = member.get(pdf)
    assert r.status_code == 200, r.text
    assert _images(r.content) == 0
    assert "Left out of the Management Board's copy" in _text(r.content)
    documents = [json.loads(e.detail) for e in world.audit("protocol.document")]
    assert [(d["frame"], d["roles"]) for d in documents] == [
        (True, ["guard"]), (False, ["board_member"])]
    # No footage and no picture of it by any other path either.
    at = format_instant(world.clock() - NS)
    r = member.get(f"/api/cameras/{CAM}/snapshot", params={"at": at, "purpose": "Board read"})
    assert r.status_code == 403
    # Acts: the registered ones, not the drafts.
    act = head.post("/api/acts", json={"protocols": [registered["id"]]}).json()
    head.put(f"/api/acts/{act['id']}", json={"what": "The gate forced"})
    assert head.post(f"/api/acts/{act['id']}/register").status_code == 200
    act_draft = head.post("/api/acts", json={"protocols": [registered["id"]]}).json()
    assert [a["id"] for a in member.get("/api/acts").json()] == [act["id"]]
    assert member.get(f"/api/acts/{act_draft['id']}").status_code == 404
    assert member.get(f"/api/acts/{act_draft['id']}/pdf").status_code == 404
    assert member.get(f"/api/acts/{act['id']}/pdf").status_code == 200


def test_each_member_acknowledges_a_registered_protocol_once(world: World) -> None:
    """The acknowledgement is a row and an audit entry, once per member; a second one, an
    acknowledgement of a draft, and one by someone outside the Board are refused and
    change nothing. The rector, Chairman of the Board, acknowledges as a member."""
    guard, head = world.login("guard"), world.login("head")
    member, rector = world.login("member"), world.login("rector")
    registered = _protocol(world, guard, register=True)
    draft = _protocol(world, guard, register=False)
    path = f"/api/protocols/{registered['id']}/acknowledge"
    r = member.post(path)
    assert r.status_code == 200, r.text
    assert r.json()["acknowledgements"] == [{"member": "member", "at_ns": world.clock()}]
    [entry] = world.audit("protocol.acknowledge")
    assert (entry.actor, entry.subject) == ("member", f"protocol/{registered['id']}")
    assert json.loads(entry.detail)["number"] == registered["number"]
    again = member.post(path)
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"refused: member has acknowledged protocol {registered['number']} already; a member "
        "acknowledges a protocol once (UE-10-22 3.5.7)")
    r = rector.post(f"/api/protocols/{draft['id']}/acknowledge")
    assert r.status_code == 409
    assert r.json()["detail"].endswith("(UE-10-22 3.5.7)")
    assert guard.post(path).status_code == 403  # the guard writes; the Board reads
    assert head.post(path).status_code == 403  # reviewing is not the Board's reading
    assert len(world.audit("protocol.acknowledge")) == 1  # the refusals wrote nothing
    world.clock.advance(60)
    assert rector.post(path).status_code == 200
    listed = {p["id"]: p["acknowledgements"] for p in head.get("/api/protocols").json()}
    assert [a["member"] for a in listed[registered["id"]]] == ["member", "rector"]
    assert listed[draft["id"]] == []


def test_a_board_member_is_confirmed_by_the_rector(world: World) -> None:
    """Clause 3.5.7 names the Board but leaves who sits on it to the university's charter,
    and the protocols tell of people in incidents: the role waits for the Board's
    Chairman, the rector, so that an administrator cannot give it to anyone (themselves
    included)."""
    admin, rector = world.login("admin"), world.login("rector")
    r = admin.post("/api/role-assignments", json={"user": "admin", "role": "board_member"})
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "pending"
    assert admin.get("/api/protocols").status_code == 403
    assert rector.post(f"/api/role-assignments/{r.json()['id']}/approve").status_code == 200


@pytest.mark.slow
def test_a_member_acknowledges_from_the_console(kuzet: Kuzet, closed_port: int) -> None:
    """The console's register of protocols (Chromium, against `kuzet serve`) shows a member
    of the Board the registered protocol, not the draft, with a button to acknowledge it;
    once pressed, the row names the member and the button is gone (clause 3.5.7)."""
    from playwright.sync_api import sync_playwright

    kuzet.run("camera", "add", "cam01", f"rtsp://127.0.0.1:{closed_port}/cam01/main",
              "--building", "Main building", "--floor", "1", "--zone", "corridor")
    catalog = kuzet.catalog()
    cam = catalog.camera("cam01")
    setup, now = Actor("setup", (), "local"), time.time_ns()
    guard = Actor("guard1", ("guard",), "127.0.0.1")
    protocols = Protocols(catalog.session, "Asia/Almaty")
    registered = protocols.start(guard, cam.id, cam.name, now - 120 * NS, now)
    protocols.edit(guard, registered.id, Fields("North door", "The gate forced", "",
                                                now - 60 * NS))
    registered = protocols.submit(guard, registered.id, cam.name, now)
    draft = protocols.start(guard, cam.id, cam.name, now - 60 * NS, now)
    accounts = Accounts(catalog.session, SecretBox(key_path(kuzet.home)))
    accounts.create(setup, "member", "Member", now, password=PASSWORD)
    view = Roles(catalog.session).request(setup, "member", "board_member", now_ns=now)
    assert view.state == "pending"  # the Board's Chairman confirms its members
    Roles(catalog.session).decide(Actor("rector", ("rector",), "127.0.0.1"), view.id, True,
                                  now)
    SECRETS["member"] = pyotp.parse_uri(accounts.totp_enrol(setup, "member")).secret
    _USED_STEPS.pop("member", None)  # a new account of that name: no step used yet
    accounts.totp_confirm(setup, "member", _code("member"), now)
    kuzet.serve()
    base = wait_for(lambda: _api(kuzet), 60, what="api.json")["https"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page, logs = _logged_in(browser, base, "member")
        page.goto(f"{base}/protocols?lang=en")
        page.wait_for_selector("#rows[data-loaded]")
        ids = page.evaluate("[...document.querySelectorAll('#rows tr')].map(r => r.dataset.id)")
        assert ids == [str(registered.id)], (ids, draft.id, logs)
        row = f"#rows tr[data-id='{registered.id}']"
        assert page.locator(f"{row} td.board").inner_text().strip() == "Acknowledge as read"
        page.click(f"{row} button.acknowledge")
        page.wait_for_function(
            f"() => document.querySelector(\"{row} td.board\").textContent"
            ".startsWith('member (')", timeout=10_000)
        assert page.locator(f"{row} button.acknowledge").count() == 0
        page.goto(f"{base}/protocols/{registered.id}?lang=ru")
        page.wait_for_selector("#acknowledgements li[data-member=member]")
        assert page.locator("#acknowledge").is_hidden()
        assert page.locator("#board h2").inner_text() == "Ознакомлены члены Правления"
        # a refusal, as the console shows it, in the console's language (issue 18)
        said = page.evaluate("async () => (await import('/static/api.js'))"
                             ".refusal(await fetch('/api/audit'))")
        assert said.startswith("отказано: для этого нужно audit.read (UE-10-22 3.5.1; "
                               "указание ректора)"), said
        assert "Ректор" in said, said  # who may: the rector (issue 21)
        browser.close()
    [entry] = kuzet.json("audit", "list", "--action", "protocol.acknowledge")
    assert (entry["actor"], entry["detail"]["number"]) == ("member", registered.number)
