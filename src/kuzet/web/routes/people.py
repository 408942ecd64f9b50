"""Accounts, roles, camera groups, role requests, grants and API tokens."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request

from kuzet.access.grants import GrantView
from kuzet.access.permissions import Perm
from kuzet.access.roles import AssignmentView, Order
from kuzet.access.sessions import Caller
from kuzet.errors import Phrase
from kuzet.timefmt import format_instant
from kuzet.web.deps import Authenticated, Require, services, source
from kuzet.web.replies.people import (
    AssignmentReply,
    AssignmentStateReply,
    CameraGroupReply,
    GrantReply,
    GrantStateReply,
    NewTokenReply,
    NewUserReply,
    OneTimePasswordReply,
    RolePermsReply,
    RoleReply,
    TokenReply,
    TokenRevokedReply,
    TotpResetReply,
    UserReply,
    UserStatusReply,
)
from kuzet.web.schemas import (
    CameraGroupBody,
    Decision,
    GrantRequest,
    NewUser,
    RoleApproval,
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
def users(request: Request, caller: Caller = USER_ADMIN) -> list[UserReply]:
    svc = services(request)
    now = svc.clock()
    locked = svc.accounts.locked(now)
    return [UserReply(name=u.name, display_name=u.display_name, disabled=u.disabled,
                      second_factor=u.totp_confirmed, locked=u.name in locked,
                      second_factor_reset_asked_by=u.totp_reset_by,
                      created=format_instant(u.created_ns), created_by=u.created_by)
            for u in svc.accounts.list()]


@router.post("/users", status_code=201)
def create_user(body: NewUser, request: Request, caller: Caller = USER_ADMIN
                ) -> NewUserReply:
    svc = services(request)
    new = svc.accounts.create(caller.actor(source(request)), body.name, body.display_name,
                              svc.clock())
    return NewUserReply(name=new.name, one_time_password=new.one_time_password)


@router.post("/users/{name}/disable")
def disable_user(name: str, request: Request, caller: Caller = USER_ADMIN) -> UserStatusReply:
    services(request).accounts.set_disabled(caller.actor(source(request)), name, True)
    return UserStatusReply(name=name, status="disabled")


@router.post("/users/{name}/enable")
def enable_user(name: str, request: Request, caller: Caller = USER_ADMIN) -> UserStatusReply:
    services(request).accounts.set_disabled(caller.actor(source(request)), name, False)
    return UserStatusReply(name=name, status="enabled")


@router.post("/users/{name}/password-reset")
def reset_password(name: str, request: Request, caller: Caller = USER_ADMIN
                   ) -> OneTimePasswordReply:
    """Only for accounts below the caller's in the regulation's order; the second factor
    stays, and every session and token of the account ends."""
    svc = services(request)
    one_time = svc.accounts.reset_password(caller.actor(source(request)), name, svc.clock())
    return OneTimePasswordReply(name=name, one_time_password=one_time)


@router.post("/users/{name}/totp-reset")
def request_totp_reset(name: str, request: Request, caller: Caller = USER_ADMIN
                       ) -> UserStatusReply:
    """The first of two people: the reset waits for the rector or the vice-rector."""
    svc = services(request)
    svc.accounts.request_totp_reset(caller.actor(source(request)), name, svc.clock())
    return UserStatusReply(name=name,
                           status="asked; the rector or the vice-rector confirms it")


@router.get("/second-factor-resets")
def totp_resets(request: Request, caller: Caller = RESET_CONFIRM) -> list[TotpResetReply]:
    """Resets waiting for a second person, shown to those who may confirm them."""
    return [TotpResetReply(name=u.name, display_name=u.display_name, asked_by=u.totp_reset_by,
                           asked=out(u.totp_reset_ns))
            for u in services(request).accounts.list() if u.totp_reset_by is not None]


@router.post("/users/{name}/totp-reset/confirm")
def confirm_totp_reset(name: str, request: Request, caller: Caller = RESET_CONFIRM
                       ) -> UserStatusReply:
    """The second person: the rector or the vice-rector, neither the one who asked nor
    the owner (checked again on the account's roles, whatever a role edit did)."""
    svc = services(request)
    svc.accounts.confirm_totp_reset(caller.actor(source(request)), name, svc.clock())
    return UserStatusReply(name=name,
                           status="second factor removed; enrol again at next login")


@router.get("/roles")
def roles(request: Request, caller: Caller = Depends(Require(Perm.USER_ADMIN, Perm.ROLE_EDIT))
          ) -> list[RoleReply]:
    return [RoleReply(name=r.name, clause=r.clause, titles=json.loads(r.titles),
                      perms=json.loads(r.perms), order_no=r.order_no, order_date=r.order_date)
            for r in services(request).roles.all()]


@router.put("/roles/{name}")
def edit_role(name: str, body: RolePerms, request: Request,
              caller: Caller = Depends(Require(Perm.ROLE_EDIT))) -> RolePermsReply:
    """Within the regulation's table of who may hold what (400 naming the clause), on the
    rector's order, recorded with the role and in its audit entry (4.1)."""
    order = Order.of(body.order_no, body.order_date, Phrase("a role is edited"), "4.1")
    services(request).roles.set_perms(caller.actor(source(request)), name, set(body.perms),
                                      order)
    return RolePermsReply(name=name, perms=sorted(p.value for p in body.perms),
                          order_no=order.no, order_date=order.date)


@router.get("/camera-groups")
def camera_groups(request: Request, caller: Caller = USER_ADMIN) -> dict[str, list[str]]:
    return services(request).roles.groups()


@router.post("/camera-groups", status_code=201)
def create_camera_group(body: CameraGroupBody, request: Request, caller: Caller = USER_ADMIN
                        ) -> CameraGroupReply:
    services(request).roles.add_group(caller.actor(source(request)), body.name, body.cameras)
    return CameraGroupReply(name=body.name, cameras=body.cameras)


def _assignment(a: AssignmentView) -> AssignmentReply:
    return AssignmentReply(id=a.id, user=a.user, role=a.role, group=a.group, state=a.state,
                           requested_by=a.requested_by, decided_by=a.decided_by,
                           order_no=a.order_no, order_date=a.order_date)


@router.get("/role-assignments")
def role_assignments(request: Request, state: str | None = None,
                     caller: Caller = Depends(Require(Perm.USER_ADMIN, Perm.ROLE_APPROVE))
                     ) -> list[AssignmentReply]:
    return [_assignment(a) for a in services(request).roles.assignments(state=state)]


@router.post("/role-assignments", status_code=201)
def request_role(body: RoleRequest, request: Request, caller: Caller = USER_ADMIN
                 ) -> AssignmentReply:
    svc = services(request)
    view = svc.roles.request(caller.actor(source(request)), body.user, body.role,
                             group=body.group, order_no=body.order_no,
                             order_date=body.order_date, now_ns=svc.clock())
    return _assignment(view)


@router.post("/role-assignments/{assignment}/approve")
def approve_role(assignment: RowId, request: Request, body: RoleApproval | None = None,
                 caller: Caller = ROLE_APPROVE) -> AssignmentStateReply:
    """The administrator's appointment needs the rector's order (3.4.2): the one in the
    body, else the one the request carried (400 without either)."""
    svc = services(request)
    order = body or RoleApproval()
    svc.roles.decide(caller.actor(source(request)), assignment, True, svc.clock(),
                     order.order_no, order.order_date)
    return AssignmentStateReply(assignment=assignment, state="active")


@router.post("/role-assignments/{assignment}/reject")
def reject_role(assignment: RowId, body: Decision, request: Request,
                caller: Caller = ROLE_APPROVE) -> AssignmentStateReply:
    svc = services(request)
    svc.roles.decide(caller.actor(source(request)), assignment, False, svc.clock())
    return AssignmentStateReply(assignment=assignment, state="rejected")


@router.post("/role-assignments/{assignment}/revoke")
def revoke_role(assignment: RowId, request: Request,
                caller: Caller = Depends(Require(Perm.USER_ADMIN, Perm.ROLE_APPROVE))
                ) -> AssignmentStateReply:
    """A role reaching stored video, once active, only by the rector (3.4.2, 3.5.4)."""
    svc = services(request)
    svc.roles.revoke(caller.actor(source(request)), assignment, svc.clock())
    return AssignmentStateReply(assignment=assignment, state="revoked")


def _grant(g: GrantView) -> GrantReply:
    return GrantReply(id=g.id, user=g.user, perms=g.perms, cameras=g.cameras,
                      footage_from_ns=g.footage_from_ns, footage_to_ns=g.footage_to_ns,
                      valid_from_ns=g.valid_from_ns, valid_until_ns=g.valid_until_ns,
                      instruction=g.instruction, state=g.state, requested_by=g.requested_by,
                      decided_by=g.decided_by,
                      footage_from=format_instant(g.footage_from_ns),
                      footage_to=format_instant(g.footage_to_ns),
                      valid_from=format_instant(g.valid_from_ns),
                      valid_until=format_instant(g.valid_until_ns))


@router.get("/grants")
def grants(request: Request, caller: Caller = GRANT_ANY) -> list[GrantReply]:
    svc = services(request)
    return [_grant(g) for g in svc.grants.list(svc.clock())]


@router.post("/grants", status_code=201)
def request_grant(body: GrantRequest, request: Request,
                  caller: Caller = Depends(Require(Perm.GRANT_REQUEST))) -> GrantReply:
    svc = services(request)
    footage = window(body.footage_from, body.footage_to)
    valid = (instant(body.valid_from, "valid_from"), instant(body.valid_until, "valid_until"))
    g = svc.grants.request(caller.actor(source(request)), body.user, set(body.perms),
                           body.cameras, footage, valid, body.instruction, svc.clock())
    return _grant(g)


@router.post("/grants/{grant}/approve")
def approve_grant(grant: RowId, request: Request, caller: Caller = GRANT_APPROVE
                  ) -> GrantStateReply:
    svc = services(request)
    svc.grants.decide(caller.actor(source(request)), grant, True, svc.clock())
    return GrantStateReply(grant=grant, state="active")


@router.post("/grants/{grant}/reject")
def reject_grant(grant: RowId, body: Decision, request: Request, caller: Caller = GRANT_APPROVE
                 ) -> GrantStateReply:
    svc = services(request)
    svc.grants.decide(caller.actor(source(request)), grant, False, svc.clock())
    return GrantStateReply(grant=grant, state="rejected")


@router.post("/grants/{grant}/revoke")
def revoke_grant(grant: RowId, request: Request, caller: Caller = GRANT_ANY) -> GrantStateReply:
    svc = services(request)
    svc.grants.revoke(caller.actor(source(request)), grant, svc.clock())
    return GrantStateReply(grant=grant, state="revoked")


@router.get("/tokens")
def tokens(request: Request, caller: Caller = Depends(Authenticated())
           ) -> list[TokenReply]:
    return [TokenReply(id=t.id, name=t.name, perms=json.loads(t.perms),
                       created=format_instant(t.created_ns),
                       expires=format_instant(t.expires_ns), revoked=out(t.revoked_ns))
            for t in services(request).sessions.tokens(caller.user_id)]


@router.post("/tokens", status_code=201)
def create_token(body: TokenRequest, request: Request,
                 caller: Caller = Depends(Authenticated())) -> NewTokenReply:
    """The secret is in this answer only; Kuzet keeps its hash."""
    svc = services(request)
    token_id, secret = svc.sessions.create_token(caller, source(request), body.name,
                                                 set(body.perms), body.days, svc.clock())
    return NewTokenReply(id=token_id, token=secret)


@router.delete("/tokens/{token}")
def revoke_token(token: RowId, request: Request, caller: Caller = Depends(Authenticated())
                 ) -> TokenRevokedReply:
    svc = services(request)
    svc.sessions.revoke_token(caller, source(request), token, svc.clock())
    return TokenRevokedReply(id=token, revoked=True)
