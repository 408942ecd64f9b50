"""Accounts: creation, passwords, the TOTP second factor, login with lockout.

Every change and every login attempt is written to the audit log in the same transaction
as the change it describes.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access import changes, passwords, policy
from kuzet.access.errors import Conflict, Denied, Invalid, Unauthenticated
from kuzet.access.lookup import user_named
from kuzet.access.models import User
from kuzet.audit.log import Actor, append_act

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
ISSUER = "Kuzet"


def check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise Invalid("an account name is 2-64 characters: lower-case letters, digits, "
                      "'.', '_' or '-', starting with a letter or digit")


@dataclass(frozen=True)
class NewAccount:
    name: str
    one_time_password: str | None


def _totp_use(user: User, code: str, now_ns: int) -> bool:
    """Accept `code` if it is the account's current TOTP and was not used before.

    One 30-s step either side allows for a phone clock a little off; the step a code
    belongs to is remembered, so a code seen over someone's shoulder cannot be used again.
    """
    if not user.totp_secret:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now_step = now_ns // 1_000_000_000 // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.strip().encode()):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


class Accounts:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

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
                raise Conflict(f"an account named {name!r} exists")
            s.add(User(name=name, display_name=display_name,
                       password_hash=passwords.hash_password(password),
                       must_change_password=one_time is not None, totp_secret=None,
                       totp_confirmed=False, failed_logins=0, locked_until_ns=0,
                       disabled=False, created_ns=now_ns, created_by=actor.name))
            append_act(s, actor, "user.create", name, display_name=display_name)
        return NewAccount(name, one_time)

    @changes.bumps
    def set_disabled(self, actor: Actor, name: str, disabled: bool) -> None:
        with self.session.begin() as s:
            user = user_named(s, name)
            if user.name == actor.name and disabled:
                raise Denied("an account cannot disable itself")
            user.disabled = disabled
            append_act(s, actor, "user.disable" if disabled else "user.enable", name)

    def set_language(self, name: str, language: str) -> None:
        """The console's language for this person wherever they log in (a preference:
        not an act the audit log needs)."""
        with self.session.begin() as s:
            user_named(s, name).language = language

    def login(self, name: str, password: str, totp_code: str | None, needs_totp: bool,
              source: str, now_ns: int) -> User:
        """Check a login; wrong attempts count towards the account's lockout.

        `needs_totp` comes from the caller (it depends on the account's roles). An account
        that must use a second factor but has none enrolled may log in only to enrol one:
        the returned user has `totp_confirmed` False and the caller limits the session.
        """
        actor = Actor(name[:64], (), source)
        # Refusals are raised after the commit: their audit entries and the failure count
        # must outlive the error.
        error: Exception | None = None
        with self.session.begin() as s:
            user = s.scalar(select(User).where(User.name == name))
            ok = passwords.verify_password(user.password_hash if user else None, password)
            if user is None:
                append_act(s, actor, "auth.login_failed", name[:64], outcome="refused",
                           reason="unknown account")
                error = Unauthenticated("wrong account name or password")
            elif policy.locked(policy.LockState(user.failed_logins, user.locked_until_ns),
                               now_ns):
                append_act(s, actor, "auth.login_failed", name, outcome="refused",
                           reason="account locked")
                error = Denied("the account is locked after repeated failed logins; try "
                               "again in 15 minutes or ask an administrator")
            elif user.disabled:
                append_act(s, actor, "auth.login_failed", name, outcome="refused",
                           reason="account disabled")
                error = Denied("the account is disabled")
            else:
                reason = "wrong password"
                if ok and needs_totp and user.totp_confirmed:
                    ok = totp_code is not None and _totp_use(user, totp_code, now_ns)
                    reason = "wrong or missing second-factor code"
                if ok:
                    user.failed_logins = 0
                    s.flush()
                    s.expunge(user)
                    return user
                state = policy.LockState(user.failed_logins, user.locked_until_ns)
                after = policy.after_failure(state, now_ns)
                user.failed_logins, user.locked_until_ns = after.failed, after.locked_until_ns
                append_act(s, actor, "auth.login_failed", name, outcome="refused", reason=reason)
                if policy.locked(after, now_ns):
                    append_act(s, actor, "auth.lockout", name, outcome="refused",
                               reason=f"{policy.LOCKOUT_AFTER} failed logins in a row")
                error = Unauthenticated("wrong account name, password or code")
        raise error

    @changes.bumps
    def change_password(self, actor: Actor, name: str, old: str, new: str) -> None:
        passwords.check_rules(new, name)
        with self.session.begin() as s:
            user = user_named(s, name)
            if passwords.verify_password(user.password_hash, old):
                user.password_hash = passwords.hash_password(new)
                user.must_change_password = False
                append_act(s, actor, "user.password_change", name)
                return
            append_act(s, actor, "user.password_change", name, outcome="refused",
                       reason="wrong current password")
        raise Denied("the current password is wrong")

    @changes.bumps
    def reset_password(self, actor: Actor, name: str) -> str:
        """An administrator's reset: a new one-time password, second factor kept."""
        one_time = passwords.one_time_password()
        with self.session.begin() as s:
            user = user_named(s, name)
            user.password_hash = passwords.hash_password(one_time)
            user.must_change_password = True
            user.failed_logins, user.locked_until_ns = 0, 0
            append_act(s, actor, "user.password_reset", name)
        return one_time

    def totp_enrol(self, actor: Actor, name: str) -> str:
        """A fresh secret as an otpauth:// URI (shown once); it counts once confirmed."""
        secret = pyotp.random_base32()
        with self.session.begin() as s:
            user = user_named(s, name)
            if user.totp_confirmed:
                raise Conflict("a second factor is enrolled; an administrator resets it")
            user.totp_secret = secret
            append_act(s, actor, "user.totp_enrol", name)
        return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)

    @changes.bumps
    def totp_confirm(self, actor: Actor, name: str, code: str, now_ns: int) -> None:
        with self.session.begin() as s:
            user = user_named(s, name)
            if _totp_use(user, code, now_ns):
                user.totp_confirmed = True
                append_act(s, actor, "user.totp_confirm", name)
                return
            append_act(s, actor, "user.totp_confirm", name, outcome="refused",
                       reason="wrong code")
        raise Invalid("the code does not match; check the phone's clock")

    @changes.bumps
    def totp_reset(self, actor: Actor, name: str) -> None:
        with self.session.begin() as s:
            s.execute(update(User).where(User.name == name)
                      .values(totp_secret=None, totp_confirmed=False, totp_last_step=None))
            append_act(s, actor, "user.totp_reset", name)

    def list(self) -> list[User]:
        with self.session() as s:
            users = list(s.scalars(select(User).order_by(User.name)))
            s.expunge_all()
            return users
