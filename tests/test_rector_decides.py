"""Only the rector decides, on every path; roles stay inside the regulation's table; the
first account sees no video until the rector's order (issue 18, items 1-3: UE-10-22 3.3,
3.4.2, 3.5.4-3.5.6, 4.1). Through the real command line (`kuzet` in its own process, on
a real catalog) and the API's real ASGI stack; each test failed before its fix."""

from __future__ import annotations

import json
import os
import pwd
import re
import socket
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from api_world import CAM, CHROMIUM_ARGS, PASSWORD, World
from conftest import SQLITE_ONLY, Kuzet, stop, wait_for
from footage import record
from kuzet.access.entitlements import MAY_ALSO, check_entitlements
from kuzet.access.passwords import hash_password
from kuzet.access.permissions import DECISION_PERMS, DEFAULT_ROLES, Perm, holds_somewhere
from kuzet.access.reconcile import reconcile
from kuzet.access.roles import SHOWS_PICTURE, Order, Roles, lock_rector
from kuzet.access.sessions import Sessions
from kuzet.audit.log import Actor, AuditLog
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
    """How the audit log names whoever runs `kuzet` here: the effective user's account and
    the host, never a name typed on the command line nor LOGNAME or USER."""
    return f"local:{pwd.getpwuid(os.geteuid()).pw_name}@{socket.gethostname().split('.')[0]}"[:64]


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


# -- issue 18 review: what an older Kuzet left, and the holes around the rector's role --

# How the Kuzet before issue 18 (commit 26535ad) wrote the rows these tests start from:
# `kuzet init`'s administrator active at once, without an order, and every `kuzet user add
# --role rector` active at once (reproduced with that code: `kuzet user list` showed
# admin administrator(active), r1 rector(active), r2 rector(active)).
OLD_INIT = "kuzet-init"
OLD_SHELL = "local:root"


def _old_rows(catalog: Any, rows: list[tuple[str, str, str]], now_ns: int) -> None:
    """Accounts and active role assignments as the older Kuzet left them: (account, role,
    who gave it at once), no order, the audit log untouched (it wrote its own entries)."""
    from kuzet.access.models import RoleAssignment, User

    with catalog.session.begin() as s:
        for name, role, by in rows:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                user = User(name=name, display_name=name.title(),
                            password_hash=hash_password(PASSWORD), must_change_password=False,
                            totp_secret=None, totp_confirmed=False, disabled=False,
                            created_ns=now_ns, created_by=by)
                s.add(user)
                s.flush()
            s.add(RoleAssignment(user_id=user.id, role=role, group_id=None, state="active",
                                 requested_by=by, requested_ns=now_ns, decided_by=by,
                                 decided_ns=now_ns, order_no=None, order_date=None))


def _roles_of(world: World, user: str) -> list[tuple[str, str, str | None]]:
    return [(a.role, a.state, a.order_no) for a in world.svc.roles.assignments(user=user)]


def test_an_upgraded_administrator_without_an_order_is_an_installer_after_the_next_start(
        fresh: Kuzet) -> None:
    """Review item 1 (3.4.2): after an upgrade, `kuzet init`'s `admin` kept the active
    administrator role the older Kuzet gave it without the rector's order, with archive
    view and export. `kuzet verify` now warns of it, and the next `kuzet serve` ends it
    before answering anyone (audited as `system`): `admin` is an installer, and its
    administrator role waits for the rector's order like a new installation's."""
    now = time.time_ns()
    catalog = fresh.catalog()
    _old_rows(catalog, [("admin", "administrator", OLD_INIT)], now)
    fresh.run("init")  # the certificate; accounts exist, so no first administrator
    warned = fresh.run("verify").stdout
    assert ("WARNING: admin: administrator without the rector's order: the installer's role "
            "until the rector approves the administrator's, asked for again (UE-10-22 "
            "3.4.2)") in warned, warned
    sessions = Sessions(catalog.session)
    assert holds_somewhere(sessions.principal_of("admin", now), Perm.ARCHIVE_VIEW, now)
    server = fresh.serve()
    wait_for(lambda: (fresh.home / "run" / "api.json").exists(), 60, what="api.json")
    assert "kuzet serve: WARNING: admin: administrator without the rector's order" in \
        fresh.log("serve")
    roles = Roles(catalog.session)
    assert [(a.role, a.state, a.requested_by) for a in roles.assignments(user="admin")] == [
        ("administrator", "revoked", OLD_INIT), ("installer", "active", "system"),
        ("administrator", "pending", "system")]
    later = time.time_ns()
    admin = sessions.principal_of("admin", later)
    assert not [q for q in (Perm.ARCHIVE_VIEW, Perm.SNAPSHOT, Perm.EXPORT_EXECUTE,
                            Perm.LIVE_VIEW) if holds_somewhere(admin, q, later)]
    assert holds_somewhere(admin, Perm.CAMERA_ADMIN, later)
    entries = AuditLog(catalog.session).entries()
    changed = [(e.actor, e.action, json.loads(e.detail)["role"]) for e in entries
               if e.subject == "admin" and e.action.startswith("role.")]
    assert changed == [("system", "role.revoke", "administrator"),
                       ("system", "role.assign", "installer"),
                       ("system", "role.request", "administrator")]
    assert "(UE-10-22 3.4.2)" in json.loads(next(
        e.detail for e in entries if e.action == "role.revoke"))["reason"]
    assert stop(server) < 15
    # once put right, nothing more to say or do
    fresh.serve()
    wait_for(lambda: "console and HTTP API" in fresh.log("serve").split(
        "kuzet serve: recording")[-1], 60, what="the second start")
    assert len(roles.assignments(user="admin")) == 3
    assert "WARNING" not in fresh.run("verify").stdout


def test_two_active_rectors_are_reported_and_settled_by_a_rector(world: World) -> None:
    """Review item 1 (3.5.4, 4.1): an older Kuzet made every `kuzet user add --role rector`
    active at once, and nothing told anyone that two rectors coexisted. At start-up the
    `several_rectors` alarm names them and the clause, each is told at their next login,
    and one of them revokes the other's role in the console; the alarm then ends. A role
    row edited outside the regulation's table raises its own alarm, changes nothing, and
    ends with the rector's edit back inside it."""
    from kuzet.access.models import Role

    _old_rows(world.storage.catalog, [("r1", "rector", OLD_SHELL), ("r2", "rector", OLD_SHELL)],
              world.clock())
    with world.storage.catalog.session.begin() as s:  # an edit an older Kuzet allowed
        guard = s.get(Role, "guard")
        assert guard is not None
        guard.perms = json.dumps(sorted([*json.loads(guard.perms), "archive.view"]))
    for name in ("r1", "r2"):
        world.enrol(name)
    found = reconcile(world.storage.catalog.session, world.clock())
    assert found.rectors == ["r1", "r2"]
    alarms = {(a.kind, a.subject): a for a in world.svc.alarms.list()}
    several = alarms[("several_rectors", "rector")]
    assert several.severity == "critical"
    assert several.message == ("2 rector assignments are active (r1, r2): the rector is one "
                               "person; one of them revokes the others' in the console, "
                               "Approvals (UE-10-22 3.5.4, 4.1)")
    outside = alarms[("role_outside_table", "guard")]
    assert outside.message.startswith("role guard is outside the regulation's table: "
                                      "refused: archive.view for the role 'guard'")
    assert "(UE-10-22 3.5.4)" in outside.message
    (kept,) = [r for r in world.svc.roles.all() if r.name == "guard"]
    assert "archive.view" in json.loads(kept.perms)  # told, not silently changed
    r2 = world.client()
    r = r2.post("/api/auth/login", json={"username": "r2", "password": PASSWORD,
                                         "totp": world.code("r2")})
    told = [(n["action"], n["by"]) for n in r.json()["notices"]]
    assert told == [("role.several_rectors", "system")]
    r2.headers["X-CSRF-Token"] = r.json()["csrf"]
    health = {a["kind"]: a["message"] for a in r2.get("/api/health").json()["alarms"]}
    assert "UE-10-22 3.5.4, 4.1" in health["several_rectors"]
    # nobody takes their own rector's role; another rector takes it, in the console
    ids = {a.user: a.id for a in world.svc.roles.assignments(state="active")
           if a.role == "rector"}
    r = r2.post(f"/api/role-assignments/{ids['r2']}/revoke")
    assert r.status_code == 403
    assert r.json()["detail"].endswith("(UE-10-22 3.5.4, 4.1)")
    with pytest.raises(Denied, match=r"only the rector decides.*\(UE-10-22 4\.1\)$"):
        world.svc.roles.revoke(SHELL, ids["r1"], world.clock())
    assert r2.post(f"/api/role-assignments/{ids['r1']}/revoke").status_code == 200
    assert [(a.user, a.state) for a in world.svc.roles.assignments()
            if a.role == "rector"] == [("r1", "revoked"), ("r2", "active")]
    assert ("several_rectors", "rector") not in {(a.kind, a.subject)
                                                for a in world.svc.alarms.list()}
    # the rector narrows the role back inside the table, which ends its alarm
    r = r2.put("/api/roles/guard", json={
        "perms": ["camera.status", "hold.read", "live.view", "protocol.write"], **ORDER})
    assert r.status_code == 200, r.text
    assert [a.kind for a in world.svc.alarms.list()] == []
    assert reconcile(world.storage.catalog.session, world.clock()).lines() == []


def test_the_last_rector_cannot_revoke_their_own_role(world: World) -> None:
    """Review item 3 (3.5.4, 4.1): the rector revoked the rector's own role through the
    API, after which the command line made a rector of its choice at once. The rector's
    role ends only by a hand-over: refused, audited, nothing changed, and a rector asked
    for on the command line still waits."""
    world.user("rector", "rector")
    rector = world.login("rector")
    (own,) = [a for a in world.svc.roles.assignments(user="rector")]
    r = rector.post(f"/api/role-assignments/{own.id}/revoke")
    assert r.status_code == 403
    assert r.json()["detail"] == (
        "refused: a rector's role is not taken away by its holder, and the last one by "
        "nobody: it ends when the rector approves a successor asked for on the server's "
        "command line (UE-10-22 3.5.4, 4.1)")
    # a decider whose roles, as read a second ago, still name the rector (a revoked one)
    with pytest.raises(Denied, match=r"and the last one by nobody"):
        world.svc.roles.revoke(Actor("ghost", ("rector",), "10.0.0.9"), own.id, world.clock())
    assert [(a.state, a.decided_by) for a in world.svc.roles.assignments(user="rector")] == [
        ("active", "setup")]
    tried = [(e.actor, json.loads(e.detail)["outcome"]) for e in world.audit("role.revoke")]
    assert tried == [("rector", "refused"), ("ghost", "refused")]
    world.user("heir", None)
    view = world.svc.roles.request(SHELL, "heir", "rector", now_ns=world.clock())
    assert view.state == "pending"


def test_the_installer_gives_itself_no_role_nor_a_picture_through_an_account_it_made(
        world: World) -> None:
    """Review item 2 (3.4.2, 3.5.4): `kuzet init`'s installer holds user.admin, and a role
    reaching no stored video was active at once, its own account included: it gave itself
    the guard's live view (or the installer's role again). Now a role for one's own
    account waits for the rector, whatever role it is; and a role that shows a picture,
    asked for by someone who sees no stored video, waits too, so an account the installer
    made gets none without the rector."""
    one_time = first_administrator(world.storage.catalog)
    assert one_time
    world.user("rector", "rector")
    admin = world.client()
    r = admin.post("/api/auth/login", json={"username": "admin", "password": one_time})
    admin.headers["X-CSRF-Token"] = r.json()["csrf"]
    assert admin.post("/api/auth/password", json={"old_password": one_time,
                                                  "new_password": PASSWORD}).is_success
    before = admin.get("/api/auth/me").json()["perms"]
    for role in sorted(DEFAULT_ROLES):
        r = admin.post("/api/role-assignments", json={"user": "admin", "role": role,
                                                      "order_no": "1-P",
                                                      "order_date": "2026-09-01"})
        if role == "rector":
            assert r.status_code == 403
            assert r.json()["detail"].endswith("(UE-10-22 3.3, 3.5.6)")
            continue
        assert (r.status_code, r.json()["state"]) == (201, "pending"), (role, r.text)
    world.clock.advance(2)  # the session cache (one second) has seen every request
    assert admin.get("/api/auth/me").json()["perms"] == before
    # an account it made: a picture waits for the rector, the rest does not
    assert admin.post("/api/users", json={"name": "puppet"}).status_code == 201
    states = {}
    for role in ("guard", "it_support", "viewer", "installer"):
        r = admin.post("/api/role-assignments", json={"user": "puppet", "role": role})
        states[role] = (r.status_code, r.json()["state"])
    assert states == {"guard": (201, "pending"), "it_support": (201, "active"),
                      "viewer": (201, "active"), "installer": (201, "active")}
    world.clock.advance(2)
    p = world.svc.sessions.principal_of("puppet", world.clock())
    assert not [q for q in SHOWS_PICTURE if holds_somewhere(p, q, world.clock())]
    # the rector decides it, as any request of the installer's own
    guard = next(a for a in world.svc.roles.assignments(user="puppet", state="pending"))
    assert world.login("rector").post(
        f"/api/role-assignments/{guard.id}/approve").status_code == 200
    world.clock.advance(2)
    assert holds_somewhere(world.svc.sessions.principal_of("puppet", world.clock()),
                           Perm.LIVE_VIEW, world.clock())
    # the appointed administrator, who sees stored video, gives a guard at once
    world.user("appointed", "administrator")
    world.user("guard2", None)
    r = world.login("appointed").post("/api/role-assignments",
                                      json={"user": "guard2", "role": "guard"})
    assert r.json()["state"] == "active"


def test_refusals_of_a_role_request_name_the_clause_and_are_audited(world: World) -> None:
    """Review, minor: `kuzet init`'s request for a second first administrator was refused
    with no clause and no audit entry; the rector role through the API neither audited."""
    world.user("rector", "rector")
    world.user("late", None)
    with pytest.raises(Denied, match=r"^refused: the first administrator .*\(UE-10-22 3\.4\.2\)$"):
        world.svc.roles.request(SHELL, "late", "administrator", now_ns=world.clock(),
                                bootstrap=True)
    with pytest.raises(Denied, match=r"\(UE-10-22 3\.3, 3\.5\.6\)$"):
        world.svc.roles.request(Actor("someone", (), "10.0.0.9"), "late", "rector",
                                now_ns=world.clock())
    assert world.svc.roles.assignments(user="late") == []
    refused = [(e.actor, json.loads(e.detail)["role"], json.loads(e.detail)["outcome"])
               for e in world.audit("role.request")]
    assert refused == [("local:root@recorder", "administrator", "refused"),
                       ("someone", "rector", "refused")]


def test_someone_elses_request_for_a_privileged_role_is_withdrawn_by_its_maker_only(
        world: World) -> None:
    """Review, minor (3.4.2, 3.5.4, 4.1): any holder of user.admin withdrew another's
    pending request for the vice-rector (or a rector's hand-over): deciding who holds the
    role. Its maker withdraws it, the rector decides it; others are refused, audited."""
    world.user("rector", "rector")
    world.user("admin", "administrator")
    world.user("admin2", "administrator")
    world.user("vr", None)
    world.user("heir", None)
    vice = world.login("admin").post("/api/role-assignments",
                                     json={"user": "vr", "role": "vice_rector"}).json()["id"]
    heir = world.svc.roles.request(SHELL, "heir", "rector", now_ns=world.clock()).id
    other = world.login("admin2")
    for assignment in (vice, heir):
        r = other.post(f"/api/role-assignments/{assignment}/revoke")
        assert r.status_code == 403
        assert r.json()["detail"].endswith("(UE-10-22 3.4.2, 3.5.4, 4.1)")
    with pytest.raises(Denied, match="withdrawn by whoever made it"):
        world.svc.roles.revoke(Actor("local:mallory@recorder", (), "local"), heir,
                               world.clock())
    assert {a.id: a.state for a in world.svc.roles.assignments(state="pending")} == {
        vice: "pending", heir: "pending"}
    assert [json.loads(e.detail)["outcome"] for e in world.audit("role.revoke")] == [
        "refused"] * 3
    world.svc.roles.revoke(SHELL, heir, world.clock())  # its maker
    assert world.login("admin").post(f"/api/role-assignments/{vice}/revoke").status_code == 200


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_rectors_asked_for_at_once_make_one(world: World) -> None:
    """Review, minor (3.5.4, 4.1): on PostgreSQL two `kuzet user add --role rector` at
    once, while none is active, each found no rector and both became active. Here the
    first is held open in its transaction, past its check, while the second runs: the
    second now waits on the rector's role row and then sees the first rector."""
    from kuzet.access.models import RoleAssignment, User

    world.user("first", None)
    world.user("second", None)
    engine = world.storage.catalog.engine
    answer: list[Any] = []
    with world.storage.catalog.session.begin() as s:
        lock_rector(s)  # what the first request does before it looks
        first = s.scalar(select(User).where(User.name == "first"))
        assert first is not None
        s.add(RoleAssignment(user_id=first.id, role="rector", group_id=None, state="active",
                             requested_by="local:root@recorder", requested_ns=NOW,
                             decided_by="local:root@recorder", decided_ns=NOW))
        s.flush()
        second = threading.Thread(target=lambda: answer.append(world.svc.roles.request(
            SHELL, "second", "rector", now_ns=world.clock())))
        second.start()

        def waiting() -> bool:
            with engine.connect() as c:
                return bool(c.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'")).scalar())

        wait_for(lambda: answer or waiting(), 30, interval=0.05,
                 what="the second request to wait or finish")
    second.join(30)
    assert [(a.user, a.state) for a in world.svc.roles.assignments()] == [
        ("first", "active"), ("second", "pending")]


@SQLITE_ONLY
@pytest.mark.slow
def test_a_rector_told_of_another_rector_revokes_it_in_the_console(storage: Any) -> None:
    """Review item 1 in the console (3.5.4, 4.1): a rector logging in after the start-up
    that found two rectors is told so, naming the clauses; Approvals lists both rector
    roles, offers to revoke the other's (never one's own), and once revoked the list is
    gone with the alarm."""
    from playwright.sync_api import sync_playwright

    world = World(storage, time.time_ns(), https_port=0, http_redirect_port=None)
    _old_rows(storage.catalog, [("r1", "rector", OLD_SHELL), ("r2", "rector", OLD_SHELL)],
              world.clock())
    world.enrol("r2")
    reconcile(storage.catalog.session, world.clock())
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(ignore_https_errors=True).new_page()
        page.goto(f"{base}/login?lang=en")
        page.fill("#login input[name=username]", "r2")
        page.fill("#login input[name=password]", PASSWORD)
        page.fill("#login input[name=totp]", world.code("r2"))
        page.click("#login button")
        told = page.locator("#notice-list li", has_text="several rectors are active")
        told.wait_for()
        assert "(UE-10-22 3.5.4, 4.1)" in told.inner_text()
        page.click("#notices-done")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/approvals?lang=en")
        page.locator("main[data-loaded]").wait_for(state="attached")
        rows = page.locator("#rectors li")
        assert rows.count() == 2
        assert page.locator("#rectors li", has_text="r2: rector").locator("button").count() == 0
        page.locator("#rectors li", has_text="r1: rector").locator(
            "button", has_text="Revoke").click()
        page.locator("#rectors").wait_for(state="hidden")
        browser.close()
    assert [(a.user, a.state) for a in world.svc.roles.assignments()] == [
        ("r1", "revoked"), ("r2", "active")]
    assert world.svc.alarms.list() == []
