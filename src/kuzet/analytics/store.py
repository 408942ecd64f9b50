"""Detection's rows: rules as drawn per camera, events as raised, acknowledgements.

A rule is stored as its kind and a JSON spec and becomes a `rules.Rule` through the same
checks (`check_rule`) whether it comes from the API or from the table, so a rule that
could not be drawn cannot be loaded either.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access.errors import Conflict, Invalid, NotFound
from kuzet.analytics.geometry import GeometryError
from kuzet.analytics.models import DetectionRule, Event
from kuzet.analytics.rules import Rule, Schedule, Window, check_rule
from kuzet.audit.log import Actor, append_act

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(text: str) -> int:
    try:
        hh, mm = text.split(":")
        value = int(hh) * 60 + int(mm)
    except ValueError as exc:
        raise Invalid(f"time of day {text!r} is HH:MM") from exc
    if not 0 <= value <= 24 * 60:
        raise Invalid(f"time of day {text!r} is outside 00:00–24:00")
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
        raise Invalid(f"rule: {exc}") from exc


def event_json(e: Event, camera: str) -> dict[str, Any]:
    return {"id": e.id, "camera": camera, "rule": e.rule_id, "kind": e.kind, "label": e.label,
            "score": round(e.score, 3), "at_ns": e.at_ns, "tracks": json.loads(e.tracks),
            "snapshot": e.snapshot_jpeg is not None, "acknowledged_by": e.acknowledged_by,
            "acknowledged_ns": e.acknowledged_ns, "note": e.note}


class DetectionStore:
    def __init__(self, session: sessionmaker[Session], zone: str) -> None:
        self.session = session
        self.zone = zone

    def rules(self, camera_id: int | None = None) -> list[DetectionRule]:
        with self.session() as s:
            q = select(DetectionRule).order_by(DetectionRule.id)
            if camera_id is not None:
                q = q.where(DetectionRule.camera_id == camera_id)
            return list(s.scalars(q))

    def add_rule(self, actor: Actor, camera_id: int, camera: str, kind: str,
                 spec: dict[str, Any], now_ns: int) -> DetectionRule:
        to_rule(0, kind, spec, self.zone)
        with self.session.begin() as s:
            row = DetectionRule(camera_id=camera_id, kind=kind, spec=json.dumps(spec),
                                enabled=True, created_by=actor.name, created_ns=now_ns)
            s.add(row)
            s.flush()
            append_act(s, actor, "detection.rule_add", f"camera/{camera}", rule=row.id,
                       kind=kind, spec=spec)
        return row

    def remove_rule(self, actor: Actor, rule_id: int, camera_id: int, camera: str) -> None:
        with self.session.begin() as s:
            row = s.get(DetectionRule, rule_id)
            if row is None or row.camera_id != camera_id:
                raise NotFound(f"no rule {rule_id} on {camera}")
            s.delete(row)
            append_act(s, actor, "detection.rule_remove", f"camera/{camera}", rule=rule_id)

    def record(self, camera_id: int, rule_id: int | None, kind: str, label: str, score: float,
               at_ns: int, tracks: list[int], snapshot: bytes | None) -> Event:
        with self.session.begin() as s:
            e = Event(camera_id=camera_id, rule_id=rule_id, kind=kind, label=label,
                      score=score, at_ns=at_ns, tracks=json.dumps(tracks),
                      snapshot_jpeg=snapshot)
            s.add(e)
        return e

    def event(self, event_id: int) -> Event:
        with self.session() as s:
            e = s.get(Event, event_id)
            if e is None:
                raise NotFound(f"no event {event_id}")
            return e

    def events(self, cameras: list[int], *, kind: str | None = None,
               label: str | None = None, since_ns: int | None = None,
               until_ns: int | None = None, acknowledged: bool | None = None,
               limit: int = 500) -> list[Event]:
        with self.session() as s:
            q = select(Event).where(Event.camera_id.in_(cameras))
            if kind is not None:
                q = q.where(Event.kind == kind)
            if label is not None:
                q = q.where(Event.label == label)
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
                raise NotFound(f"no event {event_id}")
            if e.acknowledged_ns is not None:
                raise Conflict(f"event {event_id} was acknowledged by {e.acknowledged_by}")
            e.acknowledged_by, e.acknowledged_ns, e.note = actor.name, now_ns, note.strip()
            append_act(s, actor, "detection.acknowledge", f"camera/{camera}", event=event_id,
                       note=e.note)
        return e
