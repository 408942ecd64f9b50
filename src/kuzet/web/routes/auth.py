"""Login, logout, password, second factor, the screen lock: the only routes a half-finished
session may use. A locked one is answered only on logout, lock, unlock and `me`
(`deps.WHILE_LOCKED_ROUTES`): its password and second factor wait for the unlock."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response

from kuzet.access import policy
from kuzet.access.sessions import UNLOCK_TRIES, Caller, needs_second_factor
from kuzet.audit.log import Actor
from kuzet.errors import Denied, Unauthenticated
from kuzet.timefmt import format_instant
from kuzet.web.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Authenticated,
    Public,
    refuse,
    services,
    source,
)
from kuzet.web.i18n import LANG_COOKIE
from kuzet.web.qr import qr_svg
from kuzet.web.replies.auth import (
    LoginReply,
    MeReply,
    NoticeReply,
    StatusReply,
    TotpConfirmReply,
    TotpEnrolReply,
)
from kuzet.web.schemas import Body, Login, PasswordChange, TotpConfirm

router = APIRouter(prefix="/api/auth", tags=["auth"])
ANY_SESSION = Depends(Authenticated(allow_incomplete=True))


def _cookies(response: Response, sid: str, csrf: str) -> None:
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, secure=True, samesite="strict",
                        path="/")
    # The CSRF token is readable by the page's script (not HttpOnly) so it can echo it.
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, secure=True, samesite="strict",
                        path="/")


def _me(caller: Caller) -> MeReply:
    p = caller.principal
    return MeReply(name=caller.name, roles=p.roles,
                   perms=sorted({perm.value for a in p.assignments for perm in a.perms}),
                   grants=[g.id for g in p.grants], via=caller.via,
                   second_factor_missing=caller.second_factor_missing,
                   must_change_password=caller.must_change_password, locked=caller.locked)


@router.post("/login", dependencies=[Depends(Public())])
def login(body: Login, request: Request, response: Response) -> LoginReply:
    svc = services(request)
    now, addr = svc.clock(), source(request)
    if svc.throttle.blocked(policy.address_key(addr), now):
        refuse(request, Actor(body.username[:64], (), addr), "login",
               "too many failed logins from this address")
        raise Denied("too many failed logins from this address; wait a minute")
    try:
        user = svc.accounts.login(body.username, body.password, body.totp, addr, now)
    except Exception:
        svc.throttle.fail(policy.address_key(addr), now)
        raise
    needs = needs_second_factor(svc.sessions.principal_of(user.name, now))
    new = svc.sessions.open(user, addr, now)
    notices = svc.accounts.notices(user.name, before_seq=new.login_seq)
    _cookies(response, new.session_id, new.csrf)
    if user.language:  # the console's language follows the person
        response.set_cookie(LANG_COOKIE, user.language, secure=True, samesite="strict",
                            max_age=365 * 86400)
    return LoginReply(csrf=new.csrf, second_factor_missing=needs and not user.totp_confirmed,
                      must_change_password=user.must_change_password,
                      notices=[NoticeReply(action=n.action, by=n.by, at=format_instant(n.at_ns),
                                           outcome=n.outcome) for n in notices])


@router.post("/logout")
def logout(request: Request, response: Response,
           caller: Caller = ANY_SESSION) -> StatusReply:
    svc = services(request)
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        svc.sessions.close(sid, source(request), svc.clock())
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return StatusReply(status="logged out")


class ScreenLock(Body):
    """Why the console locks its screen: left idle, or locked by the person leaving it."""

    reason: Literal["idle", "by hand"]


@router.put("/lock")
def lock(body: ScreenLock, request: Request, caller: Caller = ANY_SESSION) -> StatusReply:
    """Lock this session's screen (audited with the reason): until its owner unlocks it,
    live video (the wall) goes on and everything else, footage first, is refused
    (`deps.WHILE_LOCKED_ROUTES`). Kept in the session's row: a restart keeps it."""
    svc = services(request)
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        raise Denied("an API token has no screen to lock")
    svc.sessions.lock(sid, caller.actor(source(request)), body.reason, svc.clock())
    return StatusReply(status="locked")


@router.post("/unlock")
def unlock(body: Login, request: Request, caller: Caller = ANY_SESSION) -> StatusReply:
    """Unlock with the account's password and, where it has one, the phone's current code.
    A wrong one is audited and counted against this session, not the account: the
    `UNLOCK_TRIES`th ends the session (whoever is at the post logs in again), and nobody
    locks the owner out by pressing keys at their console. A recovery code does not
    unlock (spending one ends every session): it is for the login."""
    svc = services(request)
    now, addr = svc.clock(), source(request)
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        raise Denied("an API token has no screen to unlock")
    if body.username != caller.name:
        refuse(request, caller.actor(addr), "unlock", "another account's credentials")
        raise Denied("the screen is unlocked by {name} only; anyone else logs in with "
                     "Switch user", name=caller.name)
    if svc.accounts.check_unlock(caller.name, body.password, body.totp, now):
        svc.sessions.unlock(sid, caller.actor(addr), now)
        return StatusReply(status="unlocked")
    if svc.sessions.unlock_failed(sid, caller.actor(addr), "wrong password or code", now):
        raise Unauthenticated("{n} wrong unlocks: the session has ended; log in again",
                              n=UNLOCK_TRIES)
    raise Unauthenticated("wrong password or code (a recovery code does not unlock: it is "
                          "for logging in, and ends every session)")


@router.get("/me")
def me(caller: Caller = ANY_SESSION) -> MeReply:
    return _me(caller)


@router.post("/password")
def change_password(body: PasswordChange, request: Request,
                    caller: Caller = ANY_SESSION) -> StatusReply:
    """Every other session and API token of the account ends; this one goes on. A wrong
    current password is a guess like a failed login: it counts towards the account's
    lockout and the address's throttle."""
    svc = services(request)
    now, addr = svc.clock(), source(request)
    if svc.throttle.blocked(policy.address_key(addr), now):
        refuse(request, caller.actor(addr), "password", "too many failed logins from this address")
        raise Denied("too many failed logins from this address; wait a minute")
    try:
        svc.accounts.change_password(caller.actor(addr), caller.name, body.old_password,
                                     body.new_password, now,
                                     keep_session=request.cookies.get(SESSION_COOKIE))
    except Denied:
        svc.throttle.fail(policy.address_key(addr), now)
        raise
    return StatusReply(status="password changed")


@router.post("/totp/enrol")
def totp_enrol(request: Request, caller: Caller = ANY_SESSION) -> TotpEnrolReply:
    """A new secret as an otpauth:// URI for the phone, and as a QR code of it to scan;
    shown this once, to the account enrolling and nobody else (the reply is not logged)."""
    uri = services(request).accounts.totp_enrol(caller.actor(source(request)), caller.name)
    return TotpEnrolReply(otpauth_uri=uri, qr_svg=qr_svg(uri))


@router.post("/totp/confirm")
def totp_confirm(body: TotpConfirm, request: Request,
                 caller: Caller = ANY_SESSION) -> TotpConfirmReply:
    """Answers the recovery codes, shown this once: each replaces a lost phone once."""
    svc = services(request)
    codes = svc.accounts.totp_confirm(caller.actor(source(request)), caller.name, body.code,
                                      svc.clock())
    return TotpConfirmReply(status="second factor enrolled", recovery_codes=codes)
