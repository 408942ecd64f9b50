"""Tables of the console: bookmarks on the archive, wall layouts saved per user."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kuzet.catalog.models import Base


class Bookmark(Base):
    """An instant of a camera someone marked (the wall's incident button, the archive):
    the governance issue turns it into an incident; until then it is a marker on the
    timeline and an audited act."""

    __tablename__ = "bookmarks"
    __table_args__ = (Index("ix_bookmarks_camera_at", "camera_id", "at_ns"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    at_ns: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # "incident" (wall) or "note" (archive)
    created_by: Mapped[str] = mapped_column(String(64))
    created_ns: Mapped[int] = mapped_column(BigInteger)


class Layout(Base):
    """A named wall layout of one user: grid size and the camera in each tile."""

    __tablename__ = "layouts"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # JSON, checked by layouts.check_layout
    updated_ns: Mapped[int] = mapped_column(BigInteger)
