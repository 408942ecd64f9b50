"""Replies of the viewing sessions' routes (clause 3.5.5)."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply

NS = "UTC nanoseconds"


class AttendeeReply(Reply):
    name: str
    capacity: str = Field(description="depicted, parent_or_representative, law_enforcement "
                                      "or staff")
    document: str = Field(description="the identity document shown: kind and number")


class ViewingReply(Reply):
    """A recorded viewing session: who was shown which footage, why, and by whom."""

    id: int
    number: str = Field(description="the register's number, e.g. В-2026/0001")
    cameras: list[str]
    start_ns: int = Field(description=f"start of the footage shown, {NS}")
    end_ns: int = Field(description=f"end of the footage shown, {NS}")
    purpose: str
    attendees: list[AttendeeReply]
    conducted_by: str
    held_ns: int = Field(description=f"when the viewing took place, {NS}")
