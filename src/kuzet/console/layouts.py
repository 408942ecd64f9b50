"""Wall layouts saved per user on the server, so a guard's wall follows them to any
console at the post (a browser's own storage would stay on one machine).

A layout keeps more cameras than its grid shows: switching 2×2 to 1 shows the first tile
and keeps the other three, which come back when the grid grows again (as Milestone's
Smart Client keeps a view's cameras). Issue 21 found the wall dropping them for good."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access.lookup import user_named
from kuzet.catalog.paths import is_camera_name
from kuzet.console.models import Layout
from kuzet.errors import Invalid

MAX_SIDE = 6  # a 6×6 wall is 36 tiles: beyond that no tile is readable on one monitor
MAX_TILES = MAX_SIDE * MAX_SIDE  # assignments kept, shown or not: the largest grid's
MAX_LAYOUTS = 50


class WallPlan(TypedDict):
    """A layout as stored: tiles row by row, a camera name or None (an empty tile); those
    past cols × rows are kept for a larger grid, not shown."""

    cols: int
    rows: int
    tiles: list[str | None]


class LayoutError(Invalid):
    """A layout the wall could not draw."""


def _side(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if type(value) is not int or not 1 <= value <= MAX_SIDE:
        raise LayoutError("{key} is a whole number from 1 to {most}", key=key, most=MAX_SIDE)
    return value


def check_layout(body: Any) -> WallPlan:
    """A layout as stored: {"cols", "rows", "tiles": [camera name or null, ...]}, up to
    the largest grid's tiles whatever this one's size."""
    if not isinstance(body, dict):
        raise LayoutError("a layout is an object with cols, rows and tiles")
    cols, rows, tiles = _side(body, "cols"), _side(body, "rows"), body.get("tiles", [])
    if not isinstance(tiles, list) or len(tiles) > MAX_TILES:
        raise LayoutError("tiles is a list of at most {count} camera names", count=MAX_TILES)
    for tile in tiles:
        if tile is not None and not (isinstance(tile, str) and is_camera_name(tile)):
            raise LayoutError("each tile is a camera name or null")
    return WallPlan(cols=cols, rows=rows, tiles=tiles)


class Layouts:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    def of(self, user: str) -> dict[str, WallPlan]:
        with self.session() as s:
            uid = user_named(s, user).id
            return {row.name: json.loads(row.body) for row in s.scalars(
                select(Layout).where(Layout.user_id == uid).order_by(Layout.name))}

    def put(self, user: str, name: str, body: Any, now_ns: int) -> WallPlan:
        layout = check_layout(body)
        with self.session.begin() as s:
            uid = user_named(s, user).id
            row = s.scalar(select(Layout).where(Layout.user_id == uid, Layout.name == name))
            if row is None:
                count = len(s.scalars(select(Layout.id).where(Layout.user_id == uid)).all())
                if count >= MAX_LAYOUTS:
                    raise LayoutError("at most {count} layouts per user", count=MAX_LAYOUTS)
                row = Layout(user_id=uid, name=name, body="", updated_ns=now_ns)
                s.add(row)
            row.body = json.dumps(layout, separators=(",", ":"))
            row.updated_ns = now_ns
        return layout

    def remove(self, user: str, name: str) -> bool:
        with self.session.begin() as s:
            row = s.scalar(select(Layout).where(Layout.user_id == user_named(s, user).id,
                                                Layout.name == name))
            if row is not None:
                s.delete(row)
            return row is not None
