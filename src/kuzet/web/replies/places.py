"""Replies of /api/places: places under the cameras' view, their warning signs, and the
coverage report (UE-10-22 3.4.5)."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class SignReply(Reply):
    id: int
    position: str
    kind: str = Field(description="sign or notice")
    installed: str
    checked: str | None
    due: str = Field(description="the day its next check falls due")
    removed: str | None
    photo: bool


class PlaceReply(Reply):
    name: str
    building: str
    floor: str | None
    room: str
    zone: str
    kind: str
    named_room: bool = Field(description="one of the rooms 3.4.5 names")
    cameras: list[str]
    signs: list[SignReply]


class FindingReply(Reply):
    finding: str = Field(description="unplaced, no_sign or overdue")
    building: str
    floor: str
    place: str
    room: str
    zone: str
    named_room: bool
    cameras: list[str]
    sign: int | None
    since: str
