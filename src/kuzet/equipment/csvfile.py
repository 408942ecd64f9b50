"""The register as a spreadsheet: export, and an import checked row by row before anything
is written. Pure (text in, rows and refusals out).

A campus's first installation of hundreds of cameras comes from the installer's
spreadsheet, so the import reports every bad row at once, with its line and the reason in
the same words as the console's form, and writes nothing from a file that has one, unless
asked to import the good rows (then a row linking to a bad one is bad too). What can be
judged only against the register (a serial already another item's, a link to an item that
does not exist, a camera not yet recorded) is judged against `Existing`, a snapshot taken
just before; the transaction refuses what changed since.

The export never holds a camera's URL (it may carry a password); importing it back changes
nothing. Its cells are escaped against spreadsheet formulas (`kuzet.csvcells`) and
unescaped on import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kuzet.credentials import SecretUrl
from kuzet.csvcells import escape, unescape
from kuzet.equipment.fields import (
    LINK_FIELDS,
    TEXT_FIELDS,
    Kind,
    check_kind,
    check_name,
    check_passport,
    check_state,
)
from kuzet.equipment.register import LINK_TARGET, ImportRow, ItemView
from kuzet.errors import KuzetError, Phrase

COLUMNS = ("kind", "name", "state", *TEXT_FIELDS, *LINK_FIELDS)
CAMERA_COLUMNS = ("url", "sub_url", "zone")  # a new camera's, on import only
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Existing:
    """The register just before an import: kinds, serials and inventory numbers by item."""

    kinds: Mapping[str, str]
    serials: Mapping[str, str]  # serial -> item
    inventory: Mapping[str, str]  # inventory_no -> item


@dataclass(frozen=True)
class BadRow:
    line: int
    name: str
    reason: Phrase  # said in the reader's language by the console


@dataclass
class Plan:
    rows: list[ImportRow] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    new_cameras: list[str] = field(default_factory=list)


def export(items: Iterable[ItemView]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for it in items:
        r = it.row()
        w.writerow([escape(r[c] or "") for c in COLUMNS])
    return buf.getvalue()


class FileError(KuzetError, ValueError):
    """The file as a whole cannot be read (no header, not UTF-8, too many rows)."""


def existing_of(items: Iterable[ItemView]) -> Existing:
    """The register's names, serials and inventory numbers, as an import is judged."""
    kinds, serials, inventory = {}, {}, {}
    for v in items:
        kinds[v.name] = v.kind
        if v.values.get("serial"):
            serials[str(v.values["serial"])] = v.name
        if v.values.get("inventory_no"):
            inventory[str(v.values["inventory_no"])] = v.name
    return Existing(kinds, serials, inventory)


def read(data: bytes, existing: Existing, buildings: tuple[str, ...], *,
         today: dt.date | None = None, good_rows: bool = False) -> Plan:
    """Every row checked; `plan.bad` lists each refusal. Without `good_rows`, a file with
    any bad row yields no rows to import."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError("the file is not UTF-8 text (save the spreadsheet as CSV UTF-8): "
                        "byte {at}", at=exc.start) from None
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "kind" not in header or "name" not in header:
        raise FileError("the first line names the columns, kind and name among them; "
                        "known columns: {columns}", columns=", ".join(COLUMNS + CAMERA_COLUMNS))
    unknown = [h for h in header if h not in COLUMNS + CAMERA_COLUMNS]
    if unknown:
        raise FileError("unknown column(s): {unknown}; known columns: {columns}",
                        unknown=", ".join(unknown), columns=", ".join(COLUMNS + CAMERA_COLUMNS))
    reader.fieldnames = header
    plan = Plan()
    try:
        _rows(plan, reader, buildings, existing, today)
    except csv.Error as exc:  # a quoted cell over csv's field limit (128 KiB), a stray quote
        raise FileError("the file is not CSV a spreadsheet writes: {reason}",
                        reason=str(exc)[:200]) from None
    _check_links(plan, existing.kinds)
    if plan.bad and not good_rows:
        plan.rows = []
    plan.new_cameras = [r.name for r in plan.rows
                        if r.kind is Kind.CAMERA and r.name not in existing.kinds]
    return plan


def _rows(plan: Plan, reader: csv.DictReader[str], buildings: tuple[str, ...],
          existing: Existing, today: dt.date | None) -> None:
    """Each row checked alone, then against the others and the register."""
    seen: dict[str, int] = {}
    taken = {"serial": dict(existing.serials), "inventory_no": dict(existing.inventory)}
    for n, raw in enumerate(reader, start=2):
        if n - 1 > MAX_ROWS:
            raise FileError("more than {n} rows: import the file in parts", n=MAX_ROWS)
        cells = {k: unescape((v or "").strip()) for k, v in raw.items() if k is not None}
        if None in raw:
            plan.bad.append(BadRow(n, cells.get("name", ""), Phrase("more cells than columns")))
            continue
        if not any(cells.values()):
            continue  # an empty line a spreadsheet left
        try:
            row = _row(n, cells, buildings, existing, today)
            if row.name in seen:
                raise KuzetError("the name is on line {line} already", line=seen[row.name])
            if row.name in existing.kinds and existing.kinds[row.name] != row.kind:
                raise KuzetError("{name!r} is a {kind} in the register, not a {new}",
                                 name=row.name, kind=existing.kinds[row.name],
                                 new=row.kind.value)
            for key, owners in taken.items():
                value = row.passport.values.get(key)
                if value and owners.get(value, row.name) != row.name:
                    raise KuzetError("{field} {value!r} is already {other}'s", field=key,
                                     value=value, other=owners[value])
        except KuzetError as exc:
            plan.bad.append(BadRow(n, cells.get("name", ""), exc.phrase))
            continue
        seen[row.name] = n
        for key, owners in taken.items():
            value = row.passport.values.get(key)
            if value:
                owners[value] = row.name
        plan.rows.append(row)


def _row(line: int, cells: Mapping[str, str], buildings: tuple[str, ...],
         existing: Existing, today: dt.date | None) -> ImportRow:
    kind = check_kind(cells.get("kind", ""))
    name = check_name(cells.get("name", ""))
    state = check_state(cells["state"]) if cells.get("state") else None
    passport = check_passport({k: cells.get(k) for k in (*TEXT_FIELDS, *LINK_FIELDS)
                               if k in cells}, buildings, today)
    camera = {k: cells[k] for k in CAMERA_COLUMNS if cells.get(k)}
    if camera and kind is not Kind.CAMERA:
        raise KuzetError("url, sub_url and zone are a camera's")
    if kind is Kind.CAMERA and name not in existing.kinds:
        camera_fields(camera)
    return ImportRow(line, kind, name, passport, state, camera)


def camera_fields(camera: Mapping[str, str]) -> None:
    """A new camera's url (and sub_url) and zone, as adding it for recording checks them."""
    from kuzet.ingest.errors import SourceError, check_url
    from kuzet.regulation import check_zone

    if not camera.get("url"):
        raise KuzetError("a camera not yet recorded needs its url and zone to be added")
    try:
        check_url(SecretUrl(camera["url"]))
        if camera.get("sub_url"):
            check_url(SecretUrl(camera["sub_url"]))
    except SourceError as exc:
        raise KuzetError(exc.message) from None  # check_url's Phrase
    check_zone(camera.get("zone") or None)


def _check_links(plan: Plan, kinds: Mapping[str, str]) -> None:
    """A link to itself, to an item neither in the register nor among the good rows, or
    to one of the wrong kind makes its row bad, and a row linking to a row found bad (not
    in the register either) is bad too. One pass over the links and one over what points
    at each bad row: linear, where checking again until nothing changed took 0.85 s for a
    chain of 2000 switches, and grew as its square."""
    rows = {r.name: r for r in plan.rows}
    known = {**kinds, **{name: r.kind.value for name, r in rows.items()}}
    pointing: dict[str, list[tuple[ImportRow, str]]] = {}
    bad: dict[str, Phrase] = {}
    for r in plan.rows:
        for key, allowed in LINK_TARGET.items():
            to = r.passport.values.get(key)
            if not to:
                continue
            pointing.setdefault(to, []).append((r, key))
            reason = None
            if to == r.name:
                reason = Phrase("{field}: an item cannot be linked to itself", field=key)
            elif to not in known:
                reason = Phrase("{field}: no item named {to!r} in the register or the file",
                                field=key, to=to)
            elif known[to] not in allowed:
                reason = Phrase("{field}: {to!r} is a {kind}, and this link goes to a "
                                "{wanted}", field=key, to=to, kind=known[to],
                                wanted=" or ".join(allowed))
            if reason is not None and r.name not in bad:
                bad[r.name] = reason
    waiting = [name for name in bad if name not in kinds]
    while waiting:
        gone = waiting.pop()
        for r, key in pointing.get(gone, ()):
            if r.name not in bad:
                bad[r.name] = Phrase("{field}: no item named {to!r} in the register or the "
                                     "file", field=key, to=gone)
                if r.name not in kinds:
                    waiting.append(r.name)
    plan.rows = [r for r in plan.rows if r.name not in bad]
    plan.bad += [BadRow(rows[name].line, name, why) for name, why in bad.items()]
    plan.bad.sort(key=lambda b: b.line)
