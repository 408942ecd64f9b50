"""What the notice registers take from a form, checked alike (pure): a text with its
limit, a day as YYYY-MM-DD; each refusal names the field in the reader's language."""

from __future__ import annotations

import datetime as dt

from kuzet.errors import Invalid, Phrase


def text(value: str | None, what: Phrase, limit: int, *, required: bool = True) -> str | None:
    """`value` stripped; None when blank and not `required`."""
    said = (value or "").strip()
    if not said:
        if required:
            raise Invalid("{what} is required", what=what)
        return None
    if len(said) > limit:
        raise Invalid("{what}: at most {limit} characters", what=what, limit=limit)
    return said


def past_day(value: str, what: Phrase, today: dt.date) -> str:
    """`value` as a day not after `today` (the campus's): a sign put up, a check or a
    meeting dated to come would stand in the registers for what did not happen."""
    checked = day(value, what)
    if checked > today.isoformat():
        raise Invalid("{what}: {day} has not come yet", what=what, day=checked)
    return checked


def day(value: str, what: Phrase) -> str:
    """`value` as a day, YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise Invalid("{what}: a date as YYYY-MM-DD, not {text!r}", what=what,
                      text=value) from None
