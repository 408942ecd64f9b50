"""Accounts: creation, passwords, the TOTP second factor, login with lockout.

Every change and every login attempt is written to the audit log in the same transaction
as the change it describes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access import changes, passwords, policy
from kuzet.access.lookup import user_named
from kuzet.access.models import LoginFailure, Role, RoleAssignment, User
from kuzet.access.permissions import RANK, RESET_CONFIRMERS, is_privileged, rank
from kuzet.access.roles import LOCAL, role_perms
from kuzet.access.secretbox import PREFIX, SecretBox
from kuzet.access.sessions import end_sessions
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.catalog.models import AuditEntry
from kuzet.errors import Conflict, Denied, Invalid, NotFound, Phrase, Unauthenticated

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
ISSUER = "Kuzet"
RECOVERY_CODES = 10
# One answer for every failed login: which accounts exist, and which are locked or
# disabled, is nobody's business before they have logged in (the audit keeps the reason).
LOGIN_FAILED = "wrong account name, password or code"
LOCKED_OUT = ("too many wrong passwords for this account from this address; "
              "try again in 15 minutes")
# What the owner of an account is told at their next login: changes to its credentials
# made by others.
NOTICE_ACTIONS = (AuditAction.USER_PASSWORD_RESET, AuditAction.USER_TOTP_RESET,
                  AuditAction.USER_TOTP_RESET_REQUEST, AuditAction.USER_DISABLE,
                  AuditAction.USER_ENABLE, AuditAction.ROLE_REVOKE,
                  AuditAction.USER_RECOVERY_CODE, AuditAction.AUTH_LOCKOUT,
                  AuditAction.ROLE_SEVERAL_RECTORS)
# Of those, told even when the owner did it: a code used by someone else looks the same.
OWN_NOTICES = (AuditAction.USER_RECOVERY_CODE, AuditAction.AUTH_LOCKOUT)


def check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise Invalid("an account name is 2-64 characters: lower-case letters, digits, "
                      "'.', '_' or '-', starting with a letter or digit")


@dataclass(frozen=True)
class NewAccount:
    name: str
    one_time_password: str | None


@dataclass(frozen=True)
class Notice:
    """A change to someone's credentials made by another, told at their next login."""

    action: str
    by: str
    at_ns: int
    outcome: str  # "allowed", or "refused" for an attempt that was stopped


def _held_roles(s: Session, user: User) -> set[str]:
    """Roles the account holds or is about to hold (a pending request counts: it is the
    rank the account will have the moment the rector approves)."""
    return set(s.scalars(select(RoleAssignment.role).where(
        RoleAssignment.user_id == user.id, RoleAssignment.state.in_(("active", "pending")))))


def _privileged_held(s: Session, user: User) -> str | None:
    """A role `user` holds or awaits that reaches stored video or a rector's decision
    (the highest in the regulation's order first), or None."""
    held = sorted(_held_roles(s, user), key=lambda r: -RANK.get(r, 0))
    perms = {r.name: r for r in s.scalars(select(Role).where(Role.name.in_(held)))}
    return next((r for r in held if r in perms and is_privileged(role_perms(perms[r]))),
                None)


def _check_rank(s: Session, actor: Actor, user: User, what: AuditAction) -> None:
    """Refuse (audited) a change to `user`'s credentials by someone not above them.

    The regulation's order (rector > vice-rector > head of security > administrator >
    others) decides; the server's command line is not a person in that order and is
    limited by the callers (it only resets passwords, and the second factor stays).
    """
    held = _held_roles(s, user)
    if actor.source == LOCAL or rank(held) < rank(actor.roles):
        return
    top = max(held, key=lambda r: RANK.get(r, 0), default="none")
    reason = Phrase("clauses 3.5.4, 4.2: nobody changes the credentials of an account holding "
                    "a role at or above their own ({user} holds {role})",
                    user=user.name, role=top)
    append_act(s, actor, what, user.name, outcome="refused", reason=reason)
    raise _Refused(reason)


class _Refused(Denied):
    """A refusal whose audit entry is in the transaction: raised out of it after commit."""


def _count_failure(s: Session, actor: Actor, user: User, address: str,
                   failures: LoginFailure | None, now_ns: int) -> None:
    """One more wrong password for `user` from `address`; the `LOCKOUT_AFTER`th in a row
    locks the account for that address (audited)."""
    state = (policy.LockState(failures.failed, failures.locked_until_ns) if failures
             else policy.LockState(0, 0))
    after = policy.after_failure(state, now_ns)
    if failures is None:
        s.add(LoginFailure(user_id=user.id, address=address, failed=after.failed,
                           locked_until_ns=after.locked_until_ns))
    else:
        failures.failed, failures.locked_until_ns = after.failed, after.locked_until_ns
    if policy.locked(after, now_ns):
        append_act(s, actor, AuditAction.AUTH_LOCKOUT, user.name, outcome="refused",
                   reason=f"{policy.LOCKOUT_AFTER} failed logins in a row from {address}")


def _recovery_digest(code: str) -> str:
    return hashlib.sha256(code.strip().replace("-", "").lower().encode()).hexdigest()


def _totp_use(box: SecretBox, user: User, code: str, now_ns: int) -> bool:
    """Accept `code` if it is the account's current TOTP and was not used before.

    One 30-s step either side allows for a phone clock a little off; the step a code
    belongs to is remembered, so a code seen over someone's shoulder cannot be used again.
    """
    if not user.totp_secret:
        return False
    totp = pyotp.TOTP(box.open(user.totp_secret, user.name))
    now_step = now_ns // 1_000_000_000 // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.strip().encode()):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


class Accounts:
    def __init__(self, session: sessionmaker[Session], box: SecretBox | None = None) -> None:
        """`box` seals TOTP secrets at rest (`access.secretbox`); the command line's uses
        (accounts, passwords, roles) need none, and the second-factor methods refuse to
        run without one rather than store a secret in clear."""
        self.session = session
        self.box = box

    def _secrets(self) -> SecretBox:
        if self.box is None:
            raise RuntimeError("no key to seal second-factor secrets with (Accounts(box=))")
        return self.box

    def seal_clear_totp_secrets(self) -> int:
        """Seal the TOTP secrets stored in clear before secrets were sealed at rest (run at
        start-up); answers how many."""
        box = self._secrets()
        with self.session.begin() as s:
            clear = list(s.scalars(select(User).where(
                User.totp_secret.is_not(None), User.totp_secret.not_like(f"{PREFIX}%"))))
            for user in clear:
                user.totp_secret = box.seal(user.totp_secret or "", user.name)
        return len(clear)

    def as_signed(self, names: Iterable[str]) -> dict[str, str]:
        """Accounts as a document names its people: "Айгерім Сейітова (guard1)", the
        person and the login the audit log knows them by; a name with no account, or
        none besides its login, as it is (issue 21: protocols were signed "guard1")."""
        wanted = set(names)
        with self.session() as s:
            rows = s.execute(select(User.name, User.display_name)
                             .where(User.name.in_(wanted))).all()
        people = {n: f"{shown} ({n})" for n, shown in rows if shown and shown != n}
        return {n: people.get(n, n) for n in wanted}

    def create(self, actor: Actor, name: str, display_name: str, now_ns: int,
               password: str | None = None) -> NewAccount:
        """A new account; without a password, a one-time one to be changed at first login."""
        check_name(name)
        display_name = display_name.strip()[:200] or name
        one_time = None
        if password is None:
            password = one_time = passwords.one_time_password()
        else:
            passwords.check_rules(password, name)
        with self.session.begin() as s:
            if s.scalar(select(User.id).where(User.name == name)) is not None:
                raise Conflict("an account named {name!r} exists", name=name)
            s.add(User(name=name, display_name=display_name,
                       password_hash=passwords.hash_password(password),
                       must_change_password=one_time is not None, totp_secret=None,
                       totp_confirmed=False, disabled=False, created_ns=now_ns,
                       created_by=actor.name))
            append_act(s, actor, AuditAction.USER_CREATE, name, display_name=display_name)
        return NewAccount(name, one_time)

    @changes.bumps
    def set_disabled(self, actor: Actor, name: str, disabled: bool) -> None:
        """Its sessions and tokens stop at their next request (they check the account)."""
        refused: _Refused | None = None
        with self.session.begin() as s:
            user = user_named(s, name)
            if user.name == actor.name and disabled:
                raise Denied("an account cannot disable itself")
            action = AuditAction.USER_DISABLE if disabled else AuditAction.USER_ENABLE
            try:
                _check_rank(s, actor, user, action)
            except _Refused as exc:
                refused = exc
            else:
                user.disabled = disabled
                append_act(s, actor, action, name)
        if refused is not None:
            raise refused

    def set_language(self, name: str, language: str) -> None:
        """The console's language for this person wherever they log in (a preference:
        not an act the audit log needs)."""
        with self.session.begin() as s:
            user_named(s, name).language = language

    def login(self, name: str, password: str, totp_code: str | None, source: str,
              now_ns: int) -> User:
        """Check a login; wrong attempts count towards a lockout of this account from
        this address only.

        An account with a second factor shows its code whatever its roles are today: a
        role taken away must not turn a password alone into a way in. One that must use a
        second factor but has none enrolled may log in only to enrol one (the caller
        limits the session). A recovery code stands in for a lost phone once: it is spent,
        the old second factor is dropped, every other session and token ends, and the
        session may only enrol a new one.

        Every refusal answers the same (unknown, locked, disabled, wrong): the reason is
        in the audit log, not in the answer.
        """
        with self.session.begin() as s:
            user = self._check_login(s, name, password, totp_code, source, now_ns)
            if user is not None:
                s.flush()
                s.expunge(user)
                return user
        # Raised after the commit: the audit entries and the failure count outlive it.
        raise Unauthenticated(LOGIN_FAILED)

    def _check_login(self, s: Session, name: str, password: str, totp_code: str | None,
                     source: str, now_ns: int) -> User | None:
        """The account if the login is right, else None with the refusal audited."""
        actor = Actor(name[:64], (), source)
        address = policy.address_key(source)
        user = s.scalar(select(User).where(User.name == name))
        ok = passwords.verify_password(user.password_hash if user else None, password)
        if user is None:
            append_act(s, actor, AuditAction.AUTH_LOGIN_FAILED, name[:64], outcome="refused",
                       reason="unknown account")
            return None
        failures = s.get(LoginFailure, (user.id, address))
        state = (policy.LockState(failures.failed, failures.locked_until_ns) if failures
                 else policy.LockState(0, 0))
        if policy.locked(state, now_ns):
            append_act(s, actor, AuditAction.AUTH_LOGIN_FAILED, name, outcome="refused",
                       reason="account locked for this address")
            return None
        if user.disabled:
            append_act(s, actor, AuditAction.AUTH_LOGIN_FAILED, name, outcome="refused",
                       reason="account disabled")
            return None
        reason = "wrong password"
        if ok and user.totp_confirmed:
            reason = "wrong or missing second-factor code"
            ok = totp_code is not None and (
                _totp_use(self._secrets(), user, totp_code, now_ns)
                or self._spend_recovery_code(s, actor, user, totp_code, now_ns))
        if ok:
            if failures is not None:
                s.delete(failures)
            return user
        append_act(s, actor, AuditAction.AUTH_LOGIN_FAILED, name, outcome="refused", reason=reason)
        _count_failure(s, actor, user, address, failures, now_ns)
        return None

    @staticmethod
    def _spend_recovery_code(s: Session, actor: Actor, user: User, code: str,
                             now_ns: int) -> bool:
        """A recovery code in place of the phone's: spent, and the lost second factor is
        dropped so that the session enrols a new one before anything else."""
        left: list[str] = json.loads(user.recovery_codes or "[]")
        digest = _recovery_digest(code)
        if not any(hmac.compare_digest(digest, d) for d in left):
            return False
        user.recovery_codes = json.dumps([d for d in left if d != digest])
        user.totp_secret, user.totp_confirmed, user.totp_last_step = None, False, None
        ended = end_sessions(s, user.id, now_ns)
        append_act(s, actor, AuditAction.USER_RECOVERY_CODE, user.name, left=len(left) - 1,
                   ended=ended)
        return True

    def notices(self, name: str, before_seq: int | None = None) -> list[Notice]:
        """Changes to `name`'s credentials made by others since their previous login."""
        with self.session() as s:
            logins = select(AuditEntry.seq).where(AuditEntry.action == AuditAction.AUTH_LOGIN,
                                                  AuditEntry.subject == name)
            if before_seq is not None:
                logins = logins.where(AuditEntry.seq < before_seq)
            since = s.scalar(logins.order_by(AuditEntry.seq.desc()).limit(1)) or 0
            rows = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.at_ns,
                                    AuditEntry.detail)
                             .where(AuditEntry.subject == name, AuditEntry.seq > since,
                                    AuditEntry.action.in_(NOTICE_ACTIONS))
                             .order_by(AuditEntry.seq)).all()
        return [Notice(action, by, at, json.loads(detail).get("outcome", "allowed"))
                for action, by, at, detail in rows if by != name or action in OWN_NOTICES]

    @changes.bumps
    def change_password(self, actor: Actor, name: str, old: str, new: str, now_ns: int,
                        keep_session: str | None = None) -> None:
        """The owner's own change; every other session and token of theirs ends (whoever
        knew the old password may have opened one)."""
        passwords.check_rules(new, name)
        address = policy.address_key(actor.source)
        with self.session.begin() as s:
            user = user_named(s, name)
            failures = s.get(LoginFailure, (user.id, address))
            if failures is not None and policy.locked(
                    policy.LockState(failures.failed, failures.locked_until_ns), now_ns):
                append_act(s, actor, AuditAction.USER_PASSWORD_CHANGE, name, outcome="refused",
                           reason="account locked for this address")
                refused = Denied(LOCKED_OUT)
            elif passwords.verify_password(user.password_hash, old):
                user.password_hash = passwords.hash_password(new)
                user.must_change_password = False
                if failures is not None:
                    s.delete(failures)
                ended = end_sessions(s, user.id, now_ns, keep=keep_session)
                append_act(s, actor, AuditAction.USER_PASSWORD_CHANGE, name, ended=ended)
                return
            else:
                # A wrong current password is a guess at the password, as a failed login
                # is: it counts towards the same lockout (the route feeds the throttle).
                append_act(s, actor, AuditAction.USER_PASSWORD_CHANGE, name, outcome="refused",
                           reason="wrong current password")
                _count_failure(s, actor, user, address, failures, now_ns)
                refused = Denied("the current password is wrong")
        raise refused

    def check_unlock(self, name: str, password: str, totp_code: str | None,
                     now_ns: int) -> bool:
        """Whether `password` and, for an account with a second factor, the phone's
        current code unlock `name`'s locked screen. Nothing is counted here: wrong
        unlocks count against the session (`Sessions.unlock_failed`), not the account, so
        that keys pressed at an unattended post lock nobody out. A recovery code does not
        unlock: spending one drops the second factor and ends every session."""
        with self.session.begin() as s:
            user = user_named(s, name)
            if user.disabled or not passwords.verify_password(user.password_hash, password):
                return False
            if not user.totp_confirmed:
                return True
            return totp_code is not None and _totp_use(self._secrets(), user, totp_code, now_ns)

    @changes.bumps
    def reset_password(self, actor: Actor, name: str, now_ns: int) -> str:
        """A new one-time password, second factor kept: whoever reset it still cannot log
        in as the owner. The rector's and vice-rector's only on the server's command line;
        anyone else's by a person above them in the regulation's order. The command line
        never resets an account that holds or awaits a privileged role without a second
        factor: whoever ran it would know the only thing that guards the account, and
        would enrol the second factor at its first login."""
        one_time = passwords.one_time_password()
        refused: Denied | None = None
        with self.session.begin() as s:
            user = user_named(s, name)
            try:
                if actor.source != LOCAL and rank(_held_roles(s, user)) >= RANK["vice_rector"]:
                    reason = Phrase("clauses 3.5.4, 4.2: the rector's and vice-rector's "
                                    "passwords are reset only on the server's command line")
                    append_act(s, actor, AuditAction.USER_PASSWORD_RESET, name, outcome="refused",
                               reason=reason)
                    raise _Refused(reason)
                role = _privileged_held(s, user)
                if actor.source == LOCAL and role is not None and not user.totp_confirmed:
                    remedy = (Phrase("a person above them in the regulation's order resets "
                                     "it in the console")
                              if RANK.get(role, 0) < RANK["vice_rector"] else
                              Phrase("without a second factor it is recovered only past Kuzet"))
                    reason = Phrase("refused: a new password on the server's command line for "
                                    "{user}, who holds or awaits the role {role} and has no "
                                    "second factor: whoever ran it could log in as them and "
                                    "enrol one; {remedy} (UE-10-22 3.5.4, 4.2)",
                                    user=name, role=role, remedy=remedy)
                    append_act(s, actor, AuditAction.USER_PASSWORD_RESET, name, outcome="refused",
                               reason=reason)
                    raise _Refused(reason)
                _check_rank(s, actor, user, AuditAction.USER_PASSWORD_RESET)
            except _Refused as exc:
                refused = exc
            else:
                user.password_hash = passwords.hash_password(one_time)
                user.must_change_password = True
                s.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
                ended = end_sessions(s, user.id, now_ns)
                append_act(s, actor, AuditAction.USER_PASSWORD_RESET, name, ended=ended,
                           second_factor_kept=user.totp_confirmed)
        if refused is not None:
            raise refused
        return one_time

    def totp_enrol(self, actor: Actor, name: str) -> str:
        """A fresh secret as an otpauth:// URI (shown once); it counts once confirmed."""
        secret = pyotp.random_base32()
        with self.session.begin() as s:
            user = user_named(s, name)
            if user.totp_confirmed:
                raise Conflict("a second factor is enrolled; a lost one is replaced with a "
                               "recovery code, or by a reset two people agree on")
            user.totp_secret = self._secrets().seal(secret, name)
            append_act(s, actor, AuditAction.USER_TOTP_ENROL, name)
        return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)

    @changes.bumps
    def totp_confirm(self, actor: Actor, name: str, code: str, now_ns: int) -> list[str]:
        """Confirm the enrolment; answers the recovery codes, shown this once."""
        with self.session.begin() as s:
            user = user_named(s, name)
            if _totp_use(self._secrets(), user, code, now_ns):
                user.totp_confirmed = True
                # 80 bits each: a copy of the catalog holds only their SHA-256, and 2**80
                # guesses per code is beyond reach
                codes = ["-".join(c[i:i + 5] for i in range(0, 20, 5))
                         for c in (secrets.token_hex(10) for _ in range(RECOVERY_CODES))]
                user.recovery_codes = json.dumps([_recovery_digest(c) for c in codes])
                user.totp_reset_by = user.totp_reset_ns = None
                append_act(s, actor, AuditAction.USER_TOTP_CONFIRM, name, recovery_codes=len(codes))
                return codes
            append_act(s, actor, AuditAction.USER_TOTP_CONFIRM, name, outcome="refused",
                       reason="wrong code")
        raise Invalid("the code does not match; check the phone's clock")

    @changes.bumps
    def request_totp_reset(self, actor: Actor, name: str, now_ns: int) -> None:
        """First of two people: ask that `name`'s lost second factor be removed. An
        administrator asks for accounts below them, the server's command line for anyone;
        it takes effect only when `confirm_totp_reset` is called by another person."""
        refused: Denied | None = None
        with self.session.begin() as s:
            user = user_named(s, name)
            if user.name == actor.name:
                raise Denied("a lost second factor is replaced with a recovery code, or "
                             "another person asks for its reset")
            if not user.totp_confirmed:
                raise Conflict("{name} has no second factor to reset", name=name)
            try:
                _check_rank(s, actor, user, AuditAction.USER_TOTP_RESET_REQUEST)
            except _Refused as exc:
                refused = exc
            else:
                user.totp_reset_by, user.totp_reset_ns = actor.name, now_ns
                append_act(s, actor, AuditAction.USER_TOTP_RESET_REQUEST, name)
        if refused is not None:
            raise refused

    @changes.bumps
    def confirm_totp_reset(self, actor: Actor, name: str, now_ns: int) -> None:
        """Second of two people: the rector or the vice-rector, in the console, neither
        the one who asked nor the owner. Never the command line, never one person alone."""
        refused: Denied | None = None
        with self.session.begin() as s:
            user = user_named(s, name)
            if user.totp_reset_by is None:
                raise NotFound("no second-factor reset of {name} waits for confirmation", name=name)
            reason: Phrase | None = None
            if actor.source == LOCAL or not RESET_CONFIRMERS & set(actor.roles):
                reason = Phrase("clauses 3.5.4, 4.2: a second-factor reset is confirmed by the "
                                "rector or the vice-rector in the console")
            elif actor.name in (user.name, user.totp_reset_by):
                reason = Phrase("clauses 3.5.4, 4.2: a second-factor reset needs two people: "
                                "neither the one who asked nor the account's owner confirms it")
            if reason is not None:
                append_act(s, actor, AuditAction.USER_TOTP_RESET, name, outcome="refused",
                           reason=reason)
                refused = Denied(reason)
            else:
                asked_by = user.totp_reset_by
                user.totp_secret, user.totp_confirmed, user.totp_last_step = None, False, None
                user.recovery_codes = None
                user.totp_reset_by = user.totp_reset_ns = None
                ended = end_sessions(s, user.id, now_ns)
                append_act(s, actor, AuditAction.USER_TOTP_RESET, name, asked_by=asked_by,
                           ended=ended)
        if refused is not None:
            raise refused

    def locked(self, now_ns: int) -> set[str]:
        """Accounts locked out from at least one address now."""
        with self.session() as s:
            return set(s.scalars(select(User.name).join(
                LoginFailure, LoginFailure.user_id == User.id)
                .where(LoginFailure.locked_until_ns > now_ns)))

    def list(self) -> list[User]:
        with self.session() as s:
            users = list(s.scalars(select(User).order_by(User.name)))
            s.expunge_all()
            return users
