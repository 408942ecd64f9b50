"""Who is asking: browser sessions, API tokens, and the principal they stand for.

A session id and an API token are 256-bit random strings handed out once; the database
keeps only their SHA-256, so a stolen catalog opens no session.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access import changes, policy
from kuzet.access.grants import active_grants
from kuzet.access.models import ApiToken, CameraGroupMember, Role, RoleAssignment, User, WebSession
from kuzet.access.permissions import (
    ARCHIVE_PERMS,
    PEOPLE_PERMS,
    TOKEN_NEVER,
    TOKEN_ONLY,
    Assignment,
    Perm,
    Principal,
    is_privileged,
)
from kuzet.access.roles import role_perms
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.errors import Denied, Invalid, NotFound, Phrase, Unauthenticated

TOKEN_PREFIX = "kz_"  # noqa: S105 - what every API token starts with, not a secret
# Writing last-seen on every request would make each read a write; a minute of slack on
# a 15-minute idle limit costs nothing.
TOUCH_EVERY_NS = 60 * 10**9
MAX_TOKEN_DAYS = 366
CACHE_NS = 10**9  # a change of rights made on another node reaches a session this late
CACHE_MAX = 10_000
# Wrong unlocks of a locked screen that end the session (not the account: the owner's
# lockout is not for whoever pressed keys at an unattended post to cause).
UNLOCK_TRIES = 5


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """A request's authenticated identity."""

    user_id: int
    name: str
    principal: Principal
    via: str  # "session" or "token"
    csrf: str | None  # the session's token that unsafe requests must echo
    second_factor_missing: bool  # must enrol TOTP before anything else
    must_change_password: bool
    # The screen is locked (left idle, or locked by hand; `web_sessions.locked_ns`): the
    # wall's live video goes on, nothing else is answered until the owner's password and
    # code unlock it (kuzet.web.deps).
    locked: bool = False

    def actor(self, source: str) -> Actor:
        return Actor(self.name, tuple(self.principal.roles), source)


STORED_GRANTS = frozenset({Perm.ARCHIVE_VIEW, Perm.SNAPSHOT})  # grants that reach footage


def end_sessions(s: Session, user_id: int, now_ns: int, keep: str | None = None) -> int:
    """End every browser session of the account but `keep` (a session id), and revoke
    its API tokens, in the caller's transaction: after a change of credentials, whoever
    held the old ones keeps nothing they opened with them. Answers how many ended."""
    keep_digest = digest(keep) if keep else None
    ended = 0
    for ws in s.scalars(select(WebSession).where(WebSession.user_id == user_id,
                                                 WebSession.ended_ns.is_(None))):
        if ws.id_sha256 != keep_digest:
            ws.ended_ns = now_ns
            ended += 1
    for t in s.scalars(select(ApiToken).where(ApiToken.user_id == user_id,
                                              ApiToken.revoked_ns.is_(None))):
        t.revoked_ns = now_ns
        ended += 1
    return ended


@dataclass(frozen=True)
class NewSession:
    session_id: str
    csrf: str
    login_seq: int  # the login's audit entry: what came before it was told or not


def load_principal(s: Session, user: User, now_ns: int,
                   token_perms: frozenset[Perm] | None = None) -> Principal:
    rows = s.execute(select(RoleAssignment.role, RoleAssignment.group_id, Role)
                     .join(Role, Role.name == RoleAssignment.role)
                     .where(RoleAssignment.user_id == user.id,
                            RoleAssignment.state == "active")).all()
    assignments = []
    for role, group_id, r in rows:
        cameras = None
        if group_id is not None:
            cameras = frozenset(s.scalars(select(CameraGroupMember.camera_id)
                                          .where(CameraGroupMember.group_id == group_id)))
        assignments.append(Assignment(role, role_perms(r), cameras))
    return Principal(user.name, tuple(assignments), active_grants(s, user.id, now_ns),
                     token_perms)


def needs_second_factor(p: Principal) -> bool:
    """TOTP is mandatory for whoever reaches stored video: by a role, or by a grant of
    archive view or snapshots (3.5.5) — the footage is the same whoever was let in; and for
    whoever takes a decision of the rector's, whatever else their role gives (a rector's
    role edited to view nothing still decides with a second factor)."""
    return (any(is_privileged(a.perms) for a in p.assignments)
            or any(g.perms & STORED_GRANTS for g in p.grants))


@dataclass(frozen=True)
class _Cached:
    """A session's caller as last read from the catalog."""

    caller: Caller
    created_ns: int
    last_seen_ns: int
    loaded_ns: int
    epoch: int

    def fresh(self, now_ns: int) -> bool:
        """Usable without the catalog: young, no rights changed here since, and neither
        an expiry nor a last-seen write is due."""
        return (self.loaded_ns <= now_ns < self.loaded_ns + CACHE_NS
                and self.epoch == changes.current()
                and now_ns - self.last_seen_ns < TOUCH_EVERY_NS
                and policy.session_expired(self.created_ns, self.last_seen_ns, now_ns) is None)


class Sessions:
    """Browser sessions and API tokens.

    Who a session stands for is cached for up to `CACHE_NS`: the status wall and the
    archive bar ask many times a second, and reading account, roles, groups and grants
    each time was most of a request's cost (docs/design/access.md, Numbers). A change of
    rights made in this process empties the cache at once (kuzet.access.changes).
    """

    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session
        self._cache: dict[str, _Cached] = {}

    def _live(self, s: Session, sid: str) -> WebSession:
        """The session's row for a lock change; it must be live."""
        ws = s.get(WebSession, digest(sid), with_for_update=True)
        if ws is None or ws.ended_ns is not None:
            raise Unauthenticated("not logged in")
        return ws

    def lock(self, sid: str, actor: Actor, reason: str, now_ns: int) -> None:
        """Lock the session's screen: footage, documents and changes are refused, live
        video goes on (the wall at a security post keeps running). Kept in the session's
        row, so a restart or another node keeps it (within `CACHE_NS` there)."""
        with self.session.begin() as s:
            ws = self._live(s, sid)
            if ws.locked_ns is None:
                ws.locked_ns, ws.unlock_failures = now_ns, 0
                append_act(s, actor, AuditAction.SESSION_LOCK, actor.name, reason=reason)
        self._cache.pop(digest(sid), None)

    def unlock(self, sid: str, actor: Actor, now_ns: int) -> None:
        """End the lock; the caller has checked the owner's password and code."""
        with self.session.begin() as s:
            ws = self._live(s, sid)
            if ws.locked_ns is not None:
                append_act(s, actor, AuditAction.SESSION_UNLOCK, actor.name,
                           locked_s=(now_ns - ws.locked_ns) // 10**9)
            ws.locked_ns, ws.unlock_failures = None, 0
        self._cache.pop(digest(sid), None)

    def unlock_failed(self, sid: str, actor: Actor, reason: str, now_ns: int) -> bool:
        """Count a wrong unlock (audited); the `UNLOCK_TRIES`th ends the session. Answers
        whether it ended: the person then logs in again, under the login's own limits."""
        with self.session.begin() as s:
            ws = self._live(s, sid)
            ws.unlock_failures += 1
            append_act(s, actor, AuditAction.SESSION_UNLOCK, actor.name, outcome="refused",
                       reason=reason, failures=ws.unlock_failures)
            ended = ws.unlock_failures >= UNLOCK_TRIES
            if ended:
                ws.ended_ns = now_ns
                append_act(s, actor, AuditAction.AUTH_SESSION_END, actor.name,
                           reason=Phrase("{n} wrong unlocks of the locked screen",
                                         n=UNLOCK_TRIES))
        self._cache.pop(digest(sid), None)
        return ended

    def principal_of(self, name: str, now_ns: int) -> Principal:
        with self.session() as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                raise NotFound("no account named {name!r}", name=name)
            return load_principal(s, user, now_ns)

    def open(self, user: User, address: str, now_ns: int) -> NewSession:
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.session.begin() as s:
            p = load_principal(s, user, now_ns)
            s.add(WebSession(id_sha256=digest(sid), user_id=user.id, csrf=csrf,
                             address=address[:64], created_ns=now_ns, last_seen_ns=now_ns,
                             ended_ns=None))
            seq = append_act(s, Actor(user.name, tuple(p.roles), address), AuditAction.AUTH_LOGIN,
                             user.name).seq
        return NewSession(sid, csrf, seq)

    def caller_from_session(self, sid: str, now_ns: int) -> Caller:
        key = digest(sid)
        hit = self._cache.get(key)
        if hit is not None and hit.fresh(now_ns):
            return hit.caller
        error: Unauthenticated | None = None
        with self.session.begin() as s:
            ws = s.get(WebSession, key)
            if ws is None or ws.ended_ns is not None:
                raise Unauthenticated("not logged in")
            ended = policy.session_expired(ws.created_ns, ws.last_seen_ns, now_ns)
            user = s.get(User, ws.user_id)
            if ended is None and (user is None or user.disabled):
                ended = Phrase("the account was disabled")
            if ended is not None:
                ws.ended_ns = now_ns
                append_act(s, Actor(user.name if user else "?", (), ws.address),
                           AuditAction.AUTH_SESSION_END, user.name if user else "?", reason=ended)
                error = Unauthenticated("{why}; log in again", why=ended)
            else:
                assert user is not None
                if now_ns - ws.last_seen_ns >= TOUCH_EVERY_NS:
                    ws.last_seen_ns = now_ns
                epoch = changes.current()
                p = load_principal(s, user, now_ns)
                missing = needs_second_factor(p) and not user.totp_confirmed
                caller = Caller(user.id, user.name, p, "session", ws.csrf, missing,
                                user.must_change_password, ws.locked_ns is not None)
                entry = _Cached(caller, ws.created_ns, ws.last_seen_ns, now_ns, epoch)
        if error is not None:
            self._cache.pop(key, None)
            raise error
        if len(self._cache) > CACHE_MAX:
            self._cache.clear()
        self._cache[key] = entry
        return caller

    def close(self, sid: str, source: str, now_ns: int) -> None:
        self._cache.pop(digest(sid), None)
        with self.session.begin() as s:
            ws = s.get(WebSession, digest(sid))
            if ws is None or ws.ended_ns is not None:
                return
            ws.ended_ns = now_ns
            user = s.get(User, ws.user_id)
            append_act(s, Actor(user.name if user else "?", (), source), AuditAction.AUTH_LOGOUT,
                       user.name if user else "?")

    # API tokens
    def create_token(self, caller: Caller, source: str, name: str, perms: set[Perm],
                     days: int, now_ns: int) -> tuple[int, str]:
        """A token carrying `perms`; the secret is shown once.

        A token carries no more than its owner's roles give, and one made by a token no
        more than that token carries: a token that could mint a broader one would be the
        broader one. Only a token that carries `token.create` makes tokens at all.
        """
        held = {perm for a in caller.principal.assignments for perm in a.perms} | TOKEN_ONLY
        token = caller.principal.token_perms
        if token is not None:
            if Perm.TOKEN_CREATE not in token:
                raise Denied("this API token does not carry token.create: it makes no tokens")
            held &= token
        if not perms:
            raise Invalid("a token carries at least one permission")
        if perms & ARCHIVE_PERMS:
            raise Invalid("a token cannot reach stored video: that needs a person with a "
                          "second factor")
        if perms & PEOPLE_PERMS:
            raise Invalid("clauses 3.1.4, 3.4.7: the lists of staff and students are personal "
                          "data, read by a person with a second factor, not a token: {perms}",
                          perms=", ".join(sorted(perms & PEOPLE_PERMS)))
        if perms & TOKEN_NEVER:
            raise Invalid("clauses 3.3, 3.5.4, 3.5.5, 3.5.6, 4.1: the rector's decisions and "
                          "changes to anyone's credentials are taken by a person's own "
                          "account with a second factor, not a token: {perms}",
                          perms=", ".join(sorted(perms & TOKEN_NEVER)))
        if not perms <= held:
            lacking = ", ".join(sorted(perms - held))
            if token:
                raise Invalid("a token cannot carry what its owner does not hold or the token "
                              "that makes it does not carry: {perms}", perms=lacking)
            raise Invalid("a token cannot carry what its owner does not hold: {perms}",
                          perms=lacking)
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise Invalid("a token lives 1 to {days} days", days=MAX_TOKEN_DAYS)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.session.begin() as s:
            t = ApiToken(user_id=caller.user_id, name=name.strip()[:64] or "token",
                         secret_sha256=digest(secret), perms=json.dumps(sorted(perms)),
                         created_ns=now_ns, expires_ns=now_ns + days * 86400 * 10**9,
                         revoked_ns=None)
            s.add(t)
            s.flush()
            append_act(s, caller.actor(source), AuditAction.TOKEN_CREATE, caller.name, token=t.id,
                       perms=sorted(perms), days=days)
            return t.id, secret

    def revoke_token(self, caller: Caller, source: str, token_id: int, now_ns: int) -> None:
        with self.session.begin() as s:
            t = s.get(ApiToken, token_id)
            if t is None or t.user_id != caller.user_id or t.revoked_ns is not None:
                raise NotFound("no token {token_id} of yours", token_id=token_id)
            t.revoked_ns = now_ns
            append_act(s, caller.actor(source), AuditAction.TOKEN_REVOKE, caller.name, token=t.id)

    def tokens(self, user_id: int) -> list[ApiToken]:
        with self.session() as s:
            rows = list(s.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                  .order_by(ApiToken.id)))
            s.expunge_all()
            return rows

    def caller_from_token(self, secret: str, now_ns: int) -> Caller:
        if not secret.startswith(TOKEN_PREFIX):
            raise Unauthenticated("not an API token")
        with self.session() as s:
            t = s.scalar(select(ApiToken).where(ApiToken.secret_sha256 == digest(secret)))
            if t is None or t.revoked_ns is not None or now_ns >= t.expires_ns:
                raise Unauthenticated("the API token is unknown, revoked or expired")
            user = s.get(User, t.user_id)
            if user is None or user.disabled:
                raise Unauthenticated("the token's account is disabled")
            perms = frozenset(Perm(p) for p in json.loads(t.perms))
            p = load_principal(s, user, now_ns, perms)
            return Caller(user.id, user.name, p, "token", None, False, False)
