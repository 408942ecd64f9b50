"""Replies of /api/acts: the head of security's acts formalising a violation (clause
3.5.8), resting on registered protocols."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class ActReply(Reply):
    id: int
    number: str | None = Field(description="given when registered; null for a draft")
    state: str = Field(description="draft or registered")
    protocols: list[str] = Field(description="the numbers of the protocols it rests on")
    protocol_ids: list[int]
    author: str
    created_ns: int
    registered_ns: int | None
    what: str
    persons: str
    witnesses: str
    consequences: str
    measures: str
