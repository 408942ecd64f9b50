"""Replies of the detection routes: rules, motion settings, activity, events.

Geometry is in fractions of the frame (0..1), a point as [x, y], as it was drawn.
"""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class WindowReply(Reply):
    days: list[str] = Field(description="mon … sun")
    start: str = Field(description="HH:MM, display time zone")
    end: str = Field(description="HH:MM; before start: past midnight")


class ScheduleReply(Reply):
    windows: list[WindowReply] = Field(default=[], description="none: always")
    holidays: list[str] = Field(default=[], description="extra YYYY-MM-DD")
    holidays_all_day: bool = False


class RuleSpecReply(Reply):
    """What a rule was drawn as; a key the stored spec lacks takes the default the rule
    is evaluated with."""

    name: str = Field("", description="what the zone or line is")
    zone: list[list[float]] = Field(default=[])
    line: list[list[float]] | None = Field(None, description="two points; line rules only")
    direction: str = Field("both", description="left, right or both")
    labels: list[str] = Field(default=["person"])
    seconds: float = Field(0, description="loitering: how long in the zone")
    count: int = Field(0, description="crowding: how many at once")
    schedule: ScheduleReply = ScheduleReply()


class RuleHead(Reply):
    id: int
    kind: str = Field(description="intrusion, line, loitering, crowding, vehicle or tamper")


class RuleReply(RuleSpecReply, RuleHead):
    """A rule: its id and kind, what it was drawn as, then its row's state (the bases in
    this order keep the keys in the order the API has always sent them)."""

    enabled: bool
    created_by: str
    created_ns: int = Field(description="UTC nanoseconds")


class RuleRemovedReply(Reply):
    id: int
    removed: bool


class MotionReply(Reply):
    """A camera's motion settings (the defaults for a camera never set)."""

    activity: bool = Field(description="whether the camera's motion is kept for the "
                           "archive's bar even when it has no rules")
    sensitivity: float
    masks: list[list[list[float]]] = Field(description="polygons never looked at")


class ActivityReply(Reply):
    camera: str
    start: str = Field(description="ISO 8601 UTC")
    end: str = Field(description="ISO 8601 UTC, excluded")
    start_ns: int = Field(description="UTC nanoseconds: the first bucket's start")
    step_s: int = Field(description="seconds a bucket")
    levels: list[int] = Field(description="the largest motion level in each bucket, 0–255 "
                              "(the share of the picture that moved × 255)")


class EventReply(Reply):
    id: int
    camera: str
    rule: int | None = Field(description="the rule that raised it")
    rule_name: str = Field(description="the rule's zone or line name; empty if none")
    kind: str
    label: str = Field(description="what was seen: person, car, …")
    score: float
    at_ns: int = Field(description="UTC nanoseconds: when the rule raised it")
    start_ns: int | None = Field(description="UTC nanoseconds: when its objects were "
                                 "first seen")
    end_ns: int | None = Field(description="UTC nanoseconds: when the last of them left; "
                               "null while one is in view")
    tracks: list[int]
    snapshot: bool = Field(description="whether the caller may open its picture now")
    acknowledged_by: str | None
    acknowledged_ns: int | None = Field(description="UTC nanoseconds")
    note: str | None
