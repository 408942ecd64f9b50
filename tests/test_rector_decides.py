"""Only the rector decides, on every path; roles stay inside the regulation's table; the
first account sees no video until the rector's order (issue 18, items 1-3: UE-10-22 3.3,
3.4.2, 3.5.4-3.5.6, 4.1). Through the real command line (`kuzet` in its own process, on
a real catalog) and the API's real ASGI stack; each test failed before its fix."""

from __future__ import annotations

import getpass
import json
import re
import socket
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from api_world import CAM, CHROMIUM_ARGS, PASSWORD, World
from conftest import SQLITE_ONLY, Kuzet
from footage import record
from kuzet.access.entitlements import MAY_ALSO, check_entitlements
from kuzet.access.permissions import DECISION_PERMS, Perm, holds_somewhere
from kuzet.access.roles import Order
from kuzet.audit.log import Actor
from kuzet.cli.users import first_administrator
from kuzet.errors import Denied
from kuzet.rtsp.clip import ClipSpec
from kuzet.timefmt import NS, format_instant, parse_instant

NOW = parse_instant("2026-09-21T14:00:00Z")
DAY_NS = 86_400 * NS
ORDER = {"order_no": "12-P", "order_date": "2026-09-01"}  # the rector's order of an edit
SHELL = Actor("local:root@recorder", ("rector",), "local")  # naming a role it does not hold
ROOT = Path(__file__).resolve().parents[1]
# Who the regulation names for stored video (3.5.4) and for carrying out a transfer (3.5.6).
STORED_VIDEO = {"rector", "vice_rector", "head_of_security", "administrator"}
HAND_OVER = {"head_of_security", "administrator"}


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW)


def _os_actor() -> str:
    """How the audit log names whoever runs `kuzet` here: user and host, never a name
    typed on the command line."""
    return f"local:{getpass.getuser()}@{socket.gethostname().split('.')[0]}"[:64]


def _entries(kuzet: Kuzet, *actions: str) -> list[dict[str, Any]]:
    return [e for a in actions for e in kuzet.json("audit", "list", "--action", a)]


def test_the_command_line_takes_no_decision_of_the_rectors(kuzet: Kuzet) -> None:
    """Item 1 (3.3, 3.5.6): `kuzet hold approve --by rector` recorded the rector's approval
    for whoever had a shell, `kuzet user revoke` took the rector's role away and `kuzet user
    add --role rector` made a second rector at once. Now every such attempt exits 2 naming
    the clause, changes nothing, and is audited with the operating-system user and host."""
    me = _os_actor()
    kuzet.run("camera", "add", "gate", "rtsp://10.0.0.2/s", "--zone", "corridor")
    first = kuzet.run("user", "add", "rector", "--role", "rector")  # none yet: at once
    assert "role rector: active" in first.stdout, first.stdout
    ahead = format_instant(time.time_ns() + 365 * DAY_NS)
    hold = ["--camera", "gate", "--from", "2026-11-27T01:00:00+05:00", "--to",
            "2026-11-27T02:00:00+05:00", "--reason", "theft", "--incident", "П-2026/0017"]
    typed = kuzet.run("hold", "request", *hold, "--by", "rector", check=False)
    assert typed.returncode == 2  # no name typed on the command line stands for a person
    kuzet.run("hold", "request", *hold)
    (requested,) = _entries(kuzet, "hold.request")
    assert requested["actor"] == me
    before = kuzet.json("hold", "list")
    for args in (["approve", "1", "--until", ahead], ["reject", "1", "--note", "no case"],
                 ["release", "1"]):
        out = kuzet.run("hold", *args, check=False)
        assert out.returncode == 2, (args, out.stdout)
        assert "refused: only the rector decides" in out.stderr, (args, out.stderr)
        assert out.stderr.rstrip().endswith("(UE-10-22 3.3)"), (args, out.stderr)
    assert kuzet.json("hold", "list") == before
    assert before[0]["state"] == "pending"
    tried = _entries(kuzet, "hold.approve", "hold.reject", "hold.release")
    assert [(e["actor"], e["detail"]["outcome"], e["detail"]["source"]) for e in tried] == [
        (me, "refused", "local")] * 3
    # the rector's role: not taken away here, and no second rector made here
    (role,) = next(u["roles"] for u in kuzet.json("user", "list") if u["name"] == "rector")
    out = kuzet.run("user", "revoke", str(role["id"]), check=False)
    assert out.returncode == 2
    assert "refused: only the rector decides" in out.stderr
    assert "(UE-10-22 4.1)" in out.stderr
    heir = kuzet.run("user", "add", "heir", "--role", "rector")
    assert "role rector: pending" in heir.stdout, heir.stdout
    assert "when the rector approves it" in heir.stdout
    rectors = {(u["name"], a["state"]) for u in kuzet.json("user", "list") for a in u["roles"]
               if a["role"] == "rector"}
    assert rectors == {("rector", "active"), ("heir", "pending")}
    (revoke,) = _entries(kuzet, "role.revoke")
    assert (revoke["actor"], revoke["detail"]["outcome"]) == (me, "refused")
    assert [(e["actor"], e["subject"]) for e in _entries(kuzet, "role.request")
            if e["detail"]["role"] == "rector"] == [(me, "heir")]


def test_reading_on_the_command_line_is_audited(kuzet: Kuzet) -> None:
    """Item 1: what the command line shows (holds, segments, the audit log itself) is a
    recorded act of its operating-system user and host, as the API's reads are (4.2)."""
    me = _os_actor()
    kuzet.run("camera", "add", "gate", "rtsp://10.0.0.2/s", "--zone", "corridor")
    kuzet.run("hold", "list")
    kuzet.run("recordings", "list", "gate", "--from", "2026-11-27T01:00:00+05:00")
    kuzet.run("audit", "export", "--from", "2020-01-01T00:00:00Z")
    read = kuzet.json("audit", "list", "--action", "holds.read")
    assert [(e["actor"], e["subject"], e["detail"]["count"]) for e in read] == [
        (me, "holds", 0)]
    (segments,) = kuzet.json("audit", "list", "--action", "recordings.read")
    assert (segments["actor"], segments["subject"]) == (me, "gate")
    assert segments["detail"]["range"] == ["2026-11-27T01:00:00+05:00", None]
    (export,) = kuzet.json("audit", "list", "--action", "audit.export")
    assert export["actor"] == me
    assert export["detail"]["count"] > 0
    # the three listings above were read too, each written after what it listed
    assert [e["actor"] for e in kuzet.json("audit", "list", "--action", "audit.read")] == [
        me] * 3


def test_a_new_rector_waits_for_the_current_one_who_hands_over(world: World) -> None:
    """Item 1 (3.3, 3.5.6): later changes to who is rector need the current rector's
    confirmation, in the console; the approval hands the role over."""
    world.user("rector", "rector")
    world.user("admin", "administrator")
    world.user("heir", None)
    view = world.svc.roles.request(SHELL, "heir", "rector", now_ns=world.clock())
    assert view.state == "pending"
    assert not holds_somewhere(world.svc.sessions.principal_of("heir", NOW),
                               Perm.ROLE_APPROVE, NOW)
    with pytest.raises(Denied, match=r"^refused: only the rector decides"):
        world.svc.roles.decide(SHELL, view.id, True, world.clock())
    r = world.login("admin").post(f"/api/role-assignments/{view.id}/approve")
    assert r.status_code == 403
    rector = world.login("rector")
    assert rector.post(f"/api/role-assignments/{view.id}/approve").status_code == 200
    active = [(a.user, a.state) for a in world.svc.roles.assignments()
              if a.role == "rector"]
    assert active == [("rector", "revoked"), ("heir", "active")]
    handed = world.audit("role.revoke")[-1]
    assert (handed.actor, handed.subject) == ("rector", "rector")
    assert json.loads(handed.detail)["handed_over_to"] == "heir"
    # the new rector decides only with a second factor, like every decision of the rector's
    heir = world.client()
    r = heir.post("/api/auth/login", json={"username": "heir", "password": PASSWORD})
    assert r.json()["second_factor_missing"] is True


def test_a_role_edit_stays_inside_the_regulations_table(world: World) -> None:
    """Item 2 (3.5.4): `PUT /api/roles` gave archive.view to the guard. An edit outside the
    table is refused naming the clause and changes nothing; one inside it records the
    rector's order it rests on (4.1)."""
    world.user("rector", "rector")
    rector = world.login("rector")
    before = rector.get("/api/roles").json()
    r = rector.put("/api/roles/guard", json={
        "perms": ["live.view", "camera.status", "archive.view"], **ORDER})
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("refused: archive.view for the role 'guard'")
    assert r.json()["detail"].endswith("(UE-10-22 3.5.4)")
    for role, perms, clause in (("viewer", ["export.execute"], "3.5.6"),
                                ("it_support", ["health.read", "user.admin"], "3.4.3"),
                                ("installer", ["camera.admin", "snapshot"], "3.5.4")):
        r = rector.put(f"/api/roles/{role}", json={"perms": perms, **ORDER})
        assert r.status_code == 400, (role, r.text)
        assert f"(UE-10-22 {clause})" in r.json()["detail"], (role, r.text)
    unordered = rector.put("/api/roles/guard", json={"perms": ["live.view"]})
    assert unordered.status_code == 422
    assert rector.get("/api/roles").json() == before
    assert world.audit("role.edit") == []
    # inside the table: the guard without the hold list, on the rector's order
    r = rector.put("/api/roles/guard", json={
        "perms": ["live.view", "camera.status", "protocol.write"], **ORDER})
    assert r.status_code == 200, r.text
    guard = next(x for x in rector.get("/api/roles").json() if x["name"] == "guard")
    assert (guard["order_no"], guard["order_date"]) == ("12-P", "2026-09-01")
    edit = world.audit("role.edit")[-1]
    detail = json.loads(edit.detail)
    assert (edit.actor, detail["order_no"], detail["order_date"]) == (
        "rector", "12-P", "2026-09-01")
    assert "hold.read" in detail["before"]
    assert "hold.read" not in detail["after"]
    # and never from the command line, whatever role its caller names
    with pytest.raises(Denied, match=r"only the rector edits a role.*\(UE-10-22 4\.1\)$"):
        world.svc.roles.set_perms(SHELL, "guard", {Perm.LIVE_VIEW}, Order("13-P", "2026-09-02"))
    assert json.loads(world.audit("role.edit")[-1].detail)["outcome"] == "refused"


def test_the_table_gives_stored_video_only_to_whom_the_regulation_names() -> None:
    """Item 2: the table, read permission by permission against the regulation's own
    (docs/regulation-roles.toml): archive view and snapshots for the four of 3.5.4, the
    hand-over for the two of 3.5.6, the rector's decisions for the rector; every extra a
    role may be given names its clause."""
    table = tomllib.loads((ROOT / "docs" / "regulation-roles.toml").read_text())

    refusals: list[str] = []

    def allowed(role: str, perm: Perm) -> bool:
        try:
            check_entitlements(role, {perm})
        except ValueError as exc:
            refusals.append(str(exc))
            return False
        return True

    for perm, holders in ((Perm.ARCHIVE_VIEW, STORED_VIDEO), (Perm.SNAPSHOT, STORED_VIDEO),
                          (Perm.EXPORT_EXECUTE, HAND_OVER)):
        assert {role for role in table if allowed(role, perm)} == holders, perm
    for perm in DECISION_PERMS:
        assert {role for role in table if allowed(role, perm)} <= {"rector"}, perm
    for role, perms in table.items():
        assert all(allowed(role, Perm(p)) for p in perms), role
    assert refusals
    assert all(r.startswith("refused: ") for r in refusals)
    assert all(re.search(r"\(UE-10-22 [0-9.]+(, [0-9.]+)*\)$", r) for r in refusals)
    for role, extra in MAY_ALSO.items():
        assert all(clause.strip() for clause in extra.values()), role
        assert not set(extra) & {Perm.ARCHIVE_VIEW, Perm.SNAPSHOT, Perm.EXPORT_EXECUTE}, role


def test_a_rector_role_edited_to_view_nothing_still_decides_with_a_second_factor(
        world: World) -> None:
    """Item 1 (3.3, 3.5.6, 4.1): the second factor followed archive permissions only, so
    a rector's role edited to view no video decided with a password alone."""
    world.user("rector", "rector")
    world.user("heir", None)
    rector = world.login("rector")
    decisions = sorted(p.value for p in DECISION_PERMS)
    r = rector.put("/api/roles/rector", json={"perms": decisions, **ORDER})
    assert r.status_code == 200, r.text
    view = world.svc.roles.request(Actor("local:root@recorder", (), "local"), "heir",
                                   "rector", now_ns=world.clock())
    assert rector.post(f"/api/role-assignments/{view.id}/approve").status_code == 200
    heir = world.client()
    r = heir.post("/api/auth/login", json={"username": "heir", "password": PASSWORD})
    assert r.json()["second_factor_missing"] is True
    heir.headers["X-CSRF-Token"] = r.json()["csrf"]
    r = heir.get("/api/role-assignments")
    assert r.status_code == 403
    assert "second factor" in r.json()["detail"]


def test_the_first_account_sees_no_video_until_the_rectors_order(world: World,
                                                                  clip_cache: Path) -> None:
    """Item 3 (3.4.2): `kuzet init`'s `admin` held the administrator's archive view,
    snapshots and exports at once, with no order. Now it sets the system up (the
    installer's role) and the administrator's role waits for the rector, who gives the
    order's number and date."""
    one_time = first_administrator(world.storage.catalog)  # what `kuzet init` runs
    assert one_time
    assert first_administrator(world.storage.catalog) is None  # once only
    world.user("rector", "rector")
    now = time.time_ns()
    world.clock.now_ns = now
    record(world.storage.catalog, clip_cache / "sim", ClipSpec(320, 180, 500_000), CAM,
           now - 60 * NS, 2)
    admin = world.client()
    r = admin.post("/api/auth/login", json={"username": "admin", "password": one_time})
    admin.headers["X-CSRF-Token"] = r.json()["csrf"]
    assert admin.post("/api/auth/password", json={"old_password": one_time,
                                                  "new_password": PASSWORD}).is_success
    # it sets the system up...
    assert admin.get("/api/cameras").status_code == 200
    assert admin.get("/api/users").status_code == 200
    # ...and sees no video, stored or live, nor a picture of it
    shot = {"at": format_instant(now - 50 * NS), "purpose": "Zones for detection"}
    for r in (admin.get(f"/api/cameras/{CAM}/still"),
              admin.get(f"/api/cameras/{CAM}/snapshot", params=shot),
              admin.get(f"/api/cameras/{CAM}/timeline", params={
                  "start": format_instant(now - 120 * NS), "end": format_instant(now)}),
              admin.post("/api/viewing/live", json={"camera": CAM})):
        assert r.status_code == 403, r.text
    assert "3.5.4" in admin.get(f"/api/cameras/{CAM}/still").json()["detail"]
    p = world.svc.sessions.principal_of("admin", now)
    assert not [q for q in (Perm.ARCHIVE_VIEW, Perm.SNAPSHOT, Perm.EXPORT_EXECUTE,
                            Perm.LIVE_VIEW) if holds_somewhere(p, q, now)]
    (asked,) = world.svc.roles.assignments(user="admin", state="pending")
    assert (asked.role, asked.order_no) == ("administrator", None)
    # the rector approves only with the order's number and date
    rector = world.login("rector")
    r = rector.post(f"/api/role-assignments/{asked.id}/approve")
    assert r.status_code == 400
    assert "(UE-10-22 3.4.2)" in r.json()["detail"]
    assert world.svc.roles.assignments(user="admin", state="pending") == [asked]
    r = rector.post(f"/api/role-assignments/{asked.id}/approve",
                    json={"order_no": "42-P", "order_date": "2026-09-01"})
    assert r.status_code == 200, r.text
    (appointed,) = [a for a in world.svc.roles.assignments(user="admin")
                    if a.role == "administrator"]
    assert (appointed.state, appointed.order_no, appointed.order_date) == (
        "active", "42-P", "2026-09-01")
    approval = json.loads(world.audit("role.approve")[-1].detail)
    assert (approval["order_no"], approval["order_date"]) == ("42-P", "2026-09-01")
    # the administrator's role reaches stored video: a second factor first, then the still
    assert "second factor" in admin.get(f"/api/cameras/{CAM}/still").json()["detail"]
    world.enrol("admin")
    assert world.login("admin").get(f"/api/cameras/{CAM}/still").status_code == 200


@SQLITE_ONLY
@pytest.mark.slow
def test_the_rector_appoints_the_first_administrator_in_the_approvals_inbox(
        storage: Any) -> None:
    """Item 3 in the console: the inbox offers the order's number and date with the
    administrator's request that has none, and the approval carries them (3.4.2)."""
    from playwright.sync_api import sync_playwright

    world = World(storage, time.time_ns(), https_port=0, http_redirect_port=None)
    assert first_administrator(storage.catalog)
    world.user("rector", "rector")
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        rector = world.browser_login(browser, base, "rector")
        rector.goto(f"{base}/approvals?lang=en")
        rector.locator("main[data-loaded]").wait_for(state="attached")
        item = rector.locator("#roles li", has_text="admin: administrator")
        item.locator("button", has_text="Approve").click()  # no order yet: refused
        rector.locator("#message", has_text="3.4.2").wait_for()
        assert [a.state for a in world.svc.roles.assignments(user="admin")
                if a.role == "administrator"] == ["pending"]
        item.locator("input[name=order_no]").fill("42-P")
        item.locator("input[name=order_date]").fill("2026-09-01")
        item.locator("button", has_text="Approve").click()
        rector.locator("#roles").wait_for(state="hidden")
        browser.close()
    (appointed,) = [a for a in world.svc.roles.assignments(user="admin")
                    if a.role == "administrator"]
    assert (appointed.state, appointed.order_no, appointed.order_date) == (
        "active", "42-P", "2026-09-01")
