"""Checks for a WebSocket handshake, where no CSRF header can be sent.

Three things must hold before a socket is accepted: a live session cookie (SameSite=
Strict, so a foreign page cannot send it), an `Origin` naming this server when a browser
sends one, and the permission the stream needs. Refusals are audited like any other.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import WebSocket

from kuzet.access.errors import Unauthenticated
from kuzet.access.permissions import Perm, holds_somewhere
from kuzet.access.sessions import Caller
from kuzet.audit.log import Actor
from kuzet.web.deps import SESSION_COOKIE, services, source

POLICY_VIOLATION = 1008


def refuse(ws: WebSocket, actor: Actor, reason: str) -> None:
    services(ws).audit.act(actor, "access.refused", ws.url.path, outcome="refused",
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
    if not any(holds_somewhere(caller.principal, p, svc.clock()) for p in perms):
        raise Unauthenticated("this needs " + " or ".join(sorted(perms)))
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

