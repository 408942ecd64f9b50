"""Kuzet's one error hierarchy: what a refusal is, not where it came from.

Every domain error a person can cause derives from one of these kinds, and
`kuzet.web.errors` maps each kind (never a message) to one HTTP status; the CLI prints the
message. The message is safe to show to the person who caused it: it names the thing and,
where a clause of UE-10-22 is the reason, the clause.
"""

from __future__ import annotations

from collections.abc import Callable


class Phrase(str):
    """English text that keeps its template and values, so that it can be said again in
    the caller's language: `Phrase("refused: {who} may not", who="guard")` is the string
    "refused: guard may not", and `said(translate)` looks the template up in a catalog
    (`kuzet.web.i18n`) and fills in the same values. A value that is itself a Phrase is
    said in the same language; names, numbers and instants stay as they are. A template is
    a constant, so that a catalog can hold it (tests/test_refusals.py checks that every
    refusal naming a clause is one, in all three catalogs)."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, /, **values: object) -> Phrase:
        made = super().__new__(cls, template.format(**values) if values else template)
        made.template = template
        made.values = values
        return made

    def said(self, translate: Callable[[str], str]) -> str:
        wanted = translate(self.template)
        if not self.values:
            return wanted
        values = {k: v.said(translate) if isinstance(v, Phrase) else v
                  for k, v in self.values.items()}
        try:
            return wanted.format(**values)
        except Exception:  # a catalog's slip ("{x.y}", a lost field): say it in English
            return str(self)


class KuzetError(Exception):
    """Base of every refusal a person can cause: `Denied("refused: {what}", what=...)`
    keeps its message as a Phrase, so the console can say it in the caller's language."""

    def __init__(self, message: str = "", /, **values: object) -> None:
        self.phrase = (message if isinstance(message, Phrase) and not values
                       else Phrase(message, **values))
        super().__init__(str(self.phrase))


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
