"""Kuzet's one error hierarchy: what a refusal is, not where it came from.

Every domain error a person can cause derives from one of these kinds, and
`kuzet.web.errors` maps each kind (never a message) to one HTTP status; the CLI prints the
message. The message is safe to show to the person who caused it: it names the thing and,
where a clause of UE-10-22 is the reason, the clause.
"""

from __future__ import annotations


class KuzetError(Exception):
    """Base of every refusal a person can cause."""


class Invalid(KuzetError, ValueError):
    """The request itself is wrong (a bad name, a date out of range): the caller's to fix.

    Also a ValueError, so that parsing code that catches ValueError keeps catching it."""


class NotFound(KuzetError):
    """The thing named does not exist (or the caller may not know it exists)."""


class Conflict(KuzetError):
    """The request is well formed but the state refuses it (a name taken, a decision
    already taken, footage gone since the request was made)."""


class Denied(KuzetError):
    """Refused by a rule (lockout, self-approval, missing second factor, permission)."""


class Unauthenticated(KuzetError):
    """No valid session, token or password."""


class TooLarge(Invalid):
    """An upload over its size cap."""


class Unsupported(Invalid):
    """An upload whose content is not of an accepted kind."""


class Unavailable(KuzetError):
    """The installation, not the caller, must fix something (a missing document font)."""
