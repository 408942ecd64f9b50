"""Domain errors of access control; kuzet.web.errors maps each to one HTTP status."""

from __future__ import annotations


class AccessError(Exception):
    """Base: the message is safe to show to the person who caused it."""


class NotFound(AccessError):
    pass


class Conflict(AccessError):
    pass


class Invalid(AccessError):
    pass


class Denied(AccessError):
    """Refused by a rule (lockout, self-approval, missing second factor, permission)."""


class Unauthenticated(AccessError):
    pass
