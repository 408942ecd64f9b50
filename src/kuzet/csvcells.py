"""Cells of every CSV Kuzet writes, made safe to open in a spreadsheet.

A register or audit export carries text other people typed: account names tried at the
login form, protocol locations, transfer requesters, viewing purposes. A spreadsheet
opening the file runs a cell that begins with `=`, `+`, `-` or `@` (or a tab or carriage
return before one) as a formula, so `=cmd|' /C calc'!A0` typed as a user name would run
on the auditor's desk. Such a text cell gets a leading `'` (OWASP's rule), which
spreadsheets read as "text" and do not show.

The rule is reversible, so the audit CSV still recomputes outside Kuzet: a text cell
that already begins with `'` gets one more. To undo it, strip one leading `'` from every
text cell that begins with one (`unescape`). Numbers (sequence numbers, nanosecond
instants) are written as numbers and never escaped, so a negative one stays a number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"

Cell = str | int


def escape(value: Cell) -> Cell:
    """A cell as written: text that a spreadsheet would run, or that begins with the
    quote itself, gets one leading quote; numbers stay as they are."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, QUOTE)):
        return QUOTE + value
    return value


def unescape(cell: str) -> str:
    """A text cell as it was before `escape`: one leading quote removed."""
    return cell[1:] if cell.startswith(QUOTE) else cell


def row(values: Iterable[Cell]) -> list[Cell]:
    return [escape(v) for v in values]


def record(values: Mapping[str, Cell]) -> dict[str, Cell]:
    return {k: escape(v) for k, v in values.items()}
