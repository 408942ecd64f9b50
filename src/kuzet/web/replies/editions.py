"""Replies of /api/editions: the regulation's editions and amendments (UE-10-22 4.1, 4.3)
and who acknowledged the one in force (3.1.4, 3.4.7)."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class EditionReply(Reply):
    id: int
    number: str
    kind: str = Field(description="edition or amendment")
    label: str = Field(description='how pages name it: "UE-10-22, edition 2"')
    title: str
    summary: str | None
    state: str = Field(description="pending, approved, rejected or withdrawn")
    in_force: bool
    prepared_by: str
    prepared: str
    order_no: str | None = Field(description="the rector's order (4.3); null until approved")
    order_date: str | None
    effective: str | None = Field(description="the campus day it takes effect")
    decided_by: str | None
    decided: str | None
    note: str | None
    scan_type: str | None = Field(description="media type of the signed scan, if attached")
    languages: list[str]


class EditionTextReply(Reply):
    edition: EditionReply
    language: str = Field(description="of the text given: en falls back to ru")
    text: str
    text_sha256: str = Field(description="what an acknowledgement names")
    acknowledged: str | None = Field(description="when the caller acknowledged it, if so")


class AcquaintanceReply(Reply):
    account: str
    edition: int
    at: str
    source: str
    language: str
    text_sha256: str
