"""Detection's rows: rules as drawn per camera, events as raised, acknowledgements.

A rule is stored as its kind and a JSON spec and becomes a `rules.Rule` through the same
checks (`check_rule`) whether it comes from the API or from the table, so a rule that
could not be drawn cannot be loaded either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from kuzet.analytics.activity import MINUTE_NS, Minute
from kuzet.analytics.geometry import GeometryError, Point, check_polygon
from kuzet.analytics.models import AnalyticsSettings, DetectionRule, Event, MotionMinute
from kuzet.analytics.motion import MotionSettings
from kuzet.analytics.rules import Rule, Schedule, Window, check_rule
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.errors import Conflict, Invalid, KuzetError, NotFound
from kuzet.storage.derived import Derived, instants_in, lengths_in
from kuzet.storage.expiry import Expired

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(text: str) -> int:
    try:
        hh, mm = text.split(":")
        value = int(hh) * 60 + int(mm)
    except ValueError as exc:
        raise Invalid("time of day {text!r} is HH:MM", text=text) from exc
    if not 0 <= value <= 24 * 60:
        raise Invalid("time of day {text!r} is outside 00:00–24:00", text=text)
    return value


def to_rule(rule_id: int, kind: str, spec: dict[str, Any], zone: str) -> Rule:
    """The rule a stored or submitted spec describes, checked; `Invalid` says why not."""
    try:
        sched = spec.get("schedule") or {}
        windows = tuple(Window(frozenset(DAYS.index(d) for d in w.get("days", DAYS)),
                               _minutes(w["start"]), _minutes(w["end"]))
                        for w in sched.get("windows", []))
        schedule = Schedule(windows, frozenset(date.fromisoformat(d)
                                               for d in sched.get("holidays", [])),
                            bool(sched.get("holidays_all_day", False)), zone)
        line = spec.get("line")
        return check_rule(Rule(
            rule_id, kind,  # type: ignore[arg-type]
            zone=tuple((float(x), float(y)) for x, y in spec.get("zone", [])),
            line=None if line is None else ((float(line[0][0]), float(line[0][1])),
                                            (float(line[1][0]), float(line[1][1]))),
            direction=spec.get("direction", "both"),
            labels=frozenset(spec.get("labels", ["person"])),
            seconds=float(spec.get("seconds", 0)), count=int(spec.get("count", 0)),
            schedule=schedule))
    except (GeometryError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise Invalid("rule: {exc}", exc=_said(exc)) from exc


def _said(exc: Exception) -> object:
    """What went wrong, as a Phrase where Kuzet said it (said again in the caller's
    language), else as Python said it."""
    return exc.phrase if isinstance(exc, KuzetError) else exc


def check_settings(activity: bool, sensitivity: float, masks: list[list[Point]]
                   ) -> MotionSettings:
    if not 0.0 <= sensitivity <= 1.0:
        raise Invalid("sensitivity is between 0 and 1")
    try:
        checked = tuple(tuple(check_polygon([(float(x), float(y)) for x, y in m]))
                        for m in masks)
    except (GeometryError, ValueError, TypeError) as exc:
        raise Invalid("mask: {exc}", exc=_said(exc)) from exc
    return MotionSettings(activity, sensitivity, checked)


def _settings(row: AnalyticsSettings) -> MotionSettings:
    return MotionSettings(row.activity, row.sensitivity, tuple(
        tuple((float(x), float(y)) for x, y in m) for m in json.loads(row.masks)))


def _rule_of(s: Session, rule_id: int, camera_id: int, camera: str) -> DetectionRule:
    """The rule, only as a rule of that camera (an id of another camera's is not found)."""
    row = s.get(DetectionRule, rule_id)
    if row is None or row.camera_id != camera_id:
        raise NotFound("no rule {rule_id} on {camera}", rule_id=rule_id, camera=camera)
    return row


def event_json(e: Event, camera: str, names: dict[int, str] | None = None) -> dict[str, Any]:
    """An event as the API and the alert console show it; `names` are the rules' names
    (the zone or line: "Storage room 12")."""
    return {"id": e.id, "camera": camera, "rule": e.rule_id,
            "rule_name": (names or {}).get(e.rule_id or 0, ""), "kind": e.kind, "label": e.label,
            "score": round(e.score, 3), "at_ns": e.at_ns, "start_ns": e.start_ns,
            "end_ns": e.end_ns, "tracks": json.loads(e.tracks),
            "snapshot": e.snapshot_jpeg is not None, "acknowledged_by": e.acknowledged_by,
            "acknowledged_ns": e.acknowledged_ns, "note": e.note}


class DetectionStore:
    def __init__(self, session: sessionmaker[Session], zone: str) -> None:
        self.session = session
        self.zone = zone
        self._bells: list[Callable[[], None]] = []

    def on_record(self, bell: Callable[[], None]) -> Callable[[], None]:
        """Ring `bell` after each event stored through this object (the alert sockets of
        the same process wake at once instead of at their next look); returns the
        function that stops it."""
        self._bells.append(bell)
        return lambda: self._bells.remove(bell)

    def rules(self, camera_id: int | None = None) -> list[DetectionRule]:
        with self.session() as s:
            q = select(DetectionRule).order_by(DetectionRule.id)
            if camera_id is not None:
                q = q.where(DetectionRule.camera_id == camera_id)
            return list(s.scalars(q))

    def rule_names(self) -> dict[int, str]:
        return {r.id: str(json.loads(r.spec).get("name", "")) for r in self.rules()}

    def add_rule(self, actor: Actor, camera_id: int, camera: str, kind: str,
                 spec: dict[str, Any], now_ns: int) -> DetectionRule:
        to_rule(0, kind, spec, self.zone)
        with self.session.begin() as s:
            row = DetectionRule(camera_id=camera_id, kind=kind, spec=json.dumps(spec),
                                enabled=True, created_by=actor.name, created_ns=now_ns)
            s.add(row)
            s.flush()
            append_act(s, actor, AuditAction.DETECTION_RULE_ADD, f"camera/{camera}", rule=row.id,
                       kind=kind, spec=spec)
        return row

    def enable_rule(self, actor: Actor, rule_id: int, camera_id: int, camera: str,
                    enabled: bool) -> DetectionRule:
        """Switch a rule off (kept, not evaluated) or on again; audited."""
        with self.session.begin() as s:
            row = _rule_of(s, rule_id, camera_id, camera)
            row.enabled = enabled
            append_act(s, actor, AuditAction.DETECTION_RULE_ENABLE if enabled
                       else AuditAction.DETECTION_RULE_DISABLE, f"camera/{camera}", rule=rule_id)
        return row

    def remove_rule(self, actor: Actor, rule_id: int, camera_id: int, camera: str) -> None:
        with self.session.begin() as s:
            s.delete(_rule_of(s, rule_id, camera_id, camera))
            append_act(s, actor, AuditAction.DETECTION_RULE_REMOVE, f"camera/{camera}",
                       rule=rule_id)

    def record(self, camera_id: int, rule_id: int | None, kind: str, label: str, score: float,
               at_ns: int, tracks: list[int], snapshot: bytes | None,
               start_ns: int | None = None) -> Event:
        with self.session.begin() as s:
            e = Event(camera_id=camera_id, rule_id=rule_id, kind=kind, label=label,
                      score=score, at_ns=at_ns, start_ns=start_ns, tracks=json.dumps(tracks),
                      snapshot_jpeg=snapshot)
            s.add(e)
        for bell in list(self._bells):
            bell()
        return e

    def set_end(self, event_ids: list[int], end_ns: int) -> None:
        """The events' objects have all left the picture, last seen at `end_ns`."""
        with self.session.begin() as s:
            s.execute(update(Event).where(Event.id.in_(event_ids)).values(end_ns=end_ns))

    def event(self, event_id: int) -> Event:
        with self.session() as s:
            e = s.get(Event, event_id)
            if e is None:
                raise NotFound("no event {event_id}", event_id=event_id)
            return e

    def events(self, cameras: list[int], *, kind: str | None = None,
               label: str | None = None, rule: int | None = None, since_ns: int | None = None,
               until_ns: int | None = None, acknowledged: bool | None = None,
               limit: int = 500) -> list[Event]:
        with self.session() as s:
            q = select(Event).where(Event.camera_id.in_(cameras))
            if kind is not None:
                q = q.where(Event.kind == kind)
            if label is not None:
                q = q.where(Event.label == label)
            if rule is not None:
                q = q.where(Event.rule_id == rule)
            if since_ns is not None:
                q = q.where(Event.at_ns >= since_ns)
            if until_ns is not None:
                q = q.where(Event.at_ns < until_ns)
            if acknowledged is not None:
                q = q.where(Event.acknowledged_ns.is_not(None) if acknowledged
                            else Event.acknowledged_ns.is_(None))
            return list(s.scalars(q.order_by(Event.at_ns.desc()).limit(limit)))

    def newer(self, cameras: list[int], after_id: int, limit: int = 50) -> list[Event]:
        """Events of `cameras` stored after `after_id`, oldest first: what the alert
        console has not shown yet (ids only grow)."""
        with self.session() as s:
            return list(s.scalars(select(Event).where(
                Event.camera_id.in_(cameras), Event.id > after_id)
                .order_by(Event.id).limit(limit)))

    def last_id(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.max(Event.id))) or 0)

    def acknowledge(self, actor: Actor, event_id: int, camera: str, note: str,
                    now_ns: int) -> Event:
        with self.session.begin() as s:
            e = s.get(Event, event_id)
            if e is None:
                raise NotFound("no event {event_id}", event_id=event_id)
            if e.acknowledged_ns is not None:
                raise Conflict("event {event_id} was acknowledged by {acknowledged_by}",
                               event_id=event_id, acknowledged_by=e.acknowledged_by)
            e.acknowledged_by, e.acknowledged_ns, e.note = actor.name, now_ns, note.strip()
            append_act(s, actor, AuditAction.DETECTION_ACKNOWLEDGE, f"camera/{camera}",
                       event=event_id, note=e.note)
        return e

    # -- motion settings and activity --------------------------------------------------
    def motion_settings(self) -> dict[int, MotionSettings]:
        with self.session() as s:
            return {r.camera_id: _settings(r) for r in s.scalars(select(AnalyticsSettings))}

    def set_motion(self, actor: Actor, camera_id: int, camera: str, settings: MotionSettings,
                   now_ns: int) -> MotionSettings:
        with self.session.begin() as s:
            row = s.get(AnalyticsSettings, camera_id)
            if row is None:
                row = AnalyticsSettings(camera_id=camera_id)
                s.add(row)
            row.activity, row.sensitivity = settings.activity, settings.sensitivity
            row.masks = json.dumps(settings.json()["masks"])
            row.updated_by, row.updated_ns = actor.name, now_ns
            append_act(s, actor, AuditAction.DETECTION_MOTION_SETTINGS, f"camera/{camera}",
                       **settings.json())
        return settings

    def write_minute(self, camera_id: int, minute: Minute) -> None:
        """Store a minute, merged with one already there (a restart inside a minute)."""
        with self.session.begin() as s:
            row = s.get(MotionMinute, (camera_id, minute.start_ns))
            if row is None:
                s.add(MotionMinute(camera_id=camera_id, minute_ns=minute.start_ns,
                                   levels=bytes(minute.levels), grid=bytes(minute.grid)))
            else:
                row.levels = bytes(max(a, b) for a, b in zip(row.levels, minute.levels,
                                                              strict=True))
                row.grid = bytes(a | b for a, b in zip(row.grid, minute.grid, strict=True))

    def minutes(self, camera_id: int, start_ns: int, end_ns: int
                ) -> list[tuple[int, bytes, bytes]]:
        with self.session() as s:
            rows = s.execute(select(MotionMinute.minute_ns, MotionMinute.levels,
                                    MotionMinute.grid)
                             .where(MotionMinute.camera_id == camera_id,
                                    MotionMinute.minute_ns > start_ns - MINUTE_NS,
                                    MotionMinute.minute_ns < end_ns)
                             .order_by(MotionMinute.minute_ns))
            return [(int(a), bytes(b), bytes(c)) for a, b, c in rows]


def clear_pictures(s: Session, camera_id: int, expired: Expired) -> int:
    """The pictures of events whose footage has expired: an event's picture is footage and
    goes with it; the event's row stays (what was seen, when, by which rule)."""
    if not expired.fresh:
        return 0
    cleared = s.execute(update(Event).where(
        Event.camera_id == camera_id, Event.snapshot_jpeg.is_not(None),
        instants_in(Event.at_ns, expired.fresh)).values(snapshot_jpeg=None))
    return int(cleared.rowcount or 0)  # type: ignore[attr-defined]


def forget_activity(s: Session, camera_id: int, expired: Expired) -> int:
    """The minutes of motion activity wholly inside expired footage: they draw what it
    showed on the archive's bar."""
    if not expired.spans:
        return 0
    gone = s.execute(delete(MotionMinute).where(
        MotionMinute.camera_id == camera_id,
        lengths_in(MotionMinute.minute_ns, MINUTE_NS, expired.spans)))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


# What detection keeps of footage, for the sweeper (`storage.derived`).
EVENT_PICTURES = Derived("event_pictures", clear_pictures)
ACTIVITY = Derived("activity_minutes", forget_activity)
