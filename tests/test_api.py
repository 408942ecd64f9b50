"""The HTTP API through its real ASGI stack: RBAC matrix, logins, second factor, CSRF,
sessions, grants, role approval, LAN-only, bad input (issue 4)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import update

import kuzet.audit.log
from api_world import CAM, PASSWORD, World
from conftest import SQLITE_ONLY
from kuzet.access.accounts import LOGIN_FAILED
from kuzet.access.permissions import CLAUSE, DEFAULT_ROLES, Perm
from kuzet.access.roles import Order
from kuzet.audit.log import Actor
from kuzet.catalog.models import AuditEntry
from kuzet.timefmt import parse_instant
from kuzet.web.app import ROUTERS
from kuzet.web.deps import Authenticated, Public, Require

NOW = parse_instant("2026-09-21T14:00:00Z")
HOUR = 3600 * 10**9
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW)


def api_routes() -> list[APIRoute]:
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def guard(route: APIRoute) -> Any:
    found = [d.call for d in route.dependant.dependencies
             if isinstance(d.call, Public | Authenticated | Require)]
    assert len(found) == 1, f"{route.path} declares {len(found)} guards; it needs exactly one"
    return found[0]


def sample_path(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: {"name": CAM}.get(m.group(1), "999999"), path)


def regulation_roles() -> dict[str, frozenset[Perm]]:
    """The regulation's table of who may do what (docs/regulation-roles.toml, clause by
    clause), read apart from the code's defaults."""
    doc = tomllib.loads((ROOT / "docs" / "regulation-roles.toml").read_text())
    for role, perms in doc.items():
        assert all(clause.strip() for clause in perms.values()), f"{role}: a clause is missing"
    return {role: frozenset(Perm(p) for p in perms) for role, perms in doc.items()}


def test_default_roles_are_the_regulations() -> None:
    """The roles a new installation starts with give what the regulation's table gives,
    no more and no less (UE-10-22 3.5.4 and the clauses the table names)."""
    table = regulation_roles()
    assert set(table) == set(DEFAULT_ROLES)
    for role, perms in table.items():
        assert DEFAULT_ROLES[role].perms == perms, (role, DEFAULT_ROLES[role].perms ^ perms)


# The matrix is the routes' guards, above the catalog: on SQLite only (its PostgreSQL
# variant cost 15 s of the suite; the catalog's PostgreSQL path has tests of its own).
@SQLITE_ONLY
def test_rbac_matrix(world: World) -> None:
    """Every route x every role: 403 exactly when the regulation's table does not give the
    role the route's permission; a route without a declared guard fails here.
    UE-10-22 3.5.4: stored video only for the roles the regulation names."""
    table = regulation_roles()
    clients = {role: world.login(world.user(f"u-{role.replace('_', '-')}", role))
               for role in DEFAULT_ROLES}
    anonymous = world.client()
    # logging out goes last: it ends the sessions the other checks use
    routes = sorted(api_routes(), key=lambda r: r.path == "/api/auth/logout")
    assert len(routes) > 30
    checked = 0
    for route in routes:
        g = guard(route)
        assert route.methods is not None
        for method in route.methods:
            path = sample_path(route.path)
            for role, c in clients.items():
                r = c.request(method, path, json={} if method in ("POST", "PUT") else None)
                assert r.status_code < 500, (method, path, role, r.text)
                assert r.status_code != 401, (method, path, role, r.text)
                if isinstance(g, Require):
                    expect_denied = not (table[role] & g.perms)
                    assert (r.status_code == 403) == expect_denied, (method, path, role, r.text)
                else:
                    assert r.status_code != 403 or path == "/api/auth/login", (method, path, role)
                checked += 1
            r = anonymous.request(method, path, json={} if method in ("POST", "PUT") else None)
            if not isinstance(g, Public):
                assert r.status_code == 401, (method, path, r.text)
    assert checked > 200
    refused = world.audit("access.refused")
    assert any(e.actor == "u-guard" and "archive.view" in e.detail for e in refused)


def test_it_support_sees_health_never_video(world: World) -> None:
    """UE-10-22 3.4.3: IT support sees health and the camera list, never video."""
    it = world.login(world.user("it", "it_support"))
    assert it.get("/api/health").status_code == 200
    assert [c["name"] for c in it.get("/api/cameras").json()] == [CAM, "cam2"]
    assert it.get(f"/api/cameras/{CAM}/timeline", params={
        "start": "2026-09-20T00:00:00Z", "end": "2026-09-21T00:00:00Z"}).status_code == 403
    assert it.post("/api/viewing/live", json={"camera": CAM}).status_code == 403


def test_privileged_role_waits_for_the_rector(world: World) -> None:
    world.user("rector", "rector")
    world.user("admin", "administrator")
    world.user("vr", None)
    admin, rector = world.login("admin"), world.login("rector")
    r = admin.post("/api/role-assignments", json={"user": "vr", "role": "vice_rector"})
    assert r.status_code == 201
    assert r.json()["state"] == "pending"
    assignment = r.json()["id"]
    vr = world.login("vr")
    assert vr.get("/api/auth/me").json()["perms"] == []
    # The administrator cannot approve (no role.approve); nobody approves their own request.
    assert admin.post(f"/api/role-assignments/{assignment}/approve").status_code == 403
    r = admin.post("/api/role-assignments", json={"user": "admin", "role": "guard"})
    own = r.json()["id"]
    # a role for one's own account waits for the rector, whatever it is (3.4.2, 3.5.4)
    assert r.json()["state"] == "pending"
    r = rector.post("/api/role-assignments", json={"user": "rector", "role": "vice_rector"})
    assert r.status_code == 403  # the rector lacks user.admin: requests come from admins
    assert rector.post(f"/api/role-assignments/{assignment}/approve").status_code == 200
    # Now vr holds archive view: the second factor is mandatory before anything else.
    r = vr.get(f"/api/cameras/{CAM}/timeline",
               params={"start": "2026-09-20T00:00:00Z", "end": "2026-09-21T00:00:00Z"})
    assert r.status_code == 403
    assert "second factor" in r.json()["detail"]
    assert vr.post("/api/auth/totp/enrol").status_code == 200
    assert admin.post(f"/api/role-assignments/{own}/revoke").status_code == 200
    # the administrator role needs the rector's order number and date (3.4.2)
    r = admin.post("/api/role-assignments", json={"user": "vr", "role": "administrator"})
    assert r.status_code == 400
    assert "3.4.2" in r.json()["detail"]
    r = admin.post("/api/role-assignments", json={"user": "vr", "role": "rector"})
    assert r.status_code == 403
    assert "command line" in r.json()["detail"]
    decided = [e.action for e in world.audit("role.approve")]
    assert decided == ["role.approve"] * len(decided)
    assert decided


def test_self_approval_refused_and_audited(world: World) -> None:
    world.user("rector", "rector")
    world.user("rector2", None)
    view = world.svc.roles.request(world_actor("rector2"), "rector2", "vice_rector",
                                   now_ns=world.clock())
    rector = world.login("rector")
    # the request concerns someone else but was made by... the rector himself:
    view2 = world.svc.roles.request(world_actor("rector"), "rector2", "head_of_security",
                                    now_ns=world.clock())
    assert rector.post(f"/api/role-assignments/{view2.id}/approve").status_code == 403
    assert rector.post(f"/api/role-assignments/{view.id}/approve").status_code == 200
    refused = [e for e in world.audit("role.approve") if '"refused"' in e.detail]
    assert len(refused) == 1
    assert refused[0].actor == "rector"


def test_every_approval_flow_refuses_alike(world: World) -> None:
    """One error contract for holds, grants, role assignments and transfers: an unknown
    request is 404, a decision on one's own request 403 (and audited), a request already
    decided or ended 409."""
    rector_actor = Actor("rector", ("rector",), "127.0.0.1")
    for name, role in (("rector", "rector"), ("head", "head_of_security"),
                       ("admin", "administrator"), ("inspector", "viewer")):
        world.user(name, role)
    # the rector may also ask, so that the rector's own requests come to the rector
    world.svc.roles.set_perms(rector_actor, "rector", set(DEFAULT_ROLES["rector"].perms)
                              | {Perm.HOLD_REQUEST, Perm.GRANT_REQUEST},
                              Order("7-P", "2026-09-01"))
    world.clock.advance(2)  # the session cache (one second) sees the edit
    head, rector, admin = world.login("head"), world.login("rector"), world.login("admin")
    expires = {"expires": "2026-10-01T00:00:00Z"}
    for path in ("holds/999/approve", "holds/999/release", "grants/999/approve",
                 "grants/999/revoke", "role-assignments/999/approve",
                 "role-assignments/999/revoke", "transfers/999/approve"):
        until = path.endswith("approve") and not path.startswith("role")  # bodies are checked
        r = rector.post(f"/api/{path}", json=expires if until else {})
        assert r.status_code == 404, (path, r.text)
        assert "999" in r.json()["detail"], (path, r.text)
    hold = {"cameras": [CAM], "start": "2026-09-21T01:00:00Z", "end": "2026-09-21T02:00:00Z",
            "reason": "theft", "incident": "P-2026/0031"}
    own = rector.post("/api/holds", json=hold).json()["id"]
    r = rector.post(f"/api/holds/{own}/approve", json=expires)
    assert r.status_code == 403
    assert "clause 3.3" in r.json()["detail"]
    theirs = head.post("/api/holds", json=hold).json()["id"]
    assert rector.post(f"/api/holds/{theirs}/release", json={}).status_code == 409
    assert rector.post(f"/api/holds/{theirs}/approve", json=expires).status_code == 200
    assert rector.post(f"/api/holds/{theirs}/reject", json={"note": "x"}).status_code == 409
    grant = {"user": "inspector", "perms": ["live.view"], "cameras": [CAM],
             "footage_from": "2026-09-21T00:00:00Z", "footage_to": "2026-09-22T00:00:00Z",
             "valid_from": "2026-09-21T00:00:00Z", "valid_until": "2026-09-22T00:00:00Z",
             "instruction": "Rector's instruction No. 18"}
    own = rector.post("/api/grants", json=grant).json()["id"]
    r = rector.post(f"/api/grants/{own}/approve")
    assert r.status_code == 403
    assert "clause 3.5.5" in r.json()["detail"]
    assert head.post(f"/api/grants/{own}/revoke").status_code == 200
    assert head.post(f"/api/grants/{own}/revoke").status_code == 409  # was 404
    assert rector.post(f"/api/grants/{own}/approve").status_code == 409
    guard = admin.post("/api/role-assignments", json={"user": "inspector", "role": "guard"})
    assert admin.post(f"/api/role-assignments/{guard.json()['id']}/revoke").status_code == 200
    r = admin.post(f"/api/role-assignments/{guard.json()['id']}/revoke")
    assert r.status_code == 409  # was 404
    assert "revoked already" in r.json()["detail"]
    refused = [e for e in world.audit("hold.approve") + world.audit("grant.approve")
               if '"refused"' in e.detail]
    assert [e.actor for e in refused] == ["rector", "rector"]


def world_actor(name: str) -> Actor:
    return Actor(name, (), "10.0.0.9")


def test_grant_by_instruction_opens_a_window_and_ends_by_itself(world: World) -> None:
    """UE-10-22 3.5.5: the rector's instruction opens a footage window that ends by itself."""
    world.user("rector", "rector")
    world.user("head", "head_of_security")
    world.user("inspector", "viewer")
    world.storage.seed(CAM, NOW - 10 * HOUR, 60, seg_s=600)  # 10 h of footage
    head, rector, inspector = world.login("head"), world.login("rector"), world.login("inspector")
    window = {"start": "2026-09-21T00:00:00Z", "end": "2026-09-21T23:00:00Z"}
    assert inspector.get(f"/api/cameras/{CAM}/timeline", params=window).status_code == 403
    r = head.post("/api/grants", json={
        "user": "inspector", "perms": ["archive.view"], "cameras": [CAM],
        "footage_from": "2026-09-21T10:05:00+06:00", "footage_to": "2026-09-21T12:00:00+06:00",
        "valid_from": "2026-09-21T00:00:00Z", "valid_until": "2026-09-22T00:00:00Z",
        "instruction": "Rector's instruction No. 17 of 2026-09-20"})
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "pending", r.text
    grant = r.json()["id"]
    assert head.post(f"/api/grants/{grant}/approve").status_code == 403  # no grant.approve
    assert rector.post(f"/api/grants/{grant}/approve").status_code == 200
    # archive view by grant asks the same second factor as archive roles, before anything
    r = inspector.get(f"/api/cameras/{CAM}/timeline", params=window)
    assert r.status_code == 403
    assert "second factor" in r.json()["detail"]
    world.enrol("inspector")
    inspector = world.login("inspector")
    r = inspector.get(f"/api/cameras/{CAM}/timeline", params=window)
    assert r.status_code == 200, r.text
    spans = r.json()["spans"]
    lo, hi = NOW - 10 * HOUR, NOW
    assert spans
    assert spans[0]["start"] == "2026-09-21T04:05:00.000000000Z"
    assert spans[-1]["end"] == "2026-09-21T06:00:00.000000000Z"
    assert lo <= spans[0]["start_ns"]
    assert spans[-1]["end_ns"] <= hi
    # footage outside the window is refused when opened; inside is allowed with a purpose
    inside = {"camera": CAM, "start": "2026-09-21T04:30:00Z", "end": "2026-09-21T05:00:00Z"}
    assert inspector.post("/api/viewing/archive", json=inside).status_code == 400
    r = inspector.post("/api/viewing/archive", json={**inside, "purpose": "Case 2026/17"})
    assert r.status_code == 200
    assert r.json()["basis"] == f"grant {grant}"
    outside = {**inside, "start": "2026-09-21T03:00:00Z", "purpose": "Case 2026/17"}
    assert inspector.post("/api/viewing/archive", json=outside).status_code == 403
    assert inspector.get("/api/cameras/cam2/timeline", params=window).status_code == 403
    opened = world.audit("archive.open")
    assert len(opened) == 1
    assert '"purpose":"Case 2026/17"' in opened[0].detail
    assert '"source":"127.0.0.1"' in opened[0].detail
    # the grant ends by itself
    world.clock.now_ns = parse_instant("2026-09-22T00:00:00Z")  # validity's end
    inspector = world.login("inspector")
    assert inspector.get(f"/api/cameras/{CAM}/timeline", params=window).status_code == 403
    rector = world.login("rector")
    states = {g["id"]: g["state"] for g in rector.get("/api/grants").json()}
    assert states[grant] == "expired"
    assert world.svc.grants.list(world.clock())[0].cameras == [CAM]


def test_lockout_and_address_throttle(world: World) -> None:
    world.user("guard", "guard")
    c = world.client()
    for _ in range(5):
        assert c.post("/api/auth/login", json={"username": "guard",
                                               "password": "wrong password!"}).status_code == 401
    r = c.post("/api/auth/login", json={"username": "guard", "password": PASSWORD})
    # locked from this address, and told no more than a wrong password is told
    assert r.status_code == 401
    assert r.json()["detail"] == LOGIN_FAILED
    assert len(world.audit("auth.lockout")) == 1
    # the owner at their own desk is not locked out by whoever guessed elsewhere
    assert world.client("10.9.9.9").post("/api/auth/login", json={
        "username": "guard", "password": PASSWORD}).status_code == 200
    world.clock.advance(15 * 60 + 1)
    assert c.post("/api/auth/login", json={
        "username": "guard", "password": PASSWORD}).status_code == 200
    # per address: ten failures on any names, then even a right password is turned away
    world.clock.advance(120)
    c = world.client("10.1.2.3")
    for i in range(10):
        c.post("/api/auth/login", json={"username": f"nobody{i}", "password": "x" * 12})
    r = c.post("/api/auth/login", json={"username": "guard", "password": PASSWORD})
    assert r.status_code == 403
    assert "address" in r.json()["detail"]
    assert world.client("10.1.2.4").post("/api/auth/login", json={
        "username": "guard", "password": PASSWORD}).status_code == 200


def test_second_factor_mandatory_for_archive_roles(world: World) -> None:
    world.user("head", "head_of_security")
    c = world.client()
    r = c.post("/api/auth/login", json={"username": "head", "password": PASSWORD})
    assert r.status_code == 401
    r = c.post("/api/auth/login", json={"username": "head", "password": PASSWORD,
                                        "totp": "000000" if world.code("head") != "000000"
                                        else "111111"})
    assert r.status_code == 401
    reasons = [e.detail for e in world.audit("auth.login_failed")]
    assert all("second-factor" in d for d in reasons)
    assert len(reasons) == 2
    assert world.login("head").get("/api/auth/me").json()["roles"] == ["head_of_security"]
    # a code works once: seen over a shoulder, it opens nothing
    spent = str(pyotp.TOTP(world.secrets["head"]).generate_otp(world.used_steps["head"]))
    r = c.post("/api/auth/login", json={"username": "head", "password": PASSWORD,
                                        "totp": spent})
    assert r.status_code == 401


def test_csrf_and_tokens(world: World) -> None:
    world.user("admin", "administrator")
    admin = world.login("admin")
    csrf = admin.headers.pop("X-CSRF-Token")
    r = admin.post("/api/users", json={"name": "newbie"})
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]
    r = admin.post("/api/users", json={"name": "newbie"}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = admin.post("/api/users", json={"name": "newbie"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    assert len(r.json()["one_time_password"]) >= 20
    admin.headers["X-CSRF-Token"] = csrf
    # tokens: never more than the owner holds, never archive, hashed at rest
    r = admin.post("/api/tokens", json={"name": "vms-bridge", "perms": ["archive.view"]})
    assert r.status_code == 400
    assert "second factor" in r.json()["detail"]
    r = admin.post("/api/tokens", json={"name": "x", "perms": ["audit.read"]})
    assert r.status_code == 400
    assert "audit.read" in r.json()["detail"]
    r = admin.post("/api/tokens", json={"name": "status board", "perms": ["camera.status"]})
    assert r.status_code == 201
    token = r.json()["token"]
    bearer = world.client()
    bearer.headers["Authorization"] = f"Bearer {token}"
    assert bearer.get("/api/cameras").status_code == 200
    assert bearer.get("/api/users").status_code == 403  # the owner may; the token may not
    assert bearer.post("/api/users", json={"name": "x2"}).status_code == 403
    from sqlalchemy import select

    from kuzet.access.models import ApiToken
    with world.storage.catalog.session() as s:
        stored = s.scalars(select(ApiToken.secret_sha256)).all()
    assert token not in stored
    assert len(stored) == 1
    tid = r.json()["id"]
    assert admin.delete(f"/api/tokens/{tid}").status_code == 200
    assert bearer.get("/api/cameras").status_code == 401


def test_session_idle_and_absolute_expiry(world: World) -> None:
    world.user("guard", "guard")
    c = world.login("guard")
    world.clock.advance(14 * 60)
    assert c.get("/api/cameras").status_code == 200
    world.clock.advance(15 * 60)
    r = c.get("/api/cameras")
    assert r.status_code == 401
    assert "idle" in r.json()["detail"]
    c = world.login("guard")
    for _ in range(12 * 5):
        world.clock.advance(12 * 60)
        r = c.get("/api/cameras")
        if r.status_code != 200:
            break
    assert r.status_code == 401
    assert "12-hour" in r.json()["detail"]
    # the end is recorded: the session stays ended, and the audit log says why
    assert c.get("/api/cameras").json()["detail"] == "not logged in"
    ends = [e.detail for e in world.audit("auth.session_end")]
    assert len(ends) == 2
    assert "idle" in ends[0]
    assert "12-hour" in ends[1]
    assert world.clock() - NOW >= 12 * HOUR - 15 * 60 * 10**9
    forged = world.client()
    forged.cookies.set("kuzet_session", "forged-value", domain="kuzet.lan")
    assert forged.get("/api/cameras").status_code == 401


def test_non_lan_source_refused_audited_and_alarmed(world: World) -> None:
    world.user("guard", "guard")
    outsider = world.client("203.0.113.7")
    r = outsider.post("/api/auth/login", json={"username": "guard", "password": PASSWORD})
    assert r.status_code == 403
    assert "3.5.3" in r.json()["detail"]
    assert outsider.get("/api/openapi.json").status_code == 403
    from starlette.websockets import WebSocketDisconnect
    with pytest.raises(WebSocketDisconnect) as closed, outsider.websocket_connect("/api/ws"):
        pass
    assert closed.value.code == 1008
    assert world.svc.refusals.flush()  # the first at once, the other two as one count
    refused = [e for e in world.audit("access.refused") if "203.0.113.7" in e.detail]
    assert len(refused) == 2
    assert '"count":1' in refused[0].detail
    assert '"count":2' in refused[1].detail
    alarms = [a for a in world.svc.alarms.list() if a.kind == "non_lan_access"]
    assert [a.subject for a in alarms] == ["203.0.113.7"]
    assert not world.audit("auth.login")


def test_forwarded_for_believed_only_from_trusted_proxies(storage: Any) -> None:
    w = World(storage, NOW, trusted_proxies=["10.0.0.1/32"])
    w.user("guard", "guard")
    body = {"username": "guard", "password": PASSWORD}
    via_proxy = w.client("10.0.0.1")
    r = via_proxy.post("/api/auth/login", json=body,
                       headers={"X-Forwarded-For": "10.20.0.5, 198.51.100.4"})
    assert r.status_code == 403
    r = via_proxy.post("/api/auth/login", json=body, headers={"X-Forwarded-For": "10.20.0.5"})
    assert r.status_code == 200
    logins = w.audit("auth.login")
    assert '"source":"10.20.0.5"' in logins[-1].detail
    # a client that is not a proxy cannot launder a public address, nor claim a LAN one
    r = w.client("10.0.0.77").post("/api/auth/login", json=body,
                                   headers={"X-Forwarded-For": "198.51.100.4"})
    assert r.status_code == 200
    r = w.client("198.51.100.9").post("/api/auth/login", json=body,
                                      headers={"X-Forwarded-For": "10.0.0.5"})
    assert r.status_code == 403


def test_public_allowlist_refused_outside_the_campus_own_ranges(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clause 3.5.3: public space in the allowlist only where the campus's own LAN is
    numbered in it (`campus_public_networks`); the old switch that let any public space in
    (`allow_public_networks`) is refused by name, from the file or the environment."""
    from pydantic import ValidationError

    from kuzet.config import Settings, load_settings
    with pytest.raises(ValidationError, match=r"3\.5\.3"):
        Settings(home=tmp_path, allowed_networks=["10.0.0.0/8", "0.0.0.0/0"])
    with pytest.raises(ValidationError, match=r"3\.5\.3"):
        Settings(home=tmp_path, allowed_networks=["8.8.8.0/24"])
    with pytest.raises(ValidationError, match="not an IP network"):
        Settings(home=tmp_path, allowed_networks=["campus"])
    Settings(home=tmp_path, allowed_networks=["8.8.8.0/24"], campus_public_networks=["8.8.0.0/16"])
    with pytest.raises(ValidationError, match=r"\(8\.8\.8\.0/24\).*UE-10-22 3\.5\.3"):
        Settings(home=tmp_path, allowed_networks=["8.8.8.0/24"],
                 campus_public_networks=["8.8.9.0/24"])
    with pytest.raises(ValidationError, match=r"wider than one campus .*3\.5\.3"):
        Settings(home=tmp_path, allowed_networks=["0.0.0.0/0"],
                 campus_public_networks=["0.0.0.0/0"])
    monkeypatch.setenv("KUZET_HOME", str(tmp_path))
    (tmp_path / "kuzet.toml").write_text('allowed_networks = ["8.8.8.0/24"]\n'
                                         "allow_public_networks = true\n")
    with pytest.raises(ValidationError, match="campus_public_networks"):
        load_settings()
    (tmp_path / "kuzet.toml").unlink()
    monkeypatch.setenv("KUZET_ALLOW_PUBLIC_NETWORKS", "true")
    with pytest.raises(ValidationError, match="campus_public_networks"):
        load_settings()
    monkeypatch.delenv("KUZET_ALLOW_PUBLIC_NETWORKS")
    Settings(home=tmp_path, allowed_networks=["10.1.0.0/16", "fd00::/8"])


def test_bad_input_is_refused_cleanly(world: World) -> None:
    world.user("admin", "administrator")
    admin = world.login("admin")
    before = world.svc.accounts.list()
    r = admin.post("/api/users", content=b"{not json", headers={"content-type":
                                                                 "application/json"})
    assert r.status_code == 422
    assert admin.post("/api/users", json={"name": "ok1", "is_admin": True}).status_code == 422
    big = {"name": "big", "display_name": "x" * 2_000_000}
    assert admin.post("/api/users", json=big).status_code == 413
    assert admin.post("/api/users", json={"name": "../../etc"}).status_code == 400
    assert admin.post("/api/users", json={"name": "x'; DROP TABLE users;--"}).status_code == 400
    for path in ("/api/cameras/..%2F..%2Fetc", "/api/cameras/%2e%2e",
                 "/api/cameras/cam1'%20OR%20'1'='1"):
        assert admin.get(path).status_code in (400, 404), path
    r = admin.get(f"/api/cameras/{CAM}/timeline", params={"start": "9999-01-01T00:00:00Z",
                                                          "end": "9999-01-02T00:00:00Z"})
    assert r.status_code == 400
    r = admin.get(f"/api/cameras/{CAM}/timeline", params={"start": "yesterday", "end": "now"})
    assert r.status_code == 400
    c = world.client()
    surrogate = b'{"username": "x\\udb88", "password": "p\\udb88assword123"}'
    r = c.post("/api/auth/login", content=surrogate, headers={"content-type":
                                                              "application/json"})
    assert r.status_code == 422
    r = c.post("/api/auth/login", json={"username": "' OR 1=1 --", "password": "' OR 1=1 --"})
    assert r.status_code == 401
    c.headers["Authorization"] = "Bearer kz_forged"
    assert c.get("/api/cameras").status_code == 401
    assert [u.name for u in world.svc.accounts.list()] == [u.name for u in before]


def test_audit_chain_tampering_seen_through_the_api(world: World) -> None:
    world.user("rector", "rector")
    rector = world.login("rector")
    assert rector.get("/api/audit/verify").json()["intact"] is True
    entries = rector.get("/api/audit", params={"action": "auth.login"}).json()
    assert entries
    assert entries[-1]["actor"] == "rector"
    with world.storage.catalog.session.begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == entries[0]["seq"])
                  .values(actor="someone-else"))
    r = rector.get("/api/audit/verify").json()
    assert r["intact"] is False
    assert r["first_bad_seq"] == entries[0]["seq"]
    csv = rector.get("/api/audit/export.csv")
    assert csv.status_code == 200
    assert csv.text.startswith("seq,at_utc")
    assert world.audit("audit.export")
    assert world.audit("audit.read")


def test_a_camera_change_and_its_audit_entry_commit_together(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding or removing a camera writes its entry in the change's own transaction
    (docs/design/audit.md): when the entry cannot be written, the camera stays as it was."""
    admin = world.login(world.user("admin", "administrator"))
    r = admin.post("/api/cameras", json={"name": "gate", "url": "rtsp://u:secret@10.0.0.4/s",
                                         "zone": "entrance"})
    assert r.status_code == 201, r.text
    assert "secret" not in r.text
    assert "secret" not in admin.get("/api/cameras").text
    (added,) = world.audit("camera.add")
    assert added.actor == "admin"
    assert added.subject == "gate"
    assert '"zone":"entrance"' in added.detail
    assert "secret" not in added.detail
    assert '"url":"rtsp://u:***@10.0.0.4/s"' in added.detail

    def unwritable(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the audit log cannot be written")

    monkeypatch.setattr(kuzet.audit.log, "append", unwritable)
    r = admin.post("/api/cameras", json={"name": "door", "url": "rtsp://10.0.0.5/s",
                                         "zone": "emergency_exit"})
    assert r.status_code == 500
    assert admin.delete("/api/cameras/gate").status_code == 500
    monkeypatch.undo()
    assert [c.name for c in world.storage.catalog.cameras()] == [CAM, "cam2", "gate"]
    assert [e.seq for e in world.audit("camera.add")] == [added.seq]
    assert world.audit("camera.remove") == []
    assert admin.delete("/api/cameras/gate").status_code == 200
    (removed,) = world.audit("camera.remove")
    assert removed.subject == "gate"
    assert removed.seq > added.seq


def test_password_rules_and_first_login(world: World) -> None:
    world.user("admin", "administrator")
    admin = world.login("admin")
    otp = admin.post("/api/users", json={"name": "guard2"}).json()["one_time_password"]
    admin.post("/api/role-assignments", json={"user": "guard2", "role": "guard"})
    c = world.client()
    r = c.post("/api/auth/login", json={"username": "guard2", "password": otp})
    assert r.status_code == 200
    assert r.json()["must_change_password"] is True
    c.headers["X-CSRF-Token"] = r.json()["csrf"]
    assert c.get("/api/cameras").status_code == 403  # password change first
    for weak in ("short", "Password2026!", "guard2-is-me-ok", "aaaaaaaaaaaaaaa",
                 "abcdefghijklmnop"):
        r = c.post("/api/auth/password", json={"old_password": otp, "new_password": weak})
        assert r.status_code == 400, weak
    r = c.post("/api/auth/password", json={"old_password": otp,
                                           "new_password": "steppe wind at dawn"})
    assert r.status_code == 200
    assert c.get("/api/cameras").status_code == 200


def test_openapi_is_served_and_every_route_is_documented(world: World) -> None:
    spec = world.client().get("/api/openapi.json").json()
    paths = set(spec["paths"])
    routes = {r.path for r in api_routes() if r.include_in_schema}
    assert routes == paths
    from pathlib import Path
    doc = (Path(__file__).parents[1] / "docs" / "ref" / "api.md").read_text()
    missing = [p for p in sorted(paths) if f"`{p}`" not in doc]
    assert not missing, f"routes missing from docs/ref/api.md: {missing}"
    perms = [p.value for p in Perm]
    assert not [p for p in perms if f"`{p}`" not in doc]


def test_every_route_declares_what_it_answers(world: World) -> None:
    """Each answer is described: JSON by a named reply model (or a typed list or map of
    them), files by their media type, never FastAPI's bare `{}`."""
    spec = world.client().get("/api/openapi.json").json()
    vague = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            ok = [r for code, r in op["responses"].items() if code.startswith("2")]
            assert ok, (method, path)
            for media, body in ok[0].get("content", {}).items():
                schema = body.get("schema", {})
                if media != "application/json":
                    described = schema.get("format") == "binary"
                else:  # a model, a list or map of models, or a map of name lists
                    inner = schema.get("items") or schema.get("additionalProperties") \
                        or schema
                    described = isinstance(inner, dict) and (
                        "$ref" in inner or "anyOf" in inner
                        or inner.get("items", {}).get("type") == "string")
                if not described:
                    vague.append(f"{method.upper()} {path} ({media})")
    assert not vague, vague
    assert "CameraReply" in spec["components"]["schemas"]


def test_a_refusal_names_its_clause_in_the_callers_language(world: World) -> None:
    """Bad input (issue 18): a refusal that rests on a clause of UE-10-22 (here 3.5.1, the
    audit log kept from IT support) says which, and says itself, in the console's language,
    Kazakh unless the caller chose another; the English detail stays beside it for scripts."""
    world.user("it", "it_support")
    it = world.login("it")
    said, message = {}, {}
    for lang in (None, "ru", "en"):
        if lang is not None:
            it.cookies.set("kuzet_lang", lang)
        r = it.get("/api/audit")
        assert r.status_code == 403
        body = r.json()
        assert body["clause"] == "3.5.1"
        assert body["detail"] == ("refused: this needs audit.read (UE-10-22 3.5.1; the "
                                  "rector's instruction)")
        said[lang], message[lang] = body["refusal"], body["message"]
    assert said[None] == "UE-10-22 ережесінің 3.5.1 тармағы бойынша бас тартылды"
    assert said["ru"] == "Отказано по пункту 3.5.1 положения UE-10-22"
    assert said["en"] == "Refused under UE-10-22, clause 3.5.1"
    # the refusal itself, the clause's words included, in each language
    assert message[None] == ("бас тартылды: бұған audit.read қажет (UE-10-22 3.5.1; "
                             "ректордың нұсқауы)")
    assert message["ru"] == ("отказано: для этого нужно audit.read (UE-10-22 3.5.1; указание "
                             "ректора)")
    assert message["en"] == body["detail"]
    # a reason decided on the camera (a guard's note on recorded footage), said inside the
    # refusal in the same language
    guard = world.login(world.user("guard", "guard"))
    guard.cookies.set("kuzet_lang", "ru")
    r = guard.post(f"/api/cameras/{CAM}/bookmarks", json={
        "kind": "note", "at": "2026-09-20T10:00:00+05:00"})
    assert r.status_code == 403
    assert r.json()["detail"].endswith("is not given to guard (UE-10-22 3.5.4, 3.5.5)")
    assert r.json()["message"].startswith("отказано: archive.view")
    assert r.json()["message"].endswith("не дано пользователю guard (UE-10-22 3.5.4, 3.5.5)")
    it.cookies.set("kuzet_lang", "en")
    r = it.get("/api/cameras/nosuch")
    assert "refusal" not in r.json()  # no clause, no line about one
    # Every permission has the clause that keeps it from others, named when it is missing.
    assert set(CLAUSE) == set(Perm)
    r = it.get("/api/holds")
    assert r.status_code == 403
    assert r.json()["detail"] == "refused: this needs hold.read (UE-10-22 3.3)"
    assert r.json()["refusal"] == "Refused under UE-10-22, clause 3.3"


def test_disabling_an_account_ends_its_sessions_at_once(world: World) -> None:
    world.user("admin", "administrator")
    world.user("guard", "guard")
    admin, guard = world.login("admin"), world.login("guard")
    assert guard.get("/api/cameras").status_code == 200  # now cached for a second
    assert admin.post("/api/users/guard/disable").status_code == 200
    r = guard.get("/api/cameras")
    assert r.status_code == 401
    assert "disabled" in r.json()["detail"]
    r = world.client().post("/api/auth/login", json={"username": "guard",
                                                     "password": PASSWORD})
    assert r.status_code == 401
    assert r.json()["detail"] == LOGIN_FAILED
    assert "account disabled" in world.audit("auth.login_failed")[-1].detail


def test_status_websocket_needs_a_session_and_a_permission(world: World) -> None:
    from starlette.websockets import WebSocketDisconnect

    world.user("guard", "guard")
    world.user("nobody", "viewer")
    guard = world.login("guard")
    sid = guard.cookies.get("kuzet_session")
    with world.client().websocket_connect(
            "/api/ws/status", headers={"cookie": f"kuzet_session={sid}"}) as ws:
        assert [c["name"] for c in ws.receive_json()["cameras"]] == [CAM, "cam2"]
    no_perm = world.login("nobody").cookies.get("kuzet_session")
    for headers in ({}, {"cookie": "kuzet_session=forged"},
                    {"cookie": f"kuzet_session={no_perm}"},
                    {"cookie": f"kuzet_session={sid}", "origin": "https://evil.example"}):
        with pytest.raises(WebSocketDisconnect) as closed, world.client().websocket_connect(
                "/api/ws/status", headers=headers) as ws:
            ws.receive_json()  # refused: accepted only to be closed with a reason
        assert closed.value.code == 1008, headers
    refused = [e for e in world.audit("access.refused") if '"kind":"websocket"' in e.detail]
    assert len(refused) == 4
    # logging out ends an open stream
    with world.client().websocket_connect(
            "/api/ws/status", headers={"cookie": f"kuzet_session={sid}"}) as ws:
        ws.receive_json()
        guard.post("/api/auth/logout")

        def read_three() -> None:
            for _ in range(3):
                ws.receive_json()

        with pytest.raises(WebSocketDisconnect):
            read_three()


def test_hold_through_the_api_is_audited_with_roles_and_address(world: World) -> None:
    """UE-10-22 3.3, 4.2: a hold through the API is audited with the actor's roles and address."""
    world.user("rector", "rector")
    world.user("head", "head_of_security")
    head, rector = world.login("head", "10.5.0.7"), world.login("rector")
    r = head.post("/api/holds", json={"cameras": [CAM], "start": "2026-09-21T01:00:00Z",
                                      "end": "2026-09-21T02:00:00Z", "reason": "theft",
                                      "incident": "P-2026/0031"})
    assert r.status_code == 201, r.text
    hold = r.json()["id"]
    assert head.post(f"/api/holds/{hold}/approve",
                     json={"expires": "2027-09-21T00:00:00Z"}).status_code == 403
    r = rector.post(f"/api/holds/{hold}/approve", json={"expires": "2030-09-21T00:00:00Z"})
    assert r.status_code == 400
    assert "3.3" in r.json()["detail"]
    r = rector.post(f"/api/holds/{hold}/approve", json={"expires": "2027-09-21T00:00:00Z"})
    assert r.status_code == 200
    assert [h["state"] for h in rector.get("/api/holds").json()] == ["active"]
    requested = world.audit("hold.request")[0]
    assert requested.actor == "head"
    assert '"source":"10.5.0.7"' in requested.detail
    assert '"roles":["head_of_security"]' in requested.detail
    assert '"roles":["rector"]' in world.audit("hold.approve")[0].detail


def test_archive_websocket_needs_a_purpose_and_a_window(world: World) -> None:
    from starlette.websockets import WebSocketDisconnect

    world.user("head", "head_of_security")
    world.user("guard", "guard")
    head_sid = world.login("head").cookies.get("kuzet_session")
    guard_sid = world.login("guard").cookies.get("kuzet_session")
    cases = [(head_sid, "purpose=x"),  # too short a purpose
             (guard_sid, "purpose=Round+check"),  # no archive.view at all
             (head_sid, "purpose=Round+check&start=yesterday")]
    for sid, query in cases:
        start = "" if "start=" in query else "&start=2026-09-21T10:00:00Z"
        with pytest.raises(WebSocketDisconnect) as closed, world.client().websocket_connect(
                f"/api/ws/archive/{CAM}?{query}{start}",
                headers={"cookie": f"kuzet_session={sid}"}) as ws:
            ws.receive_json()
        assert closed.value.code == 1008, query
    assert not world.audit("archive.open")
    # With a purpose and a window: opened, audited with the purpose, then (nothing
    # recorded in this catalog) the end of the recording.
    with world.client().websocket_connect(
            f"/api/ws/archive/{CAM}?start=2026-09-21T10:00:00Z&purpose=Round+check",
            headers={"cookie": f"kuzet_session={head_sid}"}) as ws:
        assert ws.receive_json() == {"type": "nothing", "nearest_before_ns": None}
        assert ws.receive_json() == {"type": "end"}
    opened = world.audit("archive.open")
    assert len(opened) == 1
    assert '"purpose":"Round check"' in opened[0].detail
