"""Accounts, roles, camera groups, role requests, grants and API tokens."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request

from kuzet.access.permissions import Perm
from kuzet.access.sessions import Caller
from kuzet.web.deps import Authenticated, Require, services, source
from kuzet.web.schemas import (
    CameraGroupBody,
    Decision,
    GrantRequest,
    NewUser,
    RolePerms,
    RoleRequest,
    RowId,
    TokenRequest,
)
from kuzet.web.times import instant, out, window

router = APIRouter(prefix="/api", tags=["people"])
USER_ADMIN = Depends(Require(Perm.USER_ADMIN))
ROLE_APPROVE = Depends(Require(Perm.ROLE_APPROVE))
GRANT_APPROVE = Depends(Require(Perm.GRANT_APPROVE))
GRANT_ANY = Depends(Require(Perm.GRANT_REQUEST, Perm.GRANT_APPROVE))
RESET_CONFIRM = Depends(Require(Perm.SECOND_FACTOR_RESET))


@router.get("/users")
def users(request: Request, caller: Caller = USER_ADMIN) -> list[dict[str, Any]]:
    svc = services(request)
    now = svc.clock()
    locked = svc.accounts.locked(now)
    return [{"name": u.name, "display_name": u.display_name, "disabled": u.disabled,
             "second_factor": u.totp_confirmed, "locked": u.name in locked,
             "second_factor_reset_asked_by": u.totp_reset_by,
             "created": out(u.created_ns), "created_by": u.created_by}
            for u in svc.accounts.list()]


@router.post("/users", status_code=201)
def create_user(body: NewUser, request: Request, caller: Caller = USER_ADMIN
                ) -> dict[str, Any]:
    svc = services(request)
    new = svc.accounts.create(caller.actor(source(request)), body.name, body.display_name,
                              svc.clock())
    return {"name": new.name, "one_time_password": new.one_time_password}


@router.post("/users/{name}/disable")
def disable_user(name: str, request: Request, caller: Caller = USER_ADMIN) -> dict[str, str]:
    services(request).accounts.set_disabled(caller.actor(source(request)), name, True)
    return {"name": name, "status": "disabled"}


@router.post("/users/{name}/enable")
def enable_user(name: str, request: Request, caller: Caller = USER_ADMIN) -> dict[str, str]:
    services(request).accounts.set_disabled(caller.actor(source(request)), name, False)
    return {"name": name, "status": "enabled"}


@router.post("/users/{name}/password-reset")
def reset_password(name: str, request: Request, caller: Caller = USER_ADMIN
                   ) -> dict[str, str]:
    """Only for accounts below the caller's in the regulation's order; the second factor
    stays, and every session and token of the account ends."""
    svc = services(request)
    one_time = svc.accounts.reset_password(caller.actor(source(request)), name, svc.clock())
    return {"name": name, "one_time_password": one_time}


@router.post("/users/{name}/totp-reset")
def request_totp_reset(name: str, request: Request, caller: Caller = USER_ADMIN
                       ) -> dict[str, str]:
    """The first of two people: the reset waits for the rector or the vice-rector."""
    svc = services(request)
    svc.accounts.request_totp_reset(caller.actor(source(request)), name, svc.clock())
    return {"name": name, "status": "asked; the rector or the vice-rector confirms it"}


@router.get("/second-factor-resets")
def totp_resets(request: Request, caller: Caller = RESET_CONFIRM) -> list[dict[str, Any]]:
    """Resets waiting for a second person, shown to those who may confirm them."""
    return [{"name": u.name, "display_name": u.display_name, "asked_by": u.totp_reset_by,
             "asked": out(u.totp_reset_ns)}
            for u in services(request).accounts.list() if u.totp_reset_by is not None]


@router.post("/users/{name}/totp-reset/confirm")
def confirm_totp_reset(name: str, request: Request, caller: Caller = RESET_CONFIRM
                       ) -> dict[str, str]:
    """The second person: the rector or the vice-rector, neither the one who asked nor
    the owner (checked again on the account's roles, whatever a role edit did)."""
    svc = services(request)
    svc.accounts.confirm_totp_reset(caller.actor(source(request)), name, svc.clock())
    return {"name": name, "status": "second factor removed; enrol again at next login"}


@router.get("/roles")
def roles(request: Request, caller: Caller = Depends(Require(Perm.USER_ADMIN, Perm.ROLE_EDIT))
          ) -> list[dict[str, Any]]:
    return [{"name": r.name, "clause": r.clause, "titles": json.loads(r.titles),
             "perms": json.loads(r.perms)} for r in services(request).roles.all()]


@router.put("/roles/{name}")
def edit_role(name: str, body: RolePerms, request: Request,
              caller: Caller = Depends(Require(Perm.ROLE_EDIT))) -> dict[str, Any]:
    services(request).roles.set_perms(caller.actor(source(request)), name, set(body.perms))
    return {"name": name, "perms": sorted(body.perms)}


@router.get("/camera-groups")
def camera_groups(request: Request, caller: Caller = USER_ADMIN) -> dict[str, list[str]]:
    return services(request).roles.groups()


@router.post("/camera-groups", status_code=201)
def create_camera_group(body: CameraGroupBody, request: Request, caller: Caller = USER_ADMIN
                        ) -> dict[str, Any]:
    services(request).roles.add_group(caller.actor(source(request)), body.name, body.cameras)
    return {"name": body.name, "cameras": body.cameras}


@router.get("/role-assignments")
def role_assignments(request: Request, state: str | None = None,
                     caller: Caller = Depends(Require(Perm.USER_ADMIN, Perm.ROLE_APPROVE))
                     ) -> list[dict[str, Any]]:
    return [asdict(a) for a in services(request).roles.assignments(state=state)]


@router.post("/role-assignments", status_code=201)
def request_role(body: RoleRequest, request: Request, caller: Caller = USER_ADMIN
                 ) -> dict[str, Any]:
    svc = services(request)
    view = svc.roles.request(caller.actor(source(request)), body.user, body.role,
                             group=body.group, order_no=body.order_no,
                             order_date=body.order_date, now_ns=svc.clock())
    return asdict(view)


@router.post("/role-assignments/{assignment}/approve")
def approve_role(assignment: RowId, request: Request, caller: Caller = ROLE_APPROVE
                 ) -> dict[str, Any]:
    svc = services(request)
    svc.roles.decide(caller.actor(source(request)), assignment, True, svc.clock())
    return {"assignment": assignment, "state": "active"}


@router.post("/role-assignments/{assignment}/reject")
def reject_role(assignment: RowId, body: Decision, request: Request,
                caller: Caller = ROLE_APPROVE) -> dict[str, Any]:
    svc = services(request)
    svc.roles.decide(caller.actor(source(request)), assignment, False, svc.clock())
    return {"assignment": assignment, "state": "rejected"}


@router.post("/role-assignments/{assignment}/revoke")
def revoke_role(assignment: RowId, request: Request,
                caller: Caller = Depends(Require(Perm.USER_ADMIN, Perm.ROLE_APPROVE))
                ) -> dict[str, Any]:
    """A role reaching stored video, once active, only by the rector (3.4.2, 3.5.4)."""
    svc = services(request)
    svc.roles.revoke(caller.actor(source(request)), assignment, svc.clock())
    return {"assignment": assignment, "state": "revoked"}


def _grant_json(g: Any) -> dict[str, Any]:
    d = asdict(g)
    for k in ("footage_from", "footage_to", "valid_from", "valid_until"):
        d[k] = out(d[k + "_ns"])
    return d


@router.get("/grants")
def grants(request: Request, caller: Caller = GRANT_ANY) -> list[dict[str, Any]]:
    svc = services(request)
    return [_grant_json(g) for g in svc.grants.list(svc.clock())]


@router.post("/grants", status_code=201)
def request_grant(body: GrantRequest, request: Request,
                  caller: Caller = Depends(Require(Perm.GRANT_REQUEST))) -> dict[str, Any]:
    svc = services(request)
    footage = window(body.footage_from, body.footage_to)
    valid = (instant(body.valid_from, "valid_from"), instant(body.valid_until, "valid_until"))
    g = svc.grants.request(caller.actor(source(request)), body.user, set(body.perms),
                           body.cameras, footage, valid, body.instruction, svc.clock())
    return _grant_json(g)


@router.post("/grants/{grant}/approve")
def approve_grant(grant: RowId, request: Request, caller: Caller = GRANT_APPROVE
                  ) -> dict[str, Any]:
    svc = services(request)
    svc.grants.decide(caller.actor(source(request)), grant, True, svc.clock())
    return {"grant": grant, "state": "active"}


@router.post("/grants/{grant}/reject")
def reject_grant(grant: RowId, body: Decision, request: Request, caller: Caller = GRANT_APPROVE
                 ) -> dict[str, Any]:
    svc = services(request)
    svc.grants.decide(caller.actor(source(request)), grant, False, svc.clock())
    return {"grant": grant, "state": "rejected"}


@router.post("/grants/{grant}/revoke")
def revoke_grant(grant: RowId, request: Request, caller: Caller = GRANT_ANY) -> dict[str, Any]:
    svc = services(request)
    svc.grants.revoke(caller.actor(source(request)), grant, svc.clock())
    return {"grant": grant, "state": "revoked"}


@router.get("/tokens")
def tokens(request: Request, caller: Caller = Depends(Authenticated())
           ) -> list[dict[str, Any]]:
    return [{"id": t.id, "name": t.name, "perms": json.loads(t.perms),
             "created": out(t.created_ns), "expires": out(t.expires_ns),
             "revoked": out(t.revoked_ns)} for t in services(request).sessions.tokens(
                 caller.user_id)]


@router.post("/tokens", status_code=201)
def create_token(body: TokenRequest, request: Request,
                 caller: Caller = Depends(Authenticated())) -> dict[str, Any]:
    """The secret is in this answer only; Kuzet keeps its hash."""
    svc = services(request)
    token_id, secret = svc.sessions.create_token(caller, source(request), body.name,
                                                 set(body.perms), body.days, svc.clock())
    return {"id": token_id, "token": secret}


@router.delete("/tokens/{token}")
def revoke_token(token: RowId, request: Request, caller: Caller = Depends(Authenticated())
                 ) -> dict[str, Any]:
    svc = services(request)
    svc.sessions.revoke_token(caller, source(request), token, svc.clock())
    return {"id": token, "revoked": True}
