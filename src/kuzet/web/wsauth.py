"""Checks for a WebSocket handshake, where no CSRF header can be sent, and again while
the socket stays open.

Three things must hold before a socket is accepted: a live session cookie (SameSite=
Strict, so a foreign page cannot send it), an `Origin` naming this server when a browser
sends one, and the permission the stream needs. Refusals are audited like any other. A
socket outlives its handshake by hours, so a stream asks `ended` again every few seconds:
logging out, the session's expiry, a revoked role or an ended grant close it, and so
does locking the screen for any stream but live video (`deps.WHILE_LOCKED`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import WebSocket

from kuzet.access.permissions import Decision, Perm, decide, holds_somewhere
from kuzet.access.sessions import Caller
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor
from kuzet.errors import Unauthenticated
from kuzet.web.deps import SESSION_COOKIE, WHILE_LOCKED, services, source

POLICY_VIOLATION = 1008

# A socket's close reason is short (123 bytes): the edition owed, and where to read it.
OWED = "{label} is to be acknowledged first, in the console (UE-10-22 3.1.4, 3.4.7)"

def refuse(ws: WebSocket, actor: Actor, reason: str) -> None:
    services(ws).audit.act(actor, AuditAction.ACCESS_REFUSED, ws.url.path, outcome="refused",
                           reason=reason, kind="websocket")


def same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser: nothing to forge on its behalf
    return urlsplit(origin).netloc.lower() == ws.headers.get("host", "").lower()


def ws_caller(ws: WebSocket, *perms: Perm) -> Caller:
    """The session's caller if it holds one of `perms` somewhere; else Unauthenticated."""
    svc = services(ws)
    sid = ws.cookies.get(SESSION_COOKIE)
    if not sid:
        raise Unauthenticated("a WebSocket needs a session: log in first")
    caller = svc.sessions.caller_from_session(sid, svc.clock())
    if caller.second_factor_missing or caller.must_change_password:
        raise Unauthenticated("finish logging in (password change or second factor) first")
    if caller.locked and not set(perms) <= WHILE_LOCKED:
        raise Unauthenticated("the screen is locked: unlock it with your password")
    owed = svc.editions.owed(caller.name, svc.clock())
    if owed is not None:  # 3.1.4, 3.4.7: nothing before the edition in force is read
        raise Unauthenticated(OWED, label=owed.label())
    if not any(holds_somewhere(caller.principal, p, svc.clock()) for p in perms):
        raise Unauthenticated("this needs {perms}", perms=" or ".join(sorted(perms)))
    return caller


async def close(ws: WebSocket, code: int, reason: str) -> None:
    """Accept, then close with a code and reason: a browser sees a socket refused during
    the handshake only as code 1006, and could not tell a refusal from a network fault."""
    await ws.accept()
    await ws.close(code, reason[:100])


async def admit(ws: WebSocket, *perms: Perm) -> Caller | None:
    """Run the handshake checks; on refusal audit, close and return None."""
    anonymous = Actor("anonymous", (), source(ws))
    if not same_origin(ws):
        refuse(ws, anonymous, "cross-origin WebSocket")
        await close(ws, POLICY_VIOLATION, "cross-origin")
        return None
    try:
        return ws_caller(ws, *perms)
    except Unauthenticated as exc:
        refuse(ws, anonymous, str(exc))
        await close(ws, POLICY_VIOLATION, str(exc))
        return None


async def claim_view(ws: WebSocket, caller: Caller) -> bool:
    """Count a live or archive view against the account's cap; refused (audited, closed)
    beyond it. The caller gives it back with `services(ws).views.give_back(caller.name)`."""
    svc = services(ws)
    if svc.views.take(caller.name):
        return True
    reason = f"at most {svc.views.limit} live or archive views open at once"
    refuse(ws, caller.actor(source(ws)), reason)
    await close(ws, POLICY_VIOLATION, reason)
    return False



def ended(ws: WebSocket, perm: Perm, camera: int, footage: tuple[int, int] | None,
          basis: Decision) -> str | None:
    """Why a stream admitted on `basis` (the decision that let it open) must stop now, in
    words for its close frame; None while the session lives and `perm` still covers
    `camera` and `footage`."""
    svc = services(ws)
    now = svc.clock()
    try:
        caller = svc.sessions.caller_from_session(ws.cookies.get(SESSION_COOKIE, ""), now)
    except Unauthenticated as exc:
        # "not logged in": the session row was ended (by logging out, as a rule); other
        # reasons (its idle or absolute limit, a disabled account) are found right here.
        why = str(exc).removesuffix("; log in again")
        return "logged out" if why == "not logged in" else f"session ended: {why}"
    if caller.second_factor_missing or caller.must_change_password:
        return "session ended: finish logging in (password change or second factor)"
    if caller.locked and perm not in WHILE_LOCKED:
        return "the screen is locked"
    if svc.editions.owed(caller.name, now) is not None:
        return "a new edition of the regulation is to be acknowledged"
    if decide(caller.principal, perm, now, camera, footage).allowed:
        return None
    if basis.grant_id is not None:
        return f"grant ended: grant {basis.grant_id} was revoked or has expired"
    return f"role revoked: {perm.value} on this camera is no longer given by a role"
