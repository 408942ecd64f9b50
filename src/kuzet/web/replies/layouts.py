"""Replies of the wall layouts' routes."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply

TILES = ("row by row: a camera's name, or null for an empty tile; those past cols × rows "
         "are kept for a larger grid, not shown")


class LayoutReply(Reply):
    cols: int
    rows: int
    tiles: list[str | None] = Field(description=TILES)


class LayoutsReply(Reply):
    layouts: dict[str, LayoutReply] = Field(description="the caller's layouts by name")


class SavedLayoutReply(Reply):
    name: str
    cols: int
    rows: int
    tiles: list[str | None] = Field(description=TILES)


class LayoutDeletedReply(Reply):
    name: str
    deleted: bool
