"""Replies of /api/meetings, /api/people and /api/sheets: people told of the surveillance
at meetings and against signature (UE-10-22 3.4.6, 3.4.7)."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class MeetingReply(Reply):
    id: int
    held: str
    audience: str
    informed_by: str
    attendees: int | None
    notes: str | None
    minutes_type: str | None = Field(description="of the minutes' scan, if attached")
    recorded_by: str


class PersonReply(Reply):
    person_id: str
    full_name: str
    kind: str
    unit: str
    group: str | None
    start: str


class BadRowReply(Reply):
    line: int
    reason: str


class ImportReply(Reply):
    added: int
    updated: int
    bad: list[BadRowReply] = Field(description="every bad row; nothing imported if any")


class ProgressReply(Reply):
    unit: str
    group: str
    people: int
    signed: int
    refused: int
    absent: int
    waiting: int = Field(description="neither signed nor refused yet")


class SheetSummaryReply(Reply):
    id: int
    edition: int
    unit: str
    group: str | None
    people: int
    scanned: bool = Field(description="its signed scan is attached")
    marked: int


class SheetReply(Reply):
    id: int
    edition: int
    unit: str
    group: str | None
    people: list[PersonReply]
    made_by: str
    made: str
    scan_type: str | None
    scan_sha256: str | None
    marks: dict[str, str]
