"""Passwords: argon2id hashes and the rules a new password must pass.

The breach-pattern rule refuses what password-spraying tries first: the commonest
passwords, keyboard walks, the campus's own names, a repeated or counting run, and the
account's own name; each with digits and symbols stripped from the ends, since
"Password2026!" is "password" to an attacker.
"""

from __future__ import annotations

import re
import secrets
from itertools import pairwise

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kuzet.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 is happy with more; a cap keeps a login request from being a DoS

_COMMON = frozenset([
    "password", "passw0rd", "p@ssw0rd", "qwerty", "qwertyuiop", "asdfgh", "asdfghjkl",
    "zxcvbn", "zxcvbnm", "123456", "1234567", "12345678", "123456789", "1234567890",
    "111111", "000000", "abc123", "letmein", "welcome", "admin", "administrator",
    "iloveyou", "monkey", "dragon", "football", "baseball", "master", "sunshine",
    "princess", "login", "changeme", "secret", "trustno1", "qazwsx", "1q2w3e", "1q2w3e4r",
    "1q2w3e4r5t", "qwe123", "йцукен", "пароль", "kuzet", "kuzet123", "university", "campus",
    "security", "kazakhstan", "almaty", "astana", "qazaqstan", "rector", "guard", "camera",
    "video",
])

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost


class WeakPassword(Invalid):
    pass


def check_rules(password: str, username: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword("a password has at least {count} characters", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise WeakPassword("a password has at most {count} characters", count=MAX_LENGTH)
    low = password.lower()
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", low)
    if low in _COMMON or core in _COMMON:
        raise WeakPassword("this password is on the list attackers try first")
    if username and username.lower() in low:
        raise WeakPassword("a password must not contain the account name")
    if len(set(low)) <= 3:
        raise WeakPassword("a password needs more than three different characters")
    if _counting(low):
        raise WeakPassword("a password must not be a counting or keyboard run")


def _counting(s: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in pairwise(s)}
    return len(steps) == 1 and steps <= {1, -1}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the account exists: callers pass None for no account."""
    if stored is None:
        _hasher.hash(password)  # spend the same time, so timing does not tell names apart
        return False
    try:
        return _hasher.verify(stored, password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """A password printed once for a new account (it must be changed at first login)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))
