"""The register's reads and writes: items, their links and their maintenance log.

A recorded camera is in the register from the moment it is added for recording: a camera
without a row of its own is shown from the catalog's (in service while recorded,
decommissioned once removed), and gets its row the first time its passport or log is
written. Its building, floor and place are written to the camera's own columns, which the
console's camera tree and the wall read, so there is one place for each fact.

Every write takes its audit entry in its own transaction (the caller's `Audit` callback,
as the catalog's camera changes do), and each change of a passport or a state leaves a
line in the item's log saying what it was before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.catalog.alarms import Change
from kuzet.catalog.models import Camera
from kuzet.catalog.store import Catalog
from kuzet.credentials import SecretUrl
from kuzet.equipment.fields import (
    LINK_FIELDS,
    TEXT_FIELDS,
    EntryKind,
    Kind,
    Passport,
    State,
    check_name,
)
from kuzet.equipment.models import EquipmentEntry, EquipmentItem
from kuzet.errors import Conflict, Invalid, NotFound

SYSTEM = "system"  # who writes what an alarm opens and closes
# What the last repair puts back in service: a person's, a faulty or an under-repair item;
# an alarm clearing, only a faulty one (one a technician put under repair stays so: the
# camera back on line is not the repair finished).
_REPAIRED_FROM = {False: (State.FAULTY, State.UNDER_REPAIR), True: (State.FAULTY,)}
# An audit entry written in the change's transaction: (session, subject, detail).
Audit = Callable[[Session, str, dict[str, Any]], object]
# Where a camera's place lives: the register's field -> the camera's column.
CAMERA_PLACE = {"building": "building", "floor": "floor", "room": "location"}
# What each link may point at (3.3.4: UPSes power; 3.3.6: switches carry; 3.3.7: disks
# make up arrays and servers).
LINK_TARGET = {"uplink": (Kind.SWITCH,), "power": (Kind.UPS,),
               "part_of": (Kind.STORAGE, Kind.SERVER)}
LINK_COLUMN = {"uplink": "uplink_id", "power": "power_id", "part_of": "part_of_id"}
UNIQUE = ("serial", "inventory_no")


def audited(actor: Actor, action: AuditAction, **extra: Any) -> Audit:
    """The `Audit` a write takes: `actor`'s access entry of `action` (with `extra`), in the
    change's own transaction; the console's and the command line's alike."""
    return lambda s, subject, detail: append_act(s, actor, action, subject, **detail, **extra)


@dataclass(frozen=True)
class ItemView:
    """An item as people read it: its passport with links by name."""

    kind: str
    name: str
    state: str
    values: dict[str, str | None]  # TEXT_FIELDS and LINK_FIELDS
    id: int | None = None  # None: a camera whose passport was never written
    created_ns: int | None = None
    updated_ns: int | None = None

    def row(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "state": self.state, **self.values}


@dataclass(frozen=True)
class Entry:
    id: int
    item: str
    kind: str
    at_ns: int
    by: str
    what: str
    outcome: str | None
    closes_id: int | None
    alarm_id: int | None
    open: bool = False  # a fault nobody closed yet


@dataclass
class _Names:
    """Item names by id and ids by name within one transaction, for links."""

    by_id: dict[int, EquipmentItem] = field(default_factory=dict)
    by_name: dict[str, EquipmentItem] = field(default_factory=dict)

    @classmethod
    def load(cls, s: Session) -> _Names:
        n = cls()
        for it in s.scalars(select(EquipmentItem)):
            n.by_id[it.id] = it
            n.by_name[it.name] = it
        return n


class Register:
    def __init__(self, session: sessionmaker[Session], buildings: Sequence[str] = (),
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.session = session
        self.buildings = tuple(buildings)
        self.clock = clock

    # -- reading ---------------------------------------------------------------------
    def items(self, *, kind: str | None = None, state: str | None = None,
              building: str | None = None, text: str | None = None) -> list[ItemView]:
        """Every item (cameras with or without a passport), by kind then name, filtered."""
        with self.session() as s:
            views = self._views(s)
        out = []
        needle = (text or "").lower()
        for v in views:
            if (kind and v.kind != kind) or (state and v.state != state):
                continue
            if building and v.values.get("building") != building:
                continue
            if needle and not any(needle in (x or "").lower()
                                  for x in (v.name, *v.values.values())):
                continue
            out.append(v)
        return out

    def item(self, name: str) -> ItemView:
        with self.session() as s:
            for v in self._views(s, only=name):
                return v
        raise NotFound("no item named {name!r} in the register", name=name)

    def linked(self, name: str) -> list[str]:
        """The items linked to `name`: on its ports, on its power, its parts; by name."""
        return sorted(v.name for v in self.items()
                      if name in (v.values.get(k) for k in LINK_COLUMN))

    def history(self, name: str) -> list[Entry]:
        """The item's log, newest first, each fault saying whether it is still open."""
        with self.session() as s:
            row = s.scalar(select(EquipmentItem).where(EquipmentItem.name == name))
            if row is None:
                self.item(name)  # NotFound, or a camera with nothing written yet
                return []
            entries = list(s.scalars(select(EquipmentEntry)
                                     .where(EquipmentEntry.item_id == row.id)
                                     .order_by(EquipmentEntry.at_ns.desc(),
                                               EquipmentEntry.id.desc())))
        closed = {e.closes_id for e in entries if e.closes_id is not None}
        return [_entry(e, name, closed) for e in entries]

    def open_faults(self) -> list[Entry]:
        """Faults nobody has closed, oldest first, across the register."""
        with self.session() as s:
            closed: set[int | None] = set(s.scalars(
                select(EquipmentEntry.closes_id).where(EquipmentEntry.closes_id.is_not(None))))
            rows = s.execute(select(EquipmentEntry, EquipmentItem.name)
                             .join(EquipmentItem, EquipmentItem.id == EquipmentEntry.item_id)
                             .where(EquipmentEntry.kind == EntryKind.FAULT.value)
                             .order_by(EquipmentEntry.at_ns)).all()
        return [_entry(e, n, closed) for e, n in rows if e.id not in closed]

    def last_checks(self) -> dict[str, int]:
        """Each item's last check, by name (ns)."""
        with self.session() as s:
            rows = s.execute(select(EquipmentItem.name, EquipmentEntry.at_ns)
                             .join(EquipmentItem, EquipmentItem.id == EquipmentEntry.item_id)
                             .where(EquipmentEntry.kind == EntryKind.CHECK.value)).all()
        last: dict[str, int] = {}
        for name, at in rows:
            last[name] = max(at, last.get(name, at))
        return last

    def _views(self, s: Session, only: str | None = None) -> list[ItemView]:
        names = _Names.load(s)
        cams = {c.id: c for c in s.scalars(select(Camera))}
        out: list[ItemView] = []
        with_row = set()
        for it in names.by_id.values():
            if only is not None and it.name != only:
                continue
            cam = cams.get(it.camera_id) if it.camera_id is not None else None
            if cam is not None:
                with_row.add(cam.id)
            out.append(_view(it, cam, names))
        for cam in cams.values():
            if cam.id in with_row or (only is not None and cam.name != only):
                continue
            if only is None and cam.name in names.by_name:
                continue
            out.append(ItemView(
                Kind.CAMERA.value, cam.name,
                (State.IN_SERVICE if cam.removed_ns is None else State.DECOMMISSIONED).value,
                {**{k: None for k in (*TEXT_FIELDS, *LINK_FIELDS)},
                 **{k: getattr(cam, c) for k, c in CAMERA_PLACE.items()}},
                created_ns=cam.created_ns))
        kinds = list(Kind)
        out.sort(key=lambda v: (kinds.index(Kind(v.kind)), v.name))
        return out

    # -- writing ---------------------------------------------------------------------
    @contextmanager
    def _changing(self) -> Iterator[Session]:
        """A write's transaction. The checks before it read the register; two writes at
        once may both pass them, and the table's unique keys then refuse the second: said
        as the conflict it is, not a server error."""
        try:
            with self.session.begin() as s:
                yield s
        except IntegrityError:
            raise Conflict("the register changed while this was written (a name, serial or "
                           "inventory number taken meanwhile): look again and retry") from None

    def add(self, kind: Kind, name: str, passport: Passport, *, by: str,
            state: State = State.IN_SERVICE, audit: Audit | None = None) -> ItemView:
        """A new item that is not a camera (a camera enters the register when it is added
        for recording)."""
        if kind is Kind.CAMERA:
            raise Invalid("a camera enters the register when it is added for recording "
                          "(`kuzet camera add`, the console, or a CSV import with its url "
                          "and zone); then its passport is edited")
        check_name(name)
        with self._changing() as s:
            names = _Names.load(s)
            self._insert(s, names, kind, name, passport, state, by)
            if audit is not None:
                audit(s, name, {"kind": kind.value, "state": state.value,
                                **passport.given()})
        return self.item(name)

    def _insert(self, s: Session, names: _Names, kind: Kind, name: str, passport: Passport,
                state: State, by: str, camera: Camera | None = None) -> EquipmentItem:
        taken = names.by_name.get(name)
        if taken is not None or (camera is None and s.scalar(
                select(Camera.id).where(Camera.name == name)) is not None):
            raise Conflict("the register already has an item named {name!r}", name=name)
        now = self.clock()
        # a camera's row, made when its passport or log is first written, dates from the
        # camera's entry: its first check is due a month after it was added, not after
        created = camera.created_ns if camera is not None and camera.created_ns else now
        row = EquipmentItem(kind=kind.value, name=name, state=state.value, created_ns=created,
                            updated_ns=now, camera_id=camera.id if camera else None)
        s.add(row)
        self._apply(s, names, row, camera, passport)
        s.flush()
        names.by_id[row.id] = row
        names.by_name[name] = row
        return row

    def update(self, name: str, passport: Passport, *, by: str, state: State | None = None,
               audit: Audit | None = None) -> ItemView:
        """Change what `passport` says (and the state); the log keeps what it was."""
        with self._changing() as s:
            changed = self._update(s, _Names.load(s), name, passport, state, by)
            if audit is not None and changed:
                audit(s, name, changed)
        return self.item(name)

    def _update(self, s: Session, names: _Names, name: str, passport: Passport,
                state: State | None, by: str) -> dict[str, Any]:
        row, cam = self._row(s, names, name)
        before = _view(row, cam, names)
        self._apply(s, names, row, cam, passport)
        if state is not None:
            row.state = state.value
        s.flush()
        after = _view(row, cam, names)
        changed = {k: [before.row()[k], v] for k, v in after.row().items()
                   if before.row()[k] != v}
        if changed:
            row.updated_ns = self.clock()
            what = "; ".join(f"{k}: {a or '—'} → {b or '—'}" for k, (a, b) in changed.items())
            s.add(EquipmentEntry(item_id=row.id, kind=EntryKind.CHANGE.value,
                                 at_ns=row.updated_ns, by=by, what=what[:2000]))
        return changed

    def _row(self, s: Session, names: _Names, name: str) -> tuple[EquipmentItem, Camera | None]:
        """The item's row, made for a camera that had none yet."""
        row = names.by_name.get(name)
        if row is not None:
            cam = s.get(Camera, row.camera_id) if row.camera_id is not None else None
            return row, cam
        cam = s.scalar(select(Camera).where(Camera.name == name))
        if cam is None:
            raise NotFound("no item named {name!r} in the register", name=name)
        state = State.IN_SERVICE if cam.removed_ns is None else State.DECOMMISSIONED
        return self._insert(s, names, Kind.CAMERA, name, Passport({}), state, "", cam), cam

    def _apply(self, s: Session, names: _Names, row: EquipmentItem, cam: Camera | None,
               passport: Passport) -> None:
        for key, value in passport.values.items():
            if value is None:
                continue
            value = value or None
            if key in LINK_COLUMN:
                setattr(row, LINK_COLUMN[key], self._link(names, row, key, value))
            elif cam is not None and key in CAMERA_PLACE:
                setattr(cam, CAMERA_PLACE[key], value)
            else:
                if key in UNIQUE and value is not None:
                    _unique(s, row, key, value)
                setattr(row, key, value)

    def _link(self, names: _Names, row: EquipmentItem, key: str, to: str | None
              ) -> int | None:
        if to is None:
            return None
        target = names.by_name.get(to)
        if target is None:
            raise Invalid("{field}: no item named {to!r} in the register", field=key, to=to)
        if target is row or target.name == row.name:
            raise Invalid("{field}: an item cannot be linked to itself", field=key)
        if Kind(target.kind) not in LINK_TARGET[key]:
            raise Invalid("{field}: {to!r} is a {kind}, and this link goes to a {wanted}",
                          field=key, to=to, kind=target.kind,
                          wanted=" or ".join(LINK_TARGET[key]))
        seen, up = {row.name}, target  # type: set[str], EquipmentItem | None
        while up is not None:  # no loop of parts: a disk in an array in that disk
            if up.name in seen:
                raise Invalid("{field}: {to!r} would make a loop", field=key, to=to)
            seen.add(up.name)
            nxt = getattr(up, LINK_COLUMN[key])
            up = names.by_id.get(nxt) if nxt is not None else None
        return target.id

    def write_log(self, name: str, kind: EntryKind, what: str, *, by: str,
                  outcome: str | None = None, closes: int | None = None,
                  alarm_id: int | None = None, at_ns: int | None = None,
                  audit: Audit | None = None) -> Entry:
        """A check (outcome ok or fault: a failed check opens a fault), a fault, or a
        repair (closing the fault `closes`, which must be the item's and open). A repair
        puts a faulty or under-repair item back in service; a fault makes it faulty."""
        what = what.strip()
        if not what or len(what) > 2000:
            raise Invalid("say what was done or found (1 to 2000 characters)")
        if kind is EntryKind.CHANGE:
            raise Invalid("changes are written by editing the passport")
        if kind is EntryKind.CHECK and outcome not in ("ok", "fault"):
            raise Invalid("a check's outcome is ok or fault")
        if kind is not EntryKind.CHECK and outcome is not None:
            raise Invalid("only a check has an outcome")
        with self._changing() as s:
            names = _Names.load(s)
            row, _cam = self._row(s, names, name)
            if closes is not None:
                fault = s.get(EquipmentEntry, closes)
                if fault is None or fault.item_id != row.id or fault.kind != EntryKind.FAULT:
                    raise Invalid("{id} is not a fault of {name}", id=closes, name=name)
                if s.scalar(select(EquipmentEntry.id)
                            .where(EquipmentEntry.closes_id == closes)) is not None:
                    raise Conflict("fault {id} is closed already", id=closes)
                if kind is not EntryKind.REPAIR:
                    raise Invalid("only a repair closes a fault")
            elif kind is EntryKind.REPAIR:
                raise Invalid("a repair says which fault it closes")
            entry = EquipmentEntry(item_id=row.id, kind=kind.value, by=by, what=what,
                                   at_ns=at_ns if at_ns is not None else self.clock(),
                                   outcome=outcome, closes_id=closes, alarm_id=alarm_id)
            s.add(entry)
            if kind is EntryKind.FAULT or outcome == "fault":
                if row.state == State.IN_SERVICE:
                    row.state = State.FAULTY.value
            elif (kind is EntryKind.REPAIR and row.state in _REPAIRED_FROM[by == SYSTEM]
                  and _open_faults(s, row.id) <= {closes}):
                row.state = State.IN_SERVICE.value
            if kind is EntryKind.CHECK and outcome == "fault":
                s.flush()
                s.add(EquipmentEntry(item_id=row.id, kind=EntryKind.FAULT.value, by=by,
                                     what=what, at_ns=entry.at_ns))
            s.flush()
            if audit is not None:
                # `result`, not `outcome`: that is the access entry's own (allowed)
                audit(s, name, {"entry": kind.value, "what": what, "result": outcome,
                                "closes": closes})
            return _entry(entry, name, set())

    def on_alarm(self, change: Change) -> None:
        """The alarms' listener: an alarm about an item of the register (its subject is the
        item's name: a camera, a UPS) opens a fault in the item's log, and its clearing
        closes that fault, so the item's history holds every outage without anyone
        writing it. Alarms about anything else (a setting, a volume) pass by."""
        if change.raised:
            self.fault_from_alarm(change.subject, change.id, change.message, change.at_ns)
        else:
            self.close_alarm_fault(change.id, change.at_ns)

    def fault_from_alarm(self, name: str, alarm_id: int, message: str, at_ns: int) -> bool:
        """A fault opened by an alarm on the item `name`, once per alarm; False when no
        item has that name (an alarm about a setting or a volume not in the register)."""
        with self.session() as s:
            if s.scalar(select(EquipmentEntry.id)
                        .where(EquipmentEntry.alarm_id == alarm_id)) is not None:
                return False
        try:
            self.write_log(name, EntryKind.FAULT, message, by=SYSTEM, alarm_id=alarm_id,
                           at_ns=at_ns)
        except NotFound:
            return False
        return True

    def close_alarm_fault(self, alarm_id: int, at_ns: int) -> bool:
        """The fault an alarm opened, closed when the alarm clears (the condition ended:
        a camera recording again), unless a person closed it first."""
        with self.session() as s:
            row = s.execute(select(EquipmentEntry, EquipmentItem.name)
                            .join(EquipmentItem, EquipmentItem.id == EquipmentEntry.item_id)
                            .where(EquipmentEntry.alarm_id == alarm_id,
                                   EquipmentEntry.kind == EntryKind.FAULT.value)).first()
            if row is None or s.scalar(select(EquipmentEntry.id).where(
                    EquipmentEntry.closes_id == row[0].id)) is not None:
                return False
        self.write_log(row[1], EntryKind.REPAIR, "the alarm cleared: the condition ended",
                       by=SYSTEM, closes=row[0].id, at_ns=at_ns)
        return True

    # -- a spreadsheet's rows, all in one transaction ----------------------------------
    def import_rows(self, rows: Iterable[ImportRow], *, by: str,
                    add_camera: Callable[[Session, ImportRow], Camera] | None = None,
                    audit: Audit | None = None) -> tuple[int, int]:
        """Add or change each row's item, all or none: the first refusal rolls every row
        back (the caller checked every row first and reports them all). A camera row
        whose name is not recorded yet needs `add_camera` (the catalog's insert with the
        row's url and zone). Returns (added, changed)."""
        added, changed = 0, set()
        rows, new = list(rows), set()
        with self._changing() as s:
            names = _Names.load(s)
            for r in rows:  # the passports first, the links once every item exists
                plain = Passport({k: v for k, v in r.passport.values.items()
                                  if k not in LINK_COLUMN})
                exists = r.name in names.by_name or (r.kind is Kind.CAMERA and s.scalar(
                    select(Camera.id).where(Camera.name == r.name)) is not None)
                if exists:
                    current = names.by_name.get(r.name)
                    if current is not None and current.kind != r.kind.value:
                        raise Conflict("{name!r} is a {kind} in the register, not a {new}",
                                       name=r.name, kind=current.kind, new=r.kind.value)
                    if self._update(s, names, r.name, plain, r.state, by):
                        changed.add(r.name)
                    continue
                cam = None
                if r.kind is Kind.CAMERA:
                    if add_camera is None:
                        raise Invalid("camera {name!r} is not recorded: adding it needs its "
                                      "url and zone, and camera.admin", name=r.name)
                    cam = add_camera(s, r)
                    s.flush()
                self._insert(s, names, r.kind, r.name, plain, r.state or State.IN_SERVICE,
                             by, cam)
                added += 1
                new.add(r.name)
            for r in rows:
                links = Passport({k: v for k, v in r.passport.values.items()
                                  if k in LINK_COLUMN})
                if links.values and self._update(s, names, r.name, links, None, by) \
                        and r.name not in new:
                    changed.add(r.name)
            if audit is not None:
                audit(s, "equipment", {"added": added, "changed": len(changed)})
        return added, len(changed)


@dataclass(frozen=True)
class ImportRow:
    line: int
    kind: Kind
    name: str
    passport: Passport
    state: State | None
    camera: Mapping[str, str]  # a new camera's url, zone (and sub_url) as given


def _unique(s: Session, row: EquipmentItem, key: str, value: str) -> None:
    other = s.scalar(select(EquipmentItem.name).where(getattr(EquipmentItem, key) == value,
                                                      EquipmentItem.name != row.name))
    if other is not None:
        raise Conflict("{field} {value!r} is already {other}'s", field=key, value=value,
                       other=other)


def _open_faults(s: Session, item_id: int) -> set[int | None]:
    faults = set(s.scalars(select(EquipmentEntry.id).where(
        EquipmentEntry.item_id == item_id, EquipmentEntry.kind == EntryKind.FAULT.value)))
    closed = set(s.scalars(select(EquipmentEntry.closes_id).where(
        EquipmentEntry.item_id == item_id, EquipmentEntry.closes_id.is_not(None))))
    return set(faults - closed)


def _view(it: EquipmentItem, cam: Camera | None, names: _Names) -> ItemView:
    values: dict[str, str | None] = {k: getattr(it, k) for k in TEXT_FIELDS}
    if cam is not None:
        values.update({k: getattr(cam, c) for k, c in CAMERA_PLACE.items()})
    for key, column in LINK_COLUMN.items():
        target = getattr(it, column)
        values[key] = names.by_id[target].name if target in names.by_id else None
    values["uplink_port"] = it.uplink_port
    # a camera no longer recorded is out of service whatever its row last said: not due a
    # check, not probed, shown so on the passport
    state = State.DECOMMISSIONED.value if cam is not None and cam.removed_ns else it.state
    return ItemView(it.kind, it.name, state, values, it.id, it.created_ns, it.updated_ns)


def _entry(e: EquipmentEntry, name: str, closed: AbstractSet[int | None]) -> Entry:
    return Entry(e.id, name, e.kind, e.at_ns, e.by, e.what, e.outcome, e.closes_id,
                 e.alarm_id, open=e.kind == EntryKind.FAULT and e.id not in closed)


def camera_adder(catalog: Catalog, actor: Actor) -> Callable[[Session, ImportRow], Camera]:
    """A new camera of an import row, inserted in the import's transaction as `kuzet camera
    add` inserts one (its place from the row's passport), audited `camera.add` with its
    URL masked."""

    def add_camera(s: Session, row: ImportRow) -> Camera:
        url, sub_url = row.camera["url"], row.camera.get("sub_url")
        place = row.passport.values
        cam = catalog.insert_camera(s, row.name, url, zone=row.camera.get("zone", ""),
                                    sub_url=sub_url, building=place.get("building") or None,
                                    floor=place.get("floor") or None,
                                    location=place.get("room") or None)
        append_act(s, actor, AuditAction.CAMERA_ADD, row.name, url=SecretUrl(url).shown,
                   sub_url=SecretUrl(sub_url).shown if sub_url else None, zone=cam.zone,
                   via="equipment import")
        return cam

    return add_camera
