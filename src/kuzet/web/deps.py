"""Who is calling and may they: the dependencies every route declares.

Guards run on the event loop, not in a worker thread: almost every call is answered from
the session cache (kuzet.access.sessions), and a miss costs about a millisecond of
SQLite; a thread hop per request cost more than that under load (docs/design/access.md).

Each route names exactly one guard, `Public()`, `Authenticated()` or `Require(perm, ...)`;
the RBAC matrix test reads these guards off the routes, so a route without one fails it.
Camera-scoped checks (which camera, which footage) happen in the route through
`authorize`, against the same pure `decide`. A refusal for want of a permission names the
roles that hold it (`kuzet.web.errors.Refused`).

A session whose screen is locked (`kuzet.access.sessions`, the console's idle lock) is
answered only on the routes the locked video wall and the lock itself use
(`WHILE_LOCKED_ROUTES`, an allowlist of method and route) and on the live streams
(`WHILE_LOCKED`, kuzet.web.wsauth): every other request, reads and changes alike, is
refused until the owner's password and code unlock it.

An account that has not acknowledged the regulation's edition in force (3.1.4, 3.4.7:
every participant is acquainted with it; `kuzet.notice.editions`) is answered only what
reading and acknowledging it takes (`WHILE_OWED_ROUTES`), on sessions and tokens alike:
its tokens stop working until its owner acknowledges the edition in the console.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.requests import HTTPConnection

from kuzet.access.permissions import Perm, clauses_of, decide, holds_somewhere
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor
from kuzet.errors import Denied, Unauthenticated
from kuzet.web.errors import Refused
from kuzet.web.services import Services

SESSION_COOKIE = "kuzet_session"
CSRF_COOKIE = "kuzet_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The streams a locked screen keeps (kuzet.web.wsauth): the wall's live video, camera
# states and alarms (the alarms without their pictures, kuzet.web.pictures).
WHILE_LOCKED = frozenset({Perm.LIVE_VIEW, Perm.CAMERA_STATUS})
# The only requests a locked session is answered: what the wall reads when it (re)loads,
# who is asking, and the lock's own ways out. Everything else — footage, events, pictures,
# documents, acknowledging an alarm, a password or second factor — waits for the unlock.
WHILE_LOCKED_ROUTES = frozenset({
    ("GET", "/api/cameras"), ("GET", "/api/layouts"),
    ("GET", "/api/auth/me"), ("PUT", "/api/auth/lock"), ("POST", "/api/auth/unlock"),
    ("POST", "/api/auth/logout"),
})
LOCKED = "refused: the screen is locked; unlock it with your password (UE-10-22 3.5.1)"
# What an account that owes the edition in force its acknowledgement is answered: the text,
# the acknowledgement, who is asking and the ways out.
WHILE_OWED_ROUTES = frozenset({
    ("GET", "/api/editions/current"), ("GET", "/api/editions/{edition}"),
    ("POST", "/api/editions/{edition}/acknowledge"),
    ("GET", "/api/auth/me"), ("PUT", "/api/auth/lock"), ("POST", "/api/auth/unlock"),
    ("POST", "/api/auth/logout"),
})
OWED = ("refused: {label}, in force since {day}, is to be read and acknowledged before "
        "anything else; read it in the console (UE-10-22 3.1.4, 3.4.7)")


def services(conn: HTTPConnection) -> Services:
    svc: Services = conn.app.state.services
    return svc


def source(conn: HTTPConnection) -> str:
    return str(conn.scope.get("state", {}).get("client_address", "unknown"))


def refuse(request: Request, actor: Actor, action: str, reason: str) -> None:
    services(request).audit.act(actor, AuditAction.ACCESS_REFUSED, request.url.path,
                                outcome="refused", reason=reason, method=request.method,
                                attempted=action)


def _caller(request: Request) -> Caller:
    svc = services(request)
    now = svc.clock()
    auth = request.headers.get("authorization", "")
    try:
        if auth.lower().startswith("bearer "):
            return svc.sessions.caller_from_token(auth[7:].strip(), now)
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid:
            raise Unauthenticated("not logged in")
        caller = svc.sessions.caller_from_session(sid, now)
    except Unauthenticated as exc:
        refuse(request, Actor("anonymous", (), source(request)), "authenticate", str(exc))
        raise
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not caller.csrf or not hmac.compare_digest(sent.encode(), caller.csrf.encode()):
            refuse(request, caller.actor(source(request)), "csrf",
                   "missing or wrong CSRF token")
            raise Denied("missing or wrong CSRF token: send the X-CSRF-Token header")
    return caller


def _complete(request: Request, caller: Caller) -> None:
    """A session that still owes a second factor or a new password can do only that."""
    if caller.second_factor_missing:
        refuse(request, caller.actor(source(request)), "incomplete", "second factor missing")
        raise Denied("enrol a second factor first (POST /api/auth/totp/enrol)")
    if caller.must_change_password:
        refuse(request, caller.actor(source(request)), "incomplete", "password change due")
        raise Denied("change the one-time password first (POST /api/auth/password)")


def _unlocked(request: Request, caller: Caller) -> None:
    """Refuse a locked session anything but `WHILE_LOCKED_ROUTES` (clause 3.5.1:
    recordings are confidential; an unattended console shows none and changes nothing in
    its owner's name)."""
    if not caller.locked:
        return
    route = getattr(request.scope.get("route"), "path", request.url.path)
    if (request.method, route) not in WHILE_LOCKED_ROUTES:
        refuse(request, caller.actor(source(request)), "locked", "the screen is locked")
        raise Denied(LOCKED)


def _acquainted(request: Request, caller: Caller) -> None:
    """Refuse an account that owes the edition in force its acknowledgement anything but
    `WHILE_OWED_ROUTES`."""
    svc = services(request)
    owed = svc.editions.owed(caller.name, svc.clock())
    if owed is None:
        return
    route = getattr(request.scope.get("route"), "path", request.url.path)
    if (request.method, route) not in WHILE_OWED_ROUTES:
        refuse(request, caller.actor(source(request)), "unacquainted",
               f"{owed.label()} not acknowledged")
        raise Denied(OWED, label=owed.label(), day=owed.since())


class Public:
    async def __call__(self) -> None:
        return None


class Authenticated:
    def __init__(self, *, allow_incomplete: bool = False) -> None:
        self.allow_incomplete = allow_incomplete

    async def __call__(self, request: Request) -> Caller:
        caller = _caller(request)
        if not self.allow_incomplete:
            _complete(request, caller)
            _acquainted(request, caller)
        _unlocked(request, caller)
        return caller


class Require:
    def __init__(self, *perms: Perm, clause: str | None = None) -> None:
        self.perms = frozenset(perms)
        self.clause = clause  # named in the refusal, where a clause is why few hold it

    async def __call__(self, request: Request) -> Caller:
        caller = _caller(request)
        _complete(request, caller)
        _acquainted(request, caller)
        _unlocked(request, caller)
        now = services(request).clock()
        if not any(holds_somewhere(caller.principal, p, now) for p in self.perms):
            wanted = " or ".join(sorted(self.perms))
            refuse(request, caller.actor(source(request)), wanted, f"lacks {wanted}")
            raise Refused("refused: this needs {perms} (UE-10-22 {clauses})", perms=wanted,
                          clauses=self.clause or clauses_of(self.perms), wanting=self.perms,
                          yours=caller.principal.roles)
        return caller


def authorize(request: Request, caller: Caller, perm: Perm, camera_id: int,
              footage: tuple[int, int] | None = None) -> str:
    """Check `perm` on one camera (and footage window); returns the reason it is allowed."""
    svc = services(request)
    _acquainted(request, caller)
    _unlocked(request, caller)
    d = decide(caller.principal, perm, svc.clock(), camera_id, footage)
    if not d.allowed:
        refuse(request, caller.actor(source(request)), perm.value, d.reason)
        raise Refused("refused: {reason} (UE-10-22 {clauses})", reason=d.reason,
                      clauses=clauses_of({perm}), wanting={perm}, yours=caller.principal.roles)
    return d.reason
