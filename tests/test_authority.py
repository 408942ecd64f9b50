"""The regulation's chain of authority holds on every path (issue 16): nobody changes the
credentials of an account at or above their own, a lost second factor takes two people,
a token never mints a broader token nor takes the rector's decisions, a login tells no
one which accounts exist and locks nobody out from afar, a change of password ends what
the old one opened; and no sequence of calls by anyone but the rector ends with them
holding a rector's decision."""

from __future__ import annotations

import json
import os
import pwd
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from api_world import CAM, PASSWORD, World
from conftest import Kuzet, Storage
from footage import record
from kuzet.access.accounts import LOGIN_FAILED, Accounts
from kuzet.access.models import ApiToken
from kuzet.access.permissions import DECISION_PERMS, Perm, holds_somewhere
from kuzet.access.secretbox import SecretBox, key_path
from kuzet.audit.log import Actor
from kuzet.errors import Denied, KuzetError
from kuzet.rtsp.clip import ClipSpec
from kuzet.timefmt import NS, format_instant, parse_instant

NOW = parse_instant("2026-09-21T14:00:00Z")
LOCAL = Actor("local:root", (), "local")
RECTOR_DECISIONS = (Perm.TRANSFER_DECIDE, Perm.HOLD_APPROVE, Perm.ROLE_APPROVE,
                    Perm.GRANT_APPROVE, Perm.ROLE_EDIT)
ORDER = {"order_no": "12-P", "order_date": "2026-09-01"}  # the rector's order of an edit
# A shell on the server, naming the rector's role as a caller of the services could.
SHELL = Actor("local:root@recorder", ("rector",), "local")


@pytest.fixture
def world(storage: Any) -> World:
    w = World(storage, NOW)
    for name, role in (("rector", "rector"), ("vr", "vice_rector"),
                       ("head", "head_of_security"), ("admin", "administrator"),
                       ("admin2", "administrator"), ("guard", "guard")):
        w.user(name, role)
    return w


def _login(world: World, name: str, password: str = PASSWORD, code: str | None = None,
           address: str = "127.0.0.1") -> Any:
    body = {"username": name, "password": password}
    if code is not None:
        body["totp"] = code
    return world.client(address).post("/api/auth/login", json=body)


def test_nobody_changes_the_credentials_of_an_account_at_or_above_their_own(
        world: World) -> None:
    """Item 1: the administrator reset, disabled and second-factor-reset the rector."""
    admin = world.login("admin")
    for target in ("rector", "vr", "head", "admin2"):
        for path in ("password-reset", "totp-reset", "disable"):
            r = admin.post(f"/api/users/{target}/{path}")
            assert r.status_code == 403, (target, path, r.text)
            assert "3.5.4" in r.json()["detail"], r.json()
    assert world.login("rector").get("/api/auth/me").status_code == 200
    # below the administrator: allowed, and audited
    assert admin.post("/api/users/guard/password-reset").status_code == 200
    assert world.audit("user.password_reset")[-1].actor == "admin"
    # an account administering users from outside the order (the installer `kuzet init`
    # makes) resets nobody at or above it, whatever role they hold
    world.user("setup", "installer")
    setup = world.login("setup")
    assert setup.post("/api/users/guard/disable").status_code == 403  # same rank
    assert setup.post("/api/users/admin/password-reset").status_code == 403


def test_a_role_taken_away_opens_no_way_around_the_second_factor(world: World) -> None:
    """Item 1, the same class: stripping the vice-rector's role would have made the account
    one below the administrator's, to reset and enter with a password alone."""
    admin, rector = world.login("admin"), world.login("rector")
    vice = next(a for a in world.svc.roles.assignments(user="vr") if a.state == "active")
    r = admin.post(f"/api/role-assignments/{vice.id}/revoke")
    assert r.status_code == 403
    assert "3.5.4" in r.json()["detail"]
    # the rector may; then the account is below the administrator's...
    assert rector.post(f"/api/role-assignments/{vice.id}/revoke").status_code == 200
    r = admin.post("/api/users/vr/password-reset")
    assert r.status_code == 200
    # ...but its second factor still guards it, whatever roles it holds now
    assert _login(world, "vr", r.json()["one_time_password"]).status_code == 401
    notices = _login(world, "vr", r.json()["one_time_password"], world.code("vr")).json()[
        "notices"]
    assert {"role.revoke", "user.password_reset"} <= {n["action"] for n in notices}


def test_the_rectors_password_is_reset_on_the_command_line_and_the_second_factor_stays(
        world: World) -> None:
    """Item 1: whoever runs the reset still cannot log in as the rector; the rector is
    told at next login, also of the administrator's refused attempt."""
    world.login("admin").post("/api/users/rector/password-reset")  # refused, audited
    one_time = world.svc.accounts.reset_password(LOCAL, "rector", world.clock())
    assert _login(world, "rector", one_time).status_code == 401  # no code, no entry
    assert _login(world, "rector", one_time, "000000").json()["detail"] == LOGIN_FAILED
    r = _login(world, "rector", one_time, world.code("rector"))
    assert r.status_code == 200
    assert r.json()["must_change_password"] is True
    told = {(n["action"], n["by"], n["outcome"]) for n in r.json()["notices"]}
    assert ("user.password_reset", "local:root", "allowed") in told
    assert ("user.password_reset", "admin", "refused") in told
    entry = world.audit("user.password_reset")[-1]
    assert entry.actor == "local:root"
    assert '"second_factor_kept":true' in entry.detail


def test_the_cli_resets_a_privileged_password_only_behind_a_second_factor(kuzet: Kuzet
                                                                          ) -> None:
    """Review item 4 (3.5.4, 4.2): `kuzet user reset-password` is the way for the rector,
    and its message said the second factor stays, so only the owner can log in: false for
    an account with none (a successor not yet enrolled, a factor just removed), which
    whoever ran it then entered, enrolling a factor of their own. Refused now, naming the
    clause, audited, the password unchanged, for an account that holds or awaits a role
    reaching stored video or a rector's decision; behind a second factor it goes on."""
    kuzet.run("user", "add", "rector", "--role", "rector")
    kuzet.run("user", "add", "plain")  # no role: nothing behind the password to guard
    catalog = kuzet.catalog()

    def hash_of(name: str) -> str:
        return next(u.password_hash for u in Accounts(catalog.session).list() if u.name == name)

    before = {name: hash_of(name) for name in ("rector", "admin")}
    for name, role, remedy in (
            ("rector", "rector", "recovered only past Kuzet"),
            ("admin", "administrator", "a person above them in the regulation's order resets "
                                       "it in the console")):  # `kuzet init`'s, awaiting
        out = kuzet.run("user", "reset-password", name, check=False)
        assert out.returncode == 2, out.stdout
        assert out.stderr.startswith(f"error: refused: a new password on the server's command "
                                     f"line for {name}, who holds or awaits the role {role} "
                                     "and has no second factor"), out.stderr
        assert out.stderr.rstrip().endswith(f"{remedy} (UE-10-22 3.5.4, 4.2)"), out.stderr
        assert "one-time password" not in out.stdout
    assert {name: hash_of(name) for name in before} == before
    plain = kuzet.run("user", "reset-password", "plain").stdout
    assert "it has no second factor: give the password to its owner in person" in plain
    # the rector enrols a second factor (at the first login); then the reset goes on
    accounts = Accounts(catalog.session, SecretBox(key_path(kuzet.home)))
    secret = pyotp.parse_uri(accounts.totp_enrol(LOCAL, "rector")).secret
    accounts.totp_confirm(LOCAL, "rector", pyotp.TOTP(secret).now(), time.time_ns())
    out = kuzet.run("user", "reset-password", "rector")
    assert "its second factor stays, so only its owner can log in with it" in out.stdout
    entries = kuzet.json("audit", "list", "--action", "user.password_reset")
    assert [(e["subject"], e["detail"]["outcome"]) for e in entries] == [
        ("rector", "refused"), ("admin", "refused"), ("plain", "allowed"),
        ("rector", "allowed")]
    assert {e["actor"] for e in entries} == {_os_actor()}


def test_logname_and_user_do_not_forge_the_recorded_os_user(kuzet: Kuzet) -> None:
    """Review item 5 (4.2): the command line named its actor after LOGNAME or USER
    (`getpass.getuser`), which whoever runs it sets: `LOGNAME=the_rector kuzet user add
    spoof` was audited as local:the_rector@host. Now the effective user's account, and
    SUDO_USER, where set, beside it as what the caller claims."""
    kuzet.env.update(LOGNAME="the_rector", USER="the_rector", LNAME="the_rector",
                     USERNAME="the_rector", SUDO_USER="alice")
    kuzet.run("user", "add", "spoof")
    (made,) = [e for e in kuzet.json("audit", "list", "--action", "user.create")
               if e["subject"] == "spoof"]
    assert made["actor"] == _os_actor()
    assert "the_rector" not in made["actor"]
    assert (made["detail"]["source"], made["detail"]["sudo_user"]) == ("local", "alice")


def _os_actor() -> str:
    return f"local:{pwd.getpwuid(os.geteuid()).pw_name}@{socket.gethostname().split('.')[0]}"[:64]


def test_a_lost_second_factor_is_removed_only_by_two_people(world: World) -> None:
    """Item 1: one person asks (an administrator for accounts below them, the command
    line for anyone), the rector or the vice-rector confirms; never the asker, never the
    owner, never the command line, never an administrator alone."""
    world.enrol("guard")  # a second factor the guard chose to have
    admin, vr, rector = world.login("admin"), world.login("vr"), world.login("rector")
    assert admin.post("/api/users/guard/totp-reset").status_code == 200
    assert admin.post("/api/users/guard/totp-reset/confirm").status_code == 403
    assert world.login("admin2").post("/api/users/guard/totp-reset/confirm"
                                      ).status_code == 403
    assert [x["name"] for x in vr.get("/api/second-factor-resets").json()] == ["guard"]
    assert vr.post("/api/users/guard/totp-reset/confirm").status_code == 200
    assert not next(u for u in world.svc.accounts.list() if u.name == "guard").totp_confirmed
    entry = world.audit("user.totp_reset")[-1]
    assert entry.actor == "vr"
    assert '"asked_by":"admin"' in entry.detail
    # the rector's lost phone: asked on the command line; the rector cannot confirm it,
    # the vice-rector does
    world.svc.accounts.request_totp_reset(LOCAL, "rector", world.clock())
    r = rector.post("/api/users/rector/totp-reset/confirm")
    assert r.status_code == 403
    assert "two people" in r.json()["detail"]
    assert vr.post("/api/users/rector/totp-reset/confirm").status_code == 200
    # nobody asks for their own reset, and the command line never confirms one
    with pytest.raises(Denied, match="another person"):
        world.svc.accounts.request_totp_reset(Actor("head", ("head_of_security",), "x"),
                                              "head", world.clock())
    world.svc.accounts.request_totp_reset(LOCAL, "head", world.clock())
    with pytest.raises(Denied, match=r"3\.5\.4"):
        world.svc.accounts.confirm_totp_reset(LOCAL, "head", world.clock())
    # the owners are told at their next login
    notices = _login(world, "guard").json()["notices"]
    assert ("user.totp_reset", "vr") in {(n["action"], n["by"]) for n in notices}


def test_a_recovery_code_replaces_a_lost_phone_once(world: World) -> None:
    """Item 1: the owner of a privileged account logs in with a recovery code from
    enrolment; the old second factor is gone, the session may only enrol a new one, and
    the new enrolment's codes replace the old ones."""
    old = world.recovery["head"]
    assert len(old) == 10
    assert len(set(old)) == 10
    r = _login(world, "head", code=old[0])
    assert r.status_code == 200
    assert r.json()["second_factor_missing"] is True
    # told at once, as any change to the account (whoever used the code)
    assert "user.recovery_code" in [n["action"] for n in r.json()["notices"]]
    c = world.client()
    c.cookies.update(r.cookies)
    c.headers["X-CSRF-Token"] = r.json()["csrf"]
    assert c.get("/api/cameras").status_code == 403  # enrol first
    uri = c.post("/api/auth/totp/enrol").json()["otpauth_uri"]
    world.secrets["head"] = uri.split("secret=")[1].split("&")[0]
    world.used_steps.pop("head", None)
    new = c.post("/api/auth/totp/confirm", json={"code": world.code("head")}).json()[
        "recovery_codes"]
    assert len(new) == 10
    assert not set(new) & set(old)
    assert c.get("/api/cameras").status_code == 200
    assert _login(world, "head", code=old[1]).status_code == 401  # replaced
    assert _login(world, "head", code=new[0]).status_code == 200
    world.enrol("head")
    assert _login(world, "head", code=new[0]).status_code == 401  # spent
    assert [e.subject for e in world.audit("user.recovery_code")] == ["head", "head"]


def test_a_token_never_mints_a_broader_token_nor_takes_a_rectors_decision(
        world: World) -> None:
    """Item 2: a camera.status token minted user.admin; and the same class: a token
    carrying one of the rector's decisions."""
    admin = world.login("admin")
    r = admin.post("/api/tokens", json={"name": "board", "perms": ["camera.status"]})
    narrow = world.client()
    narrow.headers["Authorization"] = f"Bearer {r.json()['token']}"
    r = narrow.post("/api/tokens", json={"name": "x", "perms": [
        "user.admin", "snapshot", "live.view", "camera.admin"]})
    assert r.status_code == 403
    assert "token.create" in r.json()["detail"]
    r = admin.post("/api/tokens", json={"name": "maker",
                                        "perms": ["camera.status", "token.create"]})
    assert r.status_code == 201, r.text
    maker = world.client()
    maker.headers["Authorization"] = f"Bearer {r.json()['token']}"
    assert maker.post("/api/tokens", json={"name": "x", "perms": ["user.admin"]}
                      ).status_code == 400
    assert maker.post("/api/tokens", json={"name": "x", "perms": ["camera.status"]}
                      ).status_code == 201
    # the rector's decisions and credentials are never on a token, whoever asks
    rector = world.login("rector")
    assert admin.post("/api/tokens", json={"name": "x", "perms": ["user.admin"]}
                      ).status_code == 400
    r = world.login("vr").post("/api/tokens", json={"name": "x",
                                                     "perms": ["second_factor.reset"]})
    assert r.status_code == 400
    assert "credentials" in r.json()["detail"]
    for perm in sorted(DECISION_PERMS):
        r = rector.post("/api/tokens", json={"name": "x", "perms": [perm.value]})
        assert r.status_code == 400, (perm, r.text)
        assert "rector" in r.json()["detail"], (perm, r.text)
    # even a token row that says otherwise (written into the catalog) decides nothing
    r = rector.post("/api/tokens", json={"name": "x", "perms": ["hold.read"]})
    secret = r.json()["token"]
    with world.storage.catalog.session.begin() as s:
        s.execute(update(ApiToken).where(ApiToken.id == r.json()["id"]).values(
            perms=json.dumps(sorted(p.value for p in DECISION_PERMS | {Perm.HOLD_READ}))))
    forged = world.client()
    forged.headers["Authorization"] = f"Bearer {secret}"
    head = world.login("head")
    hold = head.post("/api/holds", json={"cameras": [CAM], "start": "2026-09-21T10:00:00Z",
                                         "end": "2026-09-21T11:00:00Z", "reason": "Theft",
                                         "incident": "П-1/0001"}).json()["id"]
    r = forged.post(f"/api/holds/{hold}/approve", json={"expires": "2027-01-01T00:00:00Z"})
    assert r.status_code == 403
    assert forged.put("/api/roles/guard", json={"perms": ["live.view"]}).status_code == 403


def test_no_role_edit_gives_a_rectors_decision_away(world: World) -> None:
    rector = world.login("rector")
    for perm in ("hold.approve", "transfer.decide", "role.approve", "grant.approve",
                 "role.edit"):
        r = rector.put("/api/roles/head_of_security", json={
            "perms": ["live.view", "archive.view", perm], **ORDER})
        assert r.status_code == 400, r.text
        assert "rector alone" in r.json()["detail"], r.text
    r = rector.put("/api/roles/rector", json={"perms": ["live.view", "role.approve",
                                                        "role.edit"], **ORDER})
    assert r.status_code == 400
    assert "4.1" in r.json()["detail"]


def test_every_failed_login_answers_alike_and_lockout_holds_only_where_it_was_earned(
        world: World) -> None:
    """Item 14: unknown, wrong, disabled and locked answer the same; five guesses from
    one address do not lock the rector out of their own desk."""
    world.user("gone", "guard")
    world.login("admin").post("/api/users/gone/disable")
    answers = {_login(world, "nobody-here", address="10.0.0.8").json()["detail"],
               _login(world, "guard", "wrong password!", address="10.0.0.8").json()["detail"],
               _login(world, "gone", address="10.0.0.8").json()["detail"]}
    for _ in range(5):
        _login(world, "rector", "wrong password!", address="10.6.6.6")
    locked = _login(world, "rector", code=world.code("rector"), address="10.6.6.6")
    answers.add(locked.json()["detail"])
    assert answers == {LOGIN_FAILED}
    assert locked.status_code == 401
    assert _login(world, "rector", code=world.code("rector"),
                  address="10.1.1.1").status_code == 200
    r = world.login("admin").get("/api/users")
    assert [u["locked"] for u in r.json() if u["name"] == "rector"] == [True]


def test_a_password_change_ends_every_other_session_and_token(world: World) -> None:
    """Item 15."""
    first, second = world.login("guard"), world.login("guard")
    token = second.post("/api/tokens", json={"name": "t", "perms": ["camera.status"]})
    bearer = world.client()
    bearer.headers["Authorization"] = f"Bearer {token.json()['token']}"
    assert bearer.get("/api/cameras").status_code == 200
    new = "a new gate at the north side"
    r = first.post("/api/auth/password", json={"old_password": PASSWORD, "new_password": new})
    assert r.status_code == 200, r.text
    assert first.get("/api/cameras").status_code == 200
    assert second.get("/api/cameras").status_code == 401
    assert bearer.get("/api/cameras").status_code == 401
    # a reset ends them all
    third = world.client()
    third.post("/api/auth/login", json={"username": "guard", "password": new})
    world.login("admin").post("/api/users/guard/password-reset")
    assert first.get("/api/cameras").status_code == 401
    assert third.get("/api/cameras").status_code == 401


def test_rules_of_a_camera_outside_ones_groups_are_not_listed(world: World) -> None:
    """Item 15: GET /api/cameras/{name}/rules respects camera groups."""
    world.svc.roles.add_group(LOCAL, "north", [CAM])
    world.user("north-guard", "guard", group="north")
    c = world.login("north-guard")
    assert c.get(f"/api/cameras/{CAM}/rules").status_code == 200
    r = c.get("/api/cameras/cam2/rules")
    assert r.status_code == 403


def test_a_protocols_frame_is_read_only_for_its_author(world: World, clip_cache: Path
                                                        ) -> None:
    """Also: submitting someone else's protocol reads no footage for them."""
    world.user("guard2", "guard")
    guard, guard2 = world.login("guard"), world.login("guard2")
    pid = guard.post("/api/protocols", json={"camera": CAM}).json()["id"]
    # the instant's footage reaches the disk after the draft was started
    record(world.storage.catalog, clip_cache / "sim", ClipSpec(320, 180, 500_000), CAM,
           NOW - 2 * NS, 4)
    r = guard2.post(f"/api/protocols/{pid}/submit")
    assert r.status_code == 403
    assert world.svc.protocols.get(pid).snapshot_png is None
    guard.put(f"/api/protocols/{pid}", json={"location": "Gate", "circumstances": "Fire",
                                             "informed": format_instant(NOW)})
    assert guard.post(f"/api/protocols/{pid}/submit").status_code == 200
    assert world.svc.protocols.get(pid).snapshot_png is not None


# The property: whatever a non-rector does through the API, neither they, nor any token,
# nor any account they made ends up holding a decision of the rector's.
ACTION = st.one_of(
    st.tuples(st.just("reset"), st.sampled_from(["rector", "vr", "head", "puppet"])),
    st.tuples(st.just("totp-reset"), st.sampled_from(["rector", "vr", "puppet"])),
    st.tuples(st.just("confirm"), st.sampled_from(["rector", "vr", "puppet", "admin"])),
    st.tuples(st.just("disable"), st.sampled_from(["rector", "vr"])),
    st.tuples(st.just("revoke-roles"), st.just("")),
    st.tuples(st.just("role"), st.sampled_from(["admin", "puppet"]),
              st.sampled_from(["rector", "vice_rector", "head_of_security", "administrator",
                               "guard"])),
    st.tuples(st.just("approve-roles"), st.just("")),
    st.tuples(st.just("edit-role"), st.sampled_from(["administrator", "guard", "viewer"]),
              st.sets(st.sampled_from(sorted(p.value for p in Perm)), max_size=4)),
    st.tuples(st.just("token"), st.sets(st.sampled_from(sorted(p.value for p in Perm)),
                                        min_size=1, max_size=4)),
    st.tuples(st.just("token-from-token"), st.sets(st.sampled_from(
        sorted(p.value for p in Perm)), min_size=1, max_size=4)),
    # issue 18: the server's command line, which holds no rector's decision either
    st.tuples(st.just("cli-role"), st.sampled_from(["admin", "puppet"]),
              st.sampled_from(["rector", "vice_rector", "administrator"])),
    st.tuples(st.just("cli-revoke-roles"), st.just("")),
    st.tuples(st.just("cli-approve-roles"), st.just("")),
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(ACTION, min_size=1, max_size=8))
def test_no_calls_by_a_non_rector_yield_a_rectors_decision(actions: list[tuple[Any, ...]]
                                                           ) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        storage = Storage(f"sqlite:///{tmp}/catalog.db", Path(tmp) / "home")
        try:
            _attack(storage, actions)
        finally:
            storage.close()


def _attack(storage: Storage, actions: list[tuple[Any, ...]]) -> None:
    world = World(storage, NOW)
    for name, role in (("rector", "rector"), ("vr", "vice_rector"),
                       ("admin", "administrator"), ("puppet", None)):
        world.user(name, role)
    admin = world.login("admin")
    tokens: list[str] = []
    for action, *args in actions:
        if action == "reset":
            r = admin.post(f"/api/users/{args[0]}/password-reset")
            if r.status_code == 200:  # the attacker now knows this one-time password
                login = _login(world, args[0], r.json()["one_time_password"])
                # an account with a second factor stays shut without it
                assert args[0] == "puppet" or login.status_code == 401, (args, actions)
        elif action == "totp-reset":
            admin.post(f"/api/users/{args[0]}/totp-reset")
        elif action == "confirm":
            admin.post(f"/api/users/{args[0]}/totp-reset/confirm")
        elif action == "disable":
            admin.post(f"/api/users/{args[0]}/disable")
        elif action == "role":
            admin.post("/api/role-assignments", json={
                "user": args[0], "role": args[1], "order_no": "1", "order_date": "2026-09-01"})
        elif action == "revoke-roles":
            for a in world.svc.roles.assignments():
                admin.post(f"/api/role-assignments/{a.id}/revoke")
        elif action == "approve-roles":
            for a in world.svc.roles.assignments(state="pending"):
                admin.post(f"/api/role-assignments/{a.id}/approve")
        elif action == "edit-role":
            admin.put(f"/api/roles/{args[0]}", json={"perms": sorted(args[1])})
        elif action == "token":
            r = admin.post("/api/tokens", json={"name": "t", "perms": sorted(args[0])})
            if r.status_code == 201:
                tokens.append(r.json()["token"])
        elif action.startswith("cli-"):
            _from_the_command_line(world, action, args)
        elif tokens:
            c = world.client()
            c.headers["Authorization"] = f"Bearer {tokens[-1]}"
            r = c.post("/api/tokens", json={"name": "t", "perms": sorted(args[0])})
            if r.status_code == 201:
                tokens.append(r.json()["token"])
        now = world.clock()
        for name in ("admin", "puppet"):
            p = world.svc.sessions.principal_of(name, now)
            held = [d for d in RECTOR_DECISIONS if holds_somewhere(p, d, now)]
            assert not held, (name, held, actions)
        rector = world.svc.sessions.principal_of("rector", now)
        assert holds_somewhere(rector, Perm.ROLE_APPROVE, now), ("the rector stripped", actions)
        for secret in tokens:
            p = world.svc.sessions.caller_from_token(secret, now).principal
            held = [d for d in RECTOR_DECISIONS if holds_somewhere(p, d, now)]
            assert not held, ("token", held, actions)


def _from_the_command_line(world: World, action: str, args: list[Any]) -> None:
    """What a shell on the server may try with the services the command line calls."""
    roles, now = world.svc.roles, world.clock()
    try:
        if action == "cli-role":
            roles.request(SHELL, args[0], args[1], order_no="1", order_date="2026-09-01",
                          now_ns=now)
        elif action == "cli-revoke-roles":
            for a in roles.assignments():
                try:
                    roles.revoke(SHELL, a.id, now)
                except KuzetError:
                    continue
        else:
            for a in roles.assignments(state="pending"):
                try:
                    roles.decide(SHELL, a.id, True, now, "1", "2026-09-01")
                except KuzetError:
                    continue
    except KuzetError:
        return
