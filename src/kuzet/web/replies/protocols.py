"""Replies of /api/protocols: the guards' incident protocols (clause 3.5.7)."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class AcknowledgementReply(Reply):
    member: str = Field(description="the member of the Management Board")
    at_ns: int


class ProtocolReply(Reply):
    id: int
    number: str | None = Field(description="given when submitted; null for a draft")
    state: str = Field(description="draft, submitted or reviewed")
    camera: str
    at_ns: int = Field(description="the instant of the incident")
    location: str
    circumstances: str
    measures: str
    informed_ns: int | None = Field(description="when the head of security was told orally")
    author: str
    created_ns: int
    submitted_ns: int | None
    reviewed_by: str | None
    reviewed_ns: int | None
    review_note: str | None
    bookmark: int | None = Field(description="id of the incident bookmark made with it")
    snapshot: bool = Field(description="the recorded frame of the instant is kept with it")
    acknowledgements: list[AcknowledgementReply] = Field(
        description="the Management Board's members who have read it (clause 3.5.7)")
